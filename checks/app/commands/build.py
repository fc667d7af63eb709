"""``diffverify build [ID ...]``: derive and prove every identity once and keep it in the cache.

Fills the derivation cache (:mod:`derivations.core.cache`) with each derivation's body, proof
verdicts and compiled closed forms (numpy and torch), the text ``diffverify show`` prints, the symbolic
part of its report page, and the compiled step maps and kernels of the exact W2 table; writes both
packages' bytecode (:func:`compile_bytecode`); then removes the entries of other sources that are a
week old. Later commands and test runs read these instead of running SymPy.
Derivations are built in parallel over the cores (``--jobs``); a derivation that another one uses
is built by whichever worker needs it first and read from the cache by the others. ``make`` runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Iterator

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


def compile_bytecode() -> None:
    """Both packages' bytecode written beside their sources, as an installer writes it for a wheel.

    Where ``PYTHONDONTWRITEBYTECODE`` is set (containers, CI images) an editable install otherwise
    compiles every module of the command line from source in every process, about 0.04 s of each
    ``verify``. A read-only tree is left as it is: compiling is an optimisation, never required."""
    import compileall

    import checks
    import derivations

    for package in (derivations, checks):
        with contextlib.redirect_stdout(None):
            compileall.compile_dir(Path(package.__file__).parent, quiet=2)


def _code() -> tuple:
    """The sources a build depends on beyond the derivations' keys: both packages."""
    from derivations.core import cache

    from checks.app.commands.show import CHECKS_ROOT

    return cache.tree_files(cache.ROOT) + cache.tree_files(CHECKS_ROOT)


# A cold build takes one to two minutes on two cores; one that is still running after this long is
# stuck, and the stacks of every thread say where (in a CI log, where nothing else would).
STUCK_AFTER_S = 900
# Off a terminal, a progress line at most this often: enough to see where a slow build is.
LINE_EVERY_S = 20.0


def _built(ids: list[str], jobs: int) -> Iterator[str]:
    """Each id as its derivation is built or read, in ``jobs`` spawned processes (1: here)."""
    if jobs <= 1 or len(ids) <= 1:
        yield from map(build_one, ids)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: a forked worker inherits the locks of any thread this process has started
    # (an import that opens a pool, a monitor thread) and can wait on them forever.
    with ProcessPoolExecutor(min(jobs, len(ids)), mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker) as pool:
        yield from pool.map(build_one, ids)


def _start_worker() -> None:
    _arm_watchdog()


def _arm_watchdog() -> bool:
    """Print every thread's stack to the process's stderr every :data:`STUCK_AFTER_S` seconds;
    False where that stream is not a file (captured by a caller)."""
    import faulthandler

    try:
        faulthandler.dump_traceback_later(STUCK_AFTER_S, repeat=True, file=sys.__stderr__)
    except (AttributeError, OSError, ValueError):  # no stream, or one without a descriptor
        return False
    return True


@contextlib.contextmanager
def _watchdog() -> Iterator[None]:
    """The stacks of this process while the build runs (:func:`_arm_watchdog`)."""
    import faulthandler

    armed = _arm_watchdog()
    try:
        yield
    finally:
        if armed:
            faulthandler.cancel_dump_traceback_later()


class _Progress:
    """A bar on a terminal; elsewhere (make in CI, a log) a line at most every :data:`LINE_EVERY_S`
    seconds, so that a log shows how far a slow build got."""

    def __init__(self, total: int):
        self.total, self.count, self.start = total, 0, time.perf_counter()
        self.last_line = self.start
        self.bar = None
        if sys.stderr.isatty():
            import tqdm

            tqdm.tqdm.monitor_interval = 0  # no monitor thread
            self.bar = tqdm.tqdm(total=total, desc="build", unit="step", file=sys.stderr, leave=False,
                                 dynamic_ncols=True)

    def __enter__(self) -> "_Progress":
        return self

    def advance(self, name: str) -> None:
        self.count += 1
        if self.bar is not None:
            self.bar.set_postfix_str(name, refresh=False)
            self.bar.update()
            return
        now = time.perf_counter()
        if now - self.last_line >= LINE_EVERY_S:
            self.last_line = now
            print(f"build: {self.count}/{self.total} after {now - self.start:.0f} s (last: {name})",
                  file=sys.stderr, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


@command("build", "derive and prove every identity once and store it in the cache that later commands read",
         _arguments)
def run(args: argparse.Namespace) -> int:
    from derivations.core import cache, config

    from checks.core.errors import UsageError

    start = time.perf_counter()
    ids = [cache.summary(i).id for i in args.ids] if args.ids else [s.id for s in cache.summaries()]
    jobs = args.jobs or config.cores()
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    # Identities that others use first, so that a worker more often reads them than builds them.
    catalog = cache.catalog()
    ids.sort(key=lambda i: (len(catalog.covered_ids(i)), i))
    with _watchdog(), _Progress(len(ids) + 1) as progress:
        for done in _built(ids, jobs):
            progress.advance(done)
        if not args.ids:
            build_exact_w2()
            compile_bytecode()
        progress.advance("exact W2 kernels")
    removed = 0 if args.no_prune or args.ids else cache.prune()
    print(f"{len(ids)} derivations built or read in {time.perf_counter() - start:.1f} s; cache: {cache.folder()}"
          + (f" ({removed} stale entries removed)" if removed else ""))
    return 0
