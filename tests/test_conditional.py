"""Guidance and inpainting: exact laws of the guided and inpainting samplers, and planted bugs in the guided fields."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import checks
import derivations
from checks.core import stats
from checks.core.registry import CheckContext, seed_for
from checks.exact import guided, inpaint
from checks.exact import w2 as exact_w2


def test_cfg_at_zero_scale_samples_the_class():
    data = guided.ClassData()
    mean, var = guided.guided_law("pf_heun", 1000, 0.0, data)
    assert guided.w2_to(mean, var, (data.mean_cls, data.var_cls)) < 1e-2


@pytest.mark.parametrize("w", [0.5, 2.0])
def test_heun_with_the_cfg_field_converges_to_the_closed_form_variance(w):
    """The catalogue's Heun step maps with the guided field against ``guidance.flow_variance``'s ODE solution."""
    data = guided.ClassData()
    grid = exact_w2.grid(guided.EPS, 1001)
    closed = derivations.get("guidance.flow_variance").function("ode_var")(
        **data.values(), guide_w=w, var_init_pg=1.0, B_T_pg=grid.B_points[0], B_u_pg=grid.B_points[-1])
    _, var = guided.guided_law("pf_heun", 1000, w, data)
    assert var == pytest.approx(float(closed), rel=1e-4)


def test_guided_ode_output_is_narrower_than_the_tilted_target_and_drifts_away_with_w():
    data = guided.ClassData()
    rows = guided.guidance_table("pf_heun", scales=(0.5, 1.0, 2.0), step_counts=(250,), data=data)
    assert all(r["limit_var"] < r["target_var"] for r in rows)
    assert [r["w2"] for r in rows] == sorted(r["w2"] for r in rows)
    assert rows[0]["w2"] > 0.1


def test_repaint_approaches_the_true_conditional_and_replacement_does_not():
    replacement = inpaint.w2_to_conditional(250, 1)
    repaint = inpaint.w2_to_conditional(250, 10)
    assert replacement > 0.4 and repaint < 0.1


def test_replacement_is_exact_up_to_discretization_for_independent_coordinates():
    assert inpaint.w2_to_conditional(1000, 1, inpaint.PlaneData(corr=0.0)) < 1e-2


def test_a_planted_bug_in_the_inpainting_update_is_seen(monkeypatch):
    """The known coordinate dropped from the unknown's update: the output is the unconditional law."""
    maps = dict(inpaint.step_maps())
    for name in list(maps):
        if name.startswith("gain_known"):
            maps[name] = lambda **values: 0.0
    monkeypatch.setattr(inpaint, "step_maps", lambda: maps)
    assert inpaint.w2_to_conditional(250, 10) > 1.0


def _run_with(check_id: str, overrides: dict) -> list[stats.Statistic]:
    check = checks.get(check_id)
    ctx = CheckContext(check, 5_000, seed_for(check_id), torch.device("cpu"), torch.float64, overrides=overrides)
    return stats.test(check.compare(ctx, check.simulate(ctx)), check.false_alarm)


@pytest.mark.parametrize(("check_id", "derivation_id", "result"), [
    ("guidance.classifier_mixture", "guidance.bayes_score", "classifier_guided"),
    ("guidance.cfg_gaussian", "guidance.tilted", "guided_score"),
])
def test_a_wrong_guided_field_fails_its_check(check_id, derivation_id, result):
    wrong = [w for w in derivations.get(derivation_id).body.wrong_variants if w.result == result]
    assert wrong
    assert all(s.passed for s in _run_with(check_id, {}))
    for variant in wrong:
        assert not all(s.passed for s in _run_with(check_id, {(derivation_id, result): variant.expr})), variant.description


def test_the_bridge_check_sees_a_wrong_drift():
    """The h-transform's drift with the horizon T in place of the remaining time T - t."""
    wrong = next(w for w in derivations.get("bridge.brownian").body.wrong_variants if w.result == "drift")
    assert all(s.passed for s in _run_with("bridge.brownian_marginal", {}))
    assert not all(s.passed for s in _run_with("bridge.brownian_marginal", {("bridge.brownian", "drift"): wrong.expr}))


def test_repaint_walk_with_jumps():
    """Down j, back up j, U - 1 times at every multiple of j; j = 1 repeats each step U times."""
    assert inpaint.jump_schedule(6, 2, 2) == [6, 5, 4, 5, 6, 5, 4, 3, 2, 3, 4, 3, 2, 1, 0, 1, 2, 1, 0]
    assert inpaint.jump_schedule(3, 2, 1) == [3, 2, 3, 2, 1, 2, 1, 0, 1, 0]
    assert inpaint.score_evaluations(250, 10, 1) == 2500
    assert inpaint.score_evaluations(250, 10, 5) == 250 + 9 * 5 * 50


def test_repaint_with_jumps_approaches_the_true_conditional():
    w2 = [inpaint.w2_to_conditional(250, u, jump=5) for u in (1, 5, 10)]
    assert w2 == sorted(w2, reverse=True) and w2[0] > 0.4 and w2[-1] < 0.1


def test_a_planted_bug_in_the_jump_is_seen(monkeypatch):
    """The way back up dropped from the walk: no resampling is left, and the replacement method's error returns."""
    monkeypatch.setattr(inpaint, "jump_schedule", lambda steps, u, j: list(range(steps, -1, -1)))
    assert inpaint.w2_to_conditional(250, 10, jump=5) > 0.4


def test_the_ou_bridge_check_sees_a_drift_without_sigma_squared():
    wrong = next(w for w in derivations.get("bridge.ou").body.wrong_variants if w.result == "drift")
    assert all(s.passed for s in _run_with("bridge.ou_marginal", {}))
    assert not all(s.passed for s in _run_with("bridge.ou_marginal", {("bridge.ou", "drift"): wrong.expr}))


def test_the_conditional_ou_check_sees_the_conditions_spread_dropped():
    wrong = next(w for w in derivations.get("bridge.conditional_ou").body.wrong_variants if "dropped" in w.description)
    assert all(s.passed for s in _run_with("bridge.conditional_ou_moments", {}))
    assert not all(s.passed for s in _run_with("bridge.conditional_ou_moments",
                                               {("bridge.conditional_ou", "var"): wrong.expr}))
