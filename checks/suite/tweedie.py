r"""Checks of Tweedie's formulas by sampling the joint law of (x, y).

Posterior moments without binning: :math:`m(y) = E[x \mid y]` and
:math:`v(y) = \mathrm{Var}[x \mid y]` are the only functions with

.. math::
    E\big[(x - m(y))\,g(y)\big] = 0, \qquad E\big[\big((x - m(y))^2 - v(y)\big)\,g(y)\big] = 0

for every test function :math:`g`; each estimate is a sample mean with expected
value 0. A misprinted :math:`m` or :math:`v` shifts these means: e.g.
:math:`\sigma` for :math:`\sigma^2` changes :math:`E[(x - m)\,y]` by
:math:`(\sigma^2 - \sigma)E[y\,\partial_y\log p(y)] = \sigma - \sigma^2`
(integration by parts: :math:`E[y\,\partial_y \log p] = -1`), and dropping the Hessian term changes
:math:`E[(x-m)^2 - v]` by :math:`\sigma^4 E[\partial_y^2 \log p] = -\sigma^4 J(p)`.
"""

from __future__ import annotations

import torch

from checks.core import stats
from checks.core.registry import CheckContext, check

# sigma differs from sigma^2 and the mixture is bimodal, so the misprints shift the moments.
MIXTURE = dict(mix_weight=0.3, mix_mean_1=-1.5, mix_mean_2=1.0, mix_var_1=0.25, mix_var_2=0.5)
SIGMA = 0.6
DATA_MEAN, DATA_VAR = 0.5, 1.0


def simulate_mixture(ctx: CheckContext) -> dict[str, torch.Tensor]:
    """x from the two-component mixture (label first), then y = x + SIGMA z."""
    n = ctx.n_samples
    first = torch.rand(n, generator=ctx.generator(), dtype=ctx.dtype, device=ctx.device) < MIXTURE["mix_weight"]
    mean = torch.where(first, MIXTURE["mix_mean_1"], MIXTURE["mix_mean_2"])
    std = torch.where(first, MIXTURE["mix_var_1"] ** 0.5, MIXTURE["mix_var_2"] ** 0.5)
    x = mean + std * ctx.normal(n)
    return {"x": x, "y": x + SIGMA * ctx.normal(n)}


@check(
    id="tweedie.mixture_posterior",
    title="Tweedie's posterior mean and variance under a two-component mixture prior",
    law=f"x ~ {MIXTURE['mix_weight']} N({MIXTURE['mix_mean_1']}, {MIXTURE['mix_var_1']}) + "
    f"{1 - MIXTURE['mix_weight']:.1f} N({MIXTURE['mix_mean_2']}, {MIXTURE['mix_var_2']}), y = x + {SIGMA} z: "
    "E[(x - m(y)) g(y)] = 0 and E[((x - m(y))^2 - v(y)) g(y)] = 0 for g = 1, y, y^2",
    tests=("tweedie.first_order", "tweedie.second_order"),
    uses=(("tweedie.first_order", "mixture_mean"), ("tweedie.second_order", "mixture_var")),
    samples=50_000,
    simulate=simulate_mixture,
)
def mixture_posterior(ctx: CheckContext, sample: dict[str, torch.Tensor]) -> list[stats.Estimate]:
    params = {k: ctx.tensor(v) for k, v in MIXTURE.items()} | {"sigma_tw": ctx.tensor(SIGMA), "y": sample["y"]}
    mean = ctx.quantity("tweedie.first_order", "mixture_mean")(**params)
    var = ctx.quantity("tweedie.second_order", "mixture_var")(**params)
    return _residual_moments(sample["x"], sample["y"], mean, var, "y")


def _residual_moments(signal: torch.Tensor, observed: torch.Tensor, mean: torch.Tensor, var: torch.Tensor,
                      label: str) -> list[stats.Estimate]:
    """E[(x - m) g] and E[((x - m)^2 - v) g] for g = 1, o, o^2 (o the observation), each expected 0."""
    residual = signal - mean
    excess = residual**2 - var
    out = []
    for name, g in (("1", torch.ones_like(observed)), (label, observed), (f"{label}^2", observed**2)):
        out.append(stats.mean(f"E[(x - m({label})) * {name}]", residual * g, 0.0, kind=stats.TWEEDIE_FIRST))
        out.append(stats.mean(f"E[((x - m({label}))^2 - v({label})) * {name}]", excess * g, 0.0,
                              kind=stats.TWEEDIE_SECOND))
    return out


VP_ALPHA_BAR = 0.4


def simulate_vp(ctx: CheckContext) -> dict[str, torch.Tensor]:
    """x_0 ~ N(DATA_MEAN, DATA_VAR), x_t = sqrt(alpha_bar) x_0 + sqrt(1 - alpha_bar) eps."""
    x0 = DATA_MEAN + DATA_VAR**0.5 * ctx.normal(ctx.n_samples)
    x_t = VP_ALPHA_BAR**0.5 * x0 + (1 - VP_ALPHA_BAR) ** 0.5 * ctx.normal(ctx.n_samples)
    return {"x0": x0, "x_t": x_t}


@check(
    id="tweedie.vp_posterior",
    title="Tweedie's formulas in VP form: E[x_0 | x_t] and Var[x_0 | x_t] for Gaussian data",
    law=f"x_0 ~ N({DATA_MEAN}, {DATA_VAR}), x_t = sqrt({VP_ALPHA_BAR}) x_0 + sqrt(1 - {VP_ALPHA_BAR}) eps: "
    "E[(x_0 - m(x_t)) g(x_t)] = 0 and E[((x_0 - m(x_t))^2 - v(x_t)) g(x_t)] = 0 for g = 1, x_t, x_t^2",
    tests=("tweedie.first_order", "tweedie.second_order"),
    uses=(("tweedie.first_order", "vp_x0_mean"), ("tweedie.second_order", "vp_x0_var")),
    samples=50_000,
    simulate=simulate_vp,
)
def vp_posterior(ctx: CheckContext, sample: dict[str, torch.Tensor]) -> list[stats.Estimate]:
    # alpha_bar_t = alpha_t * alpha_bar_prev in the notation; the closed forms take alpha_bar_t directly.
    params = dict(mu_x=ctx.tensor(DATA_MEAN), var_x=ctx.tensor(DATA_VAR), alpha_bar_t=ctx.tensor(VP_ALPHA_BAR),
                  x_t=sample["x_t"])
    mean = ctx.quantity("tweedie.first_order", "vp_x0_mean")(**params)
    var = ctx.quantity("tweedie.second_order", "vp_x0_var")(**params)
    return _residual_moments(sample["x0"], sample["x_t"], mean, var, "x_t")
