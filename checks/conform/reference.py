r"""The reference a step is held to, and the one rule that compares a read kernel with it.

A :class:`Reference` names the derived kernel (:mod:`checks.conform.derived`) and the catalogue
rule that walks the same grid (:mod:`checks.conform.textbook`). :func:`errors` is the comparison
used for libraries and users alike: each coefficient's error relative to the kernel's size
:math:`|A| + |B| + |S|`, in units of :func:`tolerance`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from checks.conform import derived

# Roundings between the schedule and a coefficient (a few products, quotients and square roots),
# with head room; times the unit roundoff and the step's conditioning (see tolerance()).
ROUNDINGS = 64
KINDS = ("ddim", "ddpm")


def tolerance(alpha_bar: np.ndarray, alpha_bar_prev: np.ndarray, dtype: torch.dtype = torch.float64,
              noise_var: np.ndarray | float = 0.0) -> np.ndarray:
    r"""Allowed relative error of a step's coefficients: ``ROUNDINGS`` unit roundoffs of ``dtype`` times
    the condition numbers of the kernels' three cancellations, :math:`1 - r` with
    :math:`r = \bar\alpha_{\tau_i}/\bar\alpha_{\tau_{i-1}}`, :math:`1 - \bar\alpha_{\tau_{i-1}}` (none onto the
    clean level) and DDIM's :math:`1 - \bar\alpha_{\tau_{i-1}} - \sigma^2` (``noise_var`` :math:`= \sigma^2`):
    :math:`(1 + \tfrac{r}{1-r})(1 + \tfrac{\bar\alpha_{\tau_{i-1}}}{1-\bar\alpha_{\tau_{i-1}}})
    (1 + \tfrac{\sigma^2}{1-\bar\alpha_{\tau_{i-1}}-\sigma^2})`. Rounding alone stays below it, so a
    conforming step is never rejected (no false alarm), and a wrong kernel is rejected unless its error
    is below rounding."""
    below_one = 1 - np.finfo(np.float64).eps
    alpha_bar_prev = np.asarray(alpha_bar_prev, dtype=np.float64)
    ratio = np.minimum(np.asarray(alpha_bar) / alpha_bar_prev, below_one)
    prev = np.where(alpha_bar_prev >= 1, 0.0, np.minimum(alpha_bar_prev, below_one))
    direction = np.maximum(1 - prev - noise_var, np.finfo(np.float64).tiny)
    return (ROUNDINGS * torch.finfo(dtype).eps * (1 + ratio / (1 - ratio)) * (1 + prev / (1 - prev))
            * (1 + noise_var / direction))


def loop_tolerance(sigmas: np.ndarray, dtype: torch.dtype = torch.float64) -> float:
    r"""Allowed relative error of a whole run's output law on the decreasing noise levels ``sigmas``
    (variance-exploding, :math:`x_\sigma = x_0 + \sigma z`): ``ROUNDINGS`` unit roundoffs of ``dtype`` per step,
    times the step's cancellation :math:`\sigma_i - \sigma_{i+1}`, condition
    :math:`1 + \sigma_{i+1}/(\sigma_i - \sigma_{i+1})`, summed over the steps (roundings add up along the
    loop; the flow contracts them, so the sum bounds them). Rounding alone stays below it, so a
    conforming sampler is never rejected."""
    sigmas = np.asarray(sigmas, dtype=np.float64)
    now, nxt = sigmas[:-1], sigmas[1:]
    gap = now - nxt
    # A step of size 0 (a grid ending on sigma_min twice) cancels nothing: its roundings alone.
    condition = np.where(gap > 0, 1 + nxt / np.where(gap > 0, gap, 1.0), 1.0)
    return float(ROUNDINGS * torch.finfo(dtype).eps * np.sum(condition))


@dataclass(frozen=True)
class Reference:
    """DDIM with ``eta`` or DDPM with the posterior's (``small``) or the forward (``large``) variance,
    for a model predicting ``prediction``."""

    kind: str = "ddim"
    eta: float = 0.0
    variance: str = "small"
    prediction: str = "epsilon"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown reference {self.kind!r}; known: {', '.join(KINDS)}")
        if self.prediction not in derived.PREDICTIONS:
            raise ValueError(f"unknown prediction {self.prediction!r}; known: {', '.join(derived.PREDICTIONS)}")
        if self.variance not in derived.VARIANCES:
            raise ValueError(f"unknown DDPM variance {self.variance!r}; known: {', '.join(derived.VARIANCES)}")
        if not 0.0 <= self.eta <= 1.0:
            raise ValueError(f"eta must lie in [0, 1], got {self.eta}")

    @property
    def label(self) -> str:
        return (f"DDIM eta={self.eta:g}" if self.kind == "ddim" else f"DDPM ({self.variance} variance)") + \
            f", {self.prediction} model"

    def coefficients(self, alpha_bar: np.ndarray, alpha_bar_prev: np.ndarray) -> derived.Coefficients:
        if self.kind == "ddpm":
            return derived.ddpm(alpha_bar, alpha_bar_prev, self.prediction, self.variance)
        return derived.ddim(alpha_bar, alpha_bar_prev, self.prediction, self.eta)

    @property
    def scheme(self) -> tuple[str, dict]:
        """The catalogue rule and its options."""
        if self.kind == "ddpm":
            return "ddpm_ancestral", {"variance": "beta" if self.variance == "large" else "beta_tilde"}
        return "ddim", {"eta": self.eta}


@dataclass(frozen=True)
class Errors:
    """Per step, in units of the tolerance: the mean's coefficients (A, B) and the noise's (S)."""

    mean: np.ndarray
    noise: np.ndarray
    expected: derived.Coefficients


def errors(reference: Reference, a: np.ndarray, b: np.ndarray, s: np.ndarray, alpha_bar: np.ndarray,
           alpha_bar_prev: np.ndarray, dtype: torch.dtype = torch.float64) -> Errors:
    """The read coefficients against the reference's from ``alpha_bar`` to ``alpha_bar_prev`` (a non-finite
    coefficient is an infinite error)."""
    ref = reference.coefficients(alpha_bar, alpha_bar_prev)
    with np.errstate(invalid="ignore"):
        allowed = tolerance(alpha_bar, alpha_bar_prev, dtype, ref.s**2 if reference.kind == "ddim" else 0.0)
        scale = (np.abs(ref.a) + np.abs(ref.b) + np.abs(ref.s)) * allowed
        mean = np.maximum(np.abs(a - ref.a), np.abs(b - ref.b)) / scale
        noise = np.abs(s - ref.s) / scale
    return Errors(np.nan_to_num(mean, nan=np.inf), np.nan_to_num(noise, nan=np.inf), ref)
