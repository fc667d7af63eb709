r"""The exact law of a discretized linear scheme, from the scheme's own step.

With Gaussian data in its eigenbasis the exact score is affine in :math:`x`
coordinate by coordinate, so every sampler here maps the start and its noise
draws affinely: :math:`x_{\mathrm{out}} = A x_{\mathrm{init}} + c + \sum_j B_j z_j`.
Running the sampler itself on a few probe rows with *scripted* noise reads
:math:`A`, :math:`c` and every :math:`B_j` off without a second copy of any
formula, and then

.. math:: x_{\mathrm{init}} \sim \mathcal N(\mu_0, \operatorname{diag} c_0) \Rightarrow
          x_{\mathrm{out}} \sim \mathcal N(A\mu_0 + c,\ A^2 c_0 + \textstyle\sum_j B_j^2).

This is the law of the *discretized* scheme: a Monte Carlo run must match it
with no discretization bias, and its distance to :math:`p_{t_{\mathrm{end}}}`
is the scheme's bias.

:func:`derived_law` computes the same law a second way, independently of the torch
step: by iterating the derived step maps ``gauss_exact.step_<name>`` (read through a
check's ``ctx.quantity``) with the process's coefficients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from derivations import catalogue
from derivations.core.step_vocabulary import RAISED
from derivations.families import gauss_exact

from checks.sim.data import GaussianData
from checks.sim.processes import Process
from checks.sim.registry import Grid, Sampler
from checks.sim.steps import TorchOps, time_at_lambda

_AFFINE_ROWS = (0.0, 1.0, -1.5)  # starts of the noise-free probe rows: offset, gain, affinity check


class ScriptedNoise:
    """A noise source for probes: at draw ``j`` row ``first_row + j`` gets 1, every other entry 0."""

    def __init__(self, first_row: int):
        self.first_row = first_row
        self.draws = 0

    def normal_like(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros_like(x)
        row = self.first_row + self.draws
        if row < x.shape[0]:
            out[row] = 1
        self.draws += 1
        return out


def output_law(sampler: Sampler, options: dict, model, grid: Grid, init_mean: torch.Tensor,
               init_var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance (per coordinate) of the sampler's output from ``N(init_mean, diag init_var)``."""
    first = len(_AFFINE_ROWS)
    counter = ScriptedNoise(first)
    start = torch.tensor(_AFFINE_ROWS, dtype=init_mean.dtype, device=init_mean.device)[:, None]
    sampler(model, grid, start.expand(first, init_mean.shape[0]).clone(), counter, **options)
    probe = torch.zeros(first + counter.draws, init_mean.shape[0], dtype=init_mean.dtype, device=init_mean.device)
    probe[:first] = start
    out = sampler(model, grid, probe, ScriptedNoise(first), **options)
    offset, gain = out[0], out[1] - out[0]
    affine = offset + _AFFINE_ROWS[2] * gain
    if not torch.allclose(out[2], affine, rtol=1e-9, atol=1e-9 * float(gain.abs().max() + offset.abs().max())):
        raise ValueError(f"{sampler.name} is not affine in its start for this model: no exact Gaussian law")
    noise_gains = out[first:] - offset
    return gain * init_mean + offset, gain**2 * init_var + (noise_gains**2).sum(dim=0)


# --------------------------------------------------------------------------
# The derived step maps (gauss_exact.step_<name>) iterated: the law the scheme must have
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class StepMaps:
    """Which derived maps a variant follows: its derivation, the choice, the step kinds, the option values.

    Fixed when a check is registered, from the catalogue as it stands then, so a sampler changed
    afterwards (a planted bug) is still measured against the maps of its committed rule.
    """

    derivation_id: str
    choice: tuple[str, ...]
    kinds: tuple[frozenset[str], ...]
    values: tuple[tuple[str, float], ...]  # (notation name, value) of the options kept as symbols
    churn: tuple[float, float, float] | None = None  # where a rule that raises its level puts it (EDM's churn)

    @staticmethod
    def of(scheme: catalogue.Scheme, options: dict) -> "StepMaps":
        resolved = scheme.resolve(options)
        values = tuple((o.symbol, float(resolved[o.name])) for o in scheme.options if o.symbol)
        return StepMaps(scheme.derivation_id, scheme.choice(options), catalogue.kinds(scheme, options), values,
                        scheme.churn(options))

    def names(self) -> tuple[str, ...]:
        """Every result the variant's law reads (for a check's ``uses``)."""
        return tuple(catalogue.result_name(base, self.choice, kind)
                     for kind in self.kinds for base in ("gain", "offset", "noise_var"))

    def kind(self, last: bool, clean: bool) -> frozenset[str]:
        """The kind of a step: the flags that hold there, among those the rule tells apart."""
        flags = {name for name, holds in (("last", last), ("clean", clean)) if holds}
        return frozenset(flags) & frozenset().union(*self.kinds)


