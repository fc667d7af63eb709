r"""Checks of Itô calculus: GBM by Euler-Maruyama, the :math:`\lambda`-integral of W dW, the isometry.

Every simulation has a known discrete law, derived next to the continuous
one: the Euler-Maruyama GBM moments (``ito.gbm``: ``mean_em_bias``,
``var_em_bias``), the variance of the Riemann sums
:math:`\sum_k W_{t_k + \lambda h}\Delta W_k` (``ito.lambda_integral``:
``var_bias``; its mean has no bias) and the second moments of
:math:`\sum_k f(t_k)\Delta W_k` (``ito.isometry``: ``*_bias``). Expected
values are closed form plus derived bias, so what is left is sampling noise.
"""

from __future__ import annotations

import math

import torch

from checks.core import stats
from checks.sim.forward import euler_maruyama
from checks.core.registry import CheckContext, check

MU, SIGMA, U0 = 0.5, 0.6, 1.0
GBM_STEP, GBM_TIMES = 0.02, (0.5, 1.0)
LAMBDAS = (0.0, 0.5, 1.0)
HORIZON, SUM_STEPS = 1.0, 50  # Riemann sums on [0, 1] with h = 1/50


def simulate_gbm(ctx: CheckContext) -> dict[str, torch.Tensor]:
    """Euler-Maruyama paths of dU = mu U dt + sigma U dW, and independent W_t ~ N(0, t) for the solution."""
    steps = round(max(GBM_TIMES) / GBM_STEP)
    grid = GBM_STEP * torch.arange(steps + 1, dtype=ctx.dtype, device=ctx.device)
    x0 = torch.full((ctx.n_samples,), U0, dtype=ctx.dtype, device=ctx.device)
    keep = {round(t / GBM_STEP): t for t in GBM_TIMES}
    states = euler_maruyama(lambda t, u: MU * u, lambda t, u: SIGMA * u, x0, grid, ctx.generator(), keep)
    out = {f"em_{t}": states[k] for k, t in keep.items()}
    normal = ctx.normal(ctx.n_samples)
    out["w_final"] = math.sqrt(max(GBM_TIMES)) * normal
    return out


@check(
    id="ito.gbm.euler_maruyama",
    title="GBM mean and variance by Euler-Maruyama; the closed-form solution's law",
    law=f"dU = {MU} U dt + {SIGMA} U dW, U_0 = {U0}: E[U_t], Var U_t at t in {GBM_TIMES} (closed form plus the "
    f"derived Euler-Maruyama bias, h = {GBM_STEP}); mean and variance of the solution U_0 exp(...) at "
    f"W_t ~ N(0, t), t = {max(GBM_TIMES)}",
    tests=("ito.gbm",),
    uses=tuple(("ito.gbm", n) for n in ("mean", "var", "mean_em_bias", "var_em_bias", "solution")),
    samples=20_000,
    simulate=simulate_gbm,
)
def gbm_moments(ctx: CheckContext, simulated: dict[str, torch.Tensor]) -> list[stats.Estimate]:
    q = {n: ctx.quantity("ito.gbm", n) for n in ("mean", "var", "mean_em_bias", "var_em_bias", "solution")}
    base = {k: ctx.tensor(v) for k, v in dict(mu_gbm=MU, sigma_gbm=SIGMA, u0_gbm=U0, h_sde=GBM_STEP).items()}
    out = []
    for t in GBM_TIMES:
        at = dict(base, t=ctx.tensor(t))
        em_mean, em_var = q["mean"](**at) + q["mean_em_bias"](**at), q["var"](**at) + q["var_em_bias"](**at)
        out += [
            stats.mean(f"EM mean of U_t, t = {t}", simulated[f"em_{t}"], float(em_mean)),
            stats.variance(f"EM var of U_t, t = {t}", simulated[f"em_{t}"], float(em_var)),
        ]
    final = dict(base, t=ctx.tensor(max(GBM_TIMES)))
    solution = q["solution"](**final, w_ito=simulated["w_final"])
    out += [
        stats.mean("mean of the solution at W_t", solution, float(q["mean"](**final))),
        stats.variance("var of the solution at W_t", solution, float(q["var"](**final))),
    ]
    return out


