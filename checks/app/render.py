"""Plain-text and markdown renderings of derivations and check results.

Shared by ``diffverify show``/``check`` and the report, so that a reader sees
the same statement, steps and evidence everywhere.
"""

from __future__ import annotations

from typing import Callable

import sympy as sp

import derivations
from derivations import Derivation, Tier
from derivations.core import notation
from derivations.core.claims import allowed_names


def latex(expr: sp.Expr) -> str:
    """LaTeX with the notation's symbols (\\bar\\alpha_{t-1}, not alpha_{bar prev})."""
    names = {entry.symbol: entry.latex for entry in notation.names().values()}
    return sp.latex(expr, symbol_names=names)


# Factoring is worth its cost only on short closed forms; a long one is shown as derived.
TIDY_MAX_OPS = 40


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
    """Text safe inside a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def tier_label(tier: Tier) -> str:
    return {
        Tier.EXACT: "exact (SymPy simplifies the difference to 0)",
        Tier.NUMERIC: "numeric (50-digit agreement at random admissible points)",
        Tier.FAILED: "FAILED",
    }[tier]


def inline_math(tex: str) -> str:
    return f"${tex}$"


def notation_row(entry: notation.Name, math: Callable[[str], str] = inline_math) -> tuple[str, str, str, str]:
    r"""(code name, LaTeX, meaning, definition or domain) of one notation entry.

    A defined name shows its definition; a free symbol its sampling domain and, when its
    atomic glyph abbreviates an expression (:math:`\Delta\sigma_i^2`), that expression.
    """
    if entry.definition is not None:
        detail = math(f":= {latex(entry.definition)}")
    else:
        detail = f"free, sampled in ({entry.domain.low:g}, {entry.domain.high:g})"
        if entry.stands_for is not None:
            detail = f"{math(f'= {latex(entry.stands_for)}')}; {detail}"
    return entry.name, math(entry.latex), entry.meaning, detail


def notation_rows(d: Derivation) -> list[tuple[str, str, str, str]]:
    """(code name, LaTeX, meaning, definition or domain) for each symbol the derivation uses."""
    return [notation_row(entry) for entry in d.symbols()]


def show_text(d: Derivation) -> str:
    """The terminal view of ``diffverify show``."""
    lines = [f"{d.id}: {d.title}", "", d.statement, ""]
    if d.assumptions:
        lines += ["Assumptions:"] + [f"  - {a}" for a in d.assumptions] + [""]
    lines.append("Derivation steps (each re-proved):")
    verdicts = {v.description: v for v in d.verdicts}
    for i, step in enumerate(d.body.steps, 1):
        tier = verdicts[step.description].proof.tier.value
        lines += [f"  {i}. {step.description}  [{tier}]", f"     {sp.sstr(step.lhs)}  =  {sp.sstr(step.rhs)}"]
    lines += ["", "Closed forms (NAME = plain text | LaTeX):"]
    for result in d.body.results:
        shown = display_form(result.expr)
        lines += [f"  {result.name} = {sp.sstr(shown)}", f"      LaTeX: {latex(shown)}",
                  f"      ({result.description})"]
    if d.body.claims:
        lines += ["", "Claims from the literature, compared with the derivation:"]
        for v in (v for v in d.verdicts if v.kind == "claim"):
            lines.append(f"  - {v.description}: {v.proof.tier.value}")
    lines += ["", "Wrong variants the proofs reject:"]
    lines += [f"  - {w.result}: {w.description}" for w in d.body.wrong_variants]
    lines += ["", "Quantities for `diffverify verify` and the symbols each may use:"]
    lines += [f"  {name}: {', '.join(names) or '(numbers only)'}" for name, names in allowed_names(d.id).items()]
    lines += ["", f"Tier: {tier_label(d.tier)} (declared: {d.declared_tier.value})", "References:"]
    lines += [f"  - {r}" for r in d.references]
    return "\n".join(lines)


def symbolic_markdown(d: Derivation) -> str:
    """The part of a report page that depends only on the derivation (checked against the code by a test)."""
    verdicts = {(v.kind, v.description): v for v in d.verdicts}
    out = [f"# `{d.id}`: {d.title}", "", f"**Proof tier:** {tier_label(d.tier)}.", "", "## Statement", "", d.statement, ""]
    if d.assumptions:
        out += ["**Assumptions.**", ""] + [f"- {a}" for a in d.assumptions] + [""]
    out += ["## Notation", "", "| code name | symbol | meaning | definition / domain |", "|---|---|---|---|"]
    out += [f"| `{a}` | {b} | {cell(c)} | {cell(e)} |" for a, b, c, e in notation_rows(d)]
    out += ["", "## Derivation", ""]
    for i, step in enumerate(d.body.steps, 1):
        proof = verdicts[("step", step.description)].proof
        out += [f"{i}. {step.description} — *{proof.tier.value}*", "",
                "$$", f"{latex(step.lhs)} = {latex(step.rhs)}", "$$", ""]
    out += ["## Closed forms", "", "| name | meaning | closed form |", "|---|---|---|"]
    out += [f"| `{r.name}` | {cell(r.description)} | {cell(f'${latex(display_form(r.expr))}$')} |"
            for r in d.body.results]
    if d.body.claims:
        out += ["", "## Claims from the literature", "", "| quantity | source | claimed form | verdict |",
                "|---|---|---|---|"]
        for c in d.body.claims:
            proof = verdicts[("claim", c.source)].proof
            out.append(f"| `{c.result}` | {cell(c.source)} | {cell(f'${latex(c.expr)}$')} | {proof.tier.value} |")
    out += ["", "## Wrong variants rejected", "", "| quantity | misprint | variant | counterexample point |",
            "|---|---|---|---|"]
    for w in d.body.wrong_variants:
        proof = derivations.prove(d.result(w.result), w.expr)
        point = ", ".join(f"{k}={v:.4g}" for k, v in proof.counterexample.items()) or "—"
        verdict = "rejected" if proof.tier is Tier.FAILED else "NOT REJECTED"
        out.append(f"| `{w.result}` | {cell(w.description)} ({verdict}) | {cell(f'${latex(w.expr)}$')} | {point} |")
    out += ["", "## References", ""] + [f"- {r}" for r in d.references]
    return "\n".join(out)


def check_table(result) -> str:
    """Markdown table of one check's statistics."""
    rows = ["| statistic | estimate | expected | std. error | threshold | detectable (99 % power) | z | verdict |",
            "|---|---|---|---|---|---|---|---|"]
    for s in result.statistics:
        rows.append(f"| {cell(s.name)} | {s.estimate:.6g} | {s.expected:.6g} | {s.std_error:.3g} | {s.threshold:.3g} | "
                    f"{s.detectable_error:.3g} | {s.z:+.2f} | {'pass' if s.passed else '**FAIL**'} |")
    return "\n".join(rows)


def check_summary(result) -> str:
    worst = max(result.statistics, key=lambda s: abs(s.z))
    return (f"{result.check_id}: {result.verdict}  (n={result.n_samples}, seed={result.seed}, "
            f"device={result.device}, false alarm {result.false_alarm:g} over {len(result.statistics)} "
            f"statistics, largest |z|={abs(worst.z):.2f}, {result.wall_time_s:.1f} s)")
