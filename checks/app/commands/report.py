"""``diffverify report``: regenerate the markdown report (runs every check)."""

from __future__ import annotations

import argparse

from checks.app.plugins import command
from checks.app.options import add_run_options, output_folder


def _arguments(parser: argparse.ArgumentParser) -> None:
    from checks.app.report import DEFAULT_OUT

    parser.add_argument("--out", type=output_folder, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT})")
    add_run_options(parser)
    parser.add_argument("--no-checks", action="store_true", help="symbolic pages only; skip the Monte Carlo checks")


@command("report", "write reports/index.md, one page per derivation, study pages and figures", _arguments)
def run(args: argparse.Namespace) -> int:
    from checks.app.report import build, write

    pending = build(device=args.device, samples=args.samples, run_checks=not args.no_checks)
    written = write(pending, args.out)
    print(f"wrote {len(written)} files under {args.out}")
    return 0
