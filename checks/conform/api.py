r"""Does *your* sampler conform? ``conform(step, schedule, reference)`` and its verdict.

The user's step ``step(x_t, model_output, t, noise) -> x_prev`` (elementwise over a batch, torch
tensors) is read at every timestep of ``schedule`` (:mod:`checks.conform.kernel`) and compared with
the derived kernel of the reference (DDIM with :math:`\eta`, or DDPM) from :math:`\bar\alpha_t` to the
next timestep of the schedule, and to :math:`\bar\alpha = 1` after the last one (the textbook's
bookkeeping: Ho et al., Algorithm 2; Song et al., eq. (12)). The comparison is deterministic: the
tolerance (:func:`checks.conform.reference.tolerance`) bounds the rounding of a correct step, so a
conforming step is never rejected (false-alarm probability 0) and a wrong kernel is rejected once
its error exceeds a few dozen roundings of the step's dtype.

Also reported: the previous timestep each step implies, whether it is affine at all, and the exact
:math:`W_2` to Gaussian data of its output law through the whole loop, next to the textbook's.

Example::

    from checks.conform import Schedule, conform

    verdict = conform(my_step, Schedule.from_betas(betas, timesteps), "ddim", eta=0.0)
    assert verdict.passed, verdict.summary()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from checks.conform import kernel, law, loop
from checks.conform.reference import Reference, errors, tolerance


@dataclass(frozen=True)
class Schedule:
    """The training table :math:`\\bar\\alpha_t`, ``t = 0..T-1``, and the decreasing timesteps the sampler visits."""

    alphas_cumprod: np.ndarray
    timesteps: tuple[int, ...]

    def __post_init__(self) -> None:
        table = np.asarray(self.alphas_cumprod, dtype=np.float64)
        object.__setattr__(self, "alphas_cumprod", table)
        object.__setattr__(self, "timesteps", tuple(int(t) for t in self.timesteps))
        if table.ndim != 1 or not np.all((table > 0) & (table < 1)):
            raise ValueError("alphas_cumprod must be a 1-D array of values in (0, 1)")
        steps = np.array(self.timesteps)
        if len(steps) == 0 or np.any(np.diff(steps) >= 0) or steps.min() < 0 or steps.max() >= len(table):
            raise ValueError(f"timesteps must decrease strictly within 0..{len(table) - 1}")

    @classmethod
    def from_betas(cls, betas: Sequence[float], timesteps: Sequence[int]) -> "Schedule":
        return cls(np.cumprod(1 - np.asarray(betas, dtype=np.float64)), tuple(timesteps))

    @classmethod
    def linear(cls, steps: int, train_steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02,
               spacing: str = "leading") -> "Schedule":
        """Ho et al.'s linear betas, and ``steps`` timesteps spaced like diffusers' ``DDIMScheduler``."""
        from derivations.families.ddim import scheduler_timesteps

        timesteps, _ = scheduler_timesteps(spacing, train_steps, steps)
        return cls.from_betas(np.linspace(beta_start, beta_end, train_steps), tuple(timesteps))


@dataclass(frozen=True)
class StepVerdict:
    timestep: int
    expected_previous: int  # the schedule's next timestep (-1: the clean level)
    implied_previous: int  # where the step's gain on x_t lands (-1: clean; -2: not finite)
    a: float
    b: float
    s: float
    expected: tuple[float, float, float]
    mean_error: float  # in tolerances
    noise_error: float
    offset: float

    @property
    def passed(self) -> bool:
        return self.mean_error <= 1 and self.noise_error <= 1 and self.offset == 0


@dataclass(frozen=True)
class Verdict:
    reference: str
    steps: tuple[StepVerdict, ...]
    affine_residual: float
    affine_tolerance: float
    nonfinite_steps: int
    w2: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def affine(self) -> bool:
        return self.affine_residual <= self.affine_tolerance

    @property
    def passed(self) -> bool:
        return self.affine and self.nonfinite_steps == 0 and all(s.passed for s in self.steps)

    @property
    def max_error(self) -> float:
        """The largest coefficient error, in tolerances (at most 1 to pass)."""
        return max(max(s.mean_error, s.noise_error) for s in self.steps)

    def failures(self) -> list[str]:
        out = [] if self.affine else [f"the step is not affine (residual {self.affine_residual:.3g})"]
        if self.nonfinite_steps:
            out.append(f"non-finite output on {self.nonfinite_steps} steps")
        for s in self.steps:
            if s.passed:
                continue
            what = []
            if s.implied_previous != s.expected_previous:
                what.append(f"lands on t={s.implied_previous}, the schedule's next is {s.expected_previous}")
            if s.mean_error > 1:
                what.append(f"(A, B) = ({s.a:.6g}, {s.b:.6g}), derived ({s.expected[0]:.6g}, {s.expected[1]:.6g})")
            if s.noise_error > 1:
                what.append(f"noise std {s.s:.6g}, derived {s.expected[2]:.6g}")
            if s.offset:
                what.append(f"constant offset {s.offset:.3g}")
            out.append(f"t={s.timestep}: " + "; ".join(what))
        return out

    def summary(self) -> str:
        head = (f"{'conforms to' if self.passed else 'does NOT conform to'} {self.reference} "
                f"(max error {self.max_error:.3g} x tolerance over {len(self.steps)} steps)")
        return "\n".join([head, *self.failures()])


def conform(step: kernel.StepFn, schedule: Schedule, reference: str | Reference = "ddim", *, eta: float = 0.0,
            variance: str = "small", prediction: str = "epsilon", dtype: torch.dtype = torch.float64,
            data: Sequence[law.GaussianData] = law.DATA) -> Verdict:
    """Hold ``step`` to ``reference`` ("ddim" with ``eta``, or "ddpm" with ``variance`` "small" or
    "large") on ``schedule``; the model output is ``prediction`` ("epsilon", "v_prediction", "sample")."""
    ref = reference if isinstance(reference, Reference) else Reference(reference, eta, variance, prediction)
    table, timesteps = schedule.alphas_cumprod, list(schedule.timesteps)
    w = loop.walk(step, table, timesteps, ref.prediction, data, dtype)
    alpha_bar = table[timesteps]
    expected_previous = timesteps[1:] + [-1]
    alpha_bar_prev = np.append(alpha_bar[1:], 1.0)
    e = errors(ref, w.a, w.b, w.s, alpha_bar, alpha_bar_prev, dtype)
    implied = loop.implied_previous(w, table, timesteps, ref.prediction)
    steps = tuple(StepVerdict(t, expected_previous[i], implied[i], float(w.a[i]), float(w.b[i]), float(w.s[i]),
                              (float(e.expected.a[i]), float(e.expected.b[i]), float(e.expected.s[i])),
                              float(e.mean[i]), float(e.noise[i]), float(w.offset[i]))
                  for i, t in enumerate(timesteps))
    size = float(np.nanmax(np.abs(w.a) + np.abs(w.b) + np.abs(w.s), initial=1.0))
    affine_tolerance = float(np.max(tolerance(alpha_bar, alpha_bar_prev, dtype))) * size
    w2 = loop.w2_table(ref, [float(v) for v in alpha_bar] + [1.0], data, w.laws)
    return Verdict(ref.label, steps, w.affine_residual, affine_tolerance, w.nonfinite_steps, w2)