def simulate_lambda_sums(ctx: CheckContext) -> dict[str, torch.Tensor]:
    r"""One Brownian path on the half-step grid per sample; the sums for lambda = 0, 1/2, 1 and W_t.

    :math:`A_k = W_{t_k + h/2} - W_{t_k}`, :math:`B_k = W_{t_{k+1}} - W_{t_k + h/2}`; the path is
    the running sum of these increments.
    """
    half_std = math.sqrt(HORIZON / SUM_STEPS / 2)
    w = torch.zeros(ctx.n_samples, dtype=ctx.dtype, device=ctx.device)
    sums = {lam: torch.zeros_like(w) for lam in LAMBDAS}
    for _ in range(SUM_STEPS):
        a = half_std * ctx.normal(*w.shape)
        b = half_std * ctx.normal(*w.shape)
        increment = a + b
        sums[0.0] += w * increment
        sums[0.5] += (w + a) * increment
        sums[1.0] += (w + increment) * increment
        w = w + increment
    return {"w_ito": w, **{f"sum_{lam}": s for lam, s in sums.items()}}


@check(
    id="ito.lambda_integral.riemann_sums",
    title="Riemann sums of W dW at evaluation points lambda = 0, 1/2, 1",
    law=f"S = sum_k W(t_k + lambda h)(W(t_k+1) - W(t_k)) on [0, {HORIZON}], h = {HORIZON / SUM_STEPS}: "
    "E[S] = lambda t, Var S = t^2/2 + derived bias; S minus the closed form at W_t has mean 0",
    tests=("ito.lambda_integral",),
    uses=tuple(("ito.lambda_integral", n) for n in ("mean", "var", "var_bias", "integral")),
    samples=30_000,
    simulate=simulate_lambda_sums,
)
def lambda_sums(ctx: CheckContext, simulated: dict[str, torch.Tensor]) -> list[stats.Estimate]:
    q = {n: ctx.quantity("ito.lambda_integral", n) for n in ("mean", "var", "var_bias", "integral")}
    out = []
    for lam in LAMBDAS:
        at = {k: ctx.tensor(v) for k, v in dict(lam_ito=lam, t=HORIZON, h_sde=HORIZON / SUM_STEPS).items()}
        total = simulated[f"sum_{lam}"]
        pathwise_error = total - q["integral"](**at, w_ito=simulated["w_ito"])
        out += [
            stats.mean(f"lambda = {lam}: mean of S", total, float(q["mean"](**at))),
            stats.variance(f"lambda = {lam}: var of S", total, float(q["var"](**at) + q["var_bias"](**at))),
            stats.mean(f"lambda = {lam}: S - closed form at W_t", pathwise_error, 0.0),
        ]
    return out


ISOMETRY_RATE, ISOMETRY_STEPS = 1.5, 50  # integrands u and e^{1.5 u} on [0, HORIZON]


def simulate_wiener_sums(ctx: CheckContext) -> dict[str, torch.Tensor]:
    r""":math:`\sum_k f(t_k)\Delta W_k` for :math:`f(u) = u` and :math:`f(u) = e^{ru}`, the same increments."""
    step = HORIZON / ISOMETRY_STEPS
    sums = {"linear": torch.zeros(ctx.n_samples, dtype=ctx.dtype, device=ctx.device)}
    sums["exp"] = torch.zeros_like(sums["linear"])
    for k in range(ISOMETRY_STEPS):
        increment = math.sqrt(step) * ctx.normal(ctx.n_samples)
        sums["linear"] += k * step * increment
        sums["exp"] += math.exp(ISOMETRY_RATE * k * step) * increment
    return sums


@check(
    id="ito.isometry.wiener_sums",
    title="Itô isometry: second moments of Riemann sums of deterministic integrands",
    law=f"sum_k f(t_k) dW_k on [0, {HORIZON}], h = {HORIZON / ISOMETRY_STEPS}, f(u) = u and e^({ISOMETRY_RATE} u): "
    "mean 0 and second moment int f^2 du plus the derived Riemann-sum bias",
    tests=("ito.isometry",),
    uses=tuple(("ito.isometry", n) for n in ("second_moment_linear", "second_moment_linear_bias",
                                             "second_moment_exp", "second_moment_exp_bias")),
    samples=30_000,
    simulate=simulate_wiener_sums,
)
def wiener_sums(ctx: CheckContext, sums: dict[str, torch.Tensor]) -> list[stats.Estimate]:
    at = {k: ctx.tensor(v) for k, v in dict(t=HORIZON, h_sde=HORIZON / ISOMETRY_STEPS,
                                            rate_ito=ISOMETRY_RATE).items()}
    out = []
    for label in ("linear", "exp"):
        second = ctx.quantity("ito.isometry", f"second_moment_{label}")(**at)
        bias = ctx.quantity("ito.isometry", f"second_moment_{label}_bias")(**at)
        out += [
            stats.mean(f"f {label}: mean of the sum", sums[label], 0.0),
            # the mean is 0 exactly, so the variance is the second moment
            stats.variance(f"f {label}: second moment of the sum", sums[label], float(second + bias)),
        ]
    return out
