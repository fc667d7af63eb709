"""Paste-back: every closed form ``diffverify show`` prints verifies as EQUIVALENT when pasted into ``verify``.

The plain text is what ``show`` prints (``sp.sstr`` of the display form); the LaTeX is the page's
(:func:`checks.app.render.latex`), read back through the notation. The limits that guard
``verify`` against hostile input must therefore be sized for the suite's own forms.
"""

from __future__ import annotations

import pytest
import sympy as sp

import derivations
from checks.app.render import latex, show_form, show_text
from derivations.core import claims
from tests.conftest import BY_DERIVATION


def _shown(derivation_id: str) -> list[tuple[str, sp.Expr]]:
    d = derivations.get(derivation_id)
    return [(r.name, show_form(r)) for r in d.body.results]


@pytest.mark.slow
@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_every_plain_form_show_prints_verifies(derivation_id):
    printed = show_text(derivations.get(derivation_id))
    for name, form in _shown(derivation_id):
        text = f"{name} = {sp.sstr(form)}"
        assert f"  {text}\n" in printed, f"{derivation_id} {name}: show prints another form"
        verdict = claims.verify(derivation_id, text)
        assert verdict.equivalent, f"{derivation_id} {name}:\n{verdict.report()}"


@pytest.mark.slow
@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_every_latex_form_verifies_unless_a_glyph_is_ambiguous(derivation_id):
    for name, form in _shown(derivation_id):
        try:
            verdict = claims.verify(derivation_id, f"{name} = {latex(form)}", latex=True)
        except claims.ClaimError as error:
            # One glyph for two symbols of one derivation cannot be read back: a notation defect the
            # reader reports instead of guessing.
            assert "ambiguous" in str(error), f"{derivation_id} {name}: {error}"
            continue
        assert verdict.equivalent, f"{derivation_id} {name}:\n{verdict.report()}"


def test_the_limits_admit_the_suites_largest_forms():
    """The fast tier's witness: the longest and the largest forms pass the whitelist's limits."""
    forms = [(d.id, r.name, show_form(r)) for d in derivations.all() for r in d.body.results]
    longest = max(forms, key=lambda f: len(sp.sstr(f[2])))
    assert len(sp.sstr(longest[2])) <= claims.MAX_LENGTH / 2  # a margin for the forms to grow
    for derivation_id, name, form in forms:
        assert claims.expansion_size(form) <= claims.MAX_TERMS / 4, (derivation_id, name)
        numeric = [abs(p.exp) for p in form.atoms(sp.Pow) if p.exp.is_Number]
        assert max(numeric, default=0) <= claims.MAX_EXPONENT, (derivation_id, name)
        functions = {type(f).__name__ for f in form.atoms(sp.Function)}
        assert functions <= {type(fn(sp.Symbol("z"))).__name__ for fn in claims.FUNCTIONS.values()}, functions
