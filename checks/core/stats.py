r"""The one statistical rule of the suite: z-tests with a stated false-alarm probability.

A check produces :class:`Estimate` records (an estimate, the value the
derivation predicts, and the estimate's standard error). :func:`test`
turns them into :class:`Statistic` verdicts:

* each check is given a false-alarm probability :math:`\alpha` (default
  :data:`FALSE_ALARM_PER_CHECK`), split evenly (Bonferroni) over its ``k``
  estimates, so a correct check fails with probability at most :math:`\alpha`, *nominally*: the
  threshold rests on an approximation of each estimate's sampling law (normal, calibrated to second
  order where the summands' shape is known), used far in its tail (:math:`|z| \approx 5.3` at
  :math:`10^{-6}`), so the bound is a nominal, not an exact, one (``benchmarks/false_alarm_rate.py``
  measures the z-scores' law against it);
* an estimate fails when :math:`|\hat\theta - \theta| > b + c_{1-\alpha/(2k)}\,\mathrm{SE}`, where
  :math:`b` is the discretisation bias the check allows for (``Estimate.bias_allowance``: a bound
  it states rather than a bias it derives; 0 where the expected value already includes the derived
  bias) and :math:`c` the critical value of the estimate's reference law: the normal quantile for a
  mean of independent samples (at least :data:`MIN_SAMPLES` of them), or the Student t quantile with
  :math:`B - 1` degrees of freedom for a statistic estimated by batch means (:func:`batch_means`:
  exact for normal batch means at any sample size); where an estimate carries the shape of its
  summands (the sample mean, variance, covariance and residual variance below do), the normal
  critical value is calibrated to second order (:func:`calibrated_critical_value`: the Edgeworth
  term of order :math:`1/n` of a studentized mean, which at :math:`c \approx 5` multiplies the
  tail of a heavy-tailed statistic, a variance of log-normal values for one, several times over);
* the smallest error detected with probability :data:`POWER` is
  :math:`2b + (c_{1-\alpha/(2k)} + c_{\mathrm{POWER}})\,\mathrm{SE}` (the worst case: a true bias of
  :math:`-b` against the error).

Over the suite, the nominal probability that any correct check fails is at most the
number of checks times :math:`\alpha` (Bonferroni again).
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, fields, replace
from statistics import NormalDist
from typing import Callable

import mpmath
import torch

FALSE_ALARM_PER_CHECK = 1e-6
POWER = 0.99
# The floor on a check's sample size, for the normal approximation of its means; the CLI
# refuses a smaller --samples before any command runs.
MIN_SAMPLES = 1_000
# Batches of a batch-means estimate: the t reference then has BATCHES - 1 degrees of freedom. More
# batches narrow the t quantile towards the normal one (power); fewer make each batch's statistic
# nearer to normal (validity). At 1e-6 / 16 two-sided, t with 99 dof needs 5.85 SE against the
# normal 5.41: the detectable error (99 % power) grows by 6 %, the price of a bound that holds in the tails.
BATCHES = 100

# The kind of a statistic: what it estimates, which shapes the law of its z-score at finite n (a variance's
# summands are squares, skewed where a mean's need not be). Each estimator below stamps its kind on its
# estimates; a check names one only where its statistic is a special case of an estimator (a KL as the
# mean of log-ratios). ``benchmarks/false_alarm_rate.py`` groups the z-scores of its sweep by kind.
MEAN = "mean"
SECOND_MOMENT = "variance / second moment"
COVARIANCE = "covariance"
THIRD_MOMENT = "third moment"
FOURTH_MOMENT = "fourth moment"
PROPORTION = "proportion"
REGRESSION_COEFFICIENT = "regression coefficient"
SAMPLED_KL = "KL (sampled)"
TWEEDIE_FIRST = "Tweedie first-moment condition"
TWEEDIE_SECOND = "Tweedie second-moment condition"
EXACT_LAW = "exact law (not sampled)"
UNCLASSIFIED = "other"
KINDS: dict[str, str] = {
    MEAN: "a sample mean of i.i.d. values",
    SECOND_MOMENT: "an unbiased variance or a mean of squares",
    COVARIANCE: "a covariance: a mean of centred products",
    THIRD_MOMENT: "a mean of cubes (a standardized third moment)",
    FOURTH_MOMENT: "a mean of fourth powers (a standardized fourth moment)",
    PROPORTION: "the fraction of samples in a set (a binomial count over n)",
    REGRESSION_COEFFICIENT: "a least-squares coefficient",
    SAMPLED_KL: "a KL divergence as the mean of log-ratios",
    TWEEDIE_FIRST: "E[(x - m(y)) g(y)] = 0: a residual times a function of the observation",
    TWEEDIE_SECOND: "E[((x - m(y))^2 - v(y)) g(y)] = 0: a squared residual's excess times a function",
    EXACT_LAW: "a scheme's exact law against the derived one (not sampled: z is 0 up to rounding)",
    UNCLASSIFIED: "an estimate built by hand that names no kind",
}


@dataclass(frozen=True)
class Estimate:
    """A simulated estimate of a quantity the derivation predicts."""

    name: str
    estimate: float
    expected: float
    std_error: float
    dof: int | None = None  # None: normal reference law; else Student t with this many degrees of freedom
    bias_allowance: float = 0.0  # the discretisation bias the threshold allows for (a stated bound)
    # The shape of the summands when the estimate is their mean (count 0: not given): the threshold's
    # second-order (Edgeworth) calibration reads them.
    skewness: float = 0.0
    excess_kurtosis: float = 0.0
    count: int = 0
    kind: str = UNCLASSIFIED  # one of KINDS: what the estimate is (a mean, a variance, ...)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown statistic kind {self.kind!r} (one of {', '.join(KINDS)})")


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
    dof: int | None = None
    bias_allowance: float = 0.0
    skewness: float = 0.0
    excess_kurtosis: float = 0.0
    count: int = 0
    kind: str = UNCLASSIFIED  # the estimate's (evidence written before kinds were recorded reads as UNCLASSIFIED)

    @property
    def critical(self) -> float:
        """The critical value the threshold used: (threshold - bias allowance) / SE."""
        return (self.threshold - self.bias_allowance) / self.std_error

    @property
    def z(self) -> float:
        return (self.estimate - self.expected) / self.std_error if self.std_error > 0 else math.inf

    @property
    def relative_detectable_error(self) -> float:
        return self.detectable_error / abs(self.expected) if self.expected else math.inf

    def as_dict(self) -> dict:
        return asdict(self) | {"z": self.z}

    @classmethod
    def from_dict(cls, values: dict) -> "Statistic":
        """The inverse of :meth:`as_dict` (which adds the derived ``z``); fields with a default may be absent."""
        return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})


def critical_value(false_alarm: float, dof: int | None = None) -> float:
    r"""Two-sided :math:`c_{1-\alpha/2}` of N(0, 1), or of Student's t with ``dof`` degrees of freedom."""
    return quantile(1 - false_alarm / 2, dof)


