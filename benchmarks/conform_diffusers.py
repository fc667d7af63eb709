"""Time of the diffusers conformance grid (``diffverify conform diffusers``), beside its baseline.

    python3 benchmarks/conform_diffusers.py             # the whole grid, 1 and 2 worker processes
    python3 benchmarks/conform_diffusers.py --jobs 2    # one worker count only

Baseline measured in the same run: the bare sampling loop of every configuration (the real
``set_timesteps`` and ``step`` with a zero model output and no analysis), so the ratio says what the
kernel reading, the exact laws and the textbook comparison cost on top of running the library
itself. Also printed: wall and CPU seconds, configurations per second, the time of the sigma and
multistep schedulers' grid (:mod:`checks.conform.diffusers_sigma`; the five added last apart) and of their
convergence-order sweeps. Target (idle 2-core machine): the whole grid in
under 2 minutes with 2 workers. Needs the optional extra ``conform``; never a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _bare_loops(configs) -> float:
    import torch

    from checks.conform import diffusers_grid as g

    start = time.perf_counter()
    for config in configs:
        scheduler = g.make(config)
        x = torch.zeros(8, dtype=torch.float64)
        with g.stepping(config, scheduler) as step:
            for t in scheduler.timesteps:
                x = step(x, torch.zeros_like(x), int(t), torch.zeros_like(x))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if importlib.util.find_spec("diffusers") is None:
        print("diffusers not installed (optional extra 'conform'): skipped")
        return 0
    import torch

    torch.set_num_threads(1)
    from checks.conform import diffusers_grid as g

    configs = g.grid()
    g.run(configs[0])  # imports and compiled forms, outside the timings
    baseline = _bare_loops(configs)
    print(f"diffusers {g.version()}: {len(configs)} configurations")
    print(f"  bare sampling loops (baseline): {baseline:7.1f} s")
    for jobs in args.jobs:
        wall, cpu = time.perf_counter(), time.process_time()
        rows = g.run_grid(configs, jobs=jobs)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"  conformance grid, {jobs} worker(s): {wall:7.1f} s wall ({cpu:.1f} s CPU in this process), "
              f"{len(rows) / wall:.1f} configurations/s, {wall / baseline:.2f}x the bare loops")
    from checks.conform import diffusers_sigma

    sigma_configs = diffusers_sigma.grid()
    diffusers_sigma.run(sigma_configs[0])  # imports, outside the timings
    for jobs in args.jobs:
        for label, part in (("all", sigma_configs),
                            ("of which KDPM2Discrete, LMSDiscrete, UniPCMultistep, DEISMultistep, PNDM",
                             [c for c in sigma_configs if c.scheduler in NEW_SIGMA])):
            wall = time.perf_counter()
            diffusers_sigma.run_grid(part, jobs=jobs)
            wall = time.perf_counter() - wall
            print(f"  sigma and multistep schedulers (kernels, whole loops, k-diffusion where installed), {label}, "
                  f"{jobs} worker(s): {len(part)} configurations in {wall:.1f} s")
    fits = diffusers_sigma.order_configs()
    wall = time.perf_counter()
    diffusers_sigma.fit_orders(fits, jobs=max(args.jobs))
    print(f"  convergence-order sweeps (N in {diffusers_sigma.ORDER_STEPS}), {max(args.jobs)} worker(s): "
          f"{len(fits)} sweeps in {time.perf_counter() - wall:.1f} s")
    return 0


# The schedulers added to the sigma grid after its first four, timed apart.
NEW_SIGMA = ("KDPM2Discrete", "LMSDiscrete", "UniPCMultistep", "DEISMultistep", "PNDM")


if __name__ == "__main__":
    sys.exit(main())
