"""``diffverify w2-table --eigenvalues FILE``: exact W2 errors of the samplers for N(0, diag(FILE)).

The table of Pierret & Galerne (ICML 2025, Table 5) for any covariance spectrum:
every scheme, NFE, truncation time and initialization (see :mod:`checks.exact.w2`).
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from typing import TYPE_CHECKING

from checks.app.options import spectrum, w2_backend
from checks.app.plugins import command

if TYPE_CHECKING:  # numpy and the evaluator load when the command runs, not when the CLI starts
    import numpy as np

    from checks.exact import w2 as exact_w2


# checks.exact.backends.BACKENDS, written here so that building the parser imports no numpy (a test compares them)
BACKENDS = ("auto", "c", "numba", "numpy", "torch")


def _arguments(parser: argparse.ArgumentParser) -> None:
    from checks.exact.data import SPECTRA

    shipped = "; ".join(f"{name}: {s.description}" for name, s in SPECTRA.items())
    parser.add_argument("--eigenvalues", required=True, metavar="NAME|FILE", type=spectrum,
                        help=f"a shipped spectrum ({shipped}), or a .npy file (or a text file, one number per "
                             "line) holding a 1-D array of finite non-negative eigenvalues")
    parser.add_argument("--format", choices=("markdown", "csv"), default="markdown")
    parser.add_argument("--backend", type=w2_backend, choices=BACKENDS, default="auto",
                        help="auto: CUDA for large spectra when a device is there, else compiled C kernels where a "
                             "C compiler is, else numba, else numpy")


def format_w2(value: float) -> str:
    return "divergent" if not math.isfinite(value) else f"{value:.6g}"


def to_csv(cells: list[exact_w2.Cell]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["scheme", "eps", "init", "nfe", "w2"])
    for c in cells:
        writer.writerow([c.scheme, repr(float(c.eps)), c.init, c.nfe, format_w2(c.w2)])
    return out.getvalue()


def to_markdown(cells: list[exact_w2.Cell]) -> str:
    """One row per (scheme, eps, init), one column per NFE."""
    columns: list[str] = []
    rows: dict[tuple[str, float, str], dict[str, str]] = {}
    for c in cells:
        if str(c.nfe) not in columns:
            columns.append(str(c.nfe))
        rows.setdefault((c.scheme, c.eps, c.init), {})[str(c.nfe)] = format_w2(c.w2)
    lines = ["| scheme | eps | init | " + " | ".join(columns) + " |",
             "|" + " --- |" * (3 + len(columns))]
    for (scheme, eps, init), values in rows.items():
        lines.append(f"| {scheme} | {eps:g} | {init} | " + " | ".join(values.get(k, "") for k in columns) + " |")
    return "\n".join(lines) + "\n"


@command("w2-table", "exact W2 errors of diffusion samplers for Gaussian data N(0, diag(eigenvalues))", _arguments)
def run(args: argparse.Namespace) -> int:
    from checks.exact import w2 as exact_w2

    cells = exact_w2.table(args.eigenvalues, backend=args.backend)
    sys.stdout.write(to_csv(cells) if args.format == "csv" else to_markdown(cells))
    return 0
