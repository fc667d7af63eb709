r"""Checks of Langevin dynamics simulated with Euler-Maruyama.

Quadratic :math:`U = k(x - c)^2/2`: the chain's law is Gaussian at every step, so
its stationary law is known exactly for each step size :math:`h`
(``langevin.em_quadratic``); two step sizes show the bias :math:`h/(2 - hk)`
against the continuous variance :math:`1/k`. The start's transient decays as
:math:`|1 - hk|^n`, below :math:`10^{-12}` after the steps run here.

Quartic :math:`U = a x^4/4` (``langevin.stationary``): no exact law of the chain, so the
discretization bias is removed, not bounded: the chain's stationary moments are
:math:`m + c_1 h + c_2 h^2 + \dots` (weak order 1), and the Richardson combination
:math:`2\hat m_{h/2} - \hat m_h` of two independent runs has bias :math:`-c_2 h^2/2`.
Runs with :math:`10^6` paths at :math:`h \in \{0.1, 0.05, 0.025\}` gave
:math:`c_1 \approx 1.1`, :math:`c_2 \approx 3` for :math:`E X^4` (:math:`a = 1`); the
combination at :math:`h = 0.02` left :math:`+0.0006 \pm 0.0017` in :math:`E X^2` and
:math:`+0.0041 \pm 0.0046` in :math:`E X^4` (at :math:`h = 0.04`: :math:`-0.0022`, :math:`-0.0063`),
a tenth to a third of this check's standard errors; ``tests/test_langevin.py`` halves the
steps again and finds the same limit.
"""

from __future__ import annotations

import math

import torch

from checks.core import stats
from checks.sim.forward import euler_maruyama
from checks.core.registry import CheckContext, check

STIFFNESS, CENTRE, START = 1.0, 0.5, 2.5
STEP_SIZES = (0.4, 0.05)
TRANSIENT = 1e-12


def settle_steps(step: float) -> int:
    """Steps after which |1 - h k|^n |start - centre| < TRANSIENT."""
    return math.ceil(math.log(TRANSIENT / abs(START - CENTRE)) / math.log(abs(1 - step * STIFFNESS)))


def simulate_quadratic(ctx: CheckContext) -> dict[float, torch.Tensor]:
    out = {}
    for step in STEP_SIZES:
        n = settle_steps(step)
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
        at = dict(h_sde=ctx.tensor(step), k_lgv=ctx.tensor(STIFFNESS), c_lgv=ctx.tensor(CENTRE))
        out += [stats.mean(f"h={step}: mean", samples, float(mean_chain(**at))),
                stats.variance(f"h={step}: variance", samples, float(var_chain(**at)))]
    return out


QUARTIC_COEF = 1.0
QUARTIC_STEPS = (0.02, 0.01)  # h and h/2 of the Richardson combination
QUARTIC_TIME = 10.0  # from x = 0; the quartic chain forgets its start within a few time units


def simulate_quartic(ctx: CheckContext, step_sizes: tuple[float, float] = QUARTIC_STEPS) -> dict[float, torch.Tensor]:
    out = {}
    noise = ctx.tensor(math.sqrt(2.0))
    for step in step_sizes:
        n = round(QUARTIC_TIME / step)
        grid = ctx.tensor(torch.arange(n + 1, dtype=torch.float64) * step)
        x0 = torch.zeros(ctx.n_samples, dtype=ctx.dtype, device=ctx.device)
        out[step] = euler_maruyama(lambda t, x: -QUARTIC_COEF * x**3, lambda t, x: noise, x0, grid,
                                   ctx.generator(), {n})[n]
    return out


# The O(h^2) remainder of the Richardson combination, bounded in this check's SEs (module docstring),
# allowed for in the threshold.
REMAINDER_SE = 0.3


def richardson(name: str, coarse: torch.Tensor, fine: torch.Tensor, expected: float,
               kind: str = stats.MEAN) -> stats.Estimate:
    r"""The estimate :math:`2\bar f - \bar c` of the :math:`h \to 0` limit from independent runs at
    :math:`h` (``coarse``) and :math:`h/2` (``fine``); SE :math:`\sqrt{4 s_f^2/n_f + s_c^2/n_c}`."""
    coarse, fine = coarse.to(torch.float64), fine.to(torch.float64)
    se = math.sqrt(4 * float(fine.var()) / fine.numel() + float(coarse.var()) / coarse.numel())
    return stats.Estimate(name, float(2 * fine.mean() - coarse.mean()), expected, se,
                          bias_allowance=REMAINDER_SE * se, kind=kind)


@check(
    id="langevin.stationary.quartic",
    title="Langevin chain, quartic potential: stationary E X^2 and E X^4 (Richardson over two step sizes)",
    law=f"X_(n+1) = X_n - h a X_n^3 + sqrt(2h) Z, a = {QUARTIC_COEF}, h in {QUARTIC_STEPS}, t = {QUARTIC_TIME} "
    f"from 0: 2 m(h/2) - m(h) = the moments of e^{{-U}} (langevin.stationary); O(h^2) remainder below "
    f"{REMAINDER_SE} SE, allowed for in the threshold",
    tests=("langevin.stationary",),
    uses=(("langevin.stationary", "m2_quartic"), ("langevin.stationary", "m4_quartic")),
    samples=100_000,
    simulate=simulate_quartic,
)
def quartic(ctx: CheckContext, states: dict[float, torch.Tensor]) -> list[stats.Estimate]:
    coarse, fine = (states[h] for h in QUARTIC_STEPS)
    at = dict(a_lgv=ctx.tensor(QUARTIC_COEF))
    return [richardson(f"E X^{k} (h -> 0)", coarse**k, fine**k,
                       float(ctx.quantity("langevin.stationary", f"m{k}_quartic")(**at)), kind)
            for k, kind in ((2, stats.SECOND_MOMENT), (4, stats.FOURTH_MOMENT))]
