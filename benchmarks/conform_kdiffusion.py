"""Time of the k-diffusion conformance grid (``diffverify conform k-diffusion``), beside its baseline.

    python3 benchmarks/conform_kdiffusion.py             # the whole grid and the order sweeps, 1 and 2 workers
    python3 benchmarks/conform_kdiffusion.py --jobs 2    # one worker count only

Baseline measured in the same run: the bare samplers of every configuration (the real ``sample_*`` on the
same Karras grids, a batch of 8, a zero denoiser, k-diffusion's own noise), so the ratio says what the
scripted Brownian path, the exact laws and the catalogue's rule cost on top of running the library itself.
Also printed: wall and CPU seconds, configurations per second. Target (idle 2-core machine): the grid and
its order sweeps in under 1 minute with 2 workers. Needs the optional extra ``conform``; never a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _bare_samplers(configs) -> float:
    import torch

    from checks.conform import kdiffusion_grid as g

    start = time.perf_counter()
    for config in configs:
        sigmas = torch.as_tensor(g.sigmas(config))
        x = torch.zeros(8, dtype=torch.float64)
        g.real_sampler(config)(lambda y, s: torch.zeros_like(y), x, sigmas, disable=True, **config.options)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if importlib.util.find_spec("k_diffusion") is None:
        print("k-diffusion not installed (optional extra 'conform', --no-deps): skipped")
        return 0
    import torch

    torch.set_num_threads(1)
    from checks.conform import kdiffusion_grid as g

    configs = g.grid()
    g.run(configs[0])  # imports and compiled forms, outside the timings
    baseline = _bare_samplers(configs)
    print(f"k-diffusion {g.version()}: {len(configs)} configurations")
    print(f"  bare samplers (baseline): {baseline:7.2f} s")
    for jobs in args.jobs:
        wall, cpu = time.perf_counter(), time.process_time()
        rows = g.run_grid(configs, jobs=jobs)
        grid_wall = time.perf_counter() - wall
        fits = g.fit_orders(configs, jobs=jobs)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"  conformance grid, {jobs} worker(s): {grid_wall:6.1f} s wall, {len(rows) / grid_wall:.1f} "
              f"configurations/s, {grid_wall / baseline:.1f}x the bare samplers; with {len(fits)} order sweeps: "
              f"{wall:6.1f} s wall ({cpu:.1f} s CPU in this process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