def power_quantile(power: float = POWER, dof: int | None = None) -> float:
    return quantile(power, dof)


@functools.lru_cache(maxsize=None)
def quantile(probability: float, dof: int | None = None) -> float:
    r"""The ``probability`` quantile of N(0, 1) (``dof=None``) or of Student's t with ``dof`` degrees of
    freedom, whose upper tail is :math:`P(T > t) = \tfrac12 I_{\nu/(\nu + t^2)}(\nu/2, 1/2)`; solved
    by bisection at 30 digits (the tails used lie far below double precision's reach of 1 - p)."""
    if dof is None:
        return NormalDist().inv_cdf(probability)
    if dof < 1:
        raise ValueError(f"Student's t needs at least one degree of freedom, got {dof}")
    with mpmath.workdps(30):
        tail = mpmath.mpf(1) - mpmath.mpf(probability) if probability > 0.5 else mpmath.mpf(probability)

        def upper(t):
            return mpmath.betainc(dof / mpmath.mpf(2), mpmath.mpf(1) / 2, 0, dof / (dof + t * t), regularized=True) / 2

        lo, hi = mpmath.mpf(0), mpmath.mpf(1)
        while upper(hi) > tail:
            lo, hi = hi, 2 * hi
        for _ in range(80):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if upper(mid) > tail else (lo, mid)
        value = float((lo + hi) / 2)
    return value if probability > 0.5 else -value


