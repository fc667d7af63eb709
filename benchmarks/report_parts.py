"""Where a report's time goes beyond its checks: each part timed alone in this process (wall and CPU).

    python benchmarks/report_parts.py [--out reports]

Reads the check results already under ``--out`` (no check runs) and times what ``diffverify report``
does with them: every derivation page's symbolic part, the z-score figures, the notation page and
each study (rendering, then its figures). CPU of the process and of the children it waited for (the
conformance sweeps run in a pool of their own). Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@contextmanager
def timed(label: str):
    wall, (cpu, children) = time.perf_counter(), _cpu()
    yield
    cpu_after, children_after = _cpu()
    print(f"| {label} | {time.perf_counter() - wall:.2f} | {cpu_after - cpu:.2f} | {children_after - children:.2f} |",
          flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "reports")
    args = parser.parse_args(argv)
    print("| part | wall s | cpu s | children cpu s |\n|---|---|---|---|")
    with timed("import"):
        import torch

        torch.set_num_threads(1)
        import checks
        import derivations
        from checks.app import notation_page, plugins, report

        checks.load()
    results = report.load_evidence(args.out)
    with timed("symbolic part of every derivation page"):
        for d in derivations.all():
            report.symbolic_section(d)
    with timed(f"{len(results)} z-score figures"):
        for result in results.values():
            report.z_figure(result)
    with timed("notation page"):
        notation_page.markdown()
    context = plugins.StudyContext(results, "cpu", None)
    for study in plugins.studies():
        with timed(f"study {study.id}"):
            page = study.render(context)
        with timed(f"study {study.id}: figures"):
            for figure in page.figures.values():
                figure.savefig(io.BytesIO(), format="png", dpi=90)
    return 0


if __name__ == "__main__":
    sys.exit(main())
