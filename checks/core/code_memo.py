"""Results that only the code computes them with can change: kept in the derivation cache.

Exact arithmetic (a conformance sweep, an exact-law table, an order fit) and Monte Carlo seeded from
ids give the same values for the same code and the same versions of the libraries it runs, so a
report computes them once and reads them afterwards (:func:`kept`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")


def kept(name: str, compute: Callable[[], T], versions: Iterable[str] = ()) -> T:
    """``compute()``, kept under ``name``, the sources of both packages (``derivations``, ``checks``), torch's
    version and ``versions`` (e.g. ``diffusers-0.42.1``): a change to any of them computes it afresh."""
    import torch

    import checks
    from derivations.core import cache

    code = cache.tree_files(cache.ROOT) + cache.tree_files(Path(checks.__file__).parent)
    return cache.memo(".".join([name, *versions, f"torch-{torch.__version__}"]), compute, files=code)
