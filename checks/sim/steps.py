r"""The catalogue's ``ops`` over torch: how the engine runs a rule of :mod:`derivations.catalogue`.

A step :math:`t \to t'` sees the process's coefficients at :math:`t`, :math:`t'` and (on
demand) the midpoint, the score model at those times, :math:`h = t' - t`, and the run's
one source of noise. Noise is drawn by :func:`normal_like` from a ``torch.Generator``
or from any object with ``normal_like(x)`` (the scripted noise of :mod:`checks.sim.exact`,
the coupled noise of :mod:`checks.sim.engine`); every standard deviation is taken by
:func:`noise_std`, and nothing is drawn for a variance of 0 (deterministic variants draw
no noise at all).
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import Any, Callable

import torch

from checks.core.device import one_thread
from checks.sim.processes import Process
from derivations.core.step_vocabulary import churn_gamma

Model = Callable[[torch.Tensor, float], torch.Tensor]


def normal_like(x: torch.Tensor, generator) -> torch.Tensor:
    """Standard normal noise shaped like ``x`` (same device and dtype)."""
    if isinstance(generator, torch.Generator):
        return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    return generator.normal_like(x)


def noise_std(var: float) -> float:
    """The standard deviation of a noise term of variance ``var``."""
    return math.sqrt(var)


def noise_level(process: Process, time: float) -> float:
    r"""EDM's noise level :math:`\sigma(t) = \sqrt{v_t}/m_t` of the process at ``time``."""
    coefficients = process.at(time)
    return math.sqrt(coefficients.var) / coefficients.mean_coef


def half_log_snr(process: Process, time: float) -> float:
    r""":math:`\lambda(t) = \log(m_t/\sqrt{v_t})`."""
    c = process.at(time)
    return math.log(c.mean_coef) - 0.5 * math.log(c.var)


def time_at_lambda(process: Process, t: float, t_next: float, fraction: float) -> float:
    r"""The time :math:`s` between ``t_next`` and ``t`` with :math:`\lambda_s = \lambda_t + r(\lambda_{t'} - \lambda_t)`,
    by Newton's method from the time fraction (:math:`d\lambda/dt = f - v'/(2v) = -g^2/(2v)`), kept inside the
    bracket that :math:`\lambda`'s decrease gives (a step that would leave it bisects instead)."""
    target = half_log_snr(process, t) + fraction * (half_log_snr(process, t_next) - half_log_snr(process, t))
    low, high = min(t, t_next), max(t, t_next)  # lambda(low) > target > lambda(high)
    time = t + fraction * (t_next - t)
    for _ in range(200):
        c = process.at(time)
        excess = math.log(c.mean_coef) - 0.5 * math.log(c.var) - target
        low, high = (time, high) if excess > 0 else (low, time)
        candidate = time + excess * 2 * c.var / c.diffusion_sq
        if not low < candidate < high:
            candidate = (low + high) / 2
        if abs(candidate - time) <= 1e-11 * time or high - low <= 1e-15 * high:
            return candidate
        time = candidate
    raise ArithmeticError(f"no time at lambda fraction {fraction} between {t_next} and {t}")


class At:
    """One time of a step: the process's coefficients there, and the score model at that time;
    ``rise``: how far above the step's start it lies (0 but at a raised level)."""

    def __init__(self, process: Process, model: Model, time: float, rise: float = 0.0):
        self.time, self.model, self.rise = time, model, rise
        self.mean_coef, self.var, self.drift_coef, self.diffusion_sq = process.at(time)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x, self.time)


class TorchOps:
    """The ``ops`` of one step of a rule (see :mod:`derivations.catalogue` for the interface)."""

    sqrt = staticmethod(math.sqrt)
    log = staticmethod(math.log)

    def __init__(self, process: Process, model: Model, t: float, t_next: float, last: bool, generator,
                 steps: int | None = None):
        self.process, self.model, self.generator = process, model, generator
        self.t, self.h, self.last, self.steps = t, t_next - t, last, steps
        self.now, self.next = At(process, model, t), At(process, model, t_next)

    @functools.cached_property
    def mid(self) -> At:
        return At(self.process, self.model, self.t + 0.5 * self.h)

    @property
    def lands_clean(self) -> bool:
        return self.next.var == 0

    def at_lambda(self, fraction: float) -> At:
        r"""The time where :math:`\lambda = \log m - \tfrac12\log v` is ``fraction`` of the way to the step's end."""
        return At(self.process, self.model, time_at_lambda(self.process, self.t, self.t + self.h, fraction))

    def raised(self, churn: float, t_min: float, t_max: float) -> At:
        r"""The time :math:`\hat t` of EDM's churn: :math:`\sigma(\hat t) = (1 + \gamma)\sigma(t)`,
        :math:`\sigma^2 = v/m^2` (:func:`churn_gamma`), by Newton's method on :math:`\sigma^2`, whose time
        derivative is :math:`g^2/m^2` (:math:`v' = 2fv + g^2`, :math:`m' = fm`)."""
        sigma = noise_level(self.process, self.t)
        gamma = churn_gamma(sigma, self.steps, churn, t_min, t_max)
        if gamma == 0:
            return At(self.process, self.model, self.t)
        target_sq, time = ((1 + gamma) * sigma) ** 2, self.t
        for _ in range(100):
            c = self.process.at(time)
            step = (c.var / c.mean_coef**2 - target_sq) * c.mean_coef**2 / c.diffusion_sq
            time -= step
            if abs(step) <= 1e-11 * time:  # the coefficients are float64 derivatives: about 12 digits
                break
        else:
            raise ArithmeticError(f"the churned level from t = {self.t} did not converge")
        return At(self.process, self.model, time, time - self.t)

    def noise(self, x: torch.Tensor, var: float) -> torch.Tensor | float:
        if var == 0:
            return 0.0
        return noise_std(var) * normal_like(x, self.generator)


