"""Every registered derivation: steps and claims proved at the declared tier, wrong variants rejected,
every step showing its operation, every displayed formula of readable size."""

from __future__ import annotations

import pytest
import sympy as sp

import derivations
from derivations import Tier, prove
from derivations.core import notation, work
from derivations.core.registry import AT_MOST, Body, Claim, Relation, Result, WrongVariant

from tests.conftest import BY_DERIVATION, DERIVATION_IDS

# A displayed math line longer than this is a wall: long forms are shown through named intermediates.
MAX_MATH_CHARS = 1000


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_reaches_its_declared_tier(derivation_id):
    d = derivations.get(derivation_id)
    failed = [v.description for v in d.verdicts if not v.proof.holds]
    assert not failed, f"{derivation_id}: failed relations: {failed}"
    assert d.tier is d.declared_tier, f"{derivation_id} declares {d.declared_tier.value}, reaches {d.tier.value}"


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_every_wrong_variant_is_rejected(derivation_id):
    d = derivations.get(derivation_id)
    assert d.body.wrong_variants, f"{derivation_id} has no negative test"
    for wrong in d.body.wrong_variants:
        proof = d.verdict(wrong.id).proof
        assert proof.tier is Tier.FAILED, f"{derivation_id}: wrong variant accepted: {wrong.description}"
        assert proof.counterexample, "a rejection names its counterexample point"


def _tautological(step: Relation) -> bool:
    from checks.app.render import latex

    lhs, rhs = sp.sympify(step.lhs), sp.sympify(step.rhs)
    return lhs == rhs or latex(lhs) == latex(rhs)


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_every_step_shows_its_operation(derivation_id):
    """No displayed step reads X = X (sides identical as expressions or as printed), in particular none 0 = 0."""
    d = derivations.get(derivation_id)
    identical = [s.description for s in d.body.steps if _tautological(s)]
    assert not identical, f"{derivation_id}: steps with identical sides: {identical}"


def _math_lines(d: derivations.Derivation) -> dict[str, str]:
    """Every displayed formula of a page, as the page prints it, by what it is."""
    from checks.app.render import latex

    body = d.body
    lines = {f"step {s.id}": f"{latex(s.lhs)} {s.latex_symbol} {latex(s.rhs)}" for s in body.steps}
    lines |= {f"result {r.name}": latex(r.expr) for r in body.results}
    lines |= {f"claim {c.id}": latex(c.printed if c.printed is not None else c.expr) for c in body.claims}
    lines |= {f"form {f.id}": latex(f.expr) for f in body.equivalents}
    lines |= {f"variant {w.id}": latex(w.expr) for w in body.wrong_variants}
    lines |= {f"where {type(n).__name__}": f"{latex(n)} = {latex(n.definition())}" for n in d.intermediates()}
    return lines


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_no_math_line_is_a_wall(derivation_id):
    d = derivations.get(derivation_id)
    walls = {k: len(v) for k, v in _math_lines(d).items() if len(v) > MAX_MATH_CHARS}
    assert not walls, f"{derivation_id}: math lines over {MAX_MATH_CHARS} characters: {walls}"


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_ids_are_unique_and_verdicts_found_by_id(derivation_id):
    d = derivations.get(derivation_id)
    items = (*d.body.steps, *d.body.claims, *d.body.equivalents, *d.body.wrong_variants)
    assert len({item.id for item in items}) == len(items)
    assert all(d.verdict(item.id).description for item in items)


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_no_page_cites_a_file_outside_the_repository(derivation_id):
    d = derivations.get(derivation_id)
    texts = [d.statement, *d.assumptions, *d.references, *(c.citation for c in d.body.claims)]
    assert not any("MATH.md" in text for text in texts)


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_results_compile_for_numpy_and_torch(derivation_id):
    import numpy as np
    import torch

    d = derivations.get(derivation_id)
    for name in d.results:
        expr = d.result(name)  # named intermediates replaced by their definitions
        numpy_fn, torch_fn = d.function(name, "numpy"), d.function(name, "torch")
        assert d.function(name, "numpy") is numpy_fn, "lambdified once and reused"
        point = {s.name: 0.37 + 0.01 * i for i, s in enumerate(sorted(expr.free_symbols, key=str))}
        expected = float(expr.subs({sp.Symbol(k, **_assumptions(expr, k)): v for k, v in point.items()}))
        assert np.isclose(numpy_fn(**point), expected, rtol=1e-12)
        torch_point = {k: torch.tensor(v, dtype=torch.float64) for k, v in point.items()}
        assert np.isclose(float(torch_fn(**torch_point)), expected, rtol=1e-12)


def _assumptions(expr, name):
    return next(s for s in expr.free_symbols if s.name == name).assumptions0


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_metadata_is_complete(derivation_id):
    d = derivations.get(derivation_id)
    assert d.title and d.statement and d.references
    assert all(notation.lookup(entry.name) for entry in d.symbols())


def test_duplicate_id_raises():
    with pytest.raises(ValueError, match="registered twice"):
        derivations.derivation(id=DERIVATION_IDS[0], title="t", statement="s", tier=Tier.EXACT)(lambda: None)


def test_unknown_id_names_the_closest():
    with pytest.raises(derivations.UnknownId, match="ddpm.posterior"):
        derivations.get("ddpm.posteriro")


def test_search_finds_by_text():
    assert "ddpm.posterior" in [d.id for d in derivations.search("posterior")]


