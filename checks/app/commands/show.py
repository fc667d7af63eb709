"""``diffverify show ID``: statement, assumptions, steps, closed forms, references, checks."""

from __future__ import annotations

import argparse
from pathlib import Path

from checks.app.options import derivation_id
from checks.app.plugins import command

CHECKS_ROOT = Path(__file__).resolve().parents[2]


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", type=derivation_id, help="derivation id, e.g. ddpm.posterior")


def render(derivation_id: str) -> str:
    """What ``show`` prints: the derivation (SymPy's printers) and the checks that test it (torch)."""
    import checks
    import derivations

    from checks.app.render import show_text

    d = derivations.get(derivation_id)
    tested_by = checks.for_derivation(d.id)
    lines = [show_text(d), "Monte Carlo checks:" if tested_by else "Monte Carlo checks: none (symbolic only)"]
    lines += [f"  - {c.id}: {c.title}" for c in tested_by]
    return "\n".join(lines)


def text(derivation_id: str) -> str:
    """:func:`render`, kept in the derivation cache under the derivation's key and the code of both
    packages (the renderers and the check registry): a warm ``show`` imports neither SymPy nor torch."""
    from derivations.core import cache

    cache.summary(derivation_id)  # an unknown id raises UnknownId: exit 2 with the closest ids
    code = cache.tree_files(cache.ROOT) + cache.tree_files(CHECKS_ROOT)
    return cache.memo(f"show.{derivation_id}", lambda: render(derivation_id), (derivation_id,), code)


@command("show", "show one derivation: statement, steps, closed forms (text and LaTeX), references, checks",
         _arguments)
def run(args: argparse.Namespace) -> int:
    print(text(args.id))
    return 0
