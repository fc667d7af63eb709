r"""Sharded checks: a check's samples split into independent shards, reduced to mergeable statistics.

A :class:`ShardPlan` splits ``samples`` into ``shards`` parts (sizes differ by at most one); shard
``k`` is an ordinary run of the check with its own seed, :func:`checks.core.registry.seed_for`
of (check id, seed offset, ``k``). A shard sends back sufficient statistics only, in one of two
forms, chosen by what the check's ``simulate`` returns:

* **accumulators**: a simulation that already folds its paths into
  :class:`~checks.core.stats.RunningMoments` (the chunked sampler runs) returns them; the shards'
  accumulators are merged (:func:`checks.core.moments.merge_running`) and the check's ``compare``
  runs once on the merged ones. Other leaves of the output (an exact law computed beside the
  samples) must agree between shards.
* **recorded estimators**: otherwise the shard runs ``compare`` with the estimators of
  :mod:`checks.core.stats` replaced by recorders (:func:`checks.core.recorded.recording`):
  ``stats.mean`` returns the :class:`~checks.core.moments.Moments` of its values instead of an
  estimate, and so on. The recorded parts merge by Chan's rule and finish into the same
  estimates the estimator defines.

Shards are merged in the order of their index, whatever order they finished in, so a run on a
cluster and a run here with the same plan (and device) give the same bits. An estimate that is
neither (built by hand from the samples) cannot be merged: :class:`NotShardable`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import sympy as sp
import torch

from checks.core import stats
from checks.core.device import one_thread, resolve_device
from checks.core.errors import UsageError
from checks.core.moments import merge_running
from checks.core.recorded import ConstantPart, NotShardable, RunningPart, merge_parts, recording
from checks.core.registry import CheckContext, CheckResult, Quantity, get, seed_for


@dataclass(frozen=True)
class ShardPlan:
    """How a check's samples are split: the numbers of a sharded run depend on this and nothing else."""

    check_id: str
    samples: int
    shards: int
    seed_offset: int = 0

    def __post_init__(self) -> None:
        if self.shards < 1:
            raise UsageError(f"the number of shards must be positive, got {self.shards}")
        if self.samples // self.shards < stats.MIN_SAMPLES:
            raise UsageError(f"{self.check_id}: {self.samples} samples in {self.shards} shards leave fewer than "
                             f"{stats.MIN_SAMPLES} per shard; use at most {self.samples // stats.MIN_SAMPLES} shards")

    def size(self, index: int) -> int:
        """Shard ``index``'s sample count: the remainder goes one by one to the first shards."""
        return self.samples // self.shards + (index < self.samples % self.shards)

    def seed(self, index: int) -> int:
        return seed_for(self.check_id, self.seed_offset, shard=index)


@dataclass(frozen=True)
class ShardJob:
    """One shard to run: the plan, the shard's index, where and how (``device`` already resolved)."""

    plan: ShardPlan
    index: int
    device: str
    dtype: torch.dtype = torch.float64
    variants: tuple[dict[Quantity, sp.Expr], ...] = ({},)


@dataclass
class ShardOutput:
    """A shard's statistics, on the CPU: merged accumulators' leaves, or one list of parts per variant."""

    index: int
    count: int
    simulated: Any = None
    recorded: list[list] | None = None
    wall_time_s: float = 0.0


# --- running shards and merging them ---

def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def _to_cpu(value: Any) -> Any:
    """``value`` with every tensor (and accumulator, and part) on the CPU: what a shard sends back."""
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_to_cpu(v) for v in value)
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, stats.RunningMoments):
        out = stats.RunningMoments()
        out.count, out.shift, out.sums = value.count, _to_cpu(value.shift), _to_cpu(value.sums)
        return out
    if isinstance(value, RunningPart):
        return RunningPart(value.estimator, value.label, _to_cpu(value.moments), _to_cpu(value.expected))
    return value


def run_shard(job: ShardJob) -> ShardOutput:
    """Simulate one shard and reduce it to mergeable statistics (runs wherever the shard is sent)."""
    import checks

    checks.load()
    chk = get(job.plan.check_id)
    size = job.plan.size(job.index)
    ctx = CheckContext(chk, size, job.plan.seed(job.index), resolve_device(job.device), job.dtype)
    start = time.perf_counter()
    with one_thread():
        simulated = chk.simulate(ctx)
        if any(isinstance(leaf, stats.RunningMoments) for leaf in _leaves(simulated)):
            return ShardOutput(job.index, size, simulated=_to_cpu(simulated),
                               wall_time_s=time.perf_counter() - start)
        recorded = []
        for overrides in job.variants:
            ctx.overrides = dict(overrides)
            with recording():
                parts = chk.compare(ctx, simulated)
            recorded.append([part if not isinstance(part, stats.Estimate) else ConstantPart(part) for part in parts])
    return ShardOutput(job.index, size, recorded=_to_cpu(recorded), wall_time_s=time.perf_counter() - start)


