"""``diffverify verify ID 'NAME = EXPR'``: check a typed formula against a derived quantity.

Prints ``EQUIVALENT (tier: exact|numeric)`` and exits 0, or ``NOT EQUIVALENT``
with a counterexample point and both values and exits 1. A formula that
cannot be read (or uses a name the quantity does not know) is a usage error:
one line listing what is allowed, exit 2.
"""

from __future__ import annotations

import argparse

from derivations.core import claims

from checks.core.errors import UsageError
from checks.app.options import derivation_id
from checks.app.plugins import command


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("derivation_id", metavar="ID", type=derivation_id, help="derivation id, e.g. ddpm.posterior")
    parser.add_argument("claim", metavar="'NAME = EXPR'",
                        help="a quantity of the derivation and a formula in the suite's notation")


@command("verify", help="check a formula typed in the suite's notation against a derived quantity",
         add_arguments=_arguments)
def run(args: argparse.Namespace) -> int:
    try:
        verdict = claims.verify(args.derivation_id, args.claim)
    except claims.ClaimError as error:
        raise UsageError(str(error)) from None
    print(verdict.report())
    return 0 if verdict.equivalent else 1
