"""OU: the Euler-Maruyama law that the checks test against, and the size of its bias.

The detectable errors below are predicted from the Gaussian law of the
simulated states (the check's standard errors estimate the same numbers), so
no simulation is needed to compare the bias with them.
"""

from __future__ import annotations

import math

import pytest
import torch

import checks
from checks.core import stats
from checks.core.registry import CheckContext
from checks.suite import ou as ou_checks


def _context(check_id: str) -> CheckContext:
    return CheckContext(checks.get(check_id), 1000, 0, torch.device("cpu"), torch.float64)


def _predicted_detectable_errors(moments: dict[str, float], n: int) -> dict[str, float]:
    """(z_alarm + z_power) * SE for Gaussian states: SE of a mean sqrt(v/n), of a variance v sqrt(2/n),
    of a covariance sqrt((v_t v_t' + c^2)/n); Bonferroni over the check's 5 estimates."""
    z = stats.critical_value(stats.FALSE_ALARM_PER_CHECK / 5) + stats.power_quantile()
    var_t, var_tp, cov = moments["var_t"], moments["var_tp"], moments["cov"]
    std_errors = {
        "mean_t": math.sqrt(var_t / n), "mean_tp": math.sqrt(var_tp / n),
        "var_t": var_t * math.sqrt(2 / n), "var_tp": var_tp * math.sqrt(2 / n),
        "cov": math.sqrt((var_t * var_tp + cov**2) / n),
    }
    return {k: z * se for k, se in std_errors.items()}


def _recursion(step: float) -> dict[str, float]:
    """The Euler-Maruyama moments by iterating m <- a m + kappa theta h, v <- a^2 v + sigma^2 h in floats."""
    a = 1 - ou_checks.KAPPA * step
    mean, var, out = ou_checks.X_START, 0.0, {}
    first = ou_checks.grid_index(ou_checks.FIRST, step)
    second = ou_checks.grid_index(ou_checks.SECOND, step)
    for k in range(1, second + 1):
        mean = a * mean + ou_checks.KAPPA * ou_checks.THETA * step
        var = a * a * var + ou_checks.SIGMA**2 * step
        if k == first:
            out |= {"mean_t": mean, "var_t": var}
    return out | {"mean_tp": mean, "var_tp": var, "cov": a ** (second - first) * out["var_t"]}


@pytest.mark.parametrize("label", sorted(ou_checks.STEPS))
def test_derived_euler_maruyama_law_matches_the_recursion(label):
    step = ou_checks.STEPS[label]
    derived = ou_checks.expected_moments(_context(f"ou.euler_maruyama.{label}"), step)
    for key, value in _recursion(step).items():
        assert derived[key] == pytest.approx(value, rel=1e-10), key


def test_fine_step_bias_is_below_the_detectable_error():
    """At h = 0.01 the bias (included in the expected values anyway) is below the detectable error of
    every estimate: the fine check's power against the wrong variants does not rest on it."""
    check_id = "ou.euler_maruyama.fine"
    ctx = _context(check_id)
    step = ou_checks.STEPS["fine"]
    discrete, continuous = ou_checks.expected_moments(ctx, step), ou_checks.expected_moments(ctx, step, False)
    detectable = _predicted_detectable_errors(continuous, checks.get(check_id).default_samples)
    for key in continuous:
        assert abs(discrete[key] - continuous[key]) < detectable[key], key


def test_coarse_step_bias_is_visible():
    """At h = 0.1 the bias exceeds the detectable error, so the coarse check confirms the derived bias."""
    check_id = "ou.euler_maruyama.coarse"
    ctx = _context(check_id)
    step = ou_checks.STEPS["coarse"]
    discrete, continuous = ou_checks.expected_moments(ctx, step), ou_checks.expected_moments(ctx, step, False)
    detectable = _predicted_detectable_errors(continuous, checks.get(check_id).default_samples)
    assert max(abs(discrete[k] - continuous[k]) / detectable[k] for k in continuous) > 1


def test_off_grid_time_is_refused():
    with pytest.raises(ValueError, match="not on the grid"):
        ou_checks.grid_index(0.705, 0.01)
