r"""Checks of the time reversal's Brownian motion on simulated OU paths.

:math:`X` is sampled with the OU process's exact transitions on a grid of :math:`[t, T]`, jointly with
the Brownian increments that drive them, so the forward path has no discretization error. The
reversed motion's increment :math:`\bar w_T - \bar w_t = (W_T - W_t) + \sigma\int_t^T \nabla\log p_u(X_u)\,du`
takes the score of the grid's own exact Gaussian marginals and the integral by the trapezoid rule,
whose bias at :data:`GRID_STEPS` steps is far below the detectable error.
"""

from __future__ import annotations

import math

import torch

from checks.core import stats
from checks.core.registry import CheckContext, check

KAPPA, SIGMA, DATA_MEAN, DATA_VAR = 1.0, 0.8, 0.5, 1.5  # far from stationary (sigma^2 / 2 kappa = 0.32)
FIRST, HORIZON = 0.3, 1.2  # t < T
GRID_STEPS = 200
USES = tuple(("fp.reversed_brownian", name) for name in ("cov_noise_state", "cov_reversed", "var_reversed"))


def simulate(ctx: CheckContext) -> dict[str, torch.Tensor]:
    """The increments W_T - W_t and w-bar_T - w-bar_t, and X_T, per path."""
    n, h = ctx.n_samples, (HORIZON - FIRST) / GRID_STEPS
    decay = math.exp(-KAPPA * h)
    # (int_0^h e^{-kappa (h - s)} dW_s, W_h - W_0): jointly Gaussian, exact transitions of X.
    var_i, var_w, cov_iw = (1 - decay**2) / (2 * KAPPA), h, (1 - decay) / KAPPA
    gain = cov_iw / var_i
    mean = DATA_MEAN * math.exp(-KAPPA * FIRST)
    var = math.exp(-2 * KAPPA * FIRST) * DATA_VAR + SIGMA**2 * (1 - math.exp(-2 * KAPPA * FIRST)) / (2 * KAPPA)
    state = mean + math.sqrt(var) * ctx.normal(n)
    noise = torch.zeros_like(state)
    score_integral = torch.zeros_like(state)
    score = -(state - mean) / var
    for _ in range(GRID_STEPS):
        transition = math.sqrt(var_i) * ctx.normal(n)
        increment = gain * transition + math.sqrt(var_w - cov_iw**2 / var_i) * ctx.normal(n)
        state = decay * state + SIGMA * transition
        mean, var = decay * mean, decay**2 * var + SIGMA**2 * var_i
        next_score = -(state - mean) / var
        score_integral += h * (score + next_score) / 2
        noise += increment
        score = next_score
    return {"noise": noise, "reversed": noise + SIGMA * score_integral, "state": state}


@check(
    id="fp.reversed_brownian.independence",
    title="The reversed Brownian motion of the OU process: uncorrelated with X_T, Brownian variance",
    law=f"dX = -{KAPPA} X du + {SIGMA} dW from N({DATA_MEAN}, {DATA_VAR}); over [{FIRST}, {HORIZON}]: "
        "Cov(W_T - W_t, X_T), Cov(w-bar_T - w-bar_t, X_T) = 0 and Var(w-bar_T - w-bar_t) = T - t",
    tests=("fp.reversed_brownian",),
    uses=USES,
    samples=200_000,
    simulate=simulate,
)
def independence(ctx: CheckContext, paths: dict[str, torch.Tensor]) -> list[stats.Estimate]:
    at = {k: ctx.tensor(v) for k, v in dict(kappa_ou=KAPPA, sigma_ou=SIGMA, t=FIRST, T_rev=HORIZON).items()}
    cov_noise, cov_reversed, var_reversed = (ctx.quantity(d, name) for d, name in USES)
    return [
        stats.covariance("Cov(W_T - W_t, X_T)", paths["noise"], paths["state"], float(cov_noise(**at))),
        stats.covariance("Cov(w-bar_T - w-bar_t, X_T)", paths["reversed"], paths["state"], float(cov_reversed(**at))),
        stats.variance("Var(w-bar_T - w-bar_t)", paths["reversed"], float(var_reversed(**at))),
    ]
