r"""Checks of Langevin dynamics simulated with Euler-Maruyama.

Quadratic :math:`U = k(x - c)^2/2`: the chain's law is Gaussian at every step, so
its stationary law is known exactly for each step size :math:`h`
(``langevin.em_quadratic``); two step sizes show the bias :math:`h/(2 - hk)`
against the continuous variance :math:`1/k`. The start's transient decays as
:math:`|1 - hk|^n`, below :math:`10^{-12}` after the steps run here.
"""

from __future__ import annotations

import math

import torch

from .. import stats
from ..forward import euler_maruyama
from ..registry import CheckContext, check

STIFFNESS, CENTRE, START = 1.0, 0.5, 2.5
STEP_SIZES = (0.4, 0.05)
TRANSIENT = 1e-12


def _steps(step: float) -> int:
    """Steps after which |1 - h k|^n |start - centre| < TRANSIENT."""
    return math.ceil(math.log(TRANSIENT / abs(START - CENTRE)) / math.log(abs(1 - step * STIFFNESS)))


def simulate_quadratic(ctx: CheckContext) -> dict[float, torch.Tensor]:
    out = {}
    for step in STEP_SIZES:
        n = _steps(step)
        grid = ctx.tensor(torch.arange(n + 1, dtype=torch.float64) * step)
        x0 = torch.full((ctx.n_samples,), START, dtype=ctx.dtype, device=ctx.device)
        noise = ctx.tensor(math.sqrt(2.0))
        out[step] = euler_maruyama(lambda t, x: -STIFFNESS * (x - CENTRE), lambda t, x: noise,
                                   x0, grid, ctx.generator(), {n})[n]
    return out


@check(
    id="langevin.em_quadratic.stationary",
    title="Stationary law of the Euler-Maruyama Langevin chain, quadratic potential, two step sizes",
    law=f"X_(n+1) = X_n - h k (X_n - c) + sqrt(2h) Z, k = {STIFFNESS}, c = {CENTRE}, h in {STEP_SIZES}: "
    "N(c, 2h / (1 - (1 - hk)^2)); the continuous 1/k is off by h / (2 - hk)",
    tests=("langevin.em_quadratic",),
    uses=(("langevin.em_quadratic", "mean_chain"), ("langevin.em_quadratic", "var_chain")),
    samples=100_000,
    simulate=simulate_quadratic,
)
def em_quadratic(ctx: CheckContext, states: dict[float, torch.Tensor]) -> list[stats.Estimate]:
    mean_chain = ctx.quantity("langevin.em_quadratic", "mean_chain")
    var_chain = ctx.quantity("langevin.em_quadratic", "var_chain")
    out = []
    for step, samples in states.items():
        at = dict(h_lgv=ctx.tensor(step), k_lgv=ctx.tensor(STIFFNESS), c_lgv=ctx.tensor(CENTRE))
        out += [stats.mean(f"h={step}: mean", samples, float(mean_chain(**at))),
                stats.variance(f"h={step}: variance", samples, float(var_chain(**at)))]
    return out
