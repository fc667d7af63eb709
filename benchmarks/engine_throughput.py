"""Path-steps per second of the sampler engine against torchsde and a naive loop, on one SDE.

The SDE is an Ornstein-Uhlenbeck process: the reverse SDE of the VP process
for data N(0, 1), whose exact score is -x, run backwards from t = 1 to 1e-3
with 1000 Euler-Maruyama steps (``reverse_sde_em``). torchsde (the optional
``bench`` extra) solves the same SDE in reversed time s = 1 - t with its
Euler method; the naive loop steps one path at a time in Python. The
RNG-bound limit is the time to draw the same normals alone, each step's dropped as the engine drops
them; engine and generator are timed in turns and their ratio is the median over the pairs.

Usage: python benchmarks/engine_throughput.py [--paths N] [--steps K] [--device auto|cpu|cuda] [--threads T]

On a CPU shared with other work, give ``--threads 1``: torch's default intra-op threads (one
per core) wait on each other whenever the machine is loaded, which slows the engine's
elementwise arithmetic far more than the generator, and the ratio then measures the load.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checks.core.device import resolve_device  # noqa: E402
from checks.sim import Grid, get, processes  # noqa: E402


REPEATS = 3  # timed runs per figure after a warm-up; the median is reported (shared machines are noisy)


def _timed(fn, device, repeats: int = REPEATS) -> float:
    fn()  # warm-up (compilation, caches)
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _interleaved(first, second, device, repeats: int = 2 * REPEATS + 1) -> tuple[float, float, float]:
    """Median times of ``first`` and ``second`` timed in turns, and the median of their ratio
    second / first pair by pair: a machine whose speed drifts between minutes moves both alike."""
    pairs = [(_timed(first, device, 1), _timed(second, device, 1)) for _ in range(repeats)]
    ratios = [b / a for a, b in pairs]
    return (statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs),
            statistics.median(ratios))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--naive-paths", type=int, default=20)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device, dtype = resolve_device(args.device), getattr(torch, args.dtype)
    process = processes.vp()
    grid = Grid.uniform(process, args.steps)
    for t in grid.times:  # coefficients tabulated once, as in any long run
        process.at(t)
    model = lambda x, t: -x  # noqa: E731  exact score of N(0, 1) data under the VP process
    sampler = get("reverse_sde_em")
    x_init = torch.randn(args.paths, 1, device=device, dtype=dtype)
    generator = torch.Generator(device=device).manual_seed(0)
    path_steps = args.paths * args.steps

    def draws_alone() -> None:
        # Each step's normals drawn and dropped, as the engine drops them: keeping all of them (a list)
        # would time the allocation of fresh memory too and flatter the engine.
        for _ in range(args.steps):
            torch.randn(args.paths, 1, generator=generator, device=device, dtype=dtype)

    engine_s, rng_s, ratio = _interleaved(lambda: sampler(model, grid, x_init, generator), draws_alone, device)
    rows = [("engine (reverse_sde_em)", engine_s, path_steps)]

    coefficients = [process.at(t) for t in grid.times]

    def naive():
        for _ in range(args.naive_paths):
            x = random.gauss(0.0, 1.0)
            for k, (t, t_next) in enumerate(grid.pairs()):
                c, h = coefficients[k], t_next - t
                x = x + (c.drift_coef * x + c.diffusion_sq * x) * h + math.sqrt(c.diffusion_sq * -h) * random.gauss(0, 1)

    rows.append(("naive per-step Python loop", _timed(naive, torch.device("cpu"), 1), args.naive_paths * args.steps))

    try:
        import torchsde
    except ImportError:
        print("torchsde not installed (pip install '.[bench]'): skipped", file=sys.stderr)
    else:
        class Reversed(torch.nn.Module):
            noise_type, sde_type = "diagonal", "ito"

            def f(self, s, y):  # d/ds of X(1 - s): minus the reverse drift f x - g^2 score
                c = process.at(1.0 - float(s))
                return -(c.drift_coef * y - c.diffusion_sq * model(y, 0.0))

            def g(self, s, y):
                return torch.full_like(y, math.sqrt(process.at(1.0 - float(s)).diffusion_sq))

        span = torch.tensor([0.0, grid.times[0] - grid.times[-1]], device=device, dtype=dtype)
        dt = (grid.times[0] - grid.times[-1]) / args.steps
        sde_s = _timed(lambda: torchsde.sdeint(Reversed(), x_init, span, method="euler", dt=dt), device)
        rows.append(("torchsde (euler)", sde_s, path_steps))

    print(f"device {device}, dtype {args.dtype}, {args.paths} paths x {args.steps} steps, "
          f"{torch.get_num_threads()} torch threads")
    engine_rate = path_steps / engine_s
    for name, seconds, work in rows:
        rate = work / seconds
        print(f"{name:30s} {rate:14,.0f} path-steps/s   engine / this = {engine_rate / rate:8.2f}")
    print(f"{'RNG alone (same normals)':30s} {path_steps / rng_s:14,.0f} normals/s   "
          f"engine reaches {ratio:.1%} of the RNG-bound limit (median over runs in turns)")
    for name, seconds, work in rows:
        if name.startswith("torchsde"):
            # An Euler-Maruyama step draws one normal per path, so no engine built on torch's generator
            # can beat torchsde by more than this ratio on this device.
            print(f"RNG-bound limit / torchsde = {(path_steps / rng_s) / (work / seconds):.2f} "
                  f"(the ceiling of the engine / torchsde ratio on this device)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
