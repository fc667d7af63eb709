r"""Checks of the DDPM forward process by simulating the chain step by step.

Schedule: linear :math:`\beta` from 1e-4 to 0.02, T = 1000 (Ho et al. 2020).
"""

from __future__ import annotations

import torch

from derivations.core import schedules

from checks.core import stats
from checks.sim.forward import ddpm_forward_chain
from checks.core.registry import CheckContext, check

SCHEDULE = schedules.make("linear", 1000)
MARGINAL_STEPS = (1, 10, 100, 500, 1000)
# Steps chosen where the posterior's coefficients and variance differ most
# from plausible misprints (small t: beta_tilde << beta; large t: sqrt(alpha_t)).
POSTERIOR_STEPS = (2, 50, 900)
FIXED_X0 = 1.5
DATA_MEAN, DATA_STD = 0.5, 0.8


def _chain(ctx: CheckContext, x0: torch.Tensor, keep: set[int]) -> dict[int, torch.Tensor]:
    return ddpm_forward_chain(x0, ctx.tensor(SCHEDULE.beta), ctx.generator(), keep)


def _data(ctx: CheckContext, n: int) -> torch.Tensor:
    return DATA_MEAN + DATA_STD * ctx.normal(n)


def simulate_from_fixed_and_data(ctx: CheckContext) -> dict[int, torch.Tensor]:
    """First half of the paths from x_0 = FIXED_X0, second half from Gaussian data."""
    half = ctx.n_samples // 2
    fixed = torch.full((half,), FIXED_X0, dtype=ctx.dtype, device=ctx.device)
    return _chain(ctx, torch.cat([fixed, _data(ctx, half)]), set(MARGINAL_STEPS))


def simulate_pairs(ctx: CheckContext) -> dict[int, torch.Tensor]:
    """x_0 ~ data and the states at each posterior step t and t - 1."""
    keep = {0} | set(POSTERIOR_STEPS) | {t - 1 for t in POSTERIOR_STEPS}
    return _chain(ctx, _data(ctx, ctx.n_samples), keep)


@check(
    id="ddpm.forward_chain.marginal",
    title="Law of x_t along the simulated DDPM chain, from a fixed x_0 and from Gaussian data",
    law=f"x_t for t in {MARGINAL_STEPS}: N(sqrt(alpha_bar_t) x_0, 1 - alpha_bar_t) from x_0 = {FIXED_X0}; "
    f"from x_0 ~ N({DATA_MEAN}, {DATA_STD}^2) its push-forward (gaussian.linear_bayes)",
    tests=("ddpm.marginal", "gaussian.linear_bayes"),
    uses=(("ddpm.marginal", "mean_coef"), ("ddpm.marginal", "var"),
          ("gaussian.linear_bayes", "marginal_mean"), ("gaussian.linear_bayes", "marginal_var")),
    samples=200_000,
    simulate=simulate_from_fixed_and_data,
)
def forward_marginal(ctx: CheckContext, states: dict[int, torch.Tensor]) -> list[stats.Estimate]:
    half = ctx.n_samples // 2
    mean_coef, var = ctx.quantity("ddpm.marginal", "mean_coef"), ctx.quantity("ddpm.marginal", "var")
    pushed_mean = ctx.quantity("gaussian.linear_bayes", "marginal_mean")
    pushed_var = ctx.quantity("gaussian.linear_bayes", "marginal_var")
    out = []
    for t in MARGINAL_STEPS:
        at = {k: ctx.tensor(v) for k, v in SCHEDULE.at(t).items()}
        coef, kernel_var = mean_coef(**at), var(**at)
        from_fixed, from_data = states[t][:half], states[t][half:]
        push = dict(mu_x=DATA_MEAN, var_x=DATA_STD**2, gain=coef, offset=0.0, var_noise=kernel_var)
        out += [
            stats.mean(f"fixed x_0: mean of x_{t}", from_fixed, float(coef * FIXED_X0)),
            stats.variance(f"fixed x_0: var of x_{t}", from_fixed, float(kernel_var)),
            stats.mean(f"data: mean of x_{t}", from_data, float(pushed_mean(**push))),
            stats.variance(f"data: var of x_{t}", from_data, float(pushed_var(**push))),
        ]
    return out


