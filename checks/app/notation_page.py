"""``reports/notation.md``: every symbol of the suite, written once.

The table is generated from :mod:`derivations.core.notation`: code name, glyph,
meaning, and either the definition (a defined name) or the sampling domain (a
free symbol, with the expression its glyph abbreviates, if any). Inline math uses
GitHub's ``$`...`$`` form, which its markdown leaves untouched.
"""

from __future__ import annotations

from derivations.core import notation

from checks.app import render

PATH = "notation.md"


def github_math(tex: str) -> str:
    return f"$`{tex}`$"


def markdown() -> str:
    """The notation page (deterministic: no time stamp, so a test compares it with the committed file)."""
    entries = notation.names().values()
    out = [
        "# Notation", "",
        f"Every symbol of the suite ({len(entries)}), in the order of `derivations/core/notation.py`. "
        "A *free* symbol is sampled from its domain by the numeric proof tier; a *defined* name "
        "(`:=`) is expanded to free symbols by the proofs and kept for display. A free symbol whose "
        "glyph abbreviates an expression (an increment, a ratio) shows that expression: it encodes a "
        "constraint, such as a positive increment, that the domains alone could not. Each page's "
        "notation table lists the symbols it uses; no two of them print alike.", "",
        "| code name | symbol | meaning | definition / domain |", "|---|---|---|---|",
    ]
    for entry in entries:
        name, glyph, meaning, detail = render.notation_row(entry, github_math)
        out.append(f"| `{name}` | {render.cell(glyph)} | {render.cell(meaning)} | {render.cell(detail)} |")
    return "\n".join(out) + "\n"
