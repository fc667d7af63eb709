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

A verdict, once computed, is kept in the derivation cache (:mod:`derivations.core.claim_cache`):
the same claim checked again prints the same text and exits with the same code without
importing SymPy, after the same whitelist of its text. ``--no-cache`` checks it afresh
(nothing read or stored).

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
from typing import TYPE_CHECKING

from checks.app.options import derivation_id
from checks.app.plugins import command
from checks.core.errors import UsageError
from derivations.core.keyed import UnknownId

if TYPE_CHECKING:
    from derivations.core.claim_cache import Request
    from derivations.core.claim_syntax import Outcome

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
    parser.add_argument("--no-cache", action="store_true",
                        help="check afresh: neither read nor store the verdict (the derivation still comes from its cache)")


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
    # SymPy is imported when a formula is checked and its verdict is not in the cache, not at the CLI's start.
    from derivations.core import claim_cache
    from derivations.core.claim_syntax import ClaimError

    try:
        if args.list_symbols is not None:
            from derivations.core import claims

            print(claims.describe_symbols(args.list_symbols))
            return 0
        if args.file is not None:
            return _run_file(args.file, use_cache=not args.no_cache)
        if args.claim is None:
            raise UsageError("expected a claim 'NAME = EXPR' after the id")
        entry = claim_cache.verify(args.derivation_id, args.claim, assume=args.assume, latex=args.latex,
                                   use_cache=not args.no_cache)
    except ClaimError as error:
        raise UsageError(str(error)) from None
    print(entry.printed)
    return 0 if entry.outcome.equivalent else 1


@dataclass(frozen=True)
class Row:
    """One claim of a file, as written."""

    line: int
    derivation_id: str
    claim: str
    assume: tuple[str, ...]
    format: str
    label: str

    def request(self) -> "Request":
        from derivations.core.claim_cache import Request
        from derivations.core.claim_syntax import ClaimError

        if self.format not in FORMATS:
            raise ClaimError(f"format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        return Request(self.derivation_id, self.claim, self.assume, self.format == "latex")


def read_claims(path: Path) -> list[Row]:
    """The claims of the file as written (raises UsageError naming the file and line at the first malformed
    row; the formulas are checked by :func:`check_rows`)."""
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
        assume = tuple(a for a in (record.get("assume") or "").split(";") if a.strip())
        rows.append(Row(number, record.get("id", ""), record.get("claim", ""), assume,
                        record.get("format") or "plain", record.get("label", "")))
    if not rows:
        raise UsageError(f"{path}: no claims")
    return rows


def check_rows(path: Path, rows: list[Row], use_cache: bool = True) -> list[Outcome]:
    """The verdict of every row: from the cache where it holds one, else proved. Every formula is
    checked (whitelist, then SymPy for those not cached) before any is proved, so a bad row is one
    usage error naming its line and nothing is proved."""
    from derivations.core import claim_cache
    from derivations.core.claim_syntax import ClaimError

    def at(row: Row, error: Exception) -> UsageError:
        return UsageError(f"{path}:{row.line}: {' '.join(str(error).split())}")

    found: dict[int, Outcome] = {}
    parsed = {}
    for index, row in enumerate(rows):
        try:
            request = row.request()
            entry = claim_cache.lookup(request) if use_cache else None
            if entry is not None:
                found[index] = entry.outcome
                continue
            from derivations.core import claims  # SymPy: only for a row the cache does not answer

            quantity, expr = claims.parse_claim(row.derivation_id, row.claim, request.latex)
            assumptions = tuple(claims.parse_assumption(row.derivation_id, a, request.latex) for a in row.assume)
            parsed[index] = request, quantity, expr, assumptions
        except (ClaimError, UnknownId) as error:
            raise at(row, error) from None
    for index, (request, quantity, expr, assumptions) in parsed.items():
        from derivations.core import claims

        try:
            verdict = claims.verdict_for(request.derivation_id, quantity, expr, assumptions)
        except ClaimError as error:
            raise at(rows[index], error) from None
        found[index] = claim_cache.store(request, verdict).outcome if use_cache else verdict.outcome()
    return [found[i] for i in range(len(rows))]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_table(rows: list[Row], outcomes: list[Outcome]) -> str:
    """The markdown table ``verify --file`` prints."""
    labelled = any(row.label for row in rows)
    head = ["line", "id", "quantity", "claim", "verdict", "counterexample"] + (["label"] if labelled else [])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row, outcome in zip(rows, outcomes):
        claim = row.claim.partition("=")[2].strip()
        if outcome.assumptions:
            claim += f" (under {'; '.join(outcome.assumptions)})"
        if outcome.equivalent:
            result, point = f"EQUIVALENT ({outcome.tier})", "—"
        else:
            result = "**NOT EQUIVALENT**"
            point = (f"{outcome.point()}: derived {outcome.derived_value:.6g}, claimed "
                     f"{outcome.claimed_value:.6g}" if outcome.derived_value is not None
                     and outcome.claimed_value is not None else outcome.point())
        cells = [str(row.line), f"`{row.derivation_id}`", f"`{outcome.name}`", f"`{_cell(claim)}`", result,
                 _cell(point)] + ([_cell(row.label)] if labelled else [])
        out.append("| " + " | ".join(cells) + " |")
    failed = sum(not o.equivalent for o in outcomes)
    out += ["", f"{len(outcomes)} claims: {len(outcomes) - failed} equivalent, {failed} not equivalent"]
    return "\n".join(out)


def _run_file(path: Path, use_cache: bool = True) -> int:
    rows = read_claims(path)
    outcomes = check_rows(path, rows, use_cache)
    print(summary_table(rows, outcomes))
    return 0 if all(o.equivalent for o in outcomes) else 1
