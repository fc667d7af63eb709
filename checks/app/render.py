"""Plain-text and markdown renderings of derivations and check results.

Shared by ``diffverify show``/``check`` and the report, so that a reader sees
the same statement, steps and evidence everywhere. Every formula on a page or
in ``show`` is a :class:`Formula`: printed by :func:`checks.app.latex.latex`
from the expression it stands for, which the tests read back and prove equal.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from statistics import NormalDist
from typing import Callable

import sympy as sp

import derivations
from derivations import Derivation, Tier
from derivations.core import notation, work
from derivations.core.claims import allowed_names

from checks.app import latex as tex
from checks.app.latex import latex


@dataclass(frozen=True)
class Formula:
    """One displayed formula: where it appears, its text, and what it stands for.

    ``target`` is an expression, or an ``(lhs, rhs)`` pair for a displayed
    equality; ``syntax`` is ``"latex"`` or ``"text"`` (SymPy's plain text, in ``show``).
    """

    where: str
    text: str
    target: sp.Expr | tuple[sp.Expr, sp.Expr]
    syntax: str = "latex"
    printed: sp.Expr | None = None  # the proved-equal form printed, when it is not the target itself


# Factoring is worth its cost only on short closed forms; a long one is shown as derived.
TIDY_MAX_OPS = 40


@functools.lru_cache(maxsize=None)
def display_form(expr: sp.Expr) -> sp.Expr:
    """The tidy form of a closed form when it provably equals it, else the form itself."""
    if sp.count_ops(expr) > TIDY_MAX_OPS:
        return expr
    try:
        tidied = notation.tidy(expr)
    except (sp.PolynomialError, TypeError, ValueError):
        return expr
    if tidied == expr or sp.count_ops(tidied) >= sp.count_ops(expr):
        return expr
    return tidied if derivations.prove(expr, tidied).holds else expr


def cell(text: str) -> str:
    """Text safe inside a markdown table cell (GitHub unescapes ``\\|`` before it reads math)."""
    return text.replace("|", "\\|").replace("\n", " ")


def tier_label(tier: Tier) -> str:
    return {
        Tier.EXACT: "exact (SymPy simplifies the difference to 0)",
        Tier.NUMERIC: "numeric (50-digit agreement at random admissible points)",
        Tier.FAILED: "FAILED",
    }[tier]


# --- the formulas of a derivation ---------------------------------------------------------------------

def step_formula(i: int, step) -> Formula:
    lhs, rhs = sp.sympify(step.lhs), sp.sympify(step.rhs)
    return Formula(f"step {i}", tex.relation(lhs, rhs, step.latex_symbol), (lhs, rhs))


def where_formula(named) -> Formula:
    """A named intermediate with its definition (the "where" block of a page)."""
    return Formula(f"where {type(named).__name__}", tex.relation(named, named.definition()),
                   (named, named.definition()))


def show_form(result) -> sp.Expr:
    """The closed form ``show`` prints: written out (no named intermediates), so that it pastes back
    into ``verify``; tidied when that provably helps."""
    return display_form(work.expand_named(result.expr))


def result_formula(result) -> Formula:
    shown = display_form(result.expr)
    return Formula(f"closed form {result.name}", latex(shown), result.expr, printed=shown)


def claim_formula(claim) -> Formula:
    """The claim as its source prints it (in the source's symbols when a substitution maps them to ours)."""
    shown = claim.printed if claim.printed is not None else claim.expr
    return Formula(f"claim on {claim.result} ({claim.citation})", latex(shown), shown)


def substitution_formulas(claim) -> list[tuple[Formula, Formula]]:
    """The stated map from a source's symbols to the notation, one (source, ours) pair per symbol."""
    return [(Formula(f"substitution in {claim.id}", latex(a), a), Formula(f"substitution in {claim.id}", latex(b), b))
            for a, b in claim.substitution]


def equivalent_formula(form) -> Formula:
    return Formula(f"equivalent form of {form.result} ({form.description})", latex(form.expr), form.expr)


def variant_formula(variant) -> Formula:
    return Formula(f"wrong variant of {variant.result} ({variant.description})", latex(variant.expr), variant.expr)


def glyph_formula(entry: notation.Name) -> Formula:
    return Formula(f"notation {entry.name}", entry.latex, entry.symbol)


def definition_formula(entry: notation.Name) -> Formula:
    return Formula(f"definition of {entry.name}", latex(entry.definition), entry.definition)


def abbreviation_formula(entry: notation.Name) -> Formula:
    """What a free symbol's atomic glyph abbreviates (:math:`\\Delta\\sigma_i^2 = \\sigma_i^2 - \\sigma_{i-1}^2`)."""
    return Formula(f"abbreviation {entry.name}", latex(entry.stands_for), entry.stands_for)


def page_formulas(d: Derivation) -> list[Formula]:
    """Every formula that :func:`symbolic_markdown` displays, in page order."""
    out = []
    for entry in d.symbols():
        out.append(glyph_formula(entry))
        if entry.definition is not None:
            out.append(definition_formula(entry))
        elif entry.stands_for is not None:
            out.append(abbreviation_formula(entry))
    out += [step_formula(i, s) for i, s in enumerate(d.body.steps, 1)]
    out += [where_formula(n) for n in d.intermediates()]
    out += [result_formula(r) for r in d.body.results]
    for c in d.body.claims:
        out.append(claim_formula(c))
        out += [f for pair in substitution_formulas(c) for f in pair]
    out += [equivalent_formula(f) for f in d.body.equivalents]
    out += [variant_formula(w) for w in d.body.wrong_variants]
    return out


def show_formulas(d: Derivation) -> list[Formula]:
    """Every formula that :func:`show_text` prints: steps and closed forms as text, closed forms as LaTeX."""
    out = []
    for i, step in enumerate(d.body.steps, 1):
        lhs, rhs = sp.sympify(step.lhs), sp.sympify(step.rhs)
        out.append(Formula(f"step {i}", f"{sp.sstr(lhs)}  {step.kind}  {sp.sstr(rhs)}", (lhs, rhs), "text"))
    for r in d.body.results:
        shown, expr = show_form(r), work.expand_named(r.expr)
        out.append(Formula(f"closed form {r.name}", sp.sstr(shown), expr, "text", printed=shown))
        out.append(Formula(f"closed form {r.name}", latex(shown), expr, printed=shown))
    return out


def prose_texts(d: Derivation) -> list[str]:
    """The hand-written text of a page (statement, descriptions, sources): its math is typed, not derived."""
    texts = [d.title, d.statement, *d.assumptions, *d.references]
    texts += [s.description for s in d.body.steps] + [r.description for r in d.body.results]
    texts += [c.citation for c in d.body.claims] + [w.description for w in d.body.wrong_variants]
    texts += [f.description for f in d.body.equivalents] + [n.description for n in d.intermediates()]
    texts += [e.meaning for e in d.symbols()]
    return texts


# --- renderings -----------------------------------------------------------------------------------------

def notation_row(entry: notation.Name, math: Callable[[str], str] = tex.inline) -> tuple[str, str, str, str]:
    r"""(code name, LaTeX, meaning, definition or domain) of one notation entry.

    A defined name shows its definition; a free symbol its sampling domain and, when its
    atomic glyph abbreviates an expression (:math:`\Delta\sigma_i^2`), that expression.
    """
    if entry.definition is not None:
        detail = f":= {math(definition_formula(entry).text)}"
    else:
        detail = f"free, sampled in ({entry.domain.low:g}, {entry.domain.high:g})"
        if entry.stands_for is not None:
            detail = f"= {math(abbreviation_formula(entry).text)}; {detail}"
    return entry.name, math(glyph_formula(entry).text), tex.prose(entry.meaning), detail


def notation_rows(d: Derivation) -> list[tuple[str, str, str, str]]:
    """(code name, LaTeX, meaning, definition or domain) for each symbol the derivation uses."""
    return [notation_row(entry) for entry in d.symbols()]


def quantity_lines(allowed: dict[str, list[str]]) -> list[str]:
    """Quantities grouped by the symbols they may use: one list per group, not one per quantity."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for name, names in allowed.items():
        groups.setdefault(tuple(names), []).append(name)
    return [f"  {', '.join(quantities)}: {', '.join(names) or '(numbers only)'}" for names, quantities in groups.items()]


def show_text(d: Derivation) -> str:
    """The terminal view of ``diffverify show``."""
    lines = [f"{d.id}: {d.title}", "", d.statement, ""]
    if d.assumptions:
        lines += ["Assumptions:"] + [f"  - {a}" for a in d.assumptions] + [""]
    lines.append("Derivation steps (each re-proved):")
    forms = {f.where + f.syntax: f for f in show_formulas(d)}
    for i, step in enumerate(d.body.steps, 1):
        tier = d.verdict(step.id).proof.tier.value
        lines += [f"  {i}. {step.description}  [{tier}]", f"     {forms[f'step {i}text'].text}"]
    lines += [f"  where {sp.sstr(n)} = {sp.sstr(n.definition())}" for n in d.intermediates()]
    lines += ["", "Closed forms (NAME = plain text | LaTeX):"]
    for result in d.body.results:
        where = f"closed form {result.name}"
        lines += [f"  {result.name} = {forms[where + 'text'].text}", f"      LaTeX: {forms[where + 'latex'].text}",
                  f"      ({result.description})"]
    if d.body.claims:
        lines += ["", "Claims from the literature, compared with the derivation:"]
        lines += [f"  - {c.result}: {c.citation}: {d.verdict(c.id).proof.tier.value}" for c in d.body.claims]
    if d.body.equivalents:
        lines += ["", "Equivalent forms, proved equal to the derived result:"]
        for v in (v for v in d.verdicts if v.kind == "equivalent"):
            lines.append(f"  - {v.description}: {v.proof.tier.value}")
    lines += ["", "Wrong variants the proofs reject:"]
    lines += [f"  - {w.result}: {w.description}" for w in d.body.wrong_variants]
    lines += ["", "Quantities for `diffverify verify` and the symbols they may use:"]
    lines += quantity_lines(allowed_names(d.id))
    lines += ["", f"Tier: {tier_label(d.tier)} (declared: {d.declared_tier.value})", "References:"]
    lines += [f"  - {r}" for r in d.references]
    return "\n".join(lines)


@functools.lru_cache(maxsize=None)
def symbolic_markdown(d: Derivation) -> str:
    """The part of a report page that depends only on the derivation (checked against the code by a test)."""
    out = [f"# `{d.id}`: {tex.prose(d.title)}", "", f"**Proof tier:** {tier_label(d.tier)}.", "", "## Statement", "",
           tex.prose(d.statement), ""]
    if d.assumptions:
        out += ["**Assumptions.**", ""] + [f"- {tex.prose(a)}" for a in d.assumptions] + [""]
    out += ["## Notation", "", "| code name | symbol | meaning | definition / domain |", "|---|---|---|---|"]
    out += [f"| `{a}` | {cell(b)} | {cell(c)} | {cell(e)} |" for a, b, c, e in notation_rows(d)]
    out += ["", "## Derivation", ""]
    for i, step in enumerate(d.body.steps, 1):
        proof = d.verdict(step.id).proof
        out += [f"{i}. {tex.prose(step.description)} — *{proof.tier.value}*", "",
                tex.display(step_formula(i, step).text), ""]
    where = d.intermediates()
    if where:
        out += ["where", ""] + [f"- {tex.inline(where_formula(n).text)}"
                                + (f": {tex.prose(n.description)}" if n.description else "") for n in where] + [""]
    out += ["## Closed forms", "", "| name | meaning | closed form |", "|---|---|---|"]
    out += [f"| `{r.name}` | {cell(tex.prose(r.description))} | {cell(tex.inline(result_formula(r).text))} |"
            for r in d.body.results]
    if d.body.claims:
        out += ["", "## Claims from the literature", "", "| quantity | source | claimed form | verdict |",
                "|---|---|---|---|"]
        for c in d.body.claims:
            proof = d.verdict(c.id).proof
            form = tex.inline(claim_formula(c).text)
            if c.substitution:
                form += " with " + ", ".join(f"{tex.inline(a.text)} → {tex.inline(b.text)}"
                                             for a, b in substitution_formulas(c))
            out.append(f"| `{c.result}` | {cell(tex.prose(c.citation))} | {cell(form)} | {proof.tier.value} |")
    if d.body.equivalents:
        out += ["", "## Equivalent forms", "", "| quantity | form | equal to the derived result |", "|---|---|---|"]
        for f in d.body.equivalents:
            proof = d.verdict(f.id).proof
            out.append(f"| `{f.result}` | {cell(tex.prose(f.description))}: {cell(tex.inline(equivalent_formula(f).text))} "
                       f"| {proof.tier.value} |")
    out += ["", "## Wrong variants rejected", "", "| quantity | misprint | variant | counterexample point |",
            "|---|---|---|---|"]
    for w in d.body.wrong_variants:
        proof = d.verdict(w.id).proof
        point = ", ".join(f"{k}={v:.4g}" for k, v in proof.counterexample.items()) or "—"
        verdict = "rejected" if proof.tier is Tier.FAILED else "NOT REJECTED"
        out.append(f"| `{w.result}` | {cell(tex.prose(w.description))} ({verdict}) | "
                   f"{cell(tex.inline(variant_formula(w).text))} | {point} |")
    out += ["", "## References", ""] + [f"- {tex.prose(r)}" for r in d.references]
    return "\n".join(out)


def threshold_cell(s) -> str:
    """The threshold, with its parts where it is more than the normal quantile times the SE: a bias
    allowance, a Student t reference, or a critical value calibrated to the summands' shape."""
    calibrated = s.dof is None and s.critical > NormalDist().inv_cdf(1 - s.false_alarm / 2) + 5e-3
    if s.dof is None and not s.bias_allowance and not calibrated:
        return f"{s.threshold:.3g}"
    parts = [f"bias {s.bias_allowance:.2g}"] if s.bias_allowance else []
    reference = (f" (t, {s.dof} dof)" if s.dof else
                 f" (calibrated: skewness {s.skewness:.2g}, excess kurtosis {s.excess_kurtosis:.3g})" if calibrated else "")
    parts.append(f"{s.critical:.2f} SE{reference}")
    return f"{s.threshold:.3g} = {' + '.join(parts)}"


def check_table(result) -> str:
    """Markdown table of one check's statistics."""
    rows = ["| statistic | estimate | expected | std. error | threshold | detectable (99 % power) | z | verdict |",
            "|---|---|---|---|---|---|---|---|"]
    for s in result.statistics:
        rows.append(f"| {cell(s.name)} | {s.estimate:.6g} | {s.expected:.6g} | {s.std_error:.3g} | {threshold_cell(s)} | "
                    f"{s.detectable_error:.3g} | {s.z:+.2f} | {'pass' if s.passed else '**FAIL**'} |")
    return "\n".join(rows)


def check_summary(result) -> str:
    worst = max(result.statistics, key=lambda s: abs(s.z))
    return (f"{result.check_id}: {result.verdict}  (n={result.n_samples}, seed={result.seed}, "
            f"device={result.device}, false alarm {result.false_alarm:g} over {len(result.statistics)} "
            f"statistics, largest |z|={abs(worst.z):.2f}, {result.wall_time_s:.1f} s)")
