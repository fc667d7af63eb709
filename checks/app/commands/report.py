"""``diffverify report``: regenerate the markdown report (runs every check once, in parallel)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from checks.app.options import add_cluster_option, add_run_options, derivation_id, output_folder, study_id, worker_count
from checks.app.plugins import command


def _arguments(parser: argparse.ArgumentParser) -> None:
    from checks.app.evidence import DEFAULT_OUT

    parser.add_argument("--out", type=output_folder, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT})")
    add_run_options(parser)
    parser.add_argument("--jobs", type=worker_count, default=None,
                        help="processes that run the checks (default: one per core; 1 runs them in this process)")
    parser.add_argument("--no-checks", action="store_true",
                        help="run no Monte Carlo check: the pages show the evidence already under --out, "
                             "which is left as it is")
    add_cluster_option(parser, "the checks and pages (each check whole: the numbers of a local run)")
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--only", type=derivation_id, action="append", default=[], metavar="ID",
                        help="regenerate only this derivation's page and run only its checks (repeatable); "
                             "the index, notation and study pages are left as they are")
    chosen.add_argument("--study", type=study_id, action="append", default=[], metavar="ID",
                        help="regenerate only this study page (studies/ID.md, repeatable) from the evidence "
                             "already under --out: no check runs, every other page is left as it is")


@command("report", "write reports/index.md, one page per derivation, study pages and figures", _arguments)
def run(args: argparse.Namespace) -> int:
    from checks.app.report import FolderBusy, build, locked, write
    from checks.core.batch import default_jobs
    from checks.core.errors import UsageError

    jobs = args.jobs or default_jobs()
    start = time.perf_counter()
    try:
        with locked(args.out):  # one report per folder: a second one is refused, never interleaved
            with _cluster(args.ray) as cluster:
                device = args.device if cluster is None else cluster.use_device(args.device)
                pending = build(device=device, samples=args.samples, run_checks=not args.no_checks, out=args.out,
                                jobs=jobs, cluster=cluster, only=args.only, studies=args.study)
            written = write(pending, args.out)
    except FolderBusy as busy:
        raise UsageError(str(busy)) from None
    elapsed = time.perf_counter() - start
    for note in pending.notes:
        print(note)
    print(summary(pending, len(written), args.out, elapsed, jobs, on_ray=cluster is not None))
    return 0


def _cluster(address: str | None):
    """The Ray cluster the checks run on (``--ray``), or ``None`` (processes here)."""
    from contextlib import nullcontext

    if address is None:
        return nullcontext()
    from checks.core.cluster import Cluster

    return Cluster(address)


def summary(pending, n_written: int, out: Path, elapsed: float, jobs: int, on_ray: bool = False) -> str:
    """What the report found, how long it took and where it is: the last lines a user reads."""
    results = pending.results
    failed = [cid for cid, r in results.items() if not r.passed]
    if pending.ran_checks:
        where = "Ray tasks" if on_ray else f"{jobs} process{'es' if jobs > 1 else ''}"
        checks_line = f"{len(results) - len(failed)}/{len(results)} checks pass ({where})"
    else:
        checks_line = f"no check ran; the evidence kept shows {len(results) - len(failed)}/{len(results)} passing"
    first = min(pending.text, default="index.md") if getattr(pending, "partial", False) else "index.md"
    lines = [f"{checks_line}; {elapsed:.0f} s", f"wrote {n_written} files under {out}; start at {out / first}"]
    if failed:
        lines.insert(1, "FAIL: " + ", ".join(failed))
    return "\n".join(lines)
