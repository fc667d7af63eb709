"""The one statistical rule (checks/core/stats.py) to the last digit, on small fixed samples.

``test_statistics_rule.py`` checks each standard error against the sampling law, at the tolerance of
a simulation. Here every number an estimator or the rule returns is recomputed from its textbook
formula in plain numpy or Python on a fixed sample, and compared to rounding: a denominator of
``n + 1`` for ``n - 1``, a streaming sum that keeps only the last chunk, a skewness divided by the
wrong power, a threshold that ignores the estimate's degrees of freedom or its shape all move the
number, though none moves it by more than a simulation's tolerance. Also every field an estimate
carries into its verdict, the edges of each guard, and the messages a user reads.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import mpmath
import numpy as np
import pytest
import torch

from checks.core import stats

ALARM = 1e-6
RTOL = 1e-12


def _sample(n: int = 2_000, dim: int = 1, seed: int = 7, skewed: bool = True) -> np.ndarray:
    """A fixed float64 sample with a non-zero mean, a variance far from 1 and (``skewed``) a skewed law."""
    rng = np.random.default_rng(seed)
    values = rng.gamma(2.0, 0.3, size=(n, dim)) if skewed else rng.normal(size=(n, dim))
    return 5.0 + values


def _shape(summands: np.ndarray) -> dict:
    """Skewness, excess kurtosis and count by their definitions (population moments of the summands)."""
    centred = summands - summands.mean()
    m2 = (centred**2).mean()
    return {"skewness": (centred**3).mean() / m2**1.5, "excess_kurtosis": (centred**4).mean() / m2**2 - 3.0,
            "count": summands.size}


def _assert_shape(estimate: stats.Estimate, summands: np.ndarray) -> None:
    expected = _shape(summands)
    assert estimate.count == expected["count"]
    assert estimate.skewness == pytest.approx(expected["skewness"], rel=1e-9)
    assert estimate.excess_kurtosis == pytest.approx(expected["excess_kurtosis"], rel=1e-9)


# --- the estimators' values and the fields they carry -------------------------------------------------

def test_summand_shape_is_the_standardized_third_and_fourth_moment():
    summands = _sample()[:, 0]
    got = stats.summand_shape(torch.from_numpy(summands))
    expected = _shape(summands)
    assert got["count"] == expected["count"]
    assert got["skewness"] == pytest.approx(expected["skewness"], rel=1e-12)
    assert got["excess_kurtosis"] == pytest.approx(expected["excess_kurtosis"], rel=1e-12)
    assert expected["skewness"] > 0.5  # a gamma sample: a wrong power of m2 or a wrong centre shows


@pytest.mark.parametrize("value", [0.0, 0.5, 7.0])
def test_a_constant_sample_has_a_count_and_no_shape(value):
    assert stats.summand_shape(torch.full((10,), value, dtype=torch.float64)) == {"count": 10}


def test_a_tiny_but_positive_spread_still_has_a_shape():
    summands = torch.tensor([0.0, 0.0, 0.0, 1e-3], dtype=torch.float64)
    shape = stats.summand_shape(summands)
    assert set(shape) == {"skewness", "excess_kurtosis", "count"}
    assert shape["skewness"] == pytest.approx(_shape(summands.numpy())["skewness"], rel=1e-12)


def test_mean_value_standard_error_shape_and_kind():
    x = _sample()
    e = stats.mean("m", torch.from_numpy(x), 5.6)
    s = x[:, 0]
    assert (e.name, e.expected, e.kind) == ("m", 5.6, stats.MEAN)
    assert e.estimate == pytest.approx(s.mean(), rel=RTOL)
    assert e.std_error == pytest.approx(s.std(ddof=1) / math.sqrt(s.size), rel=1e-10)
    _assert_shape(e, s)
    assert stats.mean("kl", torch.from_numpy(x), 0.0, kind=stats.SAMPLED_KL).kind == stats.SAMPLED_KL


def test_variance_value_standard_error_shape_and_kind():
    x = _sample()
    e = stats.variance("v", torch.from_numpy(x), 0.18)
    s = x[:, 0]
    squares = (s - s.mean()) ** 2
    assert (e.name, e.expected, e.kind) == ("v", 0.18, stats.SECOND_MOMENT)
    assert e.estimate == pytest.approx(s.var(ddof=1), rel=RTOL)
    assert e.std_error == pytest.approx(squares.std(ddof=1) / math.sqrt(s.size), rel=1e-10)
    _assert_shape(e, squares)


def test_covariance_value_standard_error_shape_and_kind():
    x = _sample(dim=2)
    a, b = x[:, 0], x[:, 0] + 0.5 * x[:, 1]
    e = stats.covariance("c", torch.from_numpy(a), torch.from_numpy(b), 0.2)
    products = (a - a.mean()) * (b - b.mean())
    assert (e.name, e.expected, e.kind) == ("c", 0.2, stats.COVARIANCE)
    assert e.estimate == pytest.approx(np.cov(a, b, ddof=1)[0, 1], rel=RTOL)
    assert e.std_error == pytest.approx(products.std(ddof=1) / math.sqrt(a.size), rel=1e-10)
    _assert_shape(e, products)


def test_regression_values_standard_errors_residual_variance_and_fields():
    rng = np.random.default_rng(3)
    n = 400
    design = np.column_stack([rng.normal(size=n), 1.0 + rng.normal(size=n) ** 2])
    y = design @ np.array([2.0, -0.5]) + rng.gamma(2.0, 0.5, size=n)
    out = stats.regression(["a", "b"], torch.from_numpy(y), [torch.from_numpy(c) for c in design.T],
                           [2.0, -0.5], "resid", 0.5)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    residual_var = residual @ residual / (n - 2)
    coef_se = np.sqrt(residual_var * np.diag(np.linalg.inv(design.T @ design)))
    assert [e.name for e in out] == ["a", "b", "resid"]
    assert [e.expected for e in out] == [2.0, -0.5, 0.5]
    assert [e.kind for e in out] == [stats.REGRESSION_COEFFICIENT] * 2 + [stats.SECOND_MOMENT]
    for e, c, se in zip(out, coef, coef_se):
        assert e.estimate == pytest.approx(c, rel=1e-10)
        assert e.std_error == pytest.approx(se, rel=1e-10)
    assert out[2].estimate == pytest.approx(residual_var, rel=1e-10)
    assert out[2].std_error == pytest.approx((residual**2).std(ddof=1) / math.sqrt(n), rel=1e-10)
    _assert_shape(out[2], residual**2)


# --- streaming moments ------------------------------------------------------------------------------

def _streamed(x: np.ndarray, chunk: int = 300) -> stats.RunningMoments:
    moments = stats.RunningMoments()
    for start in range(0, len(x), chunk):
        moments.update(torch.from_numpy(x[start:start + chunk]))
    return moments


def test_running_moments_over_chunks_equal_the_whole_sample():
    x = _sample(n=2_000, dim=3)
    moments = _streamed(x)
    assert moments.count == len(x)
    np.testing.assert_allclose(moments.mean.numpy(), x.mean(axis=0), rtol=RTOL)
    for k in (2, 3, 4):
        np.testing.assert_allclose(moments.central(k).numpy(), ((x - x.mean(axis=0)) ** k).mean(axis=0), rtol=1e-9)
    centre = 5.123456789012345  # not a float32 number: a centre rounded to single precision shows
    np.testing.assert_allclose(moments.about(centre, 2).numpy(), ((x - centre) ** 2).mean(axis=0), rtol=1e-12)
    part = moments.columns(slice(1, 3))
    np.testing.assert_allclose(part.central(2).numpy(), x[:, 1:].var(axis=0), rtol=1e-9)


def test_running_moments_of_a_narrow_sample_far_from_zero_keep_double_precision():
    # Values 1e4 apart from their spread of 1e-2: sums accumulated in single precision lose every digit.
    x = 1e4 + 1e-2 * _sample(n=1_000, dim=1, skewed=False)
    moments = _streamed(x, chunk=100)
    np.testing.assert_allclose(moments.central(2).numpy(), x.var(axis=0), rtol=1e-6)


def test_running_moments_without_samples_refuse_to_answer():
    with pytest.raises(ValueError, match=r"^no samples accumulated$"):
        stats.RunningMoments().mean
    with pytest.raises(ValueError, match=r"^no samples accumulated$"):
        stats.RunningMoments().columns(slice(0, 1))


def test_mean_and_variance_estimates_from_the_stream():
    x = _sample(n=2_000, dim=2)
    moments = _streamed(x)
    means = stats.mean_estimates("p", moments, torch.tensor([5.5, 5.7]))
    variances = stats.variance_estimates("p", moments, torch.tensor([0.2, 0.1]))
    assert [e.name for e in means] == ["p mean[0]", "p mean[1]"]
    assert [e.name for e in variances] == ["p var[0]", "p var[1]"]
    assert [e.expected for e in means] == pytest.approx([5.5, 5.7], rel=1e-7)
    assert [e.expected for e in variances] == pytest.approx([0.2, 0.1], rel=1e-7)
    assert {e.kind for e in means} == {stats.MEAN} and {e.kind for e in variances} == {stats.SECOND_MOMENT}
    n = len(x)
    centred = x - x.mean(axis=0)
    m2, m4 = (centred**2).mean(axis=0), (centred**4).mean(axis=0)
    np.testing.assert_allclose([e.estimate for e in means], x.mean(axis=0), rtol=RTOL)
    np.testing.assert_allclose([e.std_error for e in means], np.sqrt(m2 / n), rtol=1e-9)
    np.testing.assert_allclose([e.estimate for e in variances], x.var(axis=0, ddof=1), rtol=1e-9)
    # m4 - m2^2 is far below 1 here: a floor of 1 instead of 0 on it shows.
    assert (m4 - m2**2).max() < 0.5
    np.testing.assert_allclose([e.std_error for e in variances], np.sqrt((m4 - m2**2) / n), rtol=1e-9)


def test_standard_normal_moments_standardize_by_the_predicted_law():
    rng = np.random.default_rng(11)
    mean, std = np.array([1.0, -2.0]), np.array([3.0, 0.5])
    x = mean + std * rng.normal(size=(5_000, 2))
    out = stats.standard_normal_moment_estimates("w", _streamed(x), torch.from_numpy(mean), torch.from_numpy(std**2))
    u = (x - mean) / std
    assert [e.name for e in out] == [f"w E[u^{k}]" for k in (1, 2, 3, 4)]
    assert [e.kind for e in out] == [stats.MEAN, stats.SECOND_MOMENT, stats.THIRD_MOMENT, stats.FOURTH_MOMENT]
    assert [e.expected for e in out] == [0.0, 1.0, 0.0, 3.0]
    for k, e in zip((1, 2, 3, 4), out):
        assert e.estimate == pytest.approx((u**k).mean(), rel=1e-9, abs=1e-12)
    np.testing.assert_allclose([e.std_error for e in out], np.sqrt(np.array([1, 2, 15, 96]) / u.size), rtol=1e-12)


# --- proportions: the guard on the normal approximation ---------------------------------------------

def _proportion_moments(n: int, hits: int) -> stats.RunningMoments:
    indicator = np.zeros((n, 1))
    indicator[:hits] = 1.0
    return _streamed(indicator, chunk=max(1, n // 3))


def test_a_proportion_is_tested_against_the_predicted_binomial_spread():
    (e,) = stats.proportion_estimates(["inside"], _proportion_moments(4_000, 1_000), torch.tensor([0.3]))
    assert (e.name, e.kind) == ("inside", stats.PROPORTION)
    assert e.estimate == pytest.approx(0.25, rel=RTOL)
    assert e.expected == pytest.approx(0.3, rel=1e-7)
    assert e.std_error == pytest.approx(math.sqrt(0.3 * 0.7 / 4_000), rel=1e-7)


def test_the_binomial_guard_accepts_n_p_one_minus_p_of_exactly_the_floor():
    # 2000 * 0.5 * 0.5 = 500 = MIN_BINOMIAL_VARIANCE, predicted and observed
    stats.proportion_estimates(["half"], _proportion_moments(2_000, 1_000), torch.tensor([0.5], dtype=torch.float64))


def test_the_binomial_guard_refuses_just_below_the_floor():
    # 1999 * p (1 - p) < 500 for every p, so neither the prediction nor the observation rescues it
    with pytest.raises(ValueError, match=r"n p \(1 - p\) = 500 is too small"):
        stats.proportion_estimates(["half"], _proportion_moments(1_999, 1_000), torch.tensor([0.5], dtype=torch.float64))


@pytest.mark.parametrize("predicted, hits", [(0.5, 20), (0.01, 1_000)])
def test_either_the_prediction_or_the_observation_meets_the_guard(predicted, hits):
    # The larger of n p (1 - p) at the prediction and at the observation decides.
    stats.proportion_estimates(["p"], _proportion_moments(2_000, hits), torch.tensor([predicted], dtype=torch.float64))


# --- critical values and the verdict ---------------------------------------------------------------

def test_critical_values_of_the_t_law_are_wider_than_the_normal_ones():
    normal = NormalDist().inv_cdf(1 - ALARM / 2)
    assert stats.critical_value(ALARM) == pytest.approx(normal, rel=1e-12)
    t9 = stats.critical_value(ALARM, 9)
    assert t9 == pytest.approx(11.6367820273, rel=1e-9)  # t_9 at 1 - 5e-7 (scipy.stats.t.isf(5e-7, 9))
    assert stats.power_quantile(0.99, 9) == pytest.approx(2.8214379250, rel=1e-9)  # scipy.stats.t.ppf(0.99, 9)
    assert stats.power_quantile(0.99) == pytest.approx(NormalDist().inv_cdf(0.99), rel=1e-12)


def _t_two_sided_tail(c: float, dof: int) -> float:
    """P(|T| > c) for Student's t: the regularized incomplete beta function I_{dof/(dof + c^2)}(dof/2, 1/2)."""
    with mpmath.workdps(30):
        return float(mpmath.betainc(mpmath.mpf(dof) / 2, mpmath.mpf(1) / 2, 0, dof / (dof + mpmath.mpf(c) ** 2),
                                    regularized=True))


