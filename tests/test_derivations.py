"""Every registered derivation: steps and claims proved at the declared tier, wrong variants rejected."""

from __future__ import annotations

import pytest
import sympy as sp

import derivations
from derivations import Tier, prove
from derivations.core import notation
from derivations.core.registry import Body, Relation, Result

from tests.conftest import BY_DERIVATION, DERIVATION_IDS


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
        proof = prove(d.result(wrong.result), wrong.expr)
        assert proof.tier is Tier.FAILED, f"{derivation_id}: wrong variant accepted: {wrong.description}"
        assert proof.counterexample, "a rejection names its counterexample point"


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_results_compile_for_numpy_and_torch(derivation_id):
    import numpy as np
    import torch

    d = derivations.get(derivation_id)
    for name, result in d.results.items():
        numpy_fn, torch_fn = d.function(name, "numpy"), d.function(name, "torch")
        assert d.function(name, "numpy") is numpy_fn, "lambdified once and reused"
        point = {s.name: 0.37 + 0.01 * i for i, s in enumerate(sorted(result.expr.free_symbols, key=str))}
        expected = float(result.expr.subs({sp.Symbol(k, **_assumptions(result.expr, k)): v for k, v in point.items()}))
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
