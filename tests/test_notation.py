"""The notation: one name per concept, one glyph per name on a page, atomic glyphs, a generated table."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
import sympy as sp

import derivations
from checks.app import notation_page
from derivations.core import notation

from tests.conftest import BY_DERIVATION

COMMITTED = Path(__file__).resolve().parent.parent / "reports" / notation_page.PATH

# A glyph is one (possibly decorated) letter, with optional sub/superscripts, primes and an
# argument list: x_0, \bar\alpha_{t-1}, \Delta\sigma_i^2, \Sigma_{u_k}^{-1}, p''(y), B_{\mathrm{lin}}(t).
_GROUP = r"\{(?:[^{}]|\{[^{}]*\})*\}"
_SCRIPT = rf"(?:{_GROUP}|\\[A-Za-z]+|[A-Za-z0-9])"
_LETTER = r"(?:\\mathrm\{[A-Za-z]+\}|\\[A-Za-z]+|[A-Za-z])"
_DECORATION = r"(?:\\(?:bar|hat|tilde|Delta|nabla\\log)\s*)"
_ATOM = re.compile(rf"{_DECORATION}*{_LETTER}(?:_{_SCRIPT})?(?:\^{_SCRIPT})?'*(?:\([^()]*\))?")


def _normalized(tex: str) -> str:
    return re.sub(r"\s+", "", tex)


def page_entries(d: derivations.Derivation) -> list[notation.Name]:
    """Every notation entry a page shows: the derivation's symbols and those of its wrong variants."""
    entries = {e.name: e for e in d.symbols()}
    entries.update({e.name: e for e in notation.entries_for(w.expr for w in d.body.wrong_variants)})
    return list(entries.values())


def collisions(entries) -> dict[str, list[str]]:
    """Glyphs (whitespace ignored) shared by several names."""
    by_glyph: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        by_glyph[_normalized(entry.latex)].append(entry.name)
    return {glyph: names for glyph, names in by_glyph.items() if len(names) > 1}


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_no_two_symbols_on_a_page_print_alike(derivation_id):
    clash = collisions(page_entries(derivations.get(derivation_id)))
    assert not clash, f"{derivation_id}: one glyph for several names: {clash}"


def test_the_collision_test_sees_a_shared_glyph():
    # lam_ito and lam_rev are both printed \lambda (never on one page): the test must flag them together.
    assert collisions([notation.lookup("lam_ito"), notation.lookup("lam_rev")]) == {
        r"\lambda": ["lam_ito", "lam_rev"]}
    assert collisions([notation.lookup("x_t"), notation.lookup("x_ve_i")]) == {}


def test_no_two_entries_share_a_meaning():
    by_meaning: dict[str, list[str]] = defaultdict(list)
    for name, entry in notation.names().items():
        by_meaning[" ".join(entry.meaning.lower().split())].append(name)
    shared = {m: names for m, names in by_meaning.items() if len(names) > 1}
    assert not shared, f"one concept, several names: {shared}"


@pytest.mark.parametrize("name", list(notation.names()))
def test_every_glyph_is_atomic(name):
    """No glyph is itself an expression (``\\sigma_i^2 - \\sigma_{i-1}^2``, ``t - s``): inside a formula it
    would read as different mathematics. An abbreviation gets an atomic glyph and ``notation.abbreviate``."""
    tex = notation.lookup(name).latex
    assert _ATOM.fullmatch(tex), f"{name}: glyph {tex!r} is not atomic"


@pytest.mark.parametrize("tex", [r"\sigma_i^2 - \sigma_{i-1}^2", "t - s", r"\bar\alpha_{\tau_i}/\bar\alpha_{\tau_{i-1}}",
                                 r"\beta_{\max} - \beta_{\min}", r"\kappa t"])
def test_the_atomic_glyph_test_rejects_an_expression(tex):
    assert not _ATOM.fullmatch(tex)


@pytest.mark.parametrize("name", [n for n, e in notation.names().items() if e.stands_for is not None])
def test_an_abbreviation_expands_back_to_its_symbol(name):
    entry = notation.lookup(name)
    assert sp.simplify(notation.expand_definitions(entry.stands_for) - entry.symbol) == 0


def test_abbreviate_refuses_a_defined_name():
    with pytest.raises(ValueError, match="only a base symbol"):
        notation.abbreviate(notation.beta_t, 1 - notation.alpha_t)


def test_notation_page_lists_every_symbol_once():
    page = notation_page.markdown()
    for name in notation.names():
        assert page.count(f"| `{name}` |") == 1, name
    assert "$$" not in page and "\\," not in page, "GitHub-safe inline math only"


def test_committed_notation_page_matches_the_generator():
    assert COMMITTED.exists(), f"no {COMMITTED}: run `diffverify report` (or `make report`)"
    assert COMMITTED.read_text() == notation_page.markdown(), f"{COMMITTED} is stale: regenerate reports/"


def test_the_report_writes_the_notation_page(monkeypatch):
    from checks.app import report

    monkeypatch.setattr(report.derivations, "all", lambda: [])
    monkeypatch.setattr(report.plugins, "studies", lambda: [])  # the study pages are not what this tests
    assert report.build(run_checks=False).text[notation_page.PATH] == notation_page.markdown()