@pytest.mark.parametrize("c, rel", [(3.0, 1e-5), (5.0, 3e-4)])
def test_the_edgeworth_tail_of_normal_summands_is_the_t_tail_with_n_minus_1_degrees(c, rel):
    # Exact reference: for normal summands the studentized mean (s with divisor n - 1) is t with n - 1
    # degrees of freedom; a first-order expansion leaves O(1/n^2): 2e-6 at c = 3 and 1e-4 at c = 5 for
    # n = 10 000. Hall's q2 for the divisor n, (c^2 + 3)/4, is 5e-4 and 1.2e-3 off.
    n = 10_000
    assert stats.studentized_tail(c, 0.0, 0.0, n) == pytest.approx(_t_two_sided_tail(c, n - 1), rel=rel)


def test_the_edgeworth_tail_with_skewness_and_kurtosis_is_halls_polynomial():
    c, gamma, kappa, n = 4.5, 2.0, 5.0, 5_000
    q2 = c * (kappa * (c**2 - 3) / 12 - gamma**2 * (c**4 + 2 * c**2 - 3) / 18 - (c**2 + 1) / 4)
    density = math.exp(-c**2 / 2) / math.sqrt(2 * math.pi)
    expected = 2 * NormalDist().cdf(-c) - 2 * q2 * density / n
    assert stats.studentized_tail(c, gamma, kappa, n) == pytest.approx(expected, rel=1e-12)
    assert expected > 1.2 * 2 * NormalDist().cdf(-c)  # the 1/n terms move the tail by a third here


