"""sde.ddpm_limit: the finite chain approaches the derived limit at rate 1/N."""

from __future__ import annotations

import numpy as np

import derivations

BETA_MIN, BETA_MAX, TIME = 0.1, 20.0, 0.6


def _chain_mean_coef(steps_per_unit: int) -> float:
    """sqrt(prod_{i <= tN} (1 - beta(i/N)/N)) for the linear schedule, in float64."""
    i = np.arange(1, round(TIME * steps_per_unit) + 1)
    betas = (BETA_MIN + i / steps_per_unit * (BETA_MAX - BETA_MIN)) / steps_per_unit
    return float(np.sqrt(np.exp(np.sum(np.log1p(-betas)))))


def test_chain_converges_to_the_limit_at_first_order():
    limit = float(derivations.get("sde.ddpm_limit").function("mean_coef_limit")(
        beta_min=BETA_MIN, beta_max=BETA_MAX, t=TIME))
    errors = [abs(_chain_mean_coef(n) - limit) for n in (1_000, 10_000, 100_000)]
    assert errors[-1] < 1e-3 * limit
    # error ~ C/N: a tenfold N divides the error by about ten
    for coarse, fine in zip(errors, errors[1:]):
        assert 8 < coarse / fine < 12
