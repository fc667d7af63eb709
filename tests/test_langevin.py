"""Langevin family: the step-size bias and the transient bound of the EM check."""

from __future__ import annotations

import math

import pytest
import sympy as sp
import torch

import checks
import derivations
from checks.suite import langevin as suite
from derivations.core.notation import h_sde, k_lgv


def test_step_size_bias_vanishes_linearly():
    bias = derivations.get("langevin.em_quadratic").result("var_bias")
    assert sp.limit(bias / h_sde, h_sde, 0) == sp.Rational(1, 2)
    assert sp.simplify(bias - h_sde / (2 - h_sde * k_lgv)) == 0


def test_transient_below_bound_after_the_steps_run():
    for step in suite.STEP_SIZES:
        n = suite._steps(step)
        assert abs(1 - step * suite.STIFFNESS) ** n * abs(suite.START - suite.CENTRE) < suite.TRANSIENT


@pytest.mark.mc
@pytest.mark.slow
def test_quartic_richardson_limit_is_stable_when_the_steps_halve():
    """The check's h -> 0 estimates at (h, h/2) and, independently, at (h/2, h/4) agree within their noise:
    what the O(h^2) remainder leaves is below the check's resolution."""
    chk = checks.get("langevin.stationary.quartic")
    h, half = suite.QUARTIC_STEPS
    limits = []
    for offset, steps in ((1, (h, half)), (2, (half, half / 2))):
        ctx = checks.core.registry.CheckContext(chk, chk.default_samples, checks.seed_for(chk.id, offset),
                                           torch.device("cpu"), torch.float64)
        states = suite.simulate_quartic(ctx, steps)
        limits.append([suite.richardson(f"E X^{k}", states[steps[0]] ** k, states[steps[1]] ** k, 0.0)
                       for k in (2, 4)])
    for a, b in zip(*limits):
        assert abs(a.estimate - b.estimate) <= 4 * math.hypot(a.std_error, b.std_error), (a, b)
