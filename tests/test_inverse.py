"""Linear inverse problems: exact laws of DPS and ΠGDM against the posterior, and planted bugs."""

from __future__ import annotations

import pytest
import torch

import checks
import derivations
from checks.core import stats
from checks.core.registry import CheckContext, seed_for
from checks.exact import inverse
from checks.suite import inverse as suite_inverse
from derivations.catalogue import posterior


def test_pigdm_with_tweedie_r2_converges_to_the_posterior():
    w2 = [inverse.w2_to_posterior(*inverse.sampler_law("pigdm", n, options={"r2": "tweedie"})) for n in (50, 250, 1000)]
    assert w2 == sorted(w2, reverse=True) and w2[-1] < 5e-3


def test_pigdm_with_the_papers_r2_is_exact_only_for_unit_variance_data():
    biased = inverse.w2_to_posterior(*inverse.sampler_law("pigdm", 1000, options={"r2": "paper"}))
    unit = inverse.Problem(var_data=1.0)
    exact = inverse.w2_to_posterior(*inverse.sampler_law("pigdm", 1000, unit, {"r2": "paper"}), unit)
    assert biased > 0.05 and exact < 5e-3


@pytest.mark.parametrize("zeta", [0.05, 0.2, 1.0])
def test_dps_with_a_constant_step_stays_away_from_the_posterior(zeta):
    assert inverse.w2_to_posterior(*inverse.sampler_law("dps", 1000, options={"zeta": zeta})) > 0.1


def test_dps_at_its_exact_step_size_is_the_ddpm_step_on_the_posterior():
    """zeta* of ``inverse.step_dps`` at a point: the DPS correction equals b/a times grad log p(y | x_t)."""
    d = derivations.get("inverse.step_dps")
    values = dict(a_st=0.98, b_st=0.04, m_next_st=0.7, v_next_st=0.51, op_inv=1.3, var_obs_inv=0.2, var_data=2.0)
    m_now, v_now = values["a_st"] * values["m_next_st"], values["a_st"] ** 2 * values["v_next_st"] + values["b_st"]
    r2 = values["var_data"] * v_now / (m_now**2 * values["var_data"] + v_now)
    expected = values["b_st"] / (2 * values["a_st"] * (values["op_inv"] ** 2 * r2 + values["var_obs_inv"]))
    assert float(d.function("zeta_exact")(**values)) == pytest.approx(expected, rel=1e-12)


SIGN = ("obs_inv", lambda v: -v)
NO_NOISE = ("var_obs_inv", lambda v: 0.0)


@pytest.mark.parametrize(("name", "options", "bugs"), [("pigdm", {"r2": "tweedie"}, (SIGN, NO_NOISE)),
                                                       ("dps", {"zeta": 0.2}, (SIGN,))])
def test_planted_bugs_in_the_step_maps_move_the_exact_law(monkeypatch, name, options, bugs):
    """A flipped guidance sign (the measurement negated) and a dropped sigma_y^2 (ΠGDM: DPS's step has none)
    both move the output law."""
    good = inverse.w2_to_posterior(*inverse.sampler_law(name, 250, options=options))
    maps = dict(inverse.step_maps(name))
    for key, change in bugs:
        bad_maps = {n: (lambda f: lambda **values: f(**(values | {key: change(values[key])})))(f) for n, f in maps.items()}
        monkeypatch.setattr(inverse, "step_maps", lambda _name, bad=bad_maps: bad)
        assert inverse.w2_to_posterior(*inverse.sampler_law(name, 250, options=options)) > good + 0.05, key
        monkeypatch.undo()


def _run_with(check_id: str, overrides: dict) -> list[stats.Statistic]:
    check = checks.get(check_id)
    ctx = CheckContext(check, 5_000, seed_for(check_id), torch.device("cpu"), torch.float64, overrides=overrides)
    return stats.test(check.compare(ctx, check.simulate(ctx)), check.false_alarm)


def test_the_pigdm_check_sees_a_flipped_guidance():
    wrong = next(w for w in derivations.get("inverse.step_pigdm").body.wrong_variants if "sign" in w.description)
    assert all(s.passed for s in _run_with("inverse.pigdm_gaussian", {}))
    assert not all(s.passed for s in _run_with("inverse.pigdm_gaussian", {("inverse.step_pigdm", wrong.result): wrong.expr}))


def test_the_engine_run_of_a_flipped_rule_fails_the_dps_check(monkeypatch):
    """The rule's correction with the wrong sign (ascending the residual), the derived maps untouched."""
    correction = posterior.dps_correction
    monkeypatch.setattr(posterior, "dps_correction", lambda obs, at, x, zeta: -correction(obs, at, x, zeta))
    assert not all(s.passed for s in _run_with("inverse.dps_gaussian", {}))


def test_the_mixture_check_sees_a_dropped_noise_variance(monkeypatch):
    """sigma_y^2 missing from p(y | x_t) (``inverse.likelihood_score``'s wrong variant); a coarse grid, where the
    correct field still passes, keeps the test short."""
    monkeypatch.setattr(suite_inverse, "MIXTURE_STEPS", 100)
    wrong = next(w for w in derivations.get("inverse.likelihood_score").body.wrong_variants if w.result == "lik_var")
    assert all(s.passed for s in _run_with("inverse.posterior_mixture", {}))
    assert not all(s.passed for s in _run_with("inverse.posterior_mixture", {("inverse.likelihood_score", "lik_var"): wrong.expr}))