def test_the_calibrated_critical_value_solves_the_edgeworth_tail():
    shape = {"skewness": 3.0, "excess_kurtosis": 25.0, "count": 2_000}
    c = stats.calibrated_critical_value(ALARM, **shape)
    z = stats.critical_value(ALARM)
    assert c > z + 0.1
    assert stats.studentized_tail(c, **shape) == pytest.approx(ALARM, rel=1e-9)
    # for a very heavy shape the root lies beyond the bracket's first step above z
    far = {"skewness": 20.0, "excess_kurtosis": 2_000.0, "count": 1_000}
    c_far = stats.calibrated_critical_value(ALARM, **far)
    assert c_far > z + 1
    assert stats.studentized_tail(c_far, **far) == pytest.approx(ALARM, rel=1e-9)


def test_without_a_shape_the_critical_value_is_the_normal_one():
    assert stats.calibrated_critical_value(ALARM) == stats.critical_value(ALARM)
    # a symmetric law with heavy tails: the 1/n term thins the tail at z, and the value is never below z
    heavy = {"skewness": 0.0, "excess_kurtosis": 10.0, "count": 10_000}
    assert stats.studentized_tail(stats.critical_value(ALARM), **heavy) < ALARM
    assert stats.calibrated_critical_value(ALARM, **heavy) == stats.critical_value(ALARM)


