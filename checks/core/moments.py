r"""Mergeable moments: sufficient statistics of a sample that combine exactly across shards.

:class:`Moments` holds, for ``d`` variables :math:`z = (z_1, \dots, z_d)` observed ``count``
times, their mean :math:`\mu` and every central co-moment sum up to ``order``,

.. math:: M_\alpha = \sum_i \prod_k (z_{ik} - \mu_k)^{\alpha_k}, \qquad 2 \le |\alpha| \le \text{order}

(:math:`M_0 = n`, :math:`M_{e_k} = 0`). Two samples :math:`A, B` merge by Chan's pairwise rule in
its general (Pébay) form: with :math:`\mu = \mu_A + (n_B/n)(\mu_B - \mu_A)` and
:math:`\delta_S = \mu_S - \mu`,

.. math:: M_\alpha = \sum_{S \in \{A, B\}} \sum_{\beta \le \alpha} \binom{\alpha}{\beta} M^S_\beta\, \delta_S^{\alpha - \beta}

(multi-index binomials); for :math:`\alpha = 2` this is Chan's
:math:`M_2 = M_2^A + M_2^B + \frac{n_A n_B}{n}(\mu_B - \mu_A)^2`. The same expansion gives sums
about any other centre (:meth:`Moments.about`). A merge is a fixed sequence of float64 operations,
so folding the same shards in the same order gives the same bits wherever they were computed.

:func:`merge_running` does the same for :class:`checks.core.stats.RunningMoments` (per-coordinate
power sums about a shift), the accumulator of the chunked sampler runs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch

from checks.core.stats import RunningMoments

Index = tuple[int, ...]


def multi_indices(d: int, order: int) -> list[Index]:
    """Every exponent vector of ``d`` variables with total degree 2..``order``, by degree then lexicographically."""
    return [alpha for total in range(2, order + 1)
            for alpha in itertools.product(range(total + 1), repeat=d) if sum(alpha) == total]


def _below(alpha: Index) -> list[Index]:
    return list(itertools.product(*(range(a + 1) for a in alpha)))


def _binomial(alpha: Index, beta: Index) -> int:
    return math.prod(math.comb(a, b) for a, b in zip(alpha, beta))


def _power(delta: tuple[float, ...], exponent: Index) -> float:
    return math.prod(x**e for x, e in zip(delta, exponent))


@dataclass(frozen=True)
class Moments:
    """Count, mean and central co-moment sums (Python floats, i.e. float64) of ``d`` variables."""

    count: int
    mean: tuple[float, ...]
    sums: dict[Index, float]
    order: int

    @classmethod
    def of(cls, columns: list[torch.Tensor], order: int) -> "Moments":
        """The moments of the rows of ``columns`` (one flattened tensor per variable, float64 sums,
        two passes: the mean first, then the centred products)."""
        z = torch.stack([c.detach().to(torch.float64).flatten() for c in columns], dim=1)
        if z.shape[0] < 2:
            raise ValueError("moments need at least two observations")
        mu = z.mean(dim=0)
        centred = z - mu
        powers = [torch.ones_like(centred)]
        for _ in range(order):
            powers.append(powers[-1] * centred)
        sums = {}
        for alpha in multi_indices(z.shape[1], order):
            product = torch.ones(z.shape[0], dtype=torch.float64, device=z.device)
            for k, a in enumerate(alpha):
                if a:
                    product = product * powers[a][:, k]
            sums[alpha] = float(product.sum())
        return cls(z.shape[0], tuple(float(m) for m in mu), sums, order)

    @property
    def d(self) -> int:
        return len(self.mean)

    def _sum(self, alpha: Index) -> float:
        degree = sum(alpha)
        if degree == 0:
            return float(self.count)
        return 0.0 if degree == 1 else self.sums[alpha]

    def merge(self, other: "Moments") -> "Moments":
        """The moments of both samples together (Chan–Pébay; ``self`` first, so the order is fixed)."""
        if (self.d, self.order) != (other.d, other.order):
            raise ValueError(f"cannot merge moments of {self.d} variables to order {self.order} with "
                             f"{other.d} to order {other.order}")
        n = self.count + other.count
        mu = tuple(a + other.count / n * (b - a) for a, b in zip(self.mean, other.mean))
        deltas = [(part, tuple(m - c for m, c in zip(part.mean, mu))) for part in (self, other)]
        sums = {alpha: sum(_binomial(alpha, beta) * part._sum(beta)
                           * _power(delta, tuple(a - b for a, b in zip(alpha, beta)))
                           for part, delta in deltas for beta in _below(alpha))
                for alpha in self.sums}
        return Moments(n, mu, sums, self.order)

    def about(self, centre: tuple[float, ...], alpha: Index) -> float:
        r""":math:`\sum_i \prod_k (z_{ik} - c_k)^{\alpha_k}` for the centre ``c`` (e.g. 0: raw sums)."""
        delta = tuple(m - c for m, c in zip(self.mean, centre))
        return sum(_binomial(alpha, beta) * self._sum(beta) * _power(delta, tuple(a - b for a, b in zip(alpha, beta)))
                   for beta in _below(alpha))


def unit(d: int, *positions: int) -> Index:
    """The exponent vector with a 1 at each of ``positions`` (repeated positions add up)."""
    alpha = [0] * d
    for p in positions:
        alpha[p] += 1
    return tuple(alpha)


def merge_running(first: RunningMoments, second: RunningMoments) -> RunningMoments:
    r"""Both accumulators' samples together, about ``first``'s shift :math:`c_A`: the sums of ``second``
    move to it by :math:`\sum_i (x_i - c_A)^j = \sum_{k \le j} \binom{j}{k} S^B_k (c_B - c_A)^{j-k}`."""
    if first.sums is None or second.sums is None:
        raise ValueError("no samples accumulated")
    delta = second.shift - first.shift
    power_sums = [torch.full_like(second.shift, float(second.count))] + [second.sums[j] for j in range(4)]
    moved = torch.stack([sum(math.comb(j, k) * power_sums[k] * delta ** (j - k) for k in range(j + 1))
                         for j in range(1, 5)])
    out = RunningMoments()
    out.count, out.shift, out.sums = first.count + second.count, first.shift.clone(), first.sums + moved
    return out
