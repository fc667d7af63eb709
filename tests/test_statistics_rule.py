"""The one statistical rule (checks/core/stats.py) against independent references.

Each standard error is compared with its value from the sampling law (known in closed form for
normal samples, or by Gauss-Hermite quadrature, exact for polynomials), the Bonferroni split and
the critical values with :class:`statistics.NormalDist`, and the fitted slope's standard error
with numpy's ``polyfit``. A wrong formula moves these by tens of percent; the tolerances allow the
sampling error of the estimated spreads only (samples of 200 000: a few tenths of a percent).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
import torch

from checks.core import stats

N = 200_000
SIGMA = 2.0
MU = 3.0  # a non-zero mean: centring about the wrong point shows


def _normal(n: int = N, dim: int = 1, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return MU + SIGMA * torch.randn(n, dim, generator=generator, dtype=torch.float32)


def test_standard_error_of_a_mean_is_sigma_over_root_n():
    samples = _normal()
    estimate = stats.mean("m", samples, MU)
    assert (estimate.name, estimate.expected) == ("m", MU)
    assert estimate.estimate == pytest.approx(float(np.mean(samples.numpy().astype(np.float64))), rel=1e-12)
    assert estimate.std_error == pytest.approx(SIGMA / math.sqrt(N), rel=0.01)


def test_standard_error_of_a_variance_is_root_two_sigma_squared_over_root_n():
    samples = _normal()
    estimate = stats.variance("v", samples, SIGMA**2)
    assert estimate.name == "v"
    assert estimate.estimate == pytest.approx(float(np.var(samples.numpy().astype(np.float64), ddof=1)), rel=1e-10)
    assert estimate.std_error == pytest.approx(math.sqrt(2) * SIGMA**2 / math.sqrt(N), rel=0.02)


def test_standard_error_of_a_covariance_is_the_spread_of_the_products():
    a, b = _normal(seed=2), _normal(seed=3)  # independent: Var[(a - mu)(b - mu)] = sigma^4
    estimate = stats.covariance("c", a, b, 0.0)
    products = (a.numpy().astype(np.float64).ravel() - MU) * (b.numpy().astype(np.float64).ravel() - MU)
    assert estimate.estimate == pytest.approx(float(np.cov(a.numpy().ravel(), b.numpy().ravel())[0, 1]), abs=1e-6)
    assert estimate.std_error == pytest.approx(SIGMA**2 / math.sqrt(N), rel=0.02)
    assert abs(estimate.estimate - products.mean()) < 1e-3


def test_regression_coefficients_and_standard_errors_are_least_squares():
    x1, x2, noise = _normal(seed=4) - MU, _normal(seed=5) - MU, (_normal(seed=6) - MU) / 2  # noise variance 1
    y = 0.5 * x1 - 1.5 * x2 + noise
    *coefs, residual = stats.regression(["b1", "b2"], y, [x1, x2], [0.5, -1.5], "r", 1.0)
    design = np.column_stack([x1.numpy().ravel(), x2.numpy().ravel()]).astype(np.float64)
    fitted, *_ = np.linalg.lstsq(design, y.numpy().ravel().astype(np.float64), rcond=None)
    # SE of each slope: sigma_noise / sqrt(n Var x) for independent regressors
    for e, value in zip(coefs, fitted):
        assert e.estimate == pytest.approx(value, rel=1e-8)
        assert e.std_error == pytest.approx(1.0 / (SIGMA * math.sqrt(N)), rel=0.02)
    assert residual.estimate == pytest.approx(1.0, rel=0.02)
    assert residual.std_error == pytest.approx(math.sqrt(2 / N), rel=0.03)  # Var[noise^2] = 2 for N(0, 1)


def test_the_verdict_is_the_threshold_comparison():
    (at,) = stats.test([stats.Estimate("at", 1.0, 0.0, 1.0)], 0.05)
    z = NormalDist().inv_cdf(0.975)
    inside, outside, undefined = stats.test([stats.Estimate("in", z * 0.999, 0.0, 1.0),
                                             stats.Estimate("out", -z * 1.001 * 3, 0.0, 1.0),
                                             stats.Estimate("nan", math.nan, 0.0, 1.0)], 0.15)
    assert at.passed and inside.passed and not outside.passed and not undefined.passed
    assert outside.estimate == -z * 1.001 * 3 and outside.z == pytest.approx(-z * 1.001 * 3)
    assert stats.Statistic.from_dict(outside.as_dict()) == outside and outside.as_dict()["z"] == outside.z


@pytest.mark.parametrize("std_error", [0.0, -1.0, math.inf, math.nan])
def test_a_standard_error_that_is_not_positive_and_finite_is_refused(std_error):
    with pytest.raises(ValueError, match="bad: standard error"):
        stats.test([stats.Estimate("bad", 0.0, 0.0, std_error)])
    with pytest.raises(ValueError, match="at least one"):
        stats.test([])


def test_running_moments_give_the_same_standard_errors():
    moments = stats.RunningMoments().update(_normal(dim=3))
    for e in stats.mean_estimates("x", moments, torch.zeros(3)):
        assert e.std_error == pytest.approx(SIGMA / math.sqrt(N), rel=0.01)
    for e in stats.variance_estimates("x", moments, torch.full((3,), SIGMA**2)):
        assert e.std_error == pytest.approx(math.sqrt(2) * SIGMA**2 / math.sqrt(N), rel=0.02)


def test_standard_error_of_a_proportion_is_binomial():
    indicators = (torch.rand(N, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64) < 0.3).double()
    moments = stats.RunningMoments().update(indicators)
    (estimate,) = stats.proportion_estimates(["p"], moments, torch.tensor([0.3], dtype=torch.float64))
    assert estimate.std_error == pytest.approx(math.sqrt(0.3 * 0.7 / N), rel=1e-9)


def test_normal_moment_standard_errors_use_the_exact_variances_of_the_powers():
    nodes, weights = np.polynomial.hermite_e.hermegauss(20)  # exact for polynomials of degree < 40
    weights = weights / weights.sum()
    moments = stats.RunningMoments().update(_normal(dim=2))
    for k, e in enumerate(stats.standard_normal_moment_estimates("u", moments, torch.zeros(2),
                                                                 torch.full((2,), SIGMA**2)), 1):
        power_var = float(weights @ nodes ** (2 * k) - (weights @ nodes**k) ** 2)
        assert e.std_error == pytest.approx(math.sqrt(power_var / (2 * N)), rel=1e-9), k


@pytest.mark.parametrize("count", [1, 2, 7])
def test_bonferroni_splits_the_false_alarm_over_the_estimates(count):
    alpha = 1e-3
    estimates = [stats.Estimate(f"e{i}", 0.0, 0.0, 0.5) for i in range(count)]
    z = NormalDist().inv_cdf(1 - alpha / count / 2)  # two-sided, at alpha / count
    for s in stats.test(estimates, alpha):
        assert s.false_alarm == pytest.approx(alpha / count, rel=1e-12)
        assert s.threshold == pytest.approx(z * 0.5, rel=1e-12)
        assert s.detectable_error == pytest.approx((z + NormalDist().inv_cdf(stats.POWER)) * 0.5, rel=1e-12)


def test_a_fitted_slope_has_the_standard_error_of_least_squares():
    h = np.array([0.1, 0.05, 0.025, 0.0125, 0.00625])
    errors = 3 * h**2 * np.array([1.05, 0.97, 1.02, 0.99, 1.01])
    slope, se = stats.loglog_slope(h, errors)
    coefs, cov = np.polyfit(np.log(h), np.log(errors), 1, cov=True)  # residual variance over n - 2
    assert slope == pytest.approx(coefs[0], rel=1e-10)
    assert se == pytest.approx(math.sqrt(cov[0, 0]), rel=1e-8)