def test_a_wrong_derivation_fails_its_tier():
    """A builder whose result drifted from its claim (posterior variance beta_t) is caught."""
    wrong = derivations.core.registry.Derivation(
        id="test.wrong", title="", statement="", assumptions=(), references=(), declared_tier=Tier.EXACT,
        builder=lambda: Body(
            steps=(Relation("posterior variance", notation.beta_t, notation.beta_tilde_t),),
            results=(Result("var", notation.beta_t, ""),),
        ),
    )
    assert wrong.tier is Tier.FAILED


def test_numeric_tier_when_simplification_fails():
    # Not simplified by the chain, but equal: |x| = sqrt(x^2) for real x.
    x = notation.x
    assert prove(sp.Abs(x), sp.sqrt(x**2)).holds


def test_symbols_outside_the_notation_are_refused():
    stray = sp.Symbol("stray")
    d = derivations.core.registry.Derivation(
        id="test.stray", title="", statement="", assumptions=(), references=(), declared_tier=Tier.EXACT,
        builder=lambda: Body(steps=(), results=(Result("r", stray, ""),)),
    )
    with pytest.raises(ValueError, match="outside the notation"):
        d.body


# --- the proof machinery on held operations, named intermediates, undefined functions, inequalities ---

def test_held_operations_are_evaluated_by_the_proofs():
    x = notation.x_sde
    assert prove(sp.Derivative(sp.exp(x**2), x), 2 * x * sp.exp(x**2)).tier is Tier.EXACT
    assert prove(sp.Integral(x, (x, 0, notation.time)), notation.time**2 / 2).tier is Tier.EXACT
    assert prove(sp.Derivative(sp.exp(x**2), x), x * sp.exp(x**2)).tier is Tier.FAILED


def test_a_named_intermediate_stands_for_its_definition():
    x, t = notation.x_sde, notation.time
    heat = work.named("heat", "k_t(x)", sp.exp(-x**2 / (4 * t)) / sp.sqrt(4 * sp.pi * t))
    assert sp.latex(heat) == "k_t(x)"
    assert prove(sp.Derivative(heat, t), sp.Derivative(heat, (x, 2))).tier is Tier.EXACT  # the heat equation
    assert prove(sp.Derivative(heat, t), 2 * sp.Derivative(heat, (x, 2))).tier is Tier.FAILED
    assert work.named("heat", "k_t(x)", sp.exp(-x**2 / (4 * t)) / sp.sqrt(4 * sp.pi * t)) == heat, "one class per name"
    compiled = derivations.core.registry.Lambdified(heat, "numpy")
    assert abs(compiled(t_fp=None, x_sde=0.0, t=1.0) - 1 / (4 * 3.141592653589793) ** 0.5) < 1e-12


def test_undefined_functions_are_proved_for_every_jet():
    x = notation.x_sde
    f, g = sp.Function("f")(x), sp.Function("g")(x)
    assert prove(sp.Derivative(f * g, x), sp.Derivative(f, x) * g + f * sp.Derivative(g, x)).tier is Tier.EXACT
    wrong = prove(sp.Derivative(f * g, x), sp.Derivative(f, x) * sp.Derivative(g, x))
    assert wrong.tier is Tier.FAILED and wrong.counterexample


def test_an_expectation_is_shown_held_and_proved_by_its_value():
    from sympy import stats

    noise = stats.Normal("dW", 0, sp.sqrt(notation.h_sde))
    held = work.expectation(noise**2)
    assert sp.latex(held).startswith("E\\left[")
    assert prove(held, notation.h_sde).tier is Tier.EXACT
    assert prove(held, 2 * notation.h_sde).tier is Tier.FAILED


def test_inequalities_are_proved_by_sign_or_rejected_with_a_point():
    alpha = notation.alpha_t  # admissible in (0, 1)
    exact = Relation("a product of positive factors", sp.Integer(0), alpha * (1 - alpha), kind=AT_MOST).prove()
    assert exact.tier is Tier.EXACT
    wrong = Relation("not on all of (0, 1)", sp.Integer(0), alpha - sp.Rational(1, 2), kind=AT_MOST).prove()
    assert wrong.tier is Tier.FAILED and wrong.counterexample["alpha_t"] < 0.5
    numeric = Relation("true, but not by sign rules", sp.Integer(0), sp.cos(alpha) - 1 + alpha**2 / 2,
                       kind=AT_MOST).prove()
    assert numeric.tier in (Tier.NUMERIC, Tier.EXACT) and numeric.holds


def test_a_claim_as_printed_records_the_source_form_and_its_substitution():
    alpha_src = sp.Symbol("alpha_t")  # a source writing alpha_t for the cumulative product
    claim = Claim.as_printed("var", 1 - alpha_src, "a source", "eq. (1)", {alpha_src: notation.alpha_bar_t})
    assert claim.expr == 1 - notation.alpha_bar_t and claim.printed == 1 - alpha_src
    assert claim.citation == "a source, eq. (1)" and claim.substitution == ((alpha_src, notation.alpha_bar_t),)


def test_ids_used_twice_are_refused():
    d = derivations.core.registry.Derivation(
        id="test.ids", title="", statement="", assumptions=(), references=(), declared_tier=Tier.EXACT,
        module=__name__,
        builder=lambda: Body(steps=(Relation("a", notation.x, notation.x + 0 * notation.y, id="same"),),
                             results=(Result("r", notation.x, ""),),
                             wrong_variants=(WrongVariant("r", notation.y, "", id="same"),)),
    )
    with pytest.raises(ValueError, match="ids used twice"):
        d.body
