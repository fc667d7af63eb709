r"""The one statistical rule of the suite: z-tests with a stated false-alarm probability.

A check produces :class:`Estimate` records (an estimate, the value the
derivation predicts, and the estimate's standard error). :func:`test`
turns them into :class:`Statistic` verdicts:

* each check is given a false-alarm probability :math:`\alpha` (default
  :data:`FALSE_ALARM_PER_CHECK`), split evenly (Bonferroni) over its ``k``
  estimates, so a correct check fails with probability at most :math:`\alpha`;
* an estimate fails when :math:`|\hat\theta - \theta| > z_{1-\alpha/(2k)}\,\mathrm{SE}`;
* the smallest error detected with probability :data:`POWER` is
  :math:`(z_{1-\alpha/(2k)} + z_{\mathrm{POWER}})\,\mathrm{SE}` (normal
  approximation; the estimates here are means of ≥ 10^4 samples).

Over the suite, the probability that any correct check fails is at most the
number of checks times :math:`\alpha` (Bonferroni again).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist

import torch

FALSE_ALARM_PER_CHECK = 1e-6
POWER = 0.99


@dataclass(frozen=True)
class Estimate:
    """A simulated estimate of a quantity the derivation predicts."""

    name: str
    estimate: float
    expected: float
    std_error: float


@dataclass(frozen=True)
class Statistic:
    """An estimate tested against its prediction."""

    name: str
    estimate: float
    expected: float
    std_error: float
    false_alarm: float
    threshold: float
    detectable_error: float
    passed: bool

    @property
    def z(self) -> float:
        return (self.estimate - self.expected) / self.std_error if self.std_error > 0 else math.inf

    @property
    def relative_detectable_error(self) -> float:
        return self.detectable_error / abs(self.expected) if self.expected else math.inf

    def as_dict(self) -> dict:
        return asdict(self) | {"z": self.z}


def critical_value(false_alarm: float) -> float:
    r"""Two-sided :math:`z_{1-\alpha/2}`."""
    return NormalDist().inv_cdf(1 - false_alarm / 2)


def power_quantile(power: float = POWER) -> float:
    return NormalDist().inv_cdf(power)


def test(estimates: list[Estimate], false_alarm: float = FALSE_ALARM_PER_CHECK) -> list[Statistic]:
    """Test every estimate at ``false_alarm / len(estimates)`` (Bonferroni)."""
    if not estimates:
        raise ValueError("a check must test at least one estimate")
    each = false_alarm / len(estimates)
    z_alarm, z_power = critical_value(each), power_quantile()
    out = []
    for e in estimates:
        if not (e.std_error > 0 and math.isfinite(e.std_error)):
            raise ValueError(f"{e.name}: standard error must be positive and finite, got {e.std_error}")
        threshold = z_alarm * e.std_error
        passed = math.isfinite(e.estimate) and abs(e.estimate - e.expected) <= threshold
        out.append(Statistic(e.name, e.estimate, e.expected, e.std_error, each, threshold,
                             (z_alarm + z_power) * e.std_error, passed))
    return out


# --- estimators: torch tensors of i.i.d. samples along dim 0, float64 accumulation ---

def _f64(samples: torch.Tensor) -> torch.Tensor:
    return samples.detach().to(torch.float64).reshape(samples.shape[0], -1)


def mean(name: str, samples: torch.Tensor, expected: float) -> Estimate:
    """Sample mean; SE = sample std / sqrt(n)."""
    s = _f64(samples).flatten()
    return Estimate(name, s.mean().item(), float(expected), (s.std() / math.sqrt(s.numel())).item())


def variance(name: str, samples: torch.Tensor, expected: float) -> Estimate:
    r"""Unbiased sample variance; SE :math:`= \sqrt{(m_4 - m_2^2)/n}` from the sample's own
    central moments, so it is valid for non-Gaussian laws too."""
    s = _f64(samples).flatten()
    centered_sq = (s - s.mean()) ** 2
    return Estimate(name, s.var().item(), float(expected), (centered_sq.std() / math.sqrt(s.numel())).item())


def covariance(name: str, a: torch.Tensor, b: torch.Tensor, expected: float) -> Estimate:
    """Sample covariance; SE from the spread of the centered products."""
    a, b = _f64(a).flatten(), _f64(b).flatten()
    products = (a - a.mean()) * (b - b.mean())
    n = a.numel()
    return Estimate(name, (products.sum() / (n - 1)).item(), float(expected), (products.std() / math.sqrt(n)).item())


def regression(
    names: list[str], response: torch.Tensor, regressors: list[torch.Tensor], expected: list[float],
    residual_var_name: str, expected_residual_var: float,
) -> list[Estimate]:
    r"""Least squares of ``response`` on ``regressors`` (no intercept), with the usual
    :math:`\hat\sigma^2 (X^\top X)^{-1}` standard errors, and the residual variance
    (SE from the spread of the squared residuals)."""
    y = _f64(response).flatten()
    design = torch.stack([_f64(r).flatten() for r in regressors], dim=1)
    n, p = design.shape
    gram = design.T @ design
    coef = torch.linalg.solve(gram, design.T @ y)
    residual = y - design @ coef
    residual_var = (residual @ residual) / (n - p)
    coef_se = torch.sqrt(residual_var * torch.diagonal(torch.linalg.inv(gram)))
    out = [Estimate(nm, c.item(), float(ex), se.item()) for nm, c, ex, se in zip(names, coef, expected, coef_se)]
    out.append(Estimate(residual_var_name, residual_var.item(), float(expected_residual_var),
                        ((residual**2).std() / math.sqrt(n)).item()))
    return out