def test(estimates: list[Estimate], false_alarm: float = FALSE_ALARM_PER_CHECK) -> list[Statistic]:
    """Test every estimate at ``false_alarm / len(estimates)`` (Bonferroni)."""
    if not estimates:
        raise ValueError("a check must test at least one estimate")
    each = false_alarm / len(estimates)
    out = []
    for e in estimates:
        if not (e.std_error > 0 and math.isfinite(e.std_error)):
            raise ValueError(f"{e.name}: standard error must be positive and finite, got {e.std_error}")
        if not (e.bias_allowance >= 0 and math.isfinite(e.bias_allowance)):
            raise ValueError(f"{e.name}: bias allowance must be finite and >= 0, got {e.bias_allowance}")
        c_alarm = (critical_value(each, e.dof) if e.dof is not None
                   else calibrated_critical_value(each, e.skewness, e.excess_kurtosis, e.count))
        c_power = power_quantile(POWER, e.dof)
        threshold = e.bias_allowance + c_alarm * e.std_error
        passed = math.isfinite(e.estimate) and abs(e.estimate - e.expected) <= threshold
        out.append(Statistic(e.name, e.estimate, e.expected, e.std_error, each, threshold,
                             2 * e.bias_allowance + (c_alarm + c_power) * e.std_error, passed, e.dof,
                             e.bias_allowance, e.skewness, e.excess_kurtosis, e.count, e.kind))
    return out


# --- estimators: torch tensors of i.i.d. samples along dim 0, float64 accumulation ---

def _f64(samples: torch.Tensor) -> torch.Tensor:
    return samples.detach().to(torch.float64).reshape(samples.shape[0], -1)


def mean(name: str, samples: torch.Tensor, expected: float, kind: str = MEAN) -> Estimate:
    """Sample mean; SE = sample std / sqrt(n). ``kind``: what the mean is, where it is a special one
    (a KL as a mean of log-ratios, a moment condition)."""
    s = _f64(samples).flatten()
    return Estimate(name, s.mean().item(), float(expected), (s.std() / math.sqrt(s.numel())).item(),
                    **summand_shape(s), kind=kind)


def variance(name: str, samples: torch.Tensor, expected: float) -> Estimate:
    r"""Unbiased sample variance; SE :math:`= \sqrt{(m_4 - m_2^2)/n}` from the sample's own
    central moments, so it is valid for non-Gaussian laws too."""
    s = _f64(samples).flatten()
    centered_sq = (s - s.mean()) ** 2
    return Estimate(name, s.var().item(), float(expected), (centered_sq.std() / math.sqrt(s.numel())).item(),
                    **summand_shape(centered_sq), kind=SECOND_MOMENT)


def covariance(name: str, a: torch.Tensor, b: torch.Tensor, expected: float) -> Estimate:
    """Sample covariance; SE from the spread of the centered products."""
    a, b = _f64(a).flatten(), _f64(b).flatten()
    products = (a - a.mean()) * (b - b.mean())
    n = a.numel()
    return Estimate(name, (products.sum() / (n - 1)).item(), float(expected), (products.std() / math.sqrt(n)).item(),
                    **summand_shape(products), kind=COVARIANCE)


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
    out = [Estimate(nm, c.item(), float(ex), se.item(), kind=REGRESSION_COEFFICIENT)
           for nm, c, ex, se in zip(names, coef, expected, coef_se)]
    out.append(Estimate(residual_var_name, residual_var.item(), float(expected_residual_var),
                        ((residual**2).std() / math.sqrt(n)).item(), **summand_shape(residual**2), kind=SECOND_MOMENT))
    return out


def studentized_tail(c: float, skewness: float, excess_kurtosis: float, count: int) -> float:
    r""":math:`P(|T| > c)` for the studentized mean :math:`T = \sqrt n(\bar x - \mu)/s` of ``count`` i.i.d.
    summands of the given skewness :math:`\gamma` and excess kurtosis :math:`\kappa`, to order :math:`1/n`
    (Edgeworth; Hall 1992, *The Bootstrap and Edgeworth Expansion*, sec. 2.6): the :math:`n^{-1/2}` term is
    even in :math:`c` and cancels in the two-sided tail, leaving
    :math:`2\Phi(-c) - 2 q_2(c)\,\varphi(c)/n`,
    :math:`q_2(c) = c\,[\kappa (c^2 - 3)/12 - \gamma^2 (c^4 + 2c^2 - 3)/18 - (c^2 + 1)/4]`.

    Hall's :math:`q_2` ends in :math:`(c^2 + 3)/4` for :math:`s^2` with divisor :math:`n`; the estimators here
    divide by :math:`n - 1` (``std()``), which scales :math:`T` by :math:`\sqrt{(n-1)/n}` and adds
    :math:`c/2` to :math:`q_2`. For normal summands :math:`T` is Student's t with :math:`n - 1` degrees of
    freedom, whose tail this matches to order :math:`1/n^2` (``tests/test_stats_exact.py``)."""
    q2 = c * (excess_kurtosis * (c * c - 3) / 12 - skewness**2 * (c**4 + 2 * c * c - 3) / 18 - (c * c + 1) / 4)
    density = math.exp(-c * c / 2) / math.sqrt(2 * math.pi)
    return 2 * NormalDist().cdf(-c) - 2 * q2 * density / count