def test_the_verdict_of_an_estimate_with_degrees_of_freedom_uses_the_t_law():
    e = stats.Estimate("t", 1.0, 0.0, 0.1, dof=9, bias_allowance=0.05, kind=stats.MEAN)
    (s,) = stats.test([e], ALARM)
    c, power = stats.critical_value(ALARM, 9), stats.power_quantile(stats.POWER, 9)
    assert s.threshold == pytest.approx(0.05 + c * 0.1, rel=RTOL)
    assert s.detectable_error == pytest.approx(2 * 0.05 + (c + power) * 0.1, rel=RTOL)
    assert s.critical == pytest.approx(c, rel=1e-10)
    assert s.passed  # |1.0| < 0.05 + 13.03 * 0.1: passes by t, fails by the normal 5.33
    assert not stats.test([stats.Estimate("z", 1.0, 0.0, 0.1, bias_allowance=0.05)], ALARM)[0].passed


def test_the_verdict_of_a_mean_with_a_shape_uses_the_calibrated_value():
    shape = {"skewness": 3.0, "excess_kurtosis": 25.0, "count": 2_000}
    e = stats.Estimate("heavy", 0.0, 0.0, 1.0, kind=stats.SECOND_MOMENT, **shape)
    (s,) = stats.test([e], ALARM)
    assert s.threshold == pytest.approx(stats.calibrated_critical_value(ALARM, **shape), rel=RTOL)
    assert s.detectable_error == pytest.approx(s.threshold + stats.power_quantile(), rel=RTOL)


