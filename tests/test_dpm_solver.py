"""DPM-Solver's local orders, and the misprints that lose them (series in the step h of the local error)."""

from __future__ import annotations

import pytest
import sympy as sp

import derivations
from derivations.core import notation as n
from derivations.families import dpm_solver as dpm


def test_local_orders():
    assert dpm.local_order(dpm.eps_flow(n.alpha_t_dpm, n.h_dpm) - dpm.dpm_solver_1_update()) == 2
    parts = dpm.dpm_solver_2_parts()
    assert dpm.local_order(dpm.dpm_solver_2_error(parts["update"], parts["intermediate"])) == 3
    assert dpm.local_order(dpm.dpmpp_2m_error(dpm.dpmpp_2m_parts()["update"])) == 3


def test_the_leading_error_terms_do_not_vanish():
    for name in ("dpm_solver_2", "dpmpp_2m"):
        assert sp.simplify(derivations.get(f"dpm_solver.{name}").result("local_error_h3")) != 0


def test_the_replaced_weight_is_one_half():
    assert dpm.dpm_solver_2_parts()["c"] == sp.Rational(1, 2) == dpm.dpmpp_2m_parts()["c"]
    # any other multiple of e^h - 1 agrees only to order 0, and the update loses its second order
    parts = dpm.dpm_solver_2_parts()
    wrong = parts["update"].subs(n.r_dpm, 2 * n.r_dpm)  # weight (e^h - 1)/(4 r)
    assert dpm.local_order(dpm.dpm_solver_2_error(wrong, parts["intermediate"])) == 2


@pytest.mark.parametrize("derivation_id, result", [("dpm_solver.dpm_solver_2", "update"),
                                                   ("dpm_solver.dpm_solver_2", "update_mid"),
                                                   ("dpm_solver.dpmpp_2m", "update")])
def test_every_wrong_update_loses_the_second_order(derivation_id, result):
    d = derivations.get(derivation_id)
    parts = dpm.dpm_solver_2_parts()
    wrong = [w for w in d.body.wrong_variants if w.result == result]
    assert wrong
    for variant in wrong:
        if derivation_id.endswith("2m"):
            error = dpm.dpmpp_2m_error(variant.expr)
        else:
            expr = variant.expr.subs(n.r_dpm, sp.Rational(1, 2)) if result == "update_mid" else variant.expr
            intermediate = parts["intermediate"].subs(n.r_dpm, sp.Rational(1, 2)) if result == "update_mid" \
                else parts["intermediate"]
            error = dpm.dpm_solver_2_error(expr, intermediate)
        assert dpm.local_order(error) < 3, variant.description


def test_a_wrong_intermediate_point_loses_the_second_order():
    d = derivations.get("dpm_solver.dpm_solver_2")
    (variant,) = [w for w in d.body.wrong_variants if w.result == "intermediate"]
    assert dpm.local_order(dpm.dpm_solver_2_error(dpm.dpm_solver_2_parts()["update"], variant.expr)) == 2
