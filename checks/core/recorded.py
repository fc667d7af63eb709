r"""Estimators recorded as mergeable parts: what a shard sends back instead of estimates.

Inside :func:`recording`, each estimator of :mod:`checks.core.stats` that reads samples returns a
part instead of its estimates: ``stats.mean``, ``variance`` and ``covariance`` the
:class:`~checks.core.moments.Moments` of their values, ``stats.regression`` those of the response
and regressors together, and the estimators of running moments (``mean_estimates`` and the like)
the accumulator itself. Parts of the same estimator from different shards merge exactly
(:meth:`merge`, Chan's rule), and :meth:`finish` gives the estimates the estimator defines from
the merged sums. An estimate a check builds by hand from its samples is kept as a
:class:`ConstantPart`: it merges only when every shard computed the same (an exact law's), else
the check cannot be sharded (:class:`NotShardable`).

Means, variances and covariances carry their summands' skewness and kurtosis through the merge, so
their thresholds are the unsharded ones. The residual variance of a regression does not (that needs
the raw sums to order 8 of every regressor): sharded, it is tested at the normal critical value,
unsharded at the second-order one, a difference of a few per cent of the threshold.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch

from checks.core import stats
from checks.core.moments import Moments, merge_running, unit


class NotShardable(ValueError):
    """A check whose shards cannot be merged into one result (one line: which check and why)."""


@dataclass(frozen=True)
class SamplePart:
    r"""``stats.mean`` / ``variance`` / ``covariance`` of values, as :class:`Moments` (to order 4 or 8)."""

    kind: str  # the estimator: "mean", "variance" or "covariance"
    name: str
    expected: float
    moments: Moments
    statistic_kind: str = stats.MEAN  # the estimate's kind (stats.KINDS): a mean may be a KL, a moment condition

    def merge(self, other: "SamplePart") -> "SamplePart":
        key = lambda p: (p.kind, p.name, p.expected, p.statistic_kind)  # noqa: E731
        _same(self, other, key(self), key(other))
        return SamplePart(self.kind, self.name, self.expected, self.moments.merge(other.moments), self.statistic_kind)

    def finish(self) -> list[stats.Estimate]:
        r"""The estimator's estimate and SE from the sums: for the mean :math:`s/\sqrt n`; for the variance
        :math:`M_2/(n-1)` with the SE of the centred squares, :math:`\sqrt{(M_4 - M_2^2/n)/(n-1)/n}`; for the
        covariance :math:`M_{11}/(n-1)` with that of the centred products, :math:`\sqrt{(M_{22} - M_{11}^2/n)/(n-1)/n}`.

        The summands' skewness and excess kurtosis (what :func:`checks.core.stats.calibrated_critical_value`
        reads, as :func:`checks.core.stats.summand_shape` gives them unsharded) come from the same sums: the
        summand's raw moments are :math:`M_k/n` for the mean, :math:`M_{2k}/n` for the centred squares and
        :math:`M_{kk}/n` for the centred products, hence the orders 4 and 8 the recorders keep."""
        m, n = self.moments, self.moments.count
        if self.kind == "mean":
            raw = [0.0] + [m.sums[(k,)] / n for k in (2, 3, 4)]
            return [stats.Estimate(self.name, m.mean[0], self.expected, math.sqrt(m.sums[(2,)] / (n - 1) / n),
                                   **summand_shape(raw, n), kind=self.statistic_kind)]
        index = (lambda k: (2 * k,)) if self.kind == "variance" else (lambda k: (k, k))
        raw = [m.sums[index(k)] / n for k in (1, 2, 3, 4)]
        second, fourth = m.sums[index(1)], m.sums[index(2)]
        spread = max(fourth - second**2 / n, 0.0) / (n - 1)
        return [stats.Estimate(self.name, second / (n - 1), self.expected, math.sqrt(spread / n),
                               **summand_shape(raw, n), kind=self.statistic_kind)]


def summand_shape(raw: list[float], count: int) -> dict:
    """Skewness, excess kurtosis and count from a summand's first four raw moments (population
    normalisation, as :func:`checks.core.stats.summand_shape`)."""
    r1, r2, r3, r4 = raw
    c2 = r2 - r1**2
    if c2 <= 0:
        return {"count": count}
    c3 = r3 - 3 * r2 * r1 + 2 * r1**3
    c4 = r4 - 4 * r3 * r1 + 6 * r2 * r1**2 - 3 * r1**4
    return {"skewness": c3 / c2**1.5, "excess_kurtosis": c4 / c2**2 - 3, "count": count}


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
        out = [stats.Estimate(nm, float(c), ex, float(se), kind=stats.REGRESSION_COEFFICIENT)
               for nm, c, ex, se in zip(self.names, coef, self.expected, coef_se)]
        return out + [stats.Estimate(self.residual_var_name, residual_var, self.expected_residual_var,
                                     math.sqrt(spread / n), kind=stats.SECOND_MOMENT)]


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


def _record_mean(name: str, samples: torch.Tensor, expected: float, kind: str = stats.MEAN) -> SamplePart:
    return SamplePart("mean", name, float(expected), Moments.of([samples], 4), kind)


def _record_variance(name: str, samples: torch.Tensor, expected: float) -> SamplePart:
    return SamplePart("variance", name, float(expected), Moments.of([samples], 8), stats.SECOND_MOMENT)


def _record_covariance(name: str, a: torch.Tensor, b: torch.Tensor, expected: float) -> SamplePart:
    return SamplePart("covariance", name, float(expected), Moments.of([a, b], 8), stats.COVARIANCE)


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


def merge_parts(first: list, second: list) -> list:
    """Two shards' parts, estimator by estimator (``first`` first: the order is fixed)."""
    if len(first) != len(second):
        raise NotShardable(f"the shards give {len(first)} and {len(second)} estimates")
    return [a.merge(b) for a, b in zip(first, second)]
