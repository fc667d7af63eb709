r"""The Brownian bridge: the h-transformed SDE simulated, and the bridge built from a Brownian path.

``bridge.brownian_marginal``: (1) Euler–Maruyama on :math:`dX = \frac{b - X}{T - t}dt + dW` with the derived
drift (``bridge.brownian``), :data:`STEPS` steps from :math:`a` at 0 to :math:`T/2`; (2) Lévy's construction
:math:`X_t = a + W_t - \frac tT(W_T - (b - a))` from an independent Brownian path. Both must have the
derived marginal mean and variance at :math:`T/2`. ``bridge.ou_marginal``: the same for the OU bridge
(``bridge.ou``), Euler–Maruyama on its linear drift; its affine recursion has the mean within 0.02 standard
errors and the variance 0.16 % (0.16 standard errors) above the bridge's at 500 steps.
``bridge.conditional_ou_moments``: :math:`Y` drawn, then Euler–Maruyama on the conditional OU
(``bridge.conditional_ou``); total mean, variance and :math:`\mathrm{Cov}(X_t, Y)` (the mean of
:math:`(X_t - \bar X)(Y - \mu_Y)`). Euler–Maruyama's affine law is 0.1 standard errors off in mean and variance. Euler–Maruyama's own law on this linear SDE (its affine
recursion) has the exact mean and a variance 0.15 % above the bridge's at 500 steps, about 1/50 of the
smallest relative variance error detected at the default sample size.
"""

from __future__ import annotations

import torch

from checks.core import stats
from checks.core.registry import CheckContext, check

START, END, HORIZON = 0.5, -1.0, 1.5
STEPS = 500
SAMPLES = 20_000


def _values(ctx: CheckContext, t: float) -> dict[str, torch.Tensor]:
    return {"bridge_start": ctx.tensor(START), "bridge_end": ctx.tensor(END), "bridge_horizon": ctx.tensor(HORIZON),
            "t": ctx.tensor(t)}


def simulate(ctx: CheckContext) -> dict[str, torch.Tensor]:
    drift = ctx.quantity("bridge.brownian", "drift")
    n, h = ctx.n_samples, HORIZON / 2 / STEPS
    x = torch.full((n,), START, dtype=ctx.dtype, device=ctx.device)
    fixed = {"bridge_start": START, "bridge_end": END, "bridge_horizon": HORIZON}  # plain numbers: a cheap step
    for k in range(STEPS):
        x = x + h * drift(x_sde=x, t=k * h, **fixed) + h**0.5 * ctx.normal(n)
    w_half = (HORIZON / 2) ** 0.5 * ctx.normal(n)
    w_end = w_half + (HORIZON / 2) ** 0.5 * ctx.normal(n)
    levy = START + w_half - 0.5 * (w_end - (END - START))
    return {"sde": x, "levy": levy}


@check(
    id="bridge.brownian_marginal",
    title="Brownian bridge at T/2: the h-transformed SDE and Lévy's construction against the derived marginal",
    law=f"a = {START}, b = {END}, T = {HORIZON}: Euler-Maruyama ({STEPS} steps) on dX = drift dt + dW, and "
    "a + W_t - (t/T)(W_T - (b - a)), both at t = T/2: mean and variance of bridge.brownian",
    tests=("bridge.brownian",),
    uses=(("bridge.brownian", "drift"), ("bridge.brownian", "mean"), ("bridge.brownian", "var")),
    samples=SAMPLES,
    simulate=simulate,
)
def brownian_marginal(ctx: CheckContext, sample: dict[str, torch.Tensor]) -> list[stats.Estimate]:
    values = _values(ctx, HORIZON / 2)
    mean = float(ctx.quantity("bridge.brownian", "mean")(**values))
    var = float(ctx.quantity("bridge.brownian", "var")(**values))
    out = []
    for label, x in sample.items():
        out += [stats.mean(f"{label}: E[X_(T/2)]", x, mean), stats.variance(f"{label}: Var[X_(T/2)]", x, var)]
    return out


# --------------------------------------------------------------------------
# The OU bridge
# --------------------------------------------------------------------------
OU = {"kappa_ou": 1.0, "theta_ou": 0.3, "sigma_ou": 0.8}