def test_a_verdict_carries_every_field_of_its_estimate():
    e = stats.Estimate("carried", 0.3, 0.1, 0.2, dof=None, bias_allowance=0.01, skewness=0.4,
                       excess_kurtosis=1.5, count=5_000, kind=stats.COVARIANCE)
    (s,) = stats.test([e], ALARM)
    assert (s.name, s.estimate, s.expected, s.std_error, s.false_alarm) == ("carried", 0.3, 0.1, 0.2, ALARM)
    assert (s.dof, s.bias_allowance, s.skewness, s.excess_kurtosis, s.count, s.kind) == (
        None, 0.01, 0.4, 1.5, 5_000, stats.COVARIANCE)
    assert stats.test([stats.Estimate("d", 0.0, 0.0, 1.0, dof=20)], ALARM)[0].dof == 20
    assert stats.Statistic.from_dict(s.as_dict()) == s


def test_an_estimate_exactly_at_the_threshold_passes():
    c = stats.critical_value(ALARM)
    assert stats.test([stats.Estimate("edge", c * 0.25, 0.0, 0.25)], ALARM)[0].passed
    assert not stats.test([stats.Estimate("over", math.nextafter(c * 0.25, math.inf), 0.0, 0.25)], ALARM)[0].passed


@pytest.mark.parametrize("allowance", [-0.1, math.inf, math.nan])
def test_a_bias_allowance_that_is_negative_or_not_finite_is_refused(allowance):
    with pytest.raises(ValueError, match="bias allowance must be finite and >= 0"):
        stats.test([stats.Estimate("b", 0.0, 0.0, 1.0, bias_allowance=allowance)])


def test_the_rule_names_what_it_refuses():
    with pytest.raises(ValueError, match=r"^a check must test at least one estimate$"):
        stats.test([])
    with pytest.raises(ValueError, match=r"unknown statistic kind 'median' \(one of mean, variance / second moment"):
        stats.Estimate("k", 0.0, 0.0, 1.0, kind="median")


# --- the fitted slope -----------------------------------------------------------------------------------

def test_a_slope_needs_three_points_and_three_suffice():
    with pytest.raises(ValueError, match=r"^a fitted slope with an uncertainty needs at least three points$"):
        stats.loglog_slope([0.1, 0.2], [1.0, 2.0])
    slope, se = stats.loglog_slope([0.1, 0.2, 0.4], [0.01, 0.041, 0.159])
    x, y = np.log([0.1, 0.2, 0.4]), np.log([0.01, 0.041, 0.159])
    fitted, residuals, *_ = np.polyfit(x, y, 1, full=True)
    assert slope == pytest.approx(fitted[0], rel=1e-12)
    assert se == pytest.approx(math.sqrt(residuals[0] / 1 / ((x - x.mean()) @ (x - x.mean()))), rel=1e-10)


