r"""Exact output laws of guided and inpainting samplers on Gaussian data, through the catalogue's step maps.

Classifier-free guidance of Gaussian laws :math:`\mathcal N(\mu_c, \sigma_c^2)` (class) and
:math:`\mathcal N(\mu_u, \sigma_u^2)` (unconditional) gives at every time an affine field
:math:`-P_\omega(u)(y - M_\omega(u))` (``guidance.tilted``: slope and intercept of ``guided_score``), so
any catalogue sampler run with it is the step map ``gauss_exact.step_<name>`` with the precision
:math:`P_\omega` and the mean :math:`M_\omega` in place of the data's: one step maps
:math:`\mathcal N(\mu, c)` to :math:`\mathcal N(a\mu + d, a^2 c + b)`. The setting is Pierret & Galerne's
(:mod:`checks.exact.w2`: scaled VP SDE, linear schedule, grid of :math:`N` points ending at
:math:`\varepsilon`), started from :math:`\mathcal N(0, 1)`. The output is compared with the tilted target
:math:`p(x\mid c)^{1+\omega}p(x)^{-\omega}` (``guidance.tilted``) by ``gaussian.w2``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

import derivations
from derivations import catalogue
from derivations.core.notation import kernel_mean_coef, kernel_var, x_t
from derivations.core.registry import Lambdified

from checks.exact import w2 as exact_w2

EPS = 1e-3
GUIDANCE_SCALES = (0.0, 0.5, 1.0, 2.0, 4.0)
STEPS = (10, 50, 250, 1000)


@dataclass(frozen=True)
class ClassData:
    r"""Gaussian class-conditional and unconditional laws. The default is the joint model
    :math:`x \sim \mathcal N(0, 1)`, :math:`y = x + \mathcal N(0, 1)` observed at :math:`y = 2`:
    ``gaussian.linear_bayes`` gives :math:`x \mid y \sim \mathcal N(1, 1/2)`."""

    mean_cls: float = 1.0
    var_cls: float = 0.5
    mean_unc: float = 0.0
    var_unc: float = 1.0

    def values(self) -> dict[str, float]:
        return {"mean_cls": self.mean_cls, "var_cls": self.var_cls, "mean_unc": self.mean_unc,
                "var_unc": self.var_unc}


@functools.lru_cache(maxsize=None)
def _field() -> tuple[Lambdified, Lambdified]:
    """Slope and intercept of the derived CFG field, compiled in the kernel's (m_t, v_t)."""
    guided = derivations.get("guidance.tilted").result("guided_score")
    return Lambdified(sp.diff(guided, x_t), "numpy"), Lambdified(guided.subs(x_t, 0), "numpy")


def guided_field(B: np.ndarray, w: float, data: ClassData) -> tuple[np.ndarray, np.ndarray]:
    r"""Precision :math:`P_\omega` and mean :math:`M_\omega` of the CFG field at integrated rates ``B``
    (:math:`m = e^{-B}`, :math:`v = 1 - e^{-2B}`)."""
    slope, intercept = _field()
    values = data.values() | {"guide_w": w, kernel_mean_coef.name: np.exp(-B), kernel_var.name: -np.expm1(-2 * B)}
    prec = -np.asarray(slope(**values), dtype=np.float64) * np.ones_like(B)
    return prec, np.asarray(intercept(**values), dtype=np.float64) / prec


def tilted_target(w: float, data: ClassData) -> tuple[float, float]:
    """Mean and variance of p(x | c)^(1 + w) p(x)^(-w)."""
    d = derivations.get("guidance.tilted")
    values = data.values() | {"guide_w": w}
    return float(d.function("tilted_mean")(**values)), float(d.function("tilted_var")(**values))


@functools.lru_cache(maxsize=None)
def _step_maps(name: str) -> dict[str, Any]:
    scheme = catalogue.get(name)
    d = derivations.get(scheme.derivation_id)
    return {r: d.function(r, "numpy") for r in d.results}


def run_affine(name: str, n_points: int, prec: tuple, mean: tuple, options: dict | None = None,
               start: tuple[float, float] = (0.0, 1.0), eps: float = EPS) -> tuple[float, float]:
    r"""Mean and variance after the catalogue sampler ``name`` on the grid of ``n_points`` points, with an
    affine score :math:`-P(y - M)`; ``prec`` and ``mean`` are (points, midpoints) arrays of :math:`P`, :math:`M`."""
    scheme, options = catalogue.get(name), dict(options or {})
    g = exact_w2.grid(eps, n_points)
    maps, tag = _step_maps(name), scheme.choice(options)
    fixed = {o.symbol: float(options.get(o.name, o.default)) for o in scheme.options if o.symbol}
    reads_last = any("last" in k for k in catalogue.kinds(scheme, options))
    (p_pts, p_mid), (m_pts, m_mid) = prec, mean
    mu, var = start
    steps = n_points - 1
    for k in range(steps):
        flags = frozenset({"last"}) if reads_last and k == steps - 1 else frozenset()
        values = {n: v[k] for n, v in g.sde_values.items()} | fixed | {
            "prec_k_pg": p_pts[k], "prec_next_pg": p_pts[k + 1], "prec_mid_pg": p_mid[k],
            "mu_k_st": m_pts[k], "mu_next_st": m_pts[k + 1], "mu_mid_st": m_mid[k]}
        a, d, b = (float(maps[catalogue.result_name(base, tag, flags)](**values))
                   for base in ("gain", "offset", "noise_var"))
        mu, var = a * mu + d, a * a * var + b
    return mu, var


def guided_law(name: str, steps: int, w: float, data: ClassData = ClassData(), options: dict | None = None
               ) -> tuple[float, float]:
    """Output mean and variance of the catalogue sampler ``name`` run for ``steps`` steps with the CFG field."""
    g = exact_w2.grid(EPS, steps + 1)
    return run_affine(name, steps + 1, *zip(guided_field(g.B_points, w, data), guided_field(g.B_mid, w, data)),
                      options=options)


def w2_to(mean: float, var: float, target: tuple[float, float]) -> float:
    w2_sq = derivations.get("gaussian.w2").function("w2_sq")
    return float(np.sqrt(w2_sq(mean_p=mean, var_p=var, mean_q=target[0], var_q=target[1])))


def limit_variance(w: float, data: ClassData) -> float:
    """Continuous-time output variance of the guided PF ODE from N(0, 1) as B(T) -> infinity
    (``guidance.flow_variance``)."""
    return float(derivations.get("guidance.flow_variance").function("limit_var")(**data.values(), guide_w=w))


def guidance_table(scheme: str = "pf_heun", scales=GUIDANCE_SCALES, step_counts=STEPS, data: ClassData = ClassData()
                   ) -> list[dict[str, float]]:
    """Rows (w, steps, output mean and variance, tilted target, W2) for one sampler."""
    rows = []
    for w in scales:
        target = tilted_target(w, data)
        for steps in step_counts:
            mean, var = guided_law(scheme, steps, w, data)
            rows.append({"w": w, "steps": steps, "mean": mean, "var": var, "target_mean": target[0],
                         "target_var": target[1], "limit_var": limit_variance(w, data),
                         "w2": w2_to(mean, var, target)})
    return rows