def merge_simulated(first: Any, second: Any) -> Any:
    """Two shards' simulation outputs as one: accumulators merged, every other leaf equal in both."""
    if isinstance(first, dict):
        if first.keys() != second.keys():
            raise NotShardable("the shards' outputs have different keys")
        return {k: merge_simulated(first[k], second[k]) for k in first}
    if isinstance(first, (tuple, list)):
        if len(first) != len(second):
            raise NotShardable("the shards' outputs have different lengths")
        return type(first)(merge_simulated(a, b) for a, b in zip(first, second))
    if isinstance(first, stats.RunningMoments):
        return merge_running(first, second)
    same = torch.equal(first, second) if isinstance(first, torch.Tensor) else first == second
    if not same:
        raise NotShardable("a part of the simulation output beside its accumulators differs between shards "
                           "(samples kept as tensors cannot be merged)")
    return first


@dataclass
class Merged:
    """The shards folded in index order."""

    count: int
    simulated: Any = None
    recorded: list[list] | None = None
    shard_times_s: list[float] = field(default_factory=list)


def merge(outputs: list[ShardOutput]) -> Merged:
    """Fold the shards' statistics by increasing index (never in the order they finished)."""
    ordered = sorted(outputs, key=lambda o: o.index)
    if [o.index for o in ordered] != list(range(len(ordered))):
        raise ValueError(f"shards {[o.index for o in ordered]} are not one full plan")
    first = ordered[0]
    merged = Merged(first.count, first.simulated, first.recorded, [first.wall_time_s])
    for out in ordered[1:]:
        merged.count += out.count
        merged.shard_times_s.append(out.wall_time_s)
        if merged.recorded is not None:
            merged.recorded = [merge_parts(a, b) for a, b in zip(merged.recorded, out.recorded)]
        else:
            merged.simulated = merge_simulated(merged.simulated, out.simulated)
    return merged


Mapper = Callable[[Callable[[ShardJob], ShardOutput], list[ShardJob]], list[ShardOutput]]


def local_map(task: Callable[[ShardJob], ShardOutput], jobs: list[ShardJob]) -> list[ShardOutput]:
    """The shards one after another in this process: the reference for any cluster's result."""
    return [task(job) for job in jobs]


def run_sharded(
    check_id: str,
    shards: int,
    samples: int | None = None,
    seed_offset: int = 0,
    device: str = "auto",
    dtype: torch.dtype = torch.float64,
    variants: list[dict[Quantity, sp.Expr]] | None = None,
    mapper: Mapper = local_map,
) -> list[CheckResult]:
    """Run a check as ``shards`` shards (``mapper`` runs them: here, or on a cluster) and test the merged
    statistics, once per set of closed forms in ``variants`` (default: the derived ones).

    ``device`` must name one device for every shard (``auto`` is resolved here): numbers depend on it.
    """
    import checks

    checks.load()
    chk = get(check_id)
    plan = ShardPlan(chk.id, samples or chk.default_samples, shards, seed_offset)
    target = str(resolve_device(device)) if device == "auto" else device
    variants_ = tuple(dict(v) for v in (variants or [{}]))
    jobs = [ShardJob(plan, k, target, dtype, variants_) for k in range(shards)]
    start = time.perf_counter()
    merged = merge(mapper(run_shard, jobs))
    wall = time.perf_counter() - start
    # compare() on merged accumulators runs here, on the CPU: the shards' statistics came back there.
    ctx = CheckContext(chk, merged.count, seed_for(chk.id, seed_offset), torch.device("cpu"), dtype)
    results = []
    for k, overrides in enumerate(variants_):
        if merged.recorded is not None:
            estimates = [e for part in merged.recorded[k] for e in part.finish()]
        else:
            ctx.overrides = dict(overrides)
            estimates = chk.compare(ctx, merged.simulated)
        results.append(CheckResult(
            check_id=chk.id, title=chk.title, derivation_ids=chk.tests, law=chk.law,
            statistics=tuple(stats.test(estimates, chk.false_alarm)), n_samples=merged.count,
            seed=seed_for(chk.id, seed_offset), device=target, dtype=str(dtype).removeprefix("torch."),
            false_alarm=chk.false_alarm, wall_time_s=wall,
        ))
    return results
