"""``diffverify verify``: check typed formulas against derived quantities.

* ``verify ID 'NAME = EXPR' [--assume 'SYMBOL = EXPR' ...] [--latex]``: prints
  ``EQUIVALENT (tier: exact|numeric)`` and exits 0, or ``NOT EQUIVALENT`` with a
  counterexample point and both values and exits 1.
* ``verify --file claims.tsv``: a batch (a paper's formulas at once); prints a
  markdown table (id, quantity, claim, verdict, counterexample) and exits 1 if
  any claim is not equivalent.
* ``verify --list-symbols ID``: the quantities and every symbol a claim may use.

A formula that cannot be read, an unknown id or a malformed file is a usage
error: one line, exit 2, and for a file nothing is proved or printed.

The claims file is tab-separated; blank lines and lines starting with ``#`` are
skipped. Without a header its columns are ``id``, ``claim`` and optionally
``assume``; a first line with a cell ``id`` or ``claim`` is a header naming
the columns (``id``, ``claim``, and optionally ``assume``, ``format``,
``label``, in any order). ``assume`` holds
substitutions separated by ``;``; ``format`` is ``plain`` (default) or
``latex``; ``label`` is free text (e.g. the source's equation number).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from checks.app.options import derivation_id
from checks.app.plugins import command
from checks.core.errors import UsageError
from derivations.core.keyed import UnknownId

COLUMNS = ("id", "claim", "assume", "format", "label")
_POSITIONAL = ("id", "claim", "assume")
FORMATS = ("plain", "latex")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("derivation_id", metavar="ID", nargs="?", type=derivation_id,
                        help="derivation id, e.g. ddpm.posterior")
    parser.add_argument("claim", metavar="'NAME = EXPR'", nargs="?",
                        help="a quantity of the derivation and a formula in the suite's notation")
    parser.add_argument("--assume", action="append", default=[], metavar="'SYMBOL = EXPR'",
                        help="a specialisation, e.g. 'var_p = var_q' (repeatable)")
    parser.add_argument("--latex", action="store_true", help="the formulas (claim and assumptions) are LaTeX")
    parser.add_argument("--file", type=Path, metavar="CLAIMS.tsv", help="check a batch of claims (see the docs)")
    parser.add_argument("--list-symbols", metavar="ID", type=derivation_id, help="list the quantities and symbols of a derivation")


@command("verify", help="check formulas typed in the suite's notation (or LaTeX) against derived quantities",
         add_arguments=_arguments)
def run(args: argparse.Namespace) -> int:
    positional = args.derivation_id is not None or args.claim is not None
    modes = [name for name, on in (("ID 'NAME = EXPR'", positional), ("--file", args.file is not None),
                                   ("--list-symbols", args.list_symbols is not None)) if on]
    if len(modes) != 1:
        raise UsageError("give exactly one of: ID 'NAME = EXPR', --file CLAIMS.tsv, --list-symbols ID"
                         + (f" (got {', '.join(modes)})" if modes else ""))
    if (args.assume or args.latex) and not positional:
        raise UsageError("--assume and --latex apply to one claim; in a file use the columns assume and format")
    # SymPy is imported when a formula is checked, not at the CLI's start.
    from derivations.core import claims
    try:
        if args.list_symbols is not None:
            print(claims.describe_symbols(args.list_symbols))
            return 0
        if args.file is not None:
            return _run_file(args.file)
        if args.claim is None:
            raise UsageError("expected a claim 'NAME = EXPR' after the id")
        verdict = claims.verify(args.derivation_id, args.claim, assume=args.assume, latex=args.latex)
    except claims.ClaimError as error:
        raise UsageError(str(error)) from None
    print(verdict.report())
    return 0 if verdict.equivalent else 1


@dataclass(frozen=True)
class Row:
    """One claim of a file, parsed and ready to prove."""

    line: int
    derivation_id: str
    claim: str
    quantity: str
    expr: object
    assumptions: tuple[claims.Assumption, ...]
    label: str


def read_claims(path: Path) -> list[Row]:
    """Parse every claim of the file (raises UsageError naming the file and line at the first bad one)."""
    from derivations.core import claims

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {getattr(error, 'strerror', None) or type(error).__name__}") from None
    lines = [(n, line.rstrip("\r\n")) for n, line in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise UsageError(f"{path}: no claims")
    columns = _POSITIONAL
    first = [cell.strip().lower() for cell in lines[0][1].split("\t")]
    if "id" in first or "claim" in first:  # a header: no derivation id or claim is spelled so
        if any(c not in COLUMNS for c in first) or len(set(first)) != len(first) or not {"id", "claim"} <= set(first):
            raise UsageError(f"{path}:{lines[0][0]}: the header names the columns id, claim (optional: assume, "
                             f"format, label), each once; got {', '.join(first)}")
        columns, lines = tuple(first), lines[1:]
    rows = []
    for number, line in lines:
        cells = line.split("\t")
        if len(cells) > len(columns) or len(cells) < 2:
            raise UsageError(f"{path}:{number}: expected {len(columns)} tab-separated columns "
                             f"({', '.join(columns)}), got {len(cells)}")
        record = dict(zip(columns, (c.strip() for c in cells)))
        try:
            rows.append(_row(number, record))
        except (claims.ClaimError, UnknownId) as error:
            raise UsageError(f"{path}:{number}: {' '.join(str(error).split())}") from None
    if not rows:
        raise UsageError(f"{path}: no claims")
    return rows


def _row(number: int, record: dict[str, str]) -> Row:
    from derivations.core import claims

    fmt = record.get("format") or "plain"
    if fmt not in FORMATS:
        raise claims.ClaimError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    latex = fmt == "latex"
    derivation_id, claim = record.get("id", ""), record.get("claim", "")
    quantity, expr = claims.parse_claim(derivation_id, claim, latex)
    assume = [a for a in (record.get("assume") or "").split(";") if a.strip()]
    assumptions = tuple(claims.parse_assumption(derivation_id, a, latex) for a in assume)
    return Row(number, derivation_id, claim, quantity, expr, assumptions, record.get("label", ""))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_table(rows: list[Row], verdicts: list[claims.Verdict]) -> str:
    """The markdown table ``verify --file`` prints."""
    labelled = any(row.label for row in rows)
    head = ["line", "id", "quantity", "claim", "verdict", "counterexample"] + (["label"] if labelled else [])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row, verdict in zip(rows, verdicts):
        claim = row.claim.partition("=")[2].strip()
        if verdict.assumptions:
            claim += f" (under {'; '.join(verdict.assumptions)})"
        if verdict.equivalent:
            result, point = f"EQUIVALENT ({verdict.tier.value})", "—"
        else:
            result = "**NOT EQUIVALENT**"
            point = (f"{verdict.point()}: derived {verdict.derived_value:.6g}, claimed "
                     f"{verdict.claimed_value:.6g}" if verdict.derived_value is not None
                     and verdict.claimed_value is not None else verdict.point())
        cells = [str(row.line), f"`{row.derivation_id}`", f"`{row.quantity}`", f"`{_cell(claim)}`", result,
                 _cell(point)] + ([_cell(row.label)] if labelled else [])
        out.append("| " + " | ".join(cells) + " |")
    failed = sum(not v.equivalent for v in verdicts)
    out += ["", f"{len(verdicts)} claims: {len(verdicts) - failed} equivalent, {failed} not equivalent"]
    return "\n".join(out)


def _run_file(path: Path) -> int:
    from derivations.core import claims

    rows = read_claims(path)
    verdicts = []
    for row in rows:
        try:
            verdicts.append(claims.verdict_for(row.derivation_id, row.quantity, row.expr, row.assumptions))
        except claims.ClaimError as error:
            raise UsageError(f"{path}:{row.line}: {error}") from None
    print(summary_table(rows, verdicts))
    return 0 if all(v.equivalent for v in verdicts) else 1
