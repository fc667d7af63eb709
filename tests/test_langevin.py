"""Langevin family: the step-size bias and the transient bound of the EM check."""

from __future__ import annotations

import sympy as sp

import derivations
from checks.suite import langevin as suite
from derivations.notation import h_lgv, k_lgv


def test_step_size_bias_vanishes_linearly():
    bias = derivations.get("langevin.em_quadratic").result("var_bias")
    assert sp.limit(bias / h_lgv, h_lgv, 0) == sp.Rational(1, 2)
    assert sp.simplify(bias - h_lgv / (2 - h_lgv * k_lgv)) == 0


def test_transient_below_bound_after_the_steps_run():
    for step in suite.STEP_SIZES:
        n = suite._steps(step)
        assert abs(1 - step * suite.STIFFNESS) ** n * abs(suite.START - suite.CENTRE) < suite.TRANSIENT
