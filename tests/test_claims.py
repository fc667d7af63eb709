"""The claim checker: typed formulas against derived quantities, from Python and from the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import derivations
from checks.app.cli import main
from derivations import Tier
from derivations.core import claims

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("derivation_id, text", [
    ("ddpm.posterior", "mean = sqrt(alpha_bar_prev)*beta_t/(1 - alpha_bar_t)*x_0"
                       " + sqrt(alpha_t)*(1 - alpha_bar_prev)/(1 - alpha_bar_t)*x_t"),
    ("ddpm.posterior", "mean_eps = (x_t - beta_t/sqrt(1 - alpha_bar_t)*eps)/sqrt(alpha_t)"),
    ("ddpm.posterior", "var = beta_tilde_t"),
    ("ddpm.posterior", "var = (1 - alpha_bar_prev)*(1 - alpha_t)/(1 - alpha_t*alpha_bar_prev)"),
    ("ddpm.marginal", "mean_coef = sqrt(alpha_bar_t)"),
    ("score.conditional", "eps_to_score = -1/sqrt(1 - alpha_bar_t)"),
    ("score.reparameterizations", "x0_from_v = sqrt(alpha_bar_t)*x_t - sqrt(1 - alpha_bar_t)*v_target"),
    ("tweedie.first_order", "gaussian_mean = (sigma_tw**2*mu_x + var_x*y)/(var_x + sigma_tw**2)"),
])
def test_equivalent_rewritings_are_accepted(derivation_id, text):
    verdict = claims.verify(derivation_id, text)
    assert verdict.equivalent and verdict.tier is Tier.EXACT
    assert verdict.report() == "EQUIVALENT (tier: exact)"


def test_numeric_tier_is_reported():
    verdict = claims.verify("ddpm.marginal", "std = abs(sqrt(1 - alpha_bar_t))")
    assert verdict.equivalent and verdict.tier is Tier.NUMERIC


@pytest.mark.parametrize("derivation_id, text", [
    ("ddpm.marginal", "mean_coef = alpha_bar_t"),  # missing square root
    ("ddpm.marginal", "mean_coef = sqrt(alpha_t)"),  # alpha_t for alpha_bar_t
    ("ddpm.posterior", "coef_x0 = sqrt(alpha_bar_t)*beta_t/(1 - alpha_bar_t)"),  # index shifted
    ("ddpm.posterior", "var = beta_t"),
    ("score.conditional", "score_eps = -eps/(1 - alpha_bar_t)"),  # variance for standard deviation
    ("score.dsm_equals_esm", "constant = (1/sigma_tw**4 - 1/(var_x + sigma_tw**2)**2)/2"),  # squared variances
    ("score.reparameterizations", "x0_from_v = sqrt(alpha_bar_t)*x_t + sqrt(1 - alpha_bar_t)*v_target"),  # sign of v
])
def test_misprints_are_rejected_with_a_counterexample(derivation_id, text):
    verdict = claims.verify(derivation_id, text)
    assert not verdict.equivalent and verdict.tier is Tier.FAILED
    assert verdict.counterexample and verdict.derived_value != verdict.claimed_value
    report = verdict.report()
    assert report.startswith("NOT EQUIVALENT") and "derived" in report and "claimed" in report


def test_verdict_carries_the_parsed_formula_and_the_derived_one():
    verdict = claims.verify("ddpm.posterior", "var = beta_tilde_t")
    assert verdict.name == "var" and str(verdict.expr) == "beta_tilde_t"
    assert verdict.derived == derivations.get("ddpm.posterior").result("var")


def test_allowed_names_follow_definitions_down_to_the_quantity_base_symbols():
    allowed = claims.allowed_names("ddpm.posterior")
    assert set(allowed) == set(derivations.get("ddpm.posterior").results)
    assert {"alpha_t", "alpha_bar_prev", "beta_t", "alpha_bar_t", "beta_tilde_t"} <= set(allowed["var"])
    assert "x_t" not in allowed["var"] and {"x_0", "x_t"} <= set(allowed["mean"])
    assert "eps" in allowed["mean_eps"] and "x_0" not in allowed["mean_eps"]


HOSTILE = [
    "mean = __import__('os').system('touch {marker}')",
    "mean = x_t.__class__.__mro__",
    "mean = (lambda: 1)()",
    "mean = [x_t for x_t in (1,)]",
    "mean = x_t[0]",
    "mean = sqrt(x=x_t)",
    "mean = open('{marker}', 'w')",
    "mean = 'text'",
    "mean = __builtins__",
    "mean = x_t if x_t else x_0",
    "mean = 9**9**9**9",
    "mean = (x_t + x_0)**1000",
    "mean = " + "+".join(["x_t"] * 300),
    "mean = " + "(" * 240 + "x_t" + ")" * 240,
    "mean = x_t ^ 2",
    "mean = 1/(x_t - x_t)",
    "mean = x_t @ x_0",
    "mean = x_t == x_0",
    "mean = x_t; import os",
    "mean = sigma_tw",
    "mean =",
    "mean x_t",
    "nothing = x_t",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_or_malformed_input_is_a_one_line_usage_error(text, tmp_path, capsys):
    marker = tmp_path / "created"
    code = main(["verify", "ddpm.posterior", text.format(marker=marker)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("diffverify: error:") and err.count("\n") == 1
    assert not marker.exists()


def test_usage_errors_list_what_is_allowed(capsys):
    assert main(["verify", "ddpm.posterior", "var = sigma_tw"]) == 2
    err = capsys.readouterr().err
    assert "unknown name 'sigma_tw'" in err and "beta_tilde_t" in err and "sqrt" in err
    assert main(["verify", "ddpm.posterior", "variance = beta_t"]) == 2
    assert "quantities: mean, coef_x0, coef_xt, mean_eps, var" in capsys.readouterr().err


def test_python_api_raises_claim_error_for_bad_input():
    with pytest.raises(claims.ClaimError, match="allowed in ddpm.posterior var"):
        claims.verify("ddpm.posterior", "var = eps")
    with pytest.raises(derivations.UnknownId):
        claims.verify("ddpm.posteriro", "var = beta_t")


def test_cli_prints_verdicts_and_exit_codes(capsys):
    assert main(["verify", "ddpm.posterior", "var = beta_tilde_t"]) == 0
    assert capsys.readouterr().out.strip() == "EQUIVALENT (tier: exact)"
    assert main(["verify", "ddpm.posterior", "var = beta_t"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("NOT EQUIVALENT") and "alpha_t=" in out
    assert main(["verify", "no.such.id", "var = beta_t"]) == 2


def test_console_entry_point_exit_code():
    wrong = subprocess.run(
        [sys.executable, "-m", "checks.app.cli", "verify", "ddpm.posterior",
         "coef_x0 = sqrt(alpha_bar_t)*beta_t/(1 - alpha_bar_t)"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert wrong.returncode == 1 and wrong.stdout.startswith("NOT EQUIVALENT") and not wrong.stderr