def calibrated_critical_value(false_alarm: float, skewness: float = 0.0, excess_kurtosis: float = 0.0,
                              count: int = 0) -> float:
    r"""The two-sided critical value of a studentized mean, calibrated to second order: the :math:`c`
    whose :func:`studentized_tail` is ``false_alarm``, never below the normal :math:`z_{1-\alpha/2}`
    (which it is when ``count`` is 0: no shape given). Heavy-tailed summands (a variance of log-normal
    values, a product of squares) put :math:`\gamma^2 c^5/(18 n)` of extra mass in the tails at
    :math:`c \approx 5`, a multiple of the nominal probability that the normal threshold ignores."""
    z = critical_value(false_alarm)
    if count <= 0 or studentized_tail(z, skewness, excess_kurtosis, count) <= false_alarm:
        return z
    lo, hi = z, z + 1.0
    while studentized_tail(hi, skewness, excess_kurtosis, count) > false_alarm:
        lo, hi = hi, hi + 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if studentized_tail(mid, skewness, excess_kurtosis, count) > false_alarm else (lo, mid)
    return (lo + hi) / 2


def summand_shape(summands: torch.Tensor) -> dict:
    """Skewness, excess kurtosis and count of a flat float64 tensor of summands (Estimate's shape fields)."""
    centred = summands - summands.mean()
    m2 = float((centred**2).mean())
    if m2 <= 0:
        return {"count": summands.numel()}
    return {"skewness": float((centred**3).mean()) / m2**1.5, "excess_kurtosis": float((centred**4).mean()) / m2**2 - 3,
            "count": summands.numel()}


def detectable_multiple(k: int, false_alarm: float = FALSE_ALARM_PER_CHECK) -> float:
    r""":math:`z_{1-\alpha/(2k)} + z_{\mathrm{POWER}}`: the detectable error of a normal-reference
    estimate of a check with ``k`` estimates, in standard errors (no bias allowance)."""
    return critical_value(false_alarm / k) + power_quantile()


def allow_bias(estimates: list[Estimate], bias_in_se: float) -> list[Estimate]:
    """The same estimates with a bias allowance of ``bias_in_se`` standard errors each: for a check
    that bounds its discretisation bias (in units of each statistic's SE) instead of deriving it."""
    return [replace(e, bias_allowance=bias_in_se * e.std_error) for e in estimates]


def batch_means(
    name: str, samples: torch.Tensor, expected: float,
    statistic: Callable[[torch.Tensor], torch.Tensor] = lambda batch: batch.mean(dim=0),
    batches: int = BATCHES, bias_allowance: float = 0.0, kind: str = MEAN,
) -> Estimate:
    r"""A statistic by batch means: the i.i.d. ``samples`` (along dim 0) are split into ``batches``
    contiguous batches of equal size (a remainder is left out), ``statistic`` is computed on each
    (default: its mean; the unbiased variance, a moment, ... must be unbiased at the batch size, so
    that the mean of the batch values is), and the estimate is the mean :math:`\bar\theta` of the
    :math:`B` batch values :math:`\theta_b`, with :math:`\mathrm{SE} = s_\theta/\sqrt B` and a
    Student t reference with :math:`B - 1` degrees of freedom: the bound holds exactly for normal
    batch values, and batch values of :math:`n/B` samples are much nearer to normal than the plug-in
    SE of a skewed statistic is to its limit (its numerator and its SE come from one sample)."""
    x = samples.detach().to(torch.float64)
    size = x.shape[0] // batches
    if batches < 2 or size < 2:
        raise ValueError(f"{name}: {x.shape[0]} samples cannot make {batches} batches of at least 2")
    values = torch.stack([statistic(x[b * size:(b + 1) * size]).reshape(()) for b in range(batches)])
    return Estimate(name, values.mean().item(), float(expected), (values.std() / math.sqrt(batches)).item(),
                    dof=batches - 1, bias_allowance=bias_allowance, kind=kind)