def simulate_ou(ctx: CheckContext) -> torch.Tensor:
    drift = ctx.quantity("bridge.ou", "drift")
    n, h = ctx.n_samples, HORIZON / 2 / STEPS
    x = torch.full((n,), START, dtype=ctx.dtype, device=ctx.device)
    fixed = {"bridge_start": START, "bridge_end": END, "bridge_horizon": HORIZON, **OU}
    fixed = {k: ctx.tensor(v) for k, v in fixed.items()}  # the drift takes exponentials of them
    for k in range(STEPS):
        x = x + h * drift(x_sde=x, t=ctx.tensor(k * h), **fixed) + OU["sigma_ou"] * h**0.5 * ctx.normal(n)
    return x


@check(
    id="bridge.ou_marginal",
    title="OU bridge at T/2: the h-transformed SDE against the derived marginal",
    law=f"dX = kappa (theta - X) dt + sigma dW with {OU}, from a = {START} at 0 conditioned on X_T = {END}, "
    f"T = {HORIZON}: Euler-Maruyama ({STEPS} steps) on the bridge's drift, at t = T/2: mean and variance of bridge.ou",
    tests=("bridge.ou",),
    uses=(("bridge.ou", "drift"), ("bridge.ou", "mean"), ("bridge.ou", "var")),
    samples=SAMPLES,
    simulate=simulate_ou,
)
def ou_marginal(ctx: CheckContext, x: torch.Tensor) -> list[stats.Estimate]:
    values = _values(ctx, HORIZON / 2) | {k: ctx.tensor(v) for k, v in OU.items()}
    mean = float(ctx.quantity("bridge.ou", "mean")(**values))
    var = float(ctx.quantity("bridge.ou", "var")(**values))
    return [stats.mean("E[X_(T/2)]", x, mean), stats.variance("Var[X_(T/2)]", x, var)]


# --------------------------------------------------------------------------
# The conditional OU process
# --------------------------------------------------------------------------
COND = {"kappa_ou": 1.0, "theta_ou": 0.3, "sigma_ou": 0.8, "slope_cond_y": 1.5, "mean_cond_y": 0.5, "std_cond_y": 0.7,
        "x_start_ou": -1.0, "s_ou": 0.0, "t_ou": 1.0}


def simulate_conditional(ctx: CheckContext) -> dict[str, torch.Tensor]:
    n, h = ctx.n_samples, (COND["t_ou"] - COND["s_ou"]) / STEPS
    y = COND["mean_cond_y"] + COND["std_cond_y"] * ctx.normal(n)
    level, volatility = COND["theta_ou"] + COND["slope_cond_y"] * y, COND["sigma_ou"] * torch.sqrt(1 + y**2)
    x = torch.full((n,), COND["x_start_ou"], dtype=ctx.dtype, device=ctx.device)
    for _ in range(STEPS):
        x = x + h * COND["kappa_ou"] * (level - x) + volatility * h**0.5 * ctx.normal(n)
    return {"x": x, "y": y}


@check(
    id="bridge.conditional_ou_moments",
    title="Conditional OU (mean and volatility depending on Y): total mean, variance and Cov(X_t, Y)",
    law=f"dX = kappa (theta + c_Y Y - X) dt + sigma sqrt(1 + Y^2) dW, Y ~ N(mu_Y, s_Y^2), {COND}; Euler-Maruyama "
    f"({STEPS} steps): mean, variance and covariance with Y of bridge.conditional_ou",
    tests=("bridge.conditional_ou",),
    uses=(("bridge.conditional_ou", "mean"), ("bridge.conditional_ou", "var"), ("bridge.conditional_ou", "cov_xy")),
    samples=SAMPLES,
    simulate=simulate_conditional,
)
def conditional_ou_moments(ctx: CheckContext, sample: dict[str, torch.Tensor]) -> list[stats.Estimate]:
    values = {k: ctx.tensor(v) for k, v in COND.items()}
    expected = {r: float(ctx.quantity("bridge.conditional_ou", r)(**values)) for r in ("mean", "var", "cov_xy")}
    x, y = sample["x"], sample["y"]
    centred = (x - x.mean()) * (y - COND["mean_cond_y"])
    return [stats.mean("E[X_t]", x, expected["mean"]), stats.variance("Var[X_t]", x, expected["var"]),
            stats.mean("Cov(X_t, Y)", centred, expected["cov_xy"], kind=stats.COVARIANCE)]
