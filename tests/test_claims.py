"""The claim checker: typed formulas against derived quantities, from Python and from the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sympy as sp

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


def test_the_context_holds_every_symbol_of_the_derivation_its_definitions_and_index_variants():
    ctx = claims.context("ddpm.posterior")
    assert {"alpha_t", "alpha_bar_prev", "beta_t", "alpha_bar_t", "beta_tilde_t", "x_0", "x_t", "eps"} <= set(ctx.names)
    assert ctx.origin["x_t"] == "used" and ctx.origin["snr_t"] == "defined"
    # ddpm.posterior completes the square in x_{t-1}; the marginal names only x_0
    assert ctx.origin["x_prev"] == "used" and claims.context("ddpm.marginal").origin["x_prev"] == "index variant"
    assert "sigma_tw" not in ctx.names and "theta_ou" not in claims.context("ddpm.marginal").names
    assert claims.context("ou.moments").origin["tp_ou"] in {"used", "index variant"}
    assert claims.index_stem("alpha_bar_prev") == ("alpha_bar", True)
    assert claims.index_stem("mix_mean_2") == ("mix_mean", True)
    assert claims.index_stem("beta_min") == ("beta_min", False)
    allowed = claims.allowed_names("ddpm.posterior")
    assert set(allowed) == set(derivations.get("ddpm.posterior").results)
    assert all(names == ctx.names for names in allowed.values())


@pytest.mark.parametrize("derivation_id, text", [
    ("ou.moments", "var = sigma_ou**2/(2*kappa_ou)*(1 - exp(-2*kappa_ou*t_ou))"),  # absolute time for the lag t - s
    ("ou.moments", "stationary_var = theta_ou**2/(2*kappa_ou)"),  # theta in place of sigma
    ("ddim.family", "pushed_mean = sqrt(alpha_bar_tau)*x_0"),  # alpha_bar_{tau_i} for alpha_bar_{tau_{i-1}}
    ("ddpm.marginal", "var = 1 - alpha_bar_prev"),  # an index variant the result does not use
    ("ddpm.posterior", "var = beta_tilde_t*x_t/x_t + x_0 - x_prev"),
])
def test_a_claim_that_adds_a_dependence_is_rejected_with_a_counterexample(derivation_id, text):
    verdict = claims.verify(derivation_id, text)
    assert not verdict.equivalent and verdict.counterexample
    assert main(["verify", derivation_id, text]) == 1


def test_a_dependence_that_cancels_is_no_dependence():
    assert claims.verify("ddpm.marginal", "var = 1 - alpha_bar_t + x_0 - x_0").equivalent


def test_quantities_of_the_derivation_can_be_named_in_a_claim():
    assert claims.verify("elbo.decomposition", "elbo = reconstruction - prior_kl - step_kl").equivalent
    assert not claims.verify("elbo.decomposition", "elbo = reconstruction - prior_kl + step_kl").equivalent
    with pytest.raises(claims.ClaimError, match="unknown name 'var'"):
        claims.verify("ddpm.marginal", "var = var")  # not itself


def test_assumptions_state_a_specialisation():
    equal_variances = claims.verify("gaussian.kl", "kl = (mean_q - mean_p)**2/(2*var_q)", assume=["var_p = var_q"])
    assert equal_variances.equivalent and equal_variances.tier is Tier.EXACT
    assert equal_variances.report() == "EQUIVALENT (tier: exact) under var_p = var_q"
    assert not claims.verify("gaussian.kl", "kl = (mean_q - mean_p)**2/(2*var_q)").equivalent
    wrong = claims.verify("gaussian.kl", "kl = (mean_q - mean_p)**2/var_q", assume=["var_p = var_q"])
    assert not wrong.equivalent and "under var_p = var_q" in wrong.report()
    # a defined name that rests on the assumed symbol is specialised too
    at_posterior_var = claims.verify("elbo.weights", "weight_x0 = (snr_prev - snr_t)/2", assume=["var_model = beta_tilde_t"])
    assert at_posterior_var.equivalent
    two = claims.verify("gaussian.kl", "kl = 0", assume=["var_p = var_q", "mean_p = mean_q"])
    assert two.equivalent


KL_EQUAL_VARIANCES = "kl = (mean_q - mean_p)**2/(2*var_q)"


@pytest.mark.parametrize("derivation_id, claim, assumption, message", [
    ("ddpm.marginal", "var = 1 - alpha_bar_t", "beta_t = 1/2", "defined as"),
    ("gaussian.kl", KL_EQUAL_VARIANCES, "sigma_tw = 1", "not a symbol of"),
    ("gaussian.kl", KL_EQUAL_VARIANCES, "var_p = -var_q", "positive"),
    ("gaussian.kl", KL_EQUAL_VARIANCES, "var_p = __import__('os')", "only calls of the listed functions"),
    ("gaussian.kl", KL_EQUAL_VARIANCES, "var_p", "expected 'SYMBOL = EXPR'"),
])
def test_bad_assumptions_are_usage_errors(derivation_id, claim, assumption, message, capsys):
    assert main(["verify", derivation_id, claim, "--assume", assumption]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_latex_claims_are_read_through_the_notation():
    text = r"var = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\beta_t"
    assert claims.verify("ddpm.posterior", text, latex=True).equivalent
    misprint = r"coef_x0 = \frac{\sqrt{\bar\alpha_t}\,\beta_t}{1 - \bar\alpha_t}"
    assert not claims.verify("ddpm.posterior", misprint, latex=True).equivalent
    kl = r"kl = \frac{(\mu_Q - \mu_P)^{2}}{2 \sigma_Q^2}"
    assert claims.verify("gaussian.kl", kl, assume=[r"var_p = \sigma_Q^2"], latex=True).equivalent
    assert main(["verify", "--latex", "ddpm.marginal", r"std = \sqrt{1 - \bar{\alpha}_{t}}"]) == 0


@pytest.mark.parametrize("text, message", [
    (r"var = \beta_t \mathrm{oops}", "unknown"),
    (r"var = \frac{1}{", "ends early"),
    (r"var = \sigma_{\max}", "unknown symbol"),
    (r"var = x_{7}", "subscript"),
    (r"var = \input{/etc/passwd}", "unknown symbol"),
])
def test_bad_latex_is_a_usage_error(text, message, capsys):
    assert main(["verify", "--latex", "ddpm.posterior", text]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_glyph_shared_by_two_symbols_of_one_derivation_is_refused_in_latex():
    ctx = claims.context("fp.reverse_family")
    glyph = {n: __import__("derivations.core.notation", fromlist=["lookup"]).lookup(n).latex for n in ctx.names}
    shared = [g for g in set(glyph.values()) if list(glyph.values()).count(g) > 1
              and len({ctx.origin[n] for n, v in glyph.items() if v == g}) == 1]
    if not shared:
        pytest.skip("no glyph is shared within this derivation's context")
    with pytest.raises(claims.ClaimError, match="ambiguous"):
        claims.verify("fp.reverse_family", f"diffusion = {shared[0]}", latex=True)


def test_list_symbols(capsys):
    assert main(["verify", "--list-symbols", "ddpm.posterior"]) == 0
    out = capsys.readouterr().out
    assert "coef_x0: alpha_bar_prev, alpha_t" in out
    assert "beta_tilde_t" in out and r"\tilde\beta_t" in out and "defined" in out
    assert main(["verify", "--list-symbols", "ddpm.posteriro"]) == 2


def test_two_values_that_print_alike_show_their_difference():
    verdict = claims.Verdict("x.y", "q", sp.Integer(0), sp.Integer(0), False, Tier.FAILED, {"t": 0.5},
                             1.0000000000001, 1.0000000000002)
    assert "derived - claimed = -1.0" in verdict.report() and "e-13" in verdict.report()


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
    "mean = " + "+".join(["x_t"] * 40_000),
    "mean = " + "(" * 240 + "x_t" + ")" * 240,
    "mean = x_t ^ 2",
    "mean = 1/(x_t - x_t)",
    "mean = x_t @ x_0",
    "mean = x_t == x_0",
    "mean = x_t; import os",
    "mean = sigma_tw",
    "mean = x_t**17",
    "mean = (x_t + x_0 + eps + alpha_t + beta_t + alpha_bar_t + alpha_bar_prev + x_prev + beta_tilde_t)**16",
    "mean = " + "*".join(f"(x_t + x_0 + eps + {k})" for k in range(1, 13)),
    "mean = " + "+".join(f"1/(x_t + x_0 + eps + {k})**8" for k in range(1, 9)),
    "mean = x_t**(9**9*alpha_t/alpha_t)",
    "mean = x_t**(x_0 + 1000 - x_0)",
    "mean = ((((((9**16)**16)**16)**16)**16)**16)",
    "mean = exp(exp(exp(exp(exp(exp(exp(x_t)))))))",
    "mean = 1" + "0" * 300,
    "mean = 1e999",
    "mean = gamma(x_t, x_0)",
    "mean = Integer(5)",
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
    assert "unknown name 'sigma_tw'" in err and "beta_tilde_t" in err and "sqrt" in err and "gamma" in err
    assert main(["verify", "ddpm.posterior", "variance = beta_t"]) == 2
    assert "quantities: mean, coef_x0, coef_xt, mean_eps, var" in capsys.readouterr().err


def test_python_api_raises_claim_error_for_bad_input():
    with pytest.raises(claims.ClaimError, match="allowed in ddpm.posterior"):
        claims.verify("ddpm.posterior", "var = sigma_tw")
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


# ---------------------------------------------------------------------------------------------
# verify --file: a batch of claims
# ---------------------------------------------------------------------------------------------
def test_a_claims_file_gives_a_markdown_table_and_exit_1_if_any_is_wrong(tmp_path, capsys):
    path = tmp_path / "claims.tsv"
    path.write_text("# Ho et al. (2020)\n"
                    "ddpm.posterior\tvar = beta_tilde_t\n"
                    "\n"
                    "ddpm.posterior\tcoef_x0 = sqrt(alpha_bar_t)*beta_t/(1 - alpha_bar_t)\n"
                    "gaussian.kl\tkl = (mean_q - mean_p)**2/(2*var_q)\tvar_p = var_q\n", encoding="utf-8")
    assert main(["verify", "--file", str(path)]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "| line | id | quantity | claim | verdict | counterexample |"
    assert lines[2].startswith("| 2 | `ddpm.posterior` | `var` | `beta_tilde_t` | EQUIVALENT (exact) | — |")
    assert lines[3].startswith("| 4 | `ddpm.posterior` | `coef_x0` |") and "**NOT EQUIVALENT**" in lines[3]
    assert "alpha_t=" in lines[3] and "derived" in lines[3]
    assert "(under var_p = var_q)" in lines[4] and "EQUIVALENT" in lines[4]
    assert "3 claims: 2 equivalent, 1 not equivalent" in out


def test_a_claims_file_with_a_header_names_its_columns(tmp_path, capsys):
    path = tmp_path / "claims.tsv"
    path.write_text("format\tid\tclaim\tlabel\n"
                    "latex\tddpm.marginal\tstd = \\sqrt{1 - \\bar\\alpha_t}\tHo et al. (2020), eq. (4)\n"
                    "plain\tddpm.marginal\tvar = 1 - alpha_bar_t\t\n", encoding="utf-8")
    assert main(["verify", "--file", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("| label |") and "Ho et al. (2020), eq. (4)" in out


@pytest.mark.parametrize("content, message", [
    ("", "no claims"),
    ("# only a comment\n", "no claims"),
    ("ddpm.posterior\n", "expected 3 tab-separated columns"),
    ("ddpm.posterior\tvar = beta_t\tvar_p = var_q\textra\n", "expected 3 tab-separated columns"),
    ("ddpm.posterior\tvar = beta_t\nno.such.id\tvar = 1\n", ":2: unknown derivation id"),
    ("ddpm.posterior\tvar = __import__('os')\n", ":1: "),
    ("id\tclaim\tasume\nddpm.posterior\tvar = beta_t\tx\n", "the header names the columns"),
    ("id\tclaim\tformat\nddpm.posterior\tvar = beta_t\ttex\n", "format must be one of"),
    ("ddpm.posterior\tvar = beta_t\tbeta_t = 1\n", "defined as"),
])
def test_a_bad_claims_file_is_one_usage_error_and_nothing_is_printed(content, message, tmp_path, capsys):
    path = tmp_path / "claims.tsv"
    path.write_text(content, encoding="utf-8")
    assert main(["verify", "--file", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err and captured.err.count("\n") == 1


def test_an_unreadable_claims_file_is_a_usage_error(tmp_path, capsys):
    assert main(["verify", "--file", str(tmp_path / "missing.tsv")]) == 2
    assert "cannot read" in capsys.readouterr().err
    (tmp_path / "binary.tsv").write_bytes(b"\xff\xfe\x00")
    assert main(["verify", "--file", str(tmp_path / "binary.tsv")]) == 2


@pytest.mark.parametrize("argv", [
    ["verify"],
    ["verify", "ddpm.posterior"],
    ["verify", "ddpm.posterior", "var = beta_t", "--file", "x.tsv"],
    ["verify", "--file", "x.tsv", "--assume", "var_p = var_q"],
    ["verify", "--list-symbols", "ddpm.posterior", "--latex"],
])
def test_modes_of_verify_are_exclusive(argv, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err.count("\n") == 1