@check(
    id="ddpm.forward_chain.posterior",
    title="Law of x_{t-1} given (x_t, x_0) along the simulated DDPM chain",
    law=f"regression of x_(t-1) on (x_0, x_t) for t in {POSTERIOR_STEPS}, x_0 ~ N({DATA_MEAN}, {DATA_STD}^2): "
    "coefficients and residual variance of q(x_(t-1) | x_t, x_0)",
    tests=("ddpm.posterior",),
    uses=(("ddpm.posterior", "coef_x0"), ("ddpm.posterior", "coef_xt"), ("ddpm.posterior", "var")),
    samples=200_000,
    simulate=simulate_pairs,
)
def forward_posterior(ctx: CheckContext, states: dict[int, torch.Tensor]) -> list[stats.Estimate]:
    coef_x0, coef_xt = ctx.quantity("ddpm.posterior", "coef_x0"), ctx.quantity("ddpm.posterior", "coef_xt")
    var = ctx.quantity("ddpm.posterior", "var")
    out = []
    for t in POSTERIOR_STEPS:
        at = {k: ctx.tensor(v) for k, v in SCHEDULE.at(t).items()}
        out += stats.regression(
            [f"t={t}: coefficient of x_0", f"t={t}: coefficient of x_t"],
            states[t - 1], [states[0], states[t]],
            [float(coef_x0(**at)), float(coef_xt(**at))],
            f"t={t}: residual variance", float(var(**at)),
        )
    return out


# One step from fixed states: two states separate a wrong slope from a wrong intercept; steps where
# beta_t (t = 1) and 1 - alpha_bar_t differ by orders of magnitude, and the last step.
ONE_STEP_TIMES = (1, 500, 1000)
ONE_STEP_FROM = (1.5, -0.7)


def simulate_one_step(ctx: CheckContext) -> dict[tuple[int, float], torch.Tensor]:
    """For each step t and state x_{t-1}, the chain's own update from that state (its schedule sliced
    to the one step)."""
    per = ctx.n_samples // (len(ONE_STEP_TIMES) * len(ONE_STEP_FROM))
    betas = ctx.tensor(SCHEDULE.beta)
    out = {}
    for t in ONE_STEP_TIMES:
        for x_prev in ONE_STEP_FROM:
            start = torch.full((per,), x_prev, dtype=ctx.dtype, device=ctx.device)
            out[t, x_prev] = ddpm_forward_chain(start, betas[t - 1:t + 1], ctx.generator(), {1})[1]
    return out


@check(
    id="ddpm.forward_chain.one_step",
    title="Law of x_t given x_{t-1}: one step of the simulated DDPM chain",
    law=f"x_t from fixed x_(t-1) in {ONE_STEP_FROM}, t in {ONE_STEP_TIMES}: N(sqrt(alpha_t) x_(t-1), beta_t)",
    tests=("ddpm.one_step",),
    uses=(("ddpm.one_step", "mean"), ("ddpm.one_step", "var")),
    samples=240_000,
    simulate=simulate_one_step,
)
def forward_one_step(ctx: CheckContext, states: dict[tuple[int, float], torch.Tensor]) -> list[stats.Estimate]:
    mean, var = ctx.quantity("ddpm.one_step", "mean"), ctx.quantity("ddpm.one_step", "var")
    out = []
    for (t, x_prev), x_t in states.items():
        at = {k: ctx.tensor(v) for k, v in SCHEDULE.at(t).items()}
        out += [stats.mean(f"t={t}, x_(t-1)={x_prev}: mean of x_t", x_t, float(mean(x_prev=x_prev, **at))),
                stats.variance(f"t={t}, x_(t-1)={x_prev}: var of x_t", x_t, float(var(**at)))]
    return out
