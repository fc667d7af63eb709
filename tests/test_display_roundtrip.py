"""Display = proof: every formula a page or ``show`` displays reads back as the expression it stands for.

Each displayed LaTeX formula is parsed by :mod:`checks.app.readback` (the
reading conventions of a person, not of the printer) and proved equal to its
expression; ``show``'s plain-text forms are parsed by SymPy. The page's math
is also matched against the formula list, so no formula reaches a page
without being read back.
"""

from __future__ import annotations

import re

import pytest
import sympy as sp
from sympy.parsing.sympy_parser import parse_expr
from sympy.stats.rv import RandomSymbol

import derivations
from derivations.core import notation, work

from checks.app import latex as tex
from checks.app import render
from checks.app.readback import Unreadable, proves_equal, read, reads_as

from tests.conftest import BY_DERIVATION


def _mismatches(formulas: list[render.Formula]) -> list[str]:
    out = []
    for f in formulas:
        reading = reads_as(f.text, f.target, f.printed)
        if not reading.ok:
            out.append(f"{f.where}: {reading.detail}\n    shown: {f.text[:300]}")
    return out


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_page_formulas_read_back_as_proved(derivation_id):
    d = derivations.get(derivation_id)
    formulas = render.page_formulas(d)
    bad = _mismatches(formulas)
    assert not bad, f"{len(bad)} of {len(formulas)} displayed formulas read differently:\n" + "\n".join(bad)


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_page_math_is_exactly_the_formulas_and_the_prose(derivation_id):
    """No formula on the page escapes the round trip: each is a derived formula or typed prose."""
    d = derivations.get(derivation_id)
    page = set(tex.math_segments(render.symbolic_markdown(d)))
    derived = {f.text for f in render.page_formulas(d)}
    prose = {s for text in render.prose_texts(d) for s, _ in tex.math_segments(tex.prose(text))}
    shown = {s for s, _ in page}
    assert derived <= shown, f"formulas missing from the page: {sorted(derived - shown)[:5]}"
    stray = sorted(shown - derived - prose)
    assert not stray, f"math on the page that is neither derived nor prose: {stray[:5]}"


def _text_reads_back(formula: render.Formula) -> bool:
    """``show``'s plain text parsed by SymPy in the notation's names, proved equal to its target."""
    targets = list(formula.target) if isinstance(formula.target, tuple) else [formula.target]
    text = formula.text
    # a named intermediate or held operation prints as its name, a random variable or a symbol whose
    # name is no identifier (``W_{t_k}``) as its name: each reads as one placeholder
    atoms = {a for t in targets for a in sp.sympify(t).atoms(work.Named, RandomSymbol)}
    random = {a.symbol for a in atoms if isinstance(a, RandomSymbol)}
    atoms |= {a for t in targets for a in sp.sympify(t).atoms(sp.Symbol) if a not in random
              if not a.name.isidentifier() and a.name not in ("+", "-", "+-")}  # not a Limit's direction
    for i, atom in enumerate(sorted(atoms, key=lambda a: -len(sp.sstr(a)))):
        placeholder = sp.Symbol(f"named_{i}")
        text = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(sp.sstr(atom))}(?![A-Za-z0-9_])", placeholder.name, text)
        targets = [sp.sympify(t).xreplace({atom: placeholder}) for t in targets]
    names = {n.name: n.symbol for n in notation.names().values()}
    for t in targets:
        names.update({s.name: s for s in sp.sympify(t).atoms(sp.Symbol)})
        names.update({f.func.__name__: f.func for f in sp.sympify(t).atoms(sp.core.function.AppliedUndef)})
    parts = re.split(r"  (?:=|<=)  ", text) if len(targets) == 2 else [text]
    return len(parts) == len(targets) and all(
        proves_equal(parse_expr(p, local_dict=names), t) for p, t in zip(parts, targets))


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_show_formulas_read_back_as_proved(derivation_id):
    d = derivations.get(derivation_id)
    shown = render.show_text(d)
    formulas = render.show_formulas(d)
    missing = [f.where for f in formulas if f.text not in shown]
    assert not missing, f"show does not print: {missing}"
    bad = _mismatches([f for f in formulas if f.syntax == "latex"])
    bad += [f"{f.where} (text): {f.text[:200]}" for f in formulas if f.syntax == "text" and not _text_reads_back(f)]
    assert not bad, "\n".join(bad)


def test_study_formulas_read_back_as_proved():
    from checks.app.studies import pierret_galerne

    page = tex.github_markdown(pierret_galerne.continuous_section() + "\n" + pierret_galerne.step_maps_section())
    shown = "\n".join(s for s, _ in tex.math_segments(page))
    backward, beats = derivations.get("gauss_exact.backward"), derivations.get("gauss_exact.sde_beats_ode")
    exprs = [backward.result(n) for n in ("var_t", "score_coef", "ode_var", "sde_var")]
    exprs.append(beats.result("contraction"))
    step_maps, where = [], []
    for spec in pierret_galerne.exact_w2.SCHEMES:
        d = derivations.get(spec.derivation_id)
        forms, names = pierret_galerne.section_names(
            [pierret_galerne.shown_form(d, spec.result(name, last)) for name in ("gain", "noise_var")
             for last in (False, True)], spec.label)
        step_maps += forms
        where += names
    for expr in exprs + step_maps:
        printed = tex.latex(expr)
        assert printed in shown, f"the study does not show {printed}"
        assert reads_as(printed, expr).ok, printed
    glyphs = [tex.latex(n) for n in where]
    assert len(glyphs) == len(set(glyphs)), "one glyph names two intermediates on the study page"
    for named in where:  # the "where" definitions of the long gains
        printed = tex.relation(named, named.definition())
        assert printed in shown, f"the study does not define {printed}"
        assert reads_as(printed, (named, named.definition())).ok, printed


