r"""Monte Carlo checks of the KL terms of the variational bound.

A KL divergence is an expectation, :math:`\mathrm{KL}(P\|Q) = E_P[\log p - \log q]`; each check
draws from :math:`P` and compares the sample mean of the log-ratio with the derived closed form.
The per-step term of the bound is checked along the simulated forward chain (linear schedule,
T = 1000), with a deliberately imperfect linear predictor of :math:`x_0` and the model variance
:math:`\sigma_t^2 = \beta_t`, so both the weight and the constant :math:`C` matter.
"""

from __future__ import annotations

import math

import torch

from derivations.core import schedules

from checks.core import stats
from checks.sim.forward import ddpm_forward_chain
from checks.core.registry import CheckContext, check

SCHEDULE = schedules.make("linear", 1000)
# Small t: beta_tilde_t is about beta_t / 2, so C and the weights differ most from misprints.
KL_STEPS = (2, 10, 100)
DATA_MEAN, DATA_STD = 0.5, 0.8
PREDICTOR_SHRINK = 0.7  # x0_hat = PREDICTOR_SHRINK * x_t / sqrt(alpha_bar_t): biased on purpose


def log_normal(value: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    return -0.5 * torch.log(2 * math.pi * var) - (value - mean) ** 2 / (2 * var)


def simulate_chain(ctx: CheckContext) -> dict[int, torch.Tensor]:
    """x_0 ~ N(DATA_MEAN, DATA_STD^2) and the chain's states at each t and t - 1."""
    x0 = DATA_MEAN + DATA_STD * ctx.normal(ctx.n_samples)
    keep = {0} | set(KL_STEPS) | {t - 1 for t in KL_STEPS}
    return ddpm_forward_chain(x0, ctx.tensor(SCHEDULE.beta), ctx.generator(), keep)


@check(
    id="elbo.per_step_kl.sampled",
    title="Per-step KL of the bound as a sampled log-ratio, against its x_0 and eps weights",
    law=f"E[log q(x_(t-1) | x_t, x_0) - log p_theta(x_(t-1) | x_t)] over the forward chain, t in {KL_STEPS}, "
    f"x_0 ~ N({DATA_MEAN}, {DATA_STD}^2), p_theta = N(posterior mean at x0_hat, beta_t), "
    f"x0_hat = {PREDICTOR_SHRINK} x_t / sqrt(alpha_bar_t): equals C + w E(x_0 - x0_hat)^2 = C + w_eps E(eps - eps_hat)^2",
    tests=("elbo.weights", "ddpm.posterior"),
    uses=(("elbo.weights", "weight_x0"), ("elbo.weights", "weight_eps"), ("elbo.weights", "kl_const"),
          ("ddpm.posterior", "coef_x0"), ("ddpm.posterior", "coef_xt"), ("ddpm.posterior", "var")),
    samples=100_000,
    simulate=simulate_chain,
)
def per_step_kl(ctx: CheckContext, states: dict[int, torch.Tensor]) -> list[stats.Estimate]:
    weight_x0, weight_eps = ctx.quantity("elbo.weights", "weight_x0"), ctx.quantity("elbo.weights", "weight_eps")
    const = ctx.quantity("elbo.weights", "kl_const")
    coef_x0, coef_xt = ctx.quantity("ddpm.posterior", "coef_x0"), ctx.quantity("ddpm.posterior", "coef_xt")
    post_var = ctx.quantity("ddpm.posterior", "var")
    x0 = states[0]
    out = []
    for t in KL_STEPS:
        at = {k: ctx.tensor(v) for k, v in SCHEDULE.at(t).items()}
        # The notation's defined names, which a closed form (or a misprint of it) may take as inputs.
        at["beta_tilde_t"] = (1 - at["alpha_bar_prev"]) * at["beta_t"] / (1 - at["alpha_bar_t"])
        model_var, alpha_bar = at["beta_t"], at["alpha_bar_t"]
        shrink = PREDICTOR_SHRINK / torch.sqrt(alpha_bar)
        x_prev, x_t = states[t - 1], states[t]
        x0_hat = shrink * x_t
        c0, ct = coef_x0(**at), coef_xt(**at)
        log_ratio = (log_normal(x_prev, c0 * x0 + ct * x_t, post_var(**at))
                     - log_normal(x_prev, c0 * x0_hat + ct * x_t, model_var))
        # E(x_0 - x0_hat)^2 with x_0 - x0_hat = (1 - shrink sqrt(ab)) x_0 - shrink sqrt(1 - ab) eps.
        data_second_moment = DATA_MEAN**2 + DATA_STD**2
        sq_error_x0 = float((1 - shrink * torch.sqrt(alpha_bar)) ** 2 * data_second_moment
                            + shrink**2 * (1 - alpha_bar))
        sq_error_eps = float(alpha_bar / (1 - alpha_bar)) * sq_error_x0  # eps - eps_hat = sqrt(ab/(1-ab)) (x0_hat - x0)
        c = float(const(**at, var_model=model_var))
        out += [
            stats.mean(f"t={t}: KL via the x_0 weight", log_ratio,
                       c + float(weight_x0(**at, var_model=model_var)) * sq_error_x0, kind=stats.SAMPLED_KL),
            stats.mean(f"t={t}: KL via the eps weight", log_ratio,
                       c + float(weight_eps(**at, var_model=model_var)) * sq_error_eps, kind=stats.SAMPLED_KL),
        ]
    return out


# The denoising term L_{t-1} at a generic t, conditional on one data point, for a reverse kernel
# N(a_t x_t + b_t, v_t) that is not the posterior (gain shrunk, an offset, the variance beta_t).
GENERIC_STEPS = (2, 50, 500)
GENERIC_X0 = 0.7
GENERIC_GAIN_SHRINK, GENERIC_OFFSET = 0.9, 0.05


def simulate_chain_from_point(ctx: CheckContext) -> dict[int, torch.Tensor]:
    """The chain's states at each generic t and t - 1, every path started at x_0 = GENERIC_X0."""
    x0 = torch.full((ctx.n_samples,), GENERIC_X0, dtype=ctx.dtype, device=ctx.device)
    keep = {0} | set(GENERIC_STEPS) | {t - 1 for t in GENERIC_STEPS}
    return ddpm_forward_chain(x0, ctx.tensor(SCHEDULE.beta), ctx.generator(), keep)


@check(
    id="elbo.generic_t.sampled",
    title="The denoising term L_(t-1) at a generic t as a sampled log-ratio",
    law=f"E[log q(x_(t-1) | x_t, x_0) - log p_theta(x_(t-1) | x_t)] over the forward chain from x_0 = {GENERIC_X0}, "
    f"t in {GENERIC_STEPS} (linear schedule, T = 1000), p_theta = N(a_t x_t + b_t, beta_t) with "
    f"a_t = {GENERIC_GAIN_SHRINK} sqrt(alpha_t)(1 - alpha_bar_(t-1))/(1 - alpha_bar_t) and b_t = {GENERIC_OFFSET}: equals L_(t-1)",
    tests=("elbo.generic_t", "ddpm.posterior"),
    uses=(("elbo.generic_t", "step_term"), ("ddpm.posterior", "coef_x0"), ("ddpm.posterior", "coef_xt"),
          ("ddpm.posterior", "var")),
    samples=100_000,
    simulate=simulate_chain_from_point,
)
def generic_step_term(ctx: CheckContext, states: dict[int, torch.Tensor]) -> list[stats.Estimate]:
    step_term = ctx.quantity("elbo.generic_t", "step_term")
    coef_x0, coef_xt = ctx.quantity("ddpm.posterior", "coef_x0"), ctx.quantity("ddpm.posterior", "coef_xt")
    post_var = ctx.quantity("ddpm.posterior", "var")
    x0 = states[0]
    out = []
    for t in GENERIC_STEPS:
        at = {k: ctx.tensor(v) for k, v in SCHEDULE.at(t).items()}
        at["beta_tilde_t"] = (1 - at["alpha_bar_prev"]) * at["beta_t"] / (1 - at["alpha_bar_t"])
        c0, ct = coef_x0(**at), coef_xt(**at)
        # The gain written out here (not read from ddpm.posterior), so the model kernel is fixed per t.
        gain_ = GENERIC_GAIN_SHRINK * torch.sqrt(at["alpha_t"]) * (1 - at["alpha_bar_prev"]) / (1 - at["alpha_bar_t"])
        kernel = dict(rev_gain_t=gain_, rev_offset_t=ctx.tensor(GENERIC_OFFSET),
                      var_model=at["beta_t"])
        x_prev, x_t = states[t - 1], states[t]
        log_ratio = (log_normal(x_prev, c0 * x0 + ct * x_t, post_var(**at))
                     - log_normal(x_prev, kernel["rev_gain_t"] * x_t + kernel["rev_offset_t"], kernel["var_model"]))
        expected = float(step_term(**at, **kernel, x_0=ctx.tensor(GENERIC_X0)))
        out.append(stats.mean(f"t={t}: L_(t-1)", log_ratio, expected, kind=stats.SAMPLED_KL))
    return out
