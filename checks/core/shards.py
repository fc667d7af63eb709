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
  :mod:`checks.core.stats` replaced by recorders (:func:`recording`): ``stats.mean`` returns the
  :class:`~checks.core.moments.Moments` of its values instead of an estimate, and so on. The
  recorded parts merge by Chan's rule and finish into the same estimates the estimator defines.

Shards are merged in the order of their index, whatever order they finished in, so a run on a
cluster and a run here with the same plan (and device) give the same bits. An estimate that is
neither (built by hand from the samples) cannot be merged: :class:`NotShardable`.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import sympy as sp
import torch

from checks.core import stats
from checks.core.device import resolve_device
from checks.core.errors import UsageError
from checks.core.moments import Moments, merge_running, unit
from checks.core.registry import CheckContext, CheckResult, Quantity, get, seed_for


class NotShardable(ValueError):
    """A check whose shards cannot be merged into one result (one line: which check and why)."""


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


# --- recorded estimators: what stats.<estimator> returns inside recording() ---

@dataclass(frozen=True)
class SamplePart:
    r"""``stats.mean`` / ``variance`` / ``covariance`` of values, as :class:`Moments` (to order 2 or 4)."""

    kind: str
    name: str
    expected: float
    moments: Moments

    def merge(self, other: "SamplePart") -> "SamplePart":
        _same(self, other, (self.kind, self.name, self.expected), (other.kind, other.name, other.expected))
        return SamplePart(self.kind, self.name, self.expected, self.moments.merge(other.moments))

    def finish(self) -> list[stats.Estimate]:
        r"""The estimator's estimate and SE from the sums: for the mean :math:`s/\sqrt n`; for the variance
        :math:`M_2/(n-1)` with the SE of the centred squares, :math:`\sqrt{(M_4 - M_2^2/n)/(n-1)/n}`; for the
        covariance :math:`M_{11}/(n-1)` with that of the centred products, :math:`\sqrt{(M_{22} - M_{11}^2/n)/(n-1)/n}`."""
        m, n = self.moments, self.moments.count
        if self.kind == "mean":
            return [stats.Estimate(self.name, m.mean[0], self.expected, math.sqrt(m.sums[(2,)] / (n - 1) / n))]
        second, fourth = ((m.sums[(2,)], m.sums[(4,)]) if self.kind == "variance" else (m.sums[(1, 1)], m.sums[(2, 2)]))
        spread = max(fourth - second**2 / n, 0.0) / (n - 1)
        return [stats.Estimate(self.name, second / (n - 1), self.expected, math.sqrt(spread / n))]


@dataclass(frozen=True)
class RegressionPart:
    r"""``stats.regression`` as the moments of :math:`z = (y, x_1, \dots, x_p)` to order 4: the Gram matrix
    and :math:`X^\top y` are raw second sums; the SE of the residual variance needs :math:`\sum r_i^4`, a
    quartic form in the raw fourth sums with :math:`r = w \cdot z`, :math:`w = (1, -\hat b)`."""

    names: tuple[str, ...]
    expected: tuple[float, ...]
    residual_var_name: str
    expected_residual_var: float
    moments: Moments

    def merge(self, other: "RegressionPart") -> "RegressionPart":
        key = lambda p: (p.names, p.expected, p.residual_var_name, p.expected_residual_var)  # noqa: E731
        _same(self, other, key(self), key(other))
        return RegressionPart(*key(self), self.moments.merge(other.moments))

    def finish(self) -> list[stats.Estimate]:
        m, n = self.moments, self.moments.count
        d, p = m.d, m.d - 1
        origin = (0.0,) * d
        raw = torch.tensor([[m.about(origin, unit(d, i, j)) for j in range(d)] for i in range(d)], dtype=torch.float64)
        gram, cross = raw[1:, 1:], raw[1:, 0]
        coef = torch.linalg.solve(gram, cross)
        w = torch.cat([torch.ones(1, dtype=torch.float64), -coef])
        rss = float(w @ raw @ w)
        residual_var = rss / (n - p)
        coef_se = torch.sqrt(residual_var * torch.diagonal(torch.linalg.inv(gram)))
        fourth = sum(math.factorial(4) / math.prod(math.factorial(a) for a in alpha)
                     * math.prod(float(w[k]) ** a for k, a in enumerate(alpha)) * m.about(origin, alpha)
                     for alpha in m.sums if sum(alpha) == 4)
        spread = max(fourth - rss**2 / n, 0.0) / (n - 1)
        out = [stats.Estimate(nm, float(c), ex, float(se))
               for nm, c, ex, se in zip(self.names, coef, self.expected, coef_se)]
        return out + [stats.Estimate(self.residual_var_name, residual_var, self.expected_residual_var,
                                     math.sqrt(spread / n))]


