"""Time the exact W2 table (all schemes, NFE, eps, init) on each CPU back end against a straightforward loop.

    python3 benchmarks/exact_w2_table.py                 # CIFAR-10 and ADSN: C, numba and numpy, and the loop
    python3 benchmarks/exact_w2_table.py --data adsn --baseline-eps 0.001
    python3 benchmarks/exact_w2_table.py --backends c numba --skip-baseline

Each back end of ``--backends`` that can run here (C needs a compiler, numba its package) is timed in
the same process, best of ``--repeats``, after one warm-up table that compiles its kernels; the first
one is compared with the baseline.

The baseline applies each derived step map (lambdified ``gain`` and ``noise_var``) to the
whole eigenvalue vector in a Python loop over the steps, cell by cell. ``--baseline-eps``
restricts the baseline to some truncation times (its time is then scaled to the full table
by the share of grid steps it covered, and the scaling is printed). Targets on 2 cores:
ADSN table < 3 s, CIFAR-10 table < 0.2 s.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checks.exact import backends, data, kernel, kernel_c  # noqa: E402
from checks.exact import w2 as exact_w2  # noqa: E402

TARGETS_S = {"cifar10": 0.2, "adsn": 3.0}


def _time(fn, repeats: int) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _steps(eps_values) -> int:
    return sum(spec.points(n) - 1 for spec in exact_w2.SCHEMES for _ in eps_values for n in exact_w2.NFES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", choices=(*data.SPECTRA, "both"), default="both")
    parser.add_argument("--backends", nargs="+", choices=backends.BACKENDS, default=["c", "numba", "numpy"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-eps", type=float, nargs="*", default=None,
                        help="run the baseline on these eps only (default: all)")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)

    names = tuple(data.SPECTRA) if args.data == "both" else (args.data,)
    runnable = {"c": kernel_c.available(), "numba": kernel.available()}
    chosen = [b for b in args.backends if runnable.get(b, True)]
    skipped = [b for b in args.backends if b not in chosen]
    print(f"cpu cores visible: {os.cpu_count()}, threads: {exact_w2.threads()}, back ends: {', '.join(chosen)}"
          + (f" ({', '.join(skipped)} cannot run here)" if skipped else ""))
    for backend in chosen:
        start = time.perf_counter()
        exact_w2.table(data.spectrum("cifar10")[:8], backend=backend)  # step maps loaded, kernels compiled or loaded
        print(f"{backend}: first table in this process (step maps, kernels): {time.perf_counter() - start:.2f} s")
    for name in names:
        lam = data.spectrum(name)
        timings = {}
        for backend in chosen:
            timings[backend], cells = _time(lambda: exact_w2.table(lam, backend=backend), args.repeats)
            if backend == chosen[0]:
                first_cells = cells
        fast_s, cells = timings[chosen[0]], first_cells
        verdict = "meets" if fast_s < TARGETS_S[name] else "misses"
        print(f"{name}: {lam.size} eigenvalues ({np.unique(lam).size} distinct), {len(cells)} cells: "
              + ", ".join(f"{b} {t:.3f} s" + (f" ({t / fast_s:.1f}x {chosen[0]})" if b != chosen[0] else "")
                          for b, t in timings.items())
              + f"; {chosen[0]} {verdict} the {TARGETS_S[name]} s target")
        if args.skip_baseline:
            continue
        eps_values = tuple(args.baseline_eps) if args.baseline_eps else exact_w2.EPS_VALUES
        base_s, base_cells = _time(lambda: exact_w2.baseline_table(lam, eps_values=eps_values), 1)
        scale = _steps(exact_w2.EPS_VALUES) / _steps(eps_values)
        fast = {c.key: c.w2 for c in cells}
        worst = max((abs(fast[c.key] - c.w2) / abs(c.w2) for c in base_cells if math.isfinite(c.w2) and c.w2),
                    default=0.0)
        print(f"{name}: baseline loop {base_s:.2f} s" + (f" x {scale:.2f} (eps subset) = {base_s * scale:.2f} s"
                                                          if scale != 1 else "")
              + f"; ratio {base_s * scale / fast_s:.1f}x ({chosen[0]}); largest relative difference {worst:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
