r"""Checks of the Ornstein-Uhlenbeck transition law by Euler-Maruyama simulation.

The scheme :math:`X_{k+1} = X_k + \kappa(\theta - X_k)h + \sigma\sqrt h Z_k` is
linear-Gaussian, so its law at every step is known exactly (``ou.moments``
derives it). Each expected value is the continuous closed form plus the
derived Euler-Maruyama bias (``mean_em_bias``, ``cross_cov_em_bias``): the
simulation is tested against the scheme's exact discrete law, leaving only
sampling noise. Two step sizes: a fine one, where the bias is a fraction of
the detectable error, and a coarse one, where it is several times the
detectable error, so the check also confirms the derived bias itself.
"""

from __future__ import annotations

import torch

from checks.core import stats
from checks.sim.forward import euler_maruyama
from checks.core.registry import CheckContext, check

KAPPA, THETA, SIGMA = 2.0, 1.5, 0.8
X_START, START, FIRST, SECOND = -1.0, 0.2, 0.7, 1.1  # x_s, s < t < t'
STEPS = {"fine": 0.01, "coarse": 0.1}
USES = tuple(("ou.moments", name) for name in ("mean", "var", "cross_cov", "mean_em_bias", "cross_cov_em_bias"))


def _parameters(ctx: CheckContext, step: float) -> dict[str, torch.Tensor]:
    values = dict(kappa_ou=KAPPA, theta_ou=THETA, sigma_ou=SIGMA, x_start_ou=X_START, s_ou=START, h_sde=step)
    return {k: ctx.tensor(v) for k, v in values.items()}


def grid_index(time_: float, step: float) -> int:
    index = round((time_ - START) / step)
    if abs(START + index * step - time_) > 1e-9:
        raise ValueError(f"time {time_} is not on the grid of step {step}")
    return index


def simulator(step: float):
    """Euler-Maruyama paths from x_s at time s, kept at t and t'."""

    def simulate(ctx: CheckContext) -> tuple[torch.Tensor, torch.Tensor]:
        first, second = grid_index(FIRST, step), grid_index(SECOND, step)
        grid = START + step * torch.arange(second + 1, dtype=ctx.dtype, device=ctx.device)
        x0 = torch.full((ctx.n_samples,), X_START, dtype=ctx.dtype, device=ctx.device)
        states = euler_maruyama(lambda t, x: KAPPA * (THETA - x), lambda t, x: torch.full_like(x, SIGMA),
                                x0, grid, ctx.generator(), {first, second})
        return states[first], states[second]

    return simulate


def expected_moments(ctx: CheckContext, step: float, include_bias: bool = True) -> dict[str, float]:
    """Means, variances and covariance at t and t': the closed forms plus, by default, the derived
    Euler-Maruyama bias for ``step`` (the scheme's exact law); without it, the SDE's own law."""
    q = {name: ctx.quantity("ou.moments", name) for _, name in USES}
    at = _parameters(ctx, step)
    t, tp = ctx.tensor(FIRST), ctx.tensor(SECOND)

    def mean(time_: torch.Tensor) -> float:
        bias = q["mean_em_bias"](**at, t_ou=time_) if include_bias else 0.0
        return float(q["mean"](**at, t_ou=time_) + bias)

    def cov(first: torch.Tensor, second: torch.Tensor, continuous: str) -> float:
        pair = dict(at, t_ou=first, tp_ou=second)
        bias = q["cross_cov_em_bias"](**pair) if include_bias else 0.0
        return float(q[continuous](**pair) + bias)

    return {"mean_t": mean(t), "mean_tp": mean(tp), "var_t": cov(t, t, "var"), "var_tp": cov(tp, tp, "var"),
            "cov": cov(t, tp, "cross_cov")}


def _estimates(ctx: CheckContext, paths: tuple[torch.Tensor, torch.Tensor], step: float) -> list[stats.Estimate]:
    at_t, at_tp = paths
    expected = expected_moments(ctx, step)
    return [
        stats.mean(f"mean of X_t, t = {FIRST}", at_t, expected["mean_t"]),
        stats.mean(f"mean of X_t', t' = {SECOND}", at_tp, expected["mean_tp"]),
        stats.variance(f"var of X_t, t = {FIRST}", at_t, expected["var_t"]),
        stats.variance(f"var of X_t', t' = {SECOND}", at_tp, expected["var_tp"]),
        stats.covariance("Cov(X_t, X_t')", at_t, at_tp, expected["cov"]),
    ]


def _register(label: str, step: float) -> None:
    @check(
        id=f"ou.euler_maruyama.{label}",
        title=f"OU mean and cross-covariance at two times, Euler-Maruyama with h = {step}",
        law=f"dX = {KAPPA}({THETA} - X)dt + {SIGMA} dW from x_s = {X_START} at s = {START}: E[X_t], E[X_t'], "
        f"Var X_t, Var X_t', Cov(X_t, X_t') at t = {FIRST}, t' = {SECOND}; closed forms plus the derived "
        f"Euler-Maruyama bias for h = {step}",
        tests=("ou.moments",),
        uses=USES,
        samples=40_000,
        simulate=simulator(step),
    )
    def compare(ctx: CheckContext, paths: tuple[torch.Tensor, torch.Tensor]) -> list[stats.Estimate]:
        return _estimates(ctx, paths, step)


for _label, _step in STEPS.items():
    _register(_label, _step)