# --- batch means, bias allowances, detectable errors ---------------------------------------------------

def test_batch_means_is_the_mean_of_the_batch_values_with_a_t_reference():
    x = _sample(n=1_003, dim=1)[:, 0]  # three samples left over: the remainder is left out
    e = stats.batch_means("b", torch.from_numpy(x), 5.6, batches=10, bias_allowance=0.01)
    values = x[:1_000].reshape(10, 100).mean(axis=1)
    assert (e.name, e.expected, e.dof, e.bias_allowance, e.kind) == ("b", 5.6, 9, 0.01, stats.MEAN)
    assert e.estimate == pytest.approx(values.mean(), rel=RTOL)
    assert e.std_error == pytest.approx(values.std(ddof=1) / math.sqrt(10), rel=1e-10)


def test_batch_variance_is_the_mean_of_the_batches_unbiased_variances():
    x = _sample(n=2_000, dim=1)
    e = stats.batch_variance("bv", torch.from_numpy(x), 0.18, batches=20)
    values = x[:, 0].reshape(20, 100).var(axis=1, ddof=1)
    assert (e.name, e.expected, e.dof, e.kind) == ("bv", 0.18, 19, stats.SECOND_MOMENT)
    assert e.estimate == pytest.approx(values.mean(), rel=RTOL)
    assert e.std_error == pytest.approx(values.std(ddof=1) / math.sqrt(20), rel=1e-10)
    default = stats.batch_variance("d", torch.from_numpy(x), 0.18)
    assert (default.dof, default.bias_allowance) == (stats.BATCHES - 1, 0.0)


def test_batch_means_of_single_precision_samples_are_computed_in_double():
    x = _sample(n=2_000, dim=1)[:, 0].astype(np.float32)
    e = stats.batch_means("f32", torch.from_numpy(x), 5.6, batches=20)
    values = x.astype(np.float64).reshape(20, 100).mean(axis=1)
    assert e.estimate == pytest.approx(values.mean(), rel=1e-13)
    assert e.std_error == pytest.approx(values.std(ddof=1) / math.sqrt(20), rel=1e-11)


@pytest.mark.parametrize("n, batches", [(100, 1), (3, 2)])
def test_batch_means_needs_two_batches_of_two(n, batches):
    with pytest.raises(ValueError, match=rf"^b: {n} samples cannot make {batches} batches of at least 2$"):
        stats.batch_means("b", torch.zeros(n, dtype=torch.float64), 0.0, batches=batches)
    stats.batch_means("ok", torch.arange(4, dtype=torch.float64), 0.0, batches=2)  # two batches of two suffice


def test_a_bias_allowance_in_standard_errors_scales_each_estimate():
    estimates = [stats.Estimate("a", 0.0, 0.0, 0.5, skewness=0.3, count=10), stats.Estimate("b", 1.0, 1.0, 2.0)]
    allowed = stats.allow_bias(estimates, 1.5)
    assert [e.bias_allowance for e in allowed] == [0.75, 3.0]
    assert [(e.name, e.std_error, e.skewness, e.count) for e in allowed] == [("a", 0.5, 0.3, 10), ("b", 2.0, 0.0, 0)]


def test_the_detectable_multiple_is_the_critical_value_plus_the_power_quantile():
    for k in (1, 16):
        expected = NormalDist().inv_cdf(1 - ALARM / (2 * k)) + NormalDist().inv_cdf(stats.POWER)
        assert stats.detectable_multiple(k) == pytest.approx(expected, rel=1e-12)
        assert stats.detectable_multiple(k, 1e-3) < stats.detectable_multiple(k)


def test_the_relative_detectable_error_and_z_of_a_verdict():
    (s,) = stats.test([stats.Estimate("r", 2.5, 2.0, 0.1)], ALARM)
    assert s.z == pytest.approx(5.0, rel=1e-12)
    assert s.relative_detectable_error == pytest.approx(s.detectable_error / 2.0, rel=RTOL)
    (zero,) = stats.test([stats.Estimate("r0", 0.1, 0.0, 0.1)], ALARM)
    assert zero.relative_detectable_error == math.inf
    assert s.as_dict()["z"] == s.z
