r"""Checks of Langevin dynamics simulated with Euler-Maruyama.

Quadratic :math:`U = k(x - c)^2/2`: the chain's law is Gaussian at every step, so
its stationary law is known exactly for each step size :math:`h`
(``langevin.em_quadratic``); two step sizes show the bias :math:`h/(2 - hk)`
against the continuous variance :math:`1/k`. The start's transient decays as
:math:`|1 - hk|^n`, below :math:`10^{-12}` after the steps run here.

Quartic :math:`U = ax^4/4`: the stationary moments of :math:`e^{-U}`
(``langevin.stationary``) against a long Euler-Maruyama run, with the step's
bias and the start's effect measured by synchronous couplings (see below).
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


# Quartic U = a x^4 / 4: the chain's law is not Gaussian and its stationary moments have no closed
# form at h > 0, so both errors besides sampling noise are measured in tests/test_langevin.py:
# * Euler bias, order h: a synchronous step sweep (chains of step h and h/2 on one Brownian path)
#   gives bias(h) ~ 2 (E f(X^h) - E f(X^{h/2})): about +0.0008 for E X^2 and +0.009 for E X^4 at
#   h = 0.01, under a fifth of the errors the check detects (0.024 and 0.066 at 50 000 samples);
# * the start: chains from -QUARTIC_SANDWICH and +QUARTIC_SANDWICH on one path enclose the chain
#   from 0 and one from the stationary law (order is kept in 1-D, and e^{-U} puts mass below 1e-9
#   outside); at the horizon they are ~1e-3 apart, so the start moves the moments by ~1e-3 at most.
QUARTIC_COEF = 1.0
QUARTIC_STEP = 0.01
QUARTIC_HORIZON = 6.0
QUARTIC_SANDWICH = 3.0


def quartic_chains(x0: torch.Tensor, step: float, horizon: float, generator: torch.Generator,
                   noise_shape: tuple[int, ...] | None = None) -> torch.Tensor:
    r"""Euler-Maruyama for :math:`dX = -aX^3\,dt + \sqrt2\,dW` from ``x0`` up to ``horizon``."""
    n = round(horizon / step)
    grid = torch.arange(n + 1, dtype=x0.dtype, device=x0.device) * step
    noise = torch.tensor(math.sqrt(2.0), dtype=x0.dtype, device=x0.device)
    return euler_maruyama(lambda t, x: -QUARTIC_COEF * x**3, lambda t, x: noise, x0, grid, generator, {n},
                          noise_shape)[n]


def simulate_quartic(ctx: CheckContext) -> torch.Tensor:
    x0 = torch.zeros(ctx.n_samples, dtype=ctx.dtype, device=ctx.device)
    return quartic_chains(x0, QUARTIC_STEP, QUARTIC_HORIZON, ctx.generator())


@check(
    id="langevin.stationary.quartic",
    title="Stationary moments of Langevin dynamics with a quartic potential (Euler-Maruyama)",
    law=f"dX = -a X^3 dt + sqrt(2) dW, a = {QUARTIC_COEF}, X_0 = 0, Euler-Maruyama h = {QUARTIC_STEP} up to "
    f"T = {QUARTIC_HORIZON}: E X^2 = 2 Gamma(3/4) / (Gamma(1/4) sqrt(a)), E X^4 = 1/a (density e^(-U)); "
    "Euler bias O(h) ~ +0.0008 (E X^2), +0.009 (E X^4), under a fifth of the detectable error (synchronous "
    "step sweep h, h/2); the start's effect ~1e-3 (chains from -3 and 3 on one path enclose it)",
    tests=("langevin.stationary",),
    uses=(("langevin.stationary", "m2_quartic"), ("langevin.stationary", "m4_quartic")),
    samples=50_000,
    simulate=simulate_quartic,
)
def stationary_quartic(ctx: CheckContext, samples: torch.Tensor) -> list[stats.Estimate]:
    at = dict(a_lgv=ctx.tensor(QUARTIC_COEF))
    m2 = float(ctx.quantity("langevin.stationary", "m2_quartic")(**at))
    m4 = float(ctx.quantity("langevin.stationary", "m4_quartic")(**at))
    return [stats.mean("E X^2", samples**2, m2), stats.mean("E X^4", samples**4, m4)]
