"""``diffverify list``: every derivation with its tier and the verdicts of the last report."""

from __future__ import annotations

import argparse

from checks.app.plugins import command


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="?", help="show only derivations whose id, title or statement contains TEXT")


@command("list", "list derivations: id, title, declared tier, Monte Carlo status of the last report", _arguments)
def run(args: argparse.Namespace) -> int:
    # Neither SymPy nor torch: the metadata comes from the derivation catalog (cached on disk), the
    # status from the last report's evidence file.
    from derivations.core import cache
    from derivations.core.keyed import matches

    from checks.app.evidence import last_verdicts

    rows = [s for s in cache.summaries() if not args.text or matches(args.text, s.id, s.title, s.statement)]
    status = last_verdicts()
    width = max((len(d.id) for d in rows), default=2)
    print(f"{'id':<{width}}  {'tier':<8} {'checks':<14} title")
    for d in rows:
        verdicts = status.get(d.id, [])
        if verdicts:
            summary = f"{sum(ok for _, ok in verdicts)}/{len(verdicts)} pass"
        else:
            summary = "-"
        print(f"{d.id:<{width}}  {d.declared_tier:<8} {summary:<14} {d.title}")
    return 0
