"""Options shared by the commands that run Monte Carlo checks."""

from __future__ import annotations

import argparse

from checks.core.errors import UsageError


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    parser.add_argument("--samples", type=int, default=None, help="sample size for every check (default: each check's own)")


def validate_run_options(args: argparse.Namespace) -> None:
    """Refuse a sample size below the normal approximation's floor and an unavailable device."""
    from checks.core.device import resolve_device

    if args.samples is not None and args.samples < 1000:
        raise UsageError(f"--samples must be at least 1000, got {args.samples}")
    try:
        resolve_device(args.device)
    except ValueError as error:
        raise UsageError(str(error)) from None