def gaussian_step_values(process: Process, data: GaussianData, t: float, t_next: float) -> dict[str, torch.Tensor]:
    """The step-map vocabulary (``gauss_exact.step_values``) for a step of ``process`` on diagonal Gaussian data:
    the kernel from :math:`t'` to :math:`t`, the SDE's coefficients, and the precisions and means of :math:`p_t`
    (at the midpoint only for a continuous process; nan there for a chain; at a third and two thirds of the
    step's half-log-SNR increment for a continuous process's step onto v > 0)."""
    times = (t, t_next) + ((0.5 * (t + t_next),) if process.continuous else ())
    thirds = tuple(time_at_lambda(process, t, t_next, r) for r in (1 / 3, 2 / 3)) \
        if process.continuous and process.at(t_next).var > 0 else ()
    third_values = tuple((process.at(u).mean_coef, process.at(u).var, data.marginal(process, u)[0]) for u in thirds)
    third_prec = {name: 1 / data.marginal(process, u)[1] for name, u in zip(("prec_s1_pg", "prec_s2_pg"), thirds)}
    coefs = [process.at(u) for u in times]
    laws = [data.marginal(process, u) for u in times]
    pad = (math.nan,) * (3 - len(times))
    now, nxt = coefs[0], coefs[1]
    gain = now.mean_coef / nxt.mean_coef
    return gauss_exact.step_values(
        a=gain, b=now.var - gain**2 * nxt.var, m_next=nxt.mean_coef, v_next=nxt.var, dt=t - t_next,
        drift=tuple(c.drift_coef for c in coefs) + pad, diffusion_sq=tuple(c.diffusion_sq for c in coefs) + pad,
        prec=tuple(1 / var for _, var in laws) + pad, mean=tuple(mean for mean, _ in laws) + pad,
        kernel_mid=(coefs[2].mean_coef, coefs[2].var) if process.continuous else (math.nan, math.nan),
        thirds=third_values or None) | third_prec


def raised_step_values(process: Process, data: GaussianData, t: float, t_next: float, steps: int,
                       churn: tuple[float, float, float]) -> dict[str, torch.Tensor]:
    r"""The values of a step's raised level (``step_vocabulary.RAISED`` and its precision), at the time the
    engine's ``ops.raised`` puts it: the forward kernel :math:`\mathcal N(\hat a x, \hat b)` from :math:`t` to
    :math:`\hat t`, the SDE's coefficients and :math:`p_{\hat t}` there."""
    ops = TorchOps(process, None, t, t_next, False, None, steps)
    now, raised = ops.now, ops.raised(*churn)
    gain = raised.mean_coef / now.mean_coef
    mean, var = data.marginal(process, raised.time)
    values = (gain, raised.var - gain**2 * now.var, raised.drift_coef, raised.diffusion_sq, mean, raised.rise)
    return dict(zip(RAISED, values)) | {"prec_hat_pg": 1 / var}


def derived_law(maps: StepMaps, quantity: Callable[[str, str], Callable[..., torch.Tensor]], grid: Grid,
                data: GaussianData, init_mean: torch.Tensor, init_var: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Mean and variance after iterating :math:`\mu \mapsto a\mu + d`, :math:`c \mapsto a^2c + b` along ``grid``,
    each map read through ``quantity(derivation_id, result)`` (a check's ``ctx.quantity``: overridable)."""
    mean, var = init_mean, init_var
    options = dict(maps.values)
    for k, (t, t_next) in enumerate(grid.pairs(), start=1):
        raised = {} if maps.churn is None else \
            raised_step_values(grid.process, data, t, t_next, grid.steps, maps.churn)
        values = {name: torch.as_tensor(v, dtype=data.mean.dtype, device=data.mean.device)
                  for name, v in (raised | gaussian_step_values(grid.process, data, t, t_next) | options).items()}
        kind = maps.kind(last=k == grid.steps, clean=grid.process.at(t_next).var == 0)
        gain, offset, noise = (quantity(maps.derivation_id, catalogue.result_name(base, maps.choice, kind))(**values)
                               for base in ("gain", "offset", "noise_var"))
        mean, var = gain * mean + offset, gain**2 * var + noise
    return mean, var
