r"""Checks of score matching by sampling the joint law of (x, y).

Denoising score matching for :math:`s(y) = a y + b` is least squares of the
conditional score :math:`-(y - x)/\sigma^2` on :math:`(y, 1)`: the coefficients are
the DSM minimizer and the residual variance is twice the DSM-ESM constant.
"""

from __future__ import annotations

import torch

from checks.core import stats
from checks.core.registry import CheckContext, check

DATA_MEAN, DATA_VAR, DSM_SIGMA = 0.5, 1.0, 0.5


def simulate_gaussian(ctx: CheckContext) -> dict[str, torch.Tensor]:
    x = DATA_MEAN + DATA_VAR**0.5 * ctx.normal(ctx.n_samples)
    return {"x": x, "y": x + DSM_SIGMA * ctx.normal(ctx.n_samples)}


@check(
    id="score.dsm_regression",
    title="Denoising score matching as least squares on Gaussian data",
    law=f"x ~ N({DATA_MEAN}, {DATA_VAR}), y = x + {DSM_SIGMA} z: regressing -(y - x)/sigma^2 on (y, 1) gives "
    "the DSM minimizer (a, b); its residual variance is twice the DSM - ESM constant",
    tests=("score.dsm_equals_esm",),
    uses=(("score.dsm_equals_esm", "minimizer_slope"), ("score.dsm_equals_esm", "minimizer_intercept"),
          ("score.dsm_equals_esm", "constant")),
    samples=50_000,
    simulate=simulate_gaussian,
)
def dsm_regression(ctx: CheckContext, sample: dict[str, torch.Tensor]) -> list[stats.Estimate]:
    x, y = sample["x"], sample["y"]
    params = dict(mu_x=ctx.tensor(DATA_MEAN), var_x=ctx.tensor(DATA_VAR), sigma_tw=ctx.tensor(DSM_SIGMA))
    target = -(y - x) / DSM_SIGMA**2  # grad_y log q(y | x), the DSM regression target
    return stats.regression(
        ["DSM slope a", "DSM intercept b"], target, [y, torch.ones_like(y)],
        [float(ctx.quantity("score.dsm_equals_esm", "minimizer_slope")(**params)),
         float(ctx.quantity("score.dsm_equals_esm", "minimizer_intercept")(**params))],
        "residual variance = 2 (J_DSM - J_ESM)",
        float(2 * ctx.quantity("score.dsm_equals_esm", "constant")(**params)),
    )
