"""``diffverify check [ID ...]``: run the Monte Carlo checks of derivations (or checks) by id."""

from __future__ import annotations

import argparse
import json
from typing import Callable

from checks.app.plugins import command
from checks.app.options import add_cluster_option, add_run_options, check_target, shard_count
from checks.core.errors import UsageError


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", type=check_target,
                        help="derivation or check ids (default: every check)")
    add_run_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed offset; 0 gives the seeds derived from the ids")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--details", action="store_true", help="print every statistic")
    add_cluster_option(parser, "each check's shards")
    parser.add_argument("--shards", type=shard_count, default=None, metavar="K",
                        help="split each check's samples into K shards with their own seeds, merged exactly; "
                             "the numbers depend on K, not on where the shards run (default: unsharded here; "
                             "with --ray, one shard per CPU of the cluster, or per GPU when it has GPUs)")


def selected_checks(ids: list[str]) -> list:
    """The checks ``ids`` name (each already a check or derivation id: :func:`checks.app.options.check_target`)."""
    import checks

    if not ids:
        return checks.all()
    chosen: dict[str, object] = {}
    for id_ in ids:
        if id_ in {c.id for c in checks.all()}:
            chosen[id_] = checks.get(id_)
            continue
        for c in checks.for_derivation(id_):
            chosen[c.id] = c
    return list(chosen.values())


@command("check", "run Monte Carlo checks; exit 0 when all pass, 1 when any fails", _arguments)
def run(args: argparse.Namespace) -> int:
    import checks

    from checks.app.render import check_summary, check_table

    selected = selected_checks(args.ids)
    if not selected:
        print("no Monte Carlo check tests these ids (their proofs are symbolic only)")
        return 0
    if args.ray is not None:
        results = _on_ray(selected, args)
    elif args.shards is not None:
        results = _sharded(selected, args, lambda c: args.shards, args.device)
    else:
        results = [checks.run(c.id, device=args.device, samples=args.samples, seed_offset=args.seed)
                   for c in selected]
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=1))
    else:
        for r in results:
            print(check_summary(r))
            if args.details or not r.passed:
                print(check_table(r))
    return 0 if all(r.passed for r in results) else 1


def _sharded(selected: list, args: argparse.Namespace, shards: Callable[[object], int], device: str,
             mapper=None) -> list:
    """Each check as ``shards(check)`` merged shards (:func:`checks.core.shards.run_sharded`), run by ``mapper``."""
    from checks.core import shards as sharding

    results = []
    for c in selected:
        try:
            results += sharding.run_sharded(c.id, shards(c), args.samples, args.seed, device,
                                            mapper=mapper or sharding.local_map)
        except sharding.NotShardable as error:
            raise UsageError(f"check {c.id} cannot be sharded: {error}") from None
    return results


def _on_ray(selected: list, args: argparse.Namespace) -> list:
    from checks.core.cluster import Cluster
    from checks.core.stats import MIN_SAMPLES

    with Cluster(args.ray) as cluster:
        device = cluster.use_device(args.device)
        slots = cluster.gpus() if device.startswith("cuda") else cluster.cpus()

        def shards(c) -> int:
            """``--shards``, or one per slot of the cluster as far as each shard keeps the floor of samples."""
            return args.shards or max(1, min(slots, (args.samples or c.default_samples) // MIN_SAMPLES))

        if not args.json:
            print(f"Ray: {cluster.cpus()} CPUs, {cluster.gpus()} GPUs, device {device}; the same numbers here: "
                  f"--device {device} --shards K with each check's K: "
                  + ", ".join(f"{c.id} {shards(c)}" for c in selected))
        return _sharded(selected, args, shards, device, cluster.map)