def batch_variance(name: str, samples: torch.Tensor, expected: float, batches: int = BATCHES) -> Estimate:
    """Unbiased sample variance of one coordinate by :func:`batch_means` (the mean of the batches'
    unbiased variances)."""
    return batch_means(name, samples.reshape(samples.shape[0]), expected, lambda batch: batch.var(), batches,
                       kind=SECOND_MOMENT)


# --- streaming moments and the tests built on them (float64 accumulators) ---

class RunningMoments:
    r"""Per-coordinate shifted power sums :math:`S_j = \sum_i (x_i - c)^j`, :math:`j = 1..4`, in float64.

    The shift :math:`c` is the first chunk's mean, so the sums stay well
    conditioned; chunks are added as they are simulated, so memory is
    :math:`4d` numbers however many samples pass (a billion path-steps of a
    3072-dimensional sampler need only the current chunk). Moments about any
    centre follow by the binomial theorem,
    :math:`E(x - a)^k = \sum_j \binom{k}{j} E(x - c)^j (c - a)^{k-j}`.
    """

    def __init__(self) -> None:
        self.count = 0
        self.shift: torch.Tensor | None = None
        self.sums: torch.Tensor | None = None  # (4, d)

    def update(self, chunk: torch.Tensor) -> "RunningMoments":
        x = _f64(chunk)
        if self.shift is None:
            self.shift = x.mean(dim=0)
            self.sums = torch.zeros(4, x.shape[1], dtype=torch.float64, device=x.device)
        centred = x - self.shift
        power = torch.ones_like(centred)
        for j in range(4):
            power = power * centred
            self.sums[j] += power.sum(dim=0)
        self.count += x.shape[0]
        return self

    def about(self, centre: torch.Tensor | float, k: int) -> torch.Tensor:
        """:math:`E(x - a)^k` per coordinate for ``centre`` a (k <= 4)."""
        if self.sums is None:
            raise ValueError("no samples accumulated")
        delta = self.shift - torch.as_tensor(centre, dtype=torch.float64, device=self.shift.device)
        raw = [torch.ones_like(self.shift)] + [self.sums[j] / self.count for j in range(4)]
        return sum(math.comb(k, j) * raw[j] * delta ** (k - j) for j in range(k + 1))

    @property
    def mean(self) -> torch.Tensor:
        return self.about(0.0, 1)

    def columns(self, index: slice) -> "RunningMoments":
        """The same sums restricted to the coordinates ``index`` (a view for separate tests)."""
        if self.sums is None:
            raise ValueError("no samples accumulated")
        part = RunningMoments()
        part.count, part.shift, part.sums = self.count, self.shift[index], self.sums[:, index]
        return part

    def central(self, k: int) -> torch.Tensor:
        return self.about(self.mean, k)


def mean_estimates(prefix: str, moments: RunningMoments, expected: torch.Tensor) -> list[Estimate]:
    """Per-coordinate sample means; SE :math:`= \\sqrt{m_2/n}`."""
    se = torch.sqrt(moments.central(2) / moments.count)
    return [Estimate(f"{prefix} mean[{j}]", float(m), float(e), float(s), kind=MEAN)
            for j, (m, e, s) in enumerate(zip(moments.mean, expected, se))]


def variance_estimates(prefix: str, moments: RunningMoments, expected: torch.Tensor) -> list[Estimate]:
    r"""Per-coordinate unbiased variances; SE :math:`= \sqrt{(m_4 - m_2^2)/n}` (any law with a 4th moment)."""
    n = moments.count
    m2, m4 = moments.central(2), moments.central(4)
    se = torch.sqrt((m4 - m2**2).clamp_min(0) / n)
    return [Estimate(f"{prefix} var[{j}]", float(v), float(e), float(s), kind=SECOND_MOMENT)
            for j, (v, e, s) in enumerate(zip(m2 * n / (n - 1), expected, se))]


