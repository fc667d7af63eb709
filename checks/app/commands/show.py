"""``diffverify show ID``: statement, assumptions, steps, closed forms, references, checks."""

from __future__ import annotations

import argparse

import derivations

from checks.app.options import derivation_id
from checks.app.plugins import command


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", type=derivation_id, help="derivation id, e.g. ddpm.posterior")


@command("show", "show one derivation: statement, steps, closed forms (text and LaTeX), references, checks",
         _arguments)
def run(args: argparse.Namespace) -> int:
    import checks

    from checks.app.render import show_text

    d = derivations.get(args.id)
    print(show_text(d))
    tested_by = checks.for_derivation(d.id)
    print("Monte Carlo checks:" if tested_by else "Monte Carlo checks: none (symbolic only)")
    for c in tested_by:
        print(f"  - {c.id}: {c.title}")
    return 0
