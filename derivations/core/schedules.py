r"""Noise schedules of the discrete VP process, by name.

A schedule gives :math:`\beta_1, \dots, \beta_T`; everything else is derived:
:math:`\alpha_t = 1 - \beta_t`, :math:`\bar\alpha_t = \prod_{s \le t}\alpha_s`,
and :math:`\bar\alpha_0 = 1`. Arrays are float64 and indexed by :math:`t`
(entry 0 is :math:`t = 0`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

_SCHEDULES: dict[str, Callable[[int], np.ndarray]] = {}


def schedule(name: str) -> Callable:
    def register(fn: Callable[[int], np.ndarray]) -> Callable:
        if name in _SCHEDULES:
            raise ValueError(f"schedule {name!r} is registered twice")
        _SCHEDULES[name] = fn
        return fn

    return register


@schedule("linear")
def linear(steps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """Ho et al. (2020): betas linear from 1e-4 to 0.02."""
    return np.linspace(beta_start, beta_end, steps, dtype=np.float64)


@schedule("scaled_linear")
def scaled_linear(steps: int, beta_start: float = 0.00085, beta_end: float = 0.012) -> np.ndarray:
    """Latent diffusion / Stable Diffusion: square roots of the betas linear."""
    return np.linspace(beta_start**0.5, beta_end**0.5, steps, dtype=np.float64) ** 2


@schedule("cosine")
def cosine(steps: int, offset: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """Nichol & Dhariwal (2021): alpha_bar(t) = cos^2(((t/T + s)/(1 + s)) pi/2), betas clipped."""
    t = np.arange(steps + 1, dtype=np.float64) / steps
    alpha_bar = np.cos((t + offset) / (1 + offset) * np.pi / 2) ** 2
    return np.minimum(1 - alpha_bar[1:] / alpha_bar[:-1], max_beta)


@dataclass(frozen=True)
class Schedule:
    """A discrete schedule with every derived quantity, indexed by t = 0..T."""

    name: str
    beta: np.ndarray  # beta[0] is unused (nan): t starts at 1
    alpha: np.ndarray
    alpha_bar: np.ndarray

    @property
    def steps(self) -> int:
        return len(self.beta) - 1

    def at(self, t: int) -> dict[str, float]:
        """Notation values at step t (1 <= t <= T), by code name."""
        if not 1 <= t <= self.steps:
            raise ValueError(f"t must be in 1..{self.steps}, got {t}")
        return {
            "beta_t": self.beta[t],
            "alpha_t": self.alpha[t],
            "alpha_bar_t": self.alpha_bar[t],
            "alpha_bar_prev": self.alpha_bar[t - 1],
        }


def make(name: str, steps: int = 1000, **params: float) -> Schedule:
    """The schedule ``name`` with ``steps`` steps; betas must lie in (0, 1)."""
    try:
        betas = _SCHEDULES[name](steps, **params)
    except KeyError:
        raise ValueError(f"unknown schedule {name!r}; known: {', '.join(sorted(_SCHEDULES))}") from None
    if not np.all((betas > 0) & (betas < 1)):
        raise ValueError(f"schedule {name!r}: every beta must lie in (0, 1)")
    beta = np.concatenate([[np.nan], betas])
    alpha = 1 - beta
    alpha_bar = np.concatenate([[1.0], np.cumprod(alpha[1:])])
    return Schedule(name, beta, alpha, alpha_bar)


def names() -> list[str]:
    return sorted(_SCHEDULES)
