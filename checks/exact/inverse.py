r"""Exact output laws of DPS and ΠGDM on a linear inverse problem with a Gaussian prior.

Prior :math:`x_0 \sim \mathcal N(\mu_0, \sigma_0^2)`, measurement :math:`y = A x_0 + n`, :math:`n \sim \mathcal N(0,
\sigma_y^2)`. A step of either sampler is the affine map of ``inverse.step_dps`` / ``inverse.step_pigdm`` (read off
the rules of :mod:`derivations.catalogue.posterior`) with the prior's noised marginal
:math:`\mathcal N(m_t\mu_0, m_t^2\sigma_0^2 + v_t)`, so :math:`\mathcal N(\mu, c) \mapsto \mathcal N(a\mu + d, a^2c + b)`.
Chain: the DDPM linear schedule on 1000 levels respaced to ``steps`` levels (:math:`m = \sqrt{\bar\alpha}`,
:math:`v = 1 - \bar\alpha`), started from :math:`\mathcal N(0, 1)`; one score evaluation per step. The output is
compared with the true posterior (``inverse.posterior``) by ``gaussian.w2``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

import derivations
from derivations import catalogue
from derivations.catalogue import posterior
from derivations.core import schedules

LEVELS = 1000
STEPS = (10, 50, 250, 1000)
ZETAS = (0.05, 0.2, 1.0, 4.0)


@dataclass(frozen=True)
class Problem:
    """Gaussian prior, forward operator, noise variance and the measurement."""

    mean_data: float = 0.5
    var_data: float = 2.0
    op: float = 1.0
    var_obs: float = 0.25
    obs: float = 2.0

    def values(self) -> dict[str, float]:
        return {"mean_data": self.mean_data, "var_data": self.var_data, "op_inv": self.op,
                "var_obs_inv": self.var_obs, "obs_inv": self.obs}


def true_posterior(problem: Problem) -> tuple[float, float]:
    d = derivations.get("inverse.posterior")
    return float(d.function("post_mean")(**problem.values())), float(d.function("post_var")(**problem.values()))


@functools.lru_cache(maxsize=None)
def step_maps(name: str) -> dict:
    """The compiled results of ``inverse.step_<name>``, by name."""
    d = derivations.get(posterior.get(name).derivation_id)
    return {r: d.function(r) for r in d.results}


def levels(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Kernel coefficients m, v at the respaced levels, from the clean level 0 up."""
    alpha_bar = schedules.make("linear", LEVELS).alpha_bar
    idx = np.unique(np.round(np.linspace(0, LEVELS, steps + 1)).astype(int))
    return np.sqrt(alpha_bar[idx]), 1 - alpha_bar[idx]


def sampler_law(name: str, steps: int, problem: Problem = Problem(), options: dict | None = None,
                start: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """Output mean and variance of the posterior sampler ``name`` after ``steps`` steps."""
    scheme = posterior.get(name)
    resolved = scheme.resolve(dict(options or {}))
    fixed = {o.symbol: float(resolved[o.name]) for o in scheme.options if o.symbol}
    tag = scheme.choice(resolved)
    m, v = levels(steps)
    maps, values = step_maps(name), problem.values()
    mean, var = start
    for i in range(len(m) - 1, 0, -1):
        a = m[i] / m[i - 1]
        flags = frozenset({"clean"}) if v[i - 1] == 0 and frozenset({"clean"}) in scheme.kinds else frozenset()
        step = values | fixed | {"a_st": a, "b_st": v[i] - a * a * v[i - 1], "m_next_st": m[i - 1],
                                 "v_next_st": v[i - 1], "prec_k_pg": 1 / (m[i] ** 2 * problem.var_data + v[i]),
                                 "mu_k_st": m[i] * problem.mean_data}
        gain, offset, noise_var = (float(maps[catalogue.result_name(base, tag, flags)](**step))
                                   for base in ("gain", "offset", "noise_var"))
        mean, var = gain * mean + offset, gain * gain * var + noise_var
    return mean, var


def w2_to_posterior(mean: float, var: float, problem: Problem = Problem()) -> float:
    target = true_posterior(problem)
    w2_sq = derivations.get("gaussian.w2").function("w2_sq")
    with np.errstate(invalid="ignore", over="ignore"):  # a diverged run's infinite law: W2 nan, shown as such
        return float(np.sqrt(w2_sq(mean_p=mean, var_p=var, mean_q=target[0], var_q=target[1])))


def inverse_table(step_counts=STEPS, zetas=ZETAS, problem: Problem = Problem()) -> list[dict]:
    """Rows (sampler, setting, steps, output law, W2 to the posterior): DPS over zeta, ΠGDM with both r_t^2."""
    settings = [("DPS", "dps", {"zeta": z}, f"zeta = {z:g}") for z in zetas] + [
        ("ΠGDM", "pigdm", {"r2": "tweedie"}, "Tweedie r_t^2"), ("ΠGDM", "pigdm", {"r2": "paper"}, "paper r_t^2")]
    rows = []
    for label, name, options, setting in settings:
        for steps in step_counts:
            mean, var = sampler_law(name, steps, problem, options)
            rows.append({"sampler": label, "setting": setting, "steps": steps, "mean": mean, "var": var,
                         "w2": w2_to_posterior(mean, var, problem)})
    return rows