# --- the printer and the reader on their own ----------------------------------------------------------

N = notation


@pytest.mark.parametrize("expr, shown", [
    # Increments carry a glyph of their own (defined once on the notation page), so no expression
    # glyph meets an operator unbracketed.
    (N.var_ve_prev * N.var_ve_step / N.var_ve_i, r"\frac{\sigma_{i-1}^2 \Delta\sigma_i^2}{\sigma_i^2}"),
    (N.var_ve_prev + N.var_ve_step, r"\sigma_{i-1}^2 + \Delta\sigma_i^2"),
    (-N.var_ve_step, r"- \Delta\sigma_i^2"),
    (N.var_ve_step**2, r"\left(\Delta\sigma_i^2\right)^{2}"),
    (sp.exp(-N.kappa_ou * N.lag_ou), r"e^{- \kappa \Delta t}"),
    (N.beta_min_pg + N.beta_span_pg * N.u_pg, r"\beta_{\min} + \Delta\beta u"),
    (N.score_fp * N.x_sde, r"\left(\nabla\log p_t\right) x"),
    (N.score_fp**2, r"\left(\nabla\log p_t\right)^{2}"),
    (sp.log(2 * sp.pi) / 2, r"\frac{\log{\left(2 \pi \right)}}{2}"),
])
def test_glyphs_print_and_read_back(expr, shown):
    assert tex.latex(expr) == shown
    assert reads_as(shown, expr).ok


@pytest.mark.parametrize("shown, expr", [
    (r"\frac{\sigma_{i-1}^2 \sigma_i^2 - \sigma_{i-1}^2}{\sigma_i^2}", N.var_ve_prev * N.var_ve_step / N.var_ve_i),
    (r"\sigma_{i-1}^2 x_t + \sigma_i^2 - \sigma_{i-1}^2 x_0", N.var_ve_prev * N.x_t + N.var_ve_step * N.x_0),
    (r"e^{\kappa t - s}", sp.exp(N.kappa_ou * N.lag_ou)),
    (r"\beta_{\min}+\beta_{\max}-\beta_{\min}u", N.beta_min_pg + N.beta_span_pg * N.u_pg),
])
def test_the_reader_rejects_a_missing_parenthesis(shown, expr):
    """The displays of the earlier printer read as different quantities."""
    assert not reads_as(shown, expr).ok


def test_a_prefix_glyph_before_a_factor_is_ambiguous():
    reading = reads_as(r"\nabla\log p_t x", N.score_fp * N.x_sde)
    assert not reading.ok and "prefix glyph" in reading.detail


def test_an_atomic_glyph_needs_no_parentheses():
    table = {**tex.glyphs(), N.var_ve_step: (r"\Delta\sigma_i^2", tex.glyph_kind(r"\Delta\sigma_i^2"))}
    printer = tex.NotationPrinter(glyph_table=table)
    assert tex.glyph_kind(r"\Delta\sigma_i^2") is tex.GlyphKind.ATOM
    assert printer.doprint(N.var_ve_prev * N.var_ve_step) == r"\sigma_{i-1}^2 \Delta\sigma_i^2"


@pytest.mark.parametrize("glyph, kind", [
    (r"\bar\alpha_{t-1}", "atom"), (r"\hat x_0", "atom"), (r"B_{\mathrm{lin}}(t)", "atom"), ("p''(y)", "atom"),
    (r"\Sigma_{u_k}^{-1}", "atom"), ("t'", "atom"), (r"\nabla\log q(x_t\mid x_0)", "prefix"),
    ("t - s", "sum"), (r"\beta_{\max} - \beta_{\min}", "sum"), (r"\kappa t", "product"),
])
def test_glyph_kinds(glyph, kind):
    assert tex.glyph_kind(glyph).value == kind


def test_unevaluated_operators_round_trip():
    u = sp.Symbol("u")
    p = sp.Function("p")
    for expr in (sp.Integral(u * p(u), (u, 0, N.time)), sp.Derivative(p(N.time, N.x_sde), N.x_sde, 2),
                 N.x_sde * sp.Derivative(p(N.time, N.x_sde), N.time), sp.Sum(u**2, (u, 1, N.time)),
                 sp.Abs(N.x - N.y), sp.erf(N.x) * sp.gamma(sp.Rational(3, 4))):
        assert reads_as(tex.latex(expr), expr).ok, tex.latex(expr)


def test_a_derivative_before_another_factor_is_parenthesized():
    p = sp.Function("p")
    printed = tex.latex(sp.Mul(sp.Derivative(p(N.time), N.time), N.x_sde, evaluate=False))
    assert reads_as(printed, sp.Derivative(p(N.time), N.time) * N.x_sde).ok


def test_unknown_latex_is_unreadable():
    with pytest.raises(Unreadable):
        read(r"\foo x", {"x": N.x})