# Below n p (1 - p) of this, the binomial's skewness (1 - 2p)/sqrt(n p (1 - p)) moves the
# tail probability at the z of 1e-6 false alarms by more than a factor of about two
# (Cornish-Fisher: z shifts by (z^2 - 1) * skewness / 6).
MIN_BINOMIAL_VARIANCE = 500.0


def proportion_estimates(names: list[str], moments: RunningMoments, expected: torch.Tensor) -> list[Estimate]:
    r"""Proportions :math:`\hat p_j` (the means of 0/1 indicator coordinates) against predicted :math:`p_j`.

    Under the null :math:`n\hat p_j` is binomial, so the SE is :math:`\sqrt{p_j(1 - p_j)/n}` exactly,
    from the *predicted* :math:`p_j` (a sample with no hit still has a positive SE). The normal
    approximation of the one statistical rule needs :math:`n p_j (1 - p_j) \ge`
    :data:`MIN_BINOMIAL_VARIANCE`; the sample raises when neither the prediction nor the observed
    proportion meets it (a prediction far from the data is rejected anyway, however loose the
    approximation at the prediction).
    """
    n = moments.count
    out = []
    for name, fraction, p in zip(names, moments.mean, expected.to(torch.float64)):
        binomial_var = n * max(float(p) * (1 - float(p)), float(fraction) * (1 - float(fraction)))
        if binomial_var < MIN_BINOMIAL_VARIANCE:
            raise ValueError(f"{name}: n p (1 - p) = {binomial_var:.0f} is too small for the normal approximation")
        out.append(Estimate(name, float(fraction), float(p), math.sqrt(float(p) * (1 - float(p)) / n), kind=PROPORTION))
    return out


# Var[u^k] for u ~ N(0, 1): E u^{2k} - (E u^k)^2 = 1, 3 - 1, 15, 105 - 9.
_STANDARD_NORMAL_MOMENTS = ((1, 0.0, 1.0), (2, 1.0, 2.0), (3, 0.0, 15.0), (4, 3.0, 96.0))
_MOMENT_KINDS = {1: MEAN, 2: SECOND_MOMENT, 3: THIRD_MOMENT, 4: FOURTH_MOMENT}  # the kind of E u^k


def standard_normal_moment_estimates(prefix: str, moments: RunningMoments, expected_mean: torch.Tensor,
                                     expected_var: torch.Tensor) -> list[Estimate]:
    r"""Whole-law test: the first four moments of :math:`u = (x - \mu)/\sigma`, pooled over the
    ``d`` independent coordinates, against those of :math:`\mathcal N(0, 1)` (0, 1, 0, 3).

    Under the null the :math:`n d` values of :math:`u^k` are i.i.d. with variance
    :math:`E u^{2k} - (E u^k)^2` (1, 2, 15, 96), so the SE of the pooled mean of
    :math:`u^k` is :math:`\sqrt{\mathrm{Var}(u^k)/(n d)}` exactly; skewness and
    excess kurtosis catch a non-Gaussian law whose mean and variance are right.
    """
    mu = expected_mean.to(torch.float64)
    std = torch.sqrt(expected_var.to(torch.float64))
    total = moments.count * mu.numel()
    out = []
    for k, null_value, null_var in _STANDARD_NORMAL_MOMENTS:
        pooled = (moments.about(mu, k) / std**k).mean()
        out.append(Estimate(f"{prefix} E[u^{k}]", float(pooled), null_value, math.sqrt(null_var / total),
                            kind=_MOMENT_KINDS[k]))
    return out


def loglog_slope(step_sizes, errors) -> tuple[float, float]:
    r"""Least-squares slope of :math:`\log(\text{error})` on :math:`\log h` and its standard error
    :math:`\hat\sigma/\sqrt{S_{xx}}` (:math:`\hat\sigma^2` the residual variance, :math:`n - 2` degrees
    of freedom); for noise-free errors the residuals measure the higher-order terms."""
    x = torch.log(torch.as_tensor(step_sizes, dtype=torch.float64))
    y = torch.log(torch.as_tensor(errors, dtype=torch.float64))
    if x.numel() < 3:
        raise ValueError("a fitted slope with an uncertainty needs at least three points")
    xc = x - x.mean()
    sxx = (xc @ xc)
    slope = (xc @ (y - y.mean())) / sxx
    residual = y - y.mean() - slope * xc
    se = torch.sqrt((residual @ residual) / (x.numel() - 2) / sxx)
    return float(slope), float(se)
