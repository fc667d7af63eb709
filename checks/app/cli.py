"""The ``diffverify`` console script: a thin layer over the registries.

Subcommands live one per module in ``checks/app/commands/`` and register with
:func:`checks.app.plugins.command`. Their options are validated in one place, while the
arguments are parsed and before any command runs: each option's ``type=`` is a function of
:mod:`checks.app.options` (sample-size floor, device availability, registered ids, readable
files). A refused option, argparse's own usage errors and any later
:class:`~checks.core.errors.UsageError` (or unknown id) become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from derivations.core.registry import UnknownId

from checks.app import plugins
from checks.core import config
from checks.core.errors import UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors: one line, exit 2
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="diffverify", description="Derive, check and report the mathematics of diffusion models.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for cmd in plugins.commands().values():
        cmd_parser = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.add_arguments(cmd_parser)
        cmd_parser.set_defaults(_run=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        config.validate()  # the environment variables too, like the options, before any command runs
        return int(args._run(args) or 0)
    except (UsageError, UnknownId) as error:
        message = " ".join(str(error).split())  # one line
        print(f"diffverify: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print("diffverify: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
