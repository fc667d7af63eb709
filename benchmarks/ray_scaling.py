"""Sharded checks on Ray: throughput with 1 and 2 workers against one process, and the cost of a shard.

One check, split into shards of equal size (:mod:`checks.core.shards`), is run three ways:

* **here**: the shards one after another in this process (one intra-op thread, as every shard runs);
* **Ray, 1 worker**: a local Ray instance with one CPU;
* **Ray, 2 workers**: a local Ray instance with two CPUs.

Throughput is samples (output paths) per second of wall time, after a warm-up that starts the
workers and imports the package in them. The per-shard overhead is measured with one worker on
shards of the floor size (:data:`checks.core.stats.MIN_SAMPLES`): the wall time less the time the
shards spent computing, per shard (task submission, transfer of the statistics, the merge).
The CPU time of this process (user + system) is printed beside the wall times: here it is the
whole work, on Ray only the driver's (submission, merge, compare); on a shared machine a worker
waits for a core, and the wall time then measures the load too.

Usage: python benchmarks/ray_scaling.py [--check ID] [--samples N] [--shards K] [--tiny-shards K]
Needs the extra ``scale`` (ray); without it the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import checks  # noqa: E402
from checks.core import shards, stats  # noqa: E402

# A sampler check whose simulation folds its paths into running moments: DDIM (eta = 1), 20 steps,
# 3-dimensional Gaussian data; the samples are output paths.
CHECK = "samplers.ddim.eta_1.0"


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _timed(run) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), _cpu()
    value = run()
    return time.perf_counter() - wall, _cpu() - cpu, value


def _jobs(check_id: str, samples: int, count: int) -> list[shards.ShardJob]:
    plan = shards.ShardPlan(check_id, samples, count)
    return [shards.ShardJob(plan, k, "cpu") for k in range(count)]


def _on_ray(cpus: int, check_id: str, samples: int, count: int, tiny: int | None) -> dict:
    from checks.core.cluster import Cluster

    out = {}
    with Cluster(num_cpus=cpus, object_store_memory=80 * 2**20) as cluster:
        cluster.map(shards.run_shard, _jobs(check_id, cpus * stats.MIN_SAMPLES, cpus))  # warm-up: start and import
        out["wall"], out["cpu"], result = _timed(lambda: shards.run_sharded(
            check_id, count, samples, device="cpu", mapper=cluster.map)[0])
        out["statistics"] = result.statistics
        if tiny:
            jobs = _jobs(check_id, tiny * stats.MIN_SAMPLES, tiny)
            wall, _, outputs = _timed(lambda: shards.merge(cluster.map(shards.run_shard, jobs)))
            out["overhead"] = (wall - sum(outputs.shard_times_s)) / tiny
            out["tiny_compute"] = sum(outputs.shard_times_s) / tiny
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", default=CHECK)
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--tiny-shards", type=int, default=20, help="floor-size shards timed for the overhead")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("ray") is None:
        print("ray is not installed (the extra scale): nothing to measure")
        return 0
    checks.load()
    print(f"{args.check}: {args.samples} samples in {args.shards} shards; {checks.get(args.check).law}")

    shards.run_sharded(args.check, 2, 2 * stats.MIN_SAMPLES, device="cpu")  # warm-up: closed forms compiled
    here_wall, here_cpu, here = _timed(lambda: shards.run_sharded(args.check, args.shards, args.samples,
                                                                  device="cpu")[0])
    one = _on_ray(1, args.check, args.samples, args.shards, args.tiny_shards)
    two = _on_ray(2, args.check, args.samples, args.shards, None)
    same = one["statistics"] == two["statistics"] == here.statistics
    print(f"{'run':<16} {'wall s':>8} {'driver cpu s':>12} {'samples/s':>11} {'vs here':>8}")
    for label, wall, cpu in (("here (1 thread)", here_wall, here_cpu), ("Ray, 1 worker", one["wall"], one["cpu"]),
                             ("Ray, 2 workers", two["wall"], two["cpu"])):
        print(f"{label:<16} {wall:8.2f} {cpu:12.2f} {args.samples / wall:11.0f} {here_wall / wall:8.2f}")
    print(f"2 workers / 1 worker: {one['wall'] / two['wall']:.2f}x; identical statistics in all three runs: {same}")
    print(f"per-shard overhead (1 worker, {args.tiny_shards} shards of {stats.MIN_SAMPLES}): "
          f"{one['overhead'] * 1e3:.1f} ms (a shard's own compute: {one['tiny_compute'] * 1e3:.1f} ms)")
    print(f"per-core throughput (here): {args.samples / here_wall:.0f} samples per second of wall time, "
          f"{args.samples / here_cpu:.0f} per CPU second")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
