"""``diffverify build [ID ...]``: derive and prove every identity once and keep it in the cache.

Fills the derivation cache (:mod:`derivations.core.cache`) with each derivation's body, proof
verdicts and compiled closed forms (numpy and torch), the text ``diffverify show`` prints, the symbolic
part of its report page, and the compiled step maps and kernels of the exact W2 table; then removes the entries of other sources
that are a week old. Later commands and test runs read these instead of running SymPy.
Derivations are built in parallel over the cores (``--jobs``); a derivation that another one uses
is built by whichever worker needs it first and read from the cache by the others. ``make`` runs it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from checks.app.options import derivation_id, worker_count
from checks.app.plugins import command


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", type=derivation_id,
                        help="derivation ids (default: every derivation)")
    parser.add_argument("--jobs", type=worker_count, default=None, help="worker processes (default: the cores available)")
    parser.add_argument("--no-prune", action="store_true",
                        help="keep the entries of other sources (by default those unused for a week are removed)")


def build_one(derivation_id: str) -> str:
    """Every stored part of one derivation; a no-op when this state of the code built it already."""
    from derivations.core import cache

    cache.memo(f"build.{derivation_id}", lambda: _build_parts(derivation_id), (derivation_id,), _code())
    return derivation_id


def _build_parts(derivation_id: str) -> bool:
    import derivations

    from checks.app import report
    from checks.app.commands import show

    d = derivations.get(derivation_id)
    d.verdicts
    for name in d.results:
        for backend in ("numpy", "torch"):
            d.function(name, backend)
    show.text(derivation_id)
    report.symbolic_section(d)
    return True


def build_exact_w2() -> None:
    """The exact W2 table's compiled step maps, the stored inputs of its default table, and its fused kernels
    compiled on a few eigenvalues (by the C compiler where there is one, else by numba: what ``auto`` runs)."""
    from derivations.core import cache

    from checks.exact import w2

    cache.memo("build.exact_w2", build_exact_w2_parts, tuple(s.derivation_id for s in w2.SCHEMES), _code())


def build_exact_w2_parts() -> bool:
    """What :func:`build_exact_w2` stores the fact of: the step maps, and the default table on a few eigenvalues."""
    import numpy as np

    from checks.exact import w2

    for spec in w2.SCHEMES:
        w2.compiled_step(spec.label)
    w2.table(np.linspace(0.0, 2.0, 8))
    return True


def _code() -> tuple:
    """The sources a build depends on beyond the derivations' keys: both packages."""
    from derivations.core import cache

    from checks.app.commands.show import CHECKS_ROOT

    return cache.tree_files(cache.ROOT) + cache.tree_files(CHECKS_ROOT)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@command("build", "derive and prove every identity once and store it in the cache that later commands read",
         _arguments)
def run(args: argparse.Namespace) -> int:
    from derivations.core import cache

    from checks.core.errors import UsageError

    start = time.perf_counter()
    ids = [cache.summary(i).id for i in args.ids] if args.ids else [s.id for s in cache.summaries()]
    jobs = args.jobs or _cores()
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    # Identities that others use first, so that a worker more often reads them than builds them.
    catalog = cache.catalog()
    ids.sort(key=lambda i: (len(catalog.covered_ids(i)), i))
    from concurrent.futures import ProcessPoolExecutor
    from contextlib import nullcontext

    import tqdm

    tqdm.tqdm.monitor_interval = 0  # no monitor thread in a process that forks the workers
    with ProcessPoolExecutor(min(jobs, len(ids))) if jobs > 1 else nullcontext() as pool, \
            tqdm.tqdm(total=len(ids) + 1, desc="build", unit="step", file=sys.stderr, leave=False, dynamic_ncols=True,
                 disable=not sys.stderr.isatty()) as bar:
        for done in (pool.map(build_one, ids) if pool else map(build_one, ids)):
            bar.set_postfix_str(done, refresh=False)
            bar.update()
        if not args.ids:
            build_exact_w2()
        bar.update()
    removed = 0 if args.no_prune or args.ids else cache.prune()
    print(f"{len(ids)} derivations built or read in {time.perf_counter() - start:.1f} s; cache: {cache.folder()}"
          + (f" ({removed} stale entries removed)" if removed else ""))
    return 0