# Bytes of state one block of rows carries through a step: small enough that the step's dozen
# array operations run from the core's cache instead of main memory (measured on 3072-dimensional
# float32 states: about 3.4x faster than whole-batch operations, with bit-identical results).
CACHE_BLOCK_BYTES = 1 << 19


def cache_rows(x: torch.Tensor) -> int:
    """Rows of ``x`` per block so that a block holds about :data:`CACHE_BLOCK_BYTES`."""
    row_bytes = max(1, x[:1].numel() * x.element_size())
    return max(1, CACHE_BLOCK_BYTES // row_bytes)


class BlockNoise:
    """The noise of one step run block by block, drawn as the whole batch would draw it.

    The first block's ``k``-th draw takes the whole batch's ``k``-th draw from the source
    (a generator or a ``normal_like`` object) and keeps it; every block reads its rows of it.
    The stream, and so every number, is the unblocked run's."""

    def __init__(self, source, rows: int):
        self.source, self.rows, self.draws = source, rows, []
        self.start, self.used = 0, 0

    def block(self, start: int) -> "BlockNoise":
        self.start, self.used = start, 0
        return self

    def normal_like(self, x: torch.Tensor) -> torch.Tensor:
        if self.start == 0:
            whole = torch.empty((self.rows,) + tuple(x.shape[1:]), dtype=x.dtype, device=x.device)
            self.draws.append(normal_like(whole, self.source))
        elif self.used >= len(self.draws):
            raise ValueError("a block of the batch drew more noise than its first block: the rule is not row-wise")
        z = self.draws[self.used][self.start:self.start + x.shape[0]]
        self.used += 1
        return z


def walk(rule: Callable[..., Any], options: dict, model: Model, grid, x: torch.Tensor, generator,
         callback: Callable[[int, float, torch.Tensor], None] | None = None,
         block_rows: int | None = None) -> torch.Tensor:
    """Apply ``rule`` along ``grid``; ``callback(k, t, x)`` sees the state after step ``k``.

    ``block_rows``: on the CPU, run each step on blocks of that many rows (:func:`cache_rows`), for a
    ``model`` that treats rows independently (no per-row conditioning captured with the batch's shape);
    the noise is drawn for the whole batch (:class:`BlockNoise`), so the result is the unblocked one. Blocks
    run on one intra-op thread: a block is too small to share between threads profitably."""
    rows = x.shape[0] if x.dim() else 1
    blocked = block_rows is not None and x.device.type == "cpu" and x.dim() and 0 < block_rows < rows
    with one_thread() if blocked else contextlib.nullcontext():
        return _walk(rule, options, model, grid, x, generator, callback, block_rows if blocked else None)


def _walk(rule: Callable[..., Any], options: dict, model: Model, grid, x: torch.Tensor, generator,
          callback: Callable[[int, float, torch.Tensor], None] | None, block_rows: int | None) -> torch.Tensor:
    rows = x.shape[0] if x.dim() else 1
    blocked = block_rows is not None
    for k, (t, t_next) in enumerate(grid.pairs(), start=1):
        if blocked:
            noise = BlockNoise(generator, rows)
            ops = TorchOps(grid.process, model, t, t_next, k == grid.steps, noise, grid.steps)
            out = torch.empty_like(x)
            for start in range(0, rows, block_rows):
                noise.block(start)
                out[start:start + block_rows] = rule(ops, x[start:start + block_rows], **options)
            x = out
        else:
            x = rule(TorchOps(grid.process, model, t, t_next, k == grid.steps, generator, grid.steps), x, **options)
        if callback is not None:
            callback(k, t_next, x)
    return x
