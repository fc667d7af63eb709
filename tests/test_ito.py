"""Itô calculus: the helpers that the derivations are built from, and the discrete laws of the checks."""

from __future__ import annotations

import math

import pytest
import sympy as sp

import checks
import derivations
from checks.core import stats
from checks.suite import ito as ito_checks
from derivations.families.ito import exponential_expectation, gaussian_expectation, ito_differential
from derivations.core.notation import diffusion_ito, drift_ito, time, w_ito, x_sde


def test_ito_differential_of_sine():
    drift, diffusion = ito_differential(sp.sin(x_sde), time, x_sde, drift_ito, diffusion_ito)
    assert sp.simplify(drift - (drift_ito * sp.cos(x_sde) - diffusion_ito**2 * sp.sin(x_sde) / 2)) == 0
    assert sp.simplify(diffusion - diffusion_ito * sp.cos(x_sde)) == 0


def test_ito_differential_of_a_function_of_time_only_has_no_correction():
    drift, diffusion = ito_differential(sp.exp(time), time, x_sde, drift_ito, diffusion_ito)
    assert (drift, diffusion) == (sp.exp(time), 0)


def test_gaussian_expectation_moments():
    a, b = sp.symbols("a b", real=True)
    v, w = sp.symbols("v w", positive=True)
    law = {a: v, b: w}
    assert gaussian_expectation(a**4, law) == 3 * v**2
    assert gaussian_expectation(a**2 * b**2, law) == v * w
    assert gaussian_expectation(a**3 + a * b, law) == 0


def test_exponential_expectation_is_the_lognormal_mean_and_refuses_other_forms():
    assert sp.simplify(exponential_expectation(sp.exp(2 * w_ito), w_ito, time) - sp.exp(2 * time)) == 0
    with pytest.raises(ValueError, match="exp"):
        exponential_expectation(sp.exp(w_ito**2), w_ito, time)


def _discrete_var(lam: float, horizon: float, step: float) -> float:
    d = derivations.get("ito.lambda_integral")
    at = dict(lam_ito=lam, t=horizon, h_sde=step)
    return float(d.function("var")(**at) + d.function("var_bias")(**at))


def test_lambda_sum_variance_matches_direct_sums():
    r"""Ito sum: Var = sum_k E[W_k^2] h = h^2 N(N-1)/2. Right endpoint: the Ito sum plus sum dW_k^2,
    uncorrelated with it, whose variance is 2 N h^2."""
    horizon, n = 1.0, 10
    h = horizon / n
    ito = h * h * n * (n - 1) / 2
    assert _discrete_var(0.0, horizon, h) == pytest.approx(ito, rel=1e-12)
    assert _discrete_var(1.0, horizon, h) == pytest.approx(ito + 2 * n * h * h, rel=1e-12)


def test_gbm_euler_maruyama_law_matches_the_product_of_step_moments():
    d = derivations.get("ito.gbm")
    mu, sigma, u0, t, h = 0.3, 0.7, 2.0, 1.0, 0.05
    n = round(t / h)
    at = dict(mu_gbm=mu, sigma_gbm=sigma, u0_gbm=u0, t=t, h_sde=h)
    mean = u0 * (1 + mu * h) ** n
    second = u0**2 * ((1 + mu * h) ** 2 + sigma**2 * h) ** n
    assert float(d.function("mean")(**at) + d.function("mean_em_bias")(**at)) == pytest.approx(mean, rel=1e-12)
    assert float(d.function("var")(**at) + d.function("var_em_bias")(**at)) == pytest.approx(second - mean**2,
                                                                                          rel=1e-10)


def _z(estimates: int) -> float:
    return stats.critical_value(stats.FALSE_ALARM_PER_CHECK / estimates) + stats.power_quantile()


def test_lambda_sum_bias_is_below_the_detectable_error():
    """The variance bias of the sums (included in the expected values) is below the detectable error
    predicted for the check: S - E S = (W_t^2 - t)/2 + O(sqrt(h)), whose square has variance 3.5 t^4."""
    n = checks.get("ito.lambda_integral.riemann_sums").default_samples
    h = ito_checks.HORIZON / ito_checks.SUM_STEPS
    detectable = _z(3 * len(ito_checks.LAMBDAS)) * math.sqrt(3.5 * ito_checks.HORIZON**4 / n)
    d = derivations.get("ito.lambda_integral")
    for lam in ito_checks.LAMBDAS:
        bias = float(d.function("var_bias")(lam_ito=lam, t=ito_checks.HORIZON, h_sde=h))
        assert abs(bias) < detectable, lam


def test_gbm_bias_is_below_the_detectable_error():
    """Euler-Maruyama bias of the GBM moments vs the detectable error from the log-normal moments."""
    d = derivations.get("ito.gbm")
    n = checks.get("ito.gbm.euler_maruyama").default_samples
    z = _z(2 * len(ito_checks.GBM_TIMES) + 2)
    for t in ito_checks.GBM_TIMES:
        at = dict(mu_gbm=ito_checks.MU, sigma_gbm=ito_checks.SIGMA, u0_gbm=ito_checks.U0, t=t,
                  h_sde=ito_checks.GBM_STEP)
        raw = [ito_checks.U0**k * math.exp(k * ito_checks.MU * t + k * (k - 1) * ito_checks.SIGMA**2 * t / 2)
               for k in range(5)]
        mean, var = raw[1], raw[2] - raw[1] ** 2
        fourth = raw[4] - 4 * mean * raw[3] + 6 * mean**2 * raw[2] - 3 * mean**4
        assert abs(float(d.function("mean_em_bias")(**at))) < z * math.sqrt(var / n)
        assert abs(float(d.function("var_em_bias")(**at))) < z * math.sqrt((fourth - var**2) / n)


def test_stratonovich_integral_follows_ordinary_calculus():
    """At lambda = 1/2 the integral of W dW is W_t^2 / 2, with no correction term."""
    from derivations.core.notation import lam_ito

    integral = derivations.get("ito.lambda_integral").result("integral")
    assert sp.expand(integral.subs(lam_ito, sp.Rational(1, 2)) - w_ito**2 / 2) == 0


def test_isometry_riemann_sums_match_direct_sums():
    d = derivations.get("ito.isometry")
    t, n, rate = 1.0, 20, 0.7
    h = t / n
    at = dict(t=t, h_sde=h, rate_ito=rate)
    linear = sum((k * h) ** 2 * h for k in range(n))
    exponential = sum(math.exp(2 * rate * k * h) * h for k in range(n))
    assert float(d.function("second_moment_linear")(**at) + d.function("second_moment_linear_bias")(**at)) == \
        pytest.approx(linear, rel=1e-12)
    assert float(d.function("second_moment_exp")(**at) + d.function("second_moment_exp_bias")(**at)) == \
        pytest.approx(exponential, rel=1e-12)