@dataclass(frozen=True)
class RunningPart:
    """An estimator of :class:`~checks.core.stats.RunningMoments` (``mean_estimates`` and the like): the
    accumulator itself, finished by the same estimator on the merged one."""

    estimator: str
    label: Any
    moments: stats.RunningMoments
    expected: tuple[torch.Tensor, ...]

    def merge(self, other: "RunningPart") -> "RunningPart":
        _same(self, other, (self.estimator, self.label), (other.estimator, other.label))
        if not all(torch.equal(a, b) for a, b in zip(self.expected, other.expected)):
            raise NotShardable(f"{self.estimator}({self.label!r}): the expected values differ between shards")
        return RunningPart(self.estimator, self.label, merge_running(self.moments, other.moments), self.expected)

    def finish(self) -> list[stats.Estimate]:
        return getattr(stats, self.estimator)(self.label, self.moments, *self.expected)


@dataclass(frozen=True)
class ConstantPart:
    """An estimate that does not depend on the samples (an exact law's): it must be equal in every shard."""

    estimate: stats.Estimate

    def merge(self, other: "ConstantPart") -> "ConstantPart":
        if other.estimate != self.estimate:
            raise NotShardable(f"estimate {self.estimate.name!r} is computed from the samples by hand, "
                               "not by an estimator of checks.core.stats: its shards cannot be merged")
        return self

    def finish(self) -> list[stats.Estimate]:
        return [self.estimate]


def _same(part, other, mine, theirs) -> None:
    if type(part) is not type(other) or mine != theirs:
        raise NotShardable(f"the shards' estimates differ in structure ({mine!r} against {theirs!r})")


def _record_mean(name: str, samples: torch.Tensor, expected: float) -> SamplePart:
    return SamplePart("mean", name, float(expected), Moments.of([samples], 2))


def _record_variance(name: str, samples: torch.Tensor, expected: float) -> SamplePart:
    return SamplePart("variance", name, float(expected), Moments.of([samples], 4))


def _record_covariance(name: str, a: torch.Tensor, b: torch.Tensor, expected: float) -> SamplePart:
    return SamplePart("covariance", name, float(expected), Moments.of([a, b], 4))


def _record_regression(names: list[str], response: torch.Tensor, regressors: list[torch.Tensor],
                       expected: list[float], residual_var_name: str, expected_residual_var: float,
                       ) -> list[RegressionPart]:
    return [RegressionPart(tuple(names), tuple(float(e) for e in expected), residual_var_name,
                           float(expected_residual_var), Moments.of([response, *regressors], 4))]


def _running(estimator: str) -> Callable[..., list[RunningPart]]:
    def record(label, moments: stats.RunningMoments, *expected: torch.Tensor) -> list[RunningPart]:
        return [RunningPart(estimator, label, moments, tuple(torch.as_tensor(e).detach() for e in expected))]

    return record


# Every estimator of checks.core.stats that reads samples, and its recorder.
RECORDERS: dict[str, Callable] = {
    "mean": _record_mean,
    "variance": _record_variance,
    "covariance": _record_covariance,
    "regression": _record_regression,
    **{name: _running(name) for name in ("mean_estimates", "variance_estimates", "proportion_estimates",
                                         "standard_normal_moment_estimates")},
}


@contextmanager
def recording() -> Iterator[None]:
    """Inside the block, ``stats.<estimator>`` returns mergeable parts instead of estimates (one thread at a
    time: a shard runs its compare alone in its process)."""
    saved = {name: getattr(stats, name) for name in RECORDERS}
    for name, recorder in RECORDERS.items():
        setattr(stats, name, recorder)
    try:
        yield
    finally:
        for name, original in saved.items():
            setattr(stats, name, original)


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


@contextmanager
def _one_thread() -> Iterator[None]:
    """One intra-op thread: the same reductions, in the same order, in every process that runs a shard."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_shard(job: ShardJob) -> ShardOutput:
    """Simulate one shard and reduce it to mergeable statistics (runs wherever the shard is sent)."""
    import checks

    checks.load()
    chk = get(job.plan.check_id)
    size = job.plan.size(job.index)
    ctx = CheckContext(chk, size, job.plan.seed(job.index), resolve_device(job.device), job.dtype)
    start = time.perf_counter()
    with _one_thread():
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


def merge_parts(first: list, second: list) -> list:
    if len(first) != len(second):
        raise NotShardable(f"the shards give {len(first)} and {len(second)} estimates")
    return [a.merge(b) for a, b in zip(first, second)]


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
