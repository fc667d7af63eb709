r"""diffusers' ``DDPMScheduler`` and ``DDIMScheduler`` against the derived kernels and the textbook laws.

For each configuration the real ``set_timesteps`` and ``step`` run once per timestep, on one
batch that both reads the kernel (:mod:`checks.conform.kernel`) and carries the exact law of
Gaussian data (:mod:`checks.conform.law`). Measured:

* **formula**: the kernel :math:`(A, B, S)` against the derived kernel at the previous
  :math:`\bar\alpha` the library itself uses (the formulas, bookkeeping aside);
* **bookkeeping**: the previous timestep the library's kernel implies
  (:func:`checks.conform.derived.implied_alpha_bar_prev`) against the next timestep of its own
  schedule, and :math:`\bar\alpha = 1` after the last one (Ho et al., Song et al.);
* **noise on the last step**: :math:`S \ne 0` on the step onto the clean level;
* **exact law**: :math:`W_2` to the data of the library's output, of the catalogue's textbook
  rule on the same timesteps (from :math:`N(0, 1)` and from the exact :math:`q(x_T)`), and
  between the library's and the textbook's outputs (the bookkeeping's share).

The scheduler's tables are promoted to float64 before stepping (its float32 betas stay the
schedule), so the formulas are compared at float64 resolution. ``clip_sample`` is turned off:
clipping :math:`\hat x_0` (diffusers' default for these two schedulers) is not affine and is no
part of the derived kernels.
"""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass, field
from typing import Iterator, Sequence
from unittest import mock

import numpy as np
import torch

from checks.conform import derived, kernel, law, loop
from checks.conform import reference as reference_mod
from checks.conform.axes import (BETA_SCHEDULES, DDIM_ETAS, DDIM_STEPS, DDPM_STEPS, DDPM_VARIANCES, SCHEDULERS,
                                 SPACINGS, TRAIN_STEPS)
from checks.conform.reference import Reference


@dataclass(frozen=True)
class Config:
    scheduler: str  # "DDPM" or "DDIM"
    steps: int
    beta_schedule: str = "linear"
    prediction: str = "epsilon"
    spacing: str = "leading"
    variance_type: str = "fixed_small"  # DDPM
    eta: float = 0.0  # DDIM
    set_alpha_to_one: bool = True  # DDIM

    @property
    def label(self) -> str:
        common = f"{self.scheduler} N={self.steps} {self.beta_schedule} {self.prediction} {self.spacing}"
        if self.scheduler == "DDPM":
            return f"{common} {self.variance_type}"
        return f"{common} eta={self.eta:g} set_alpha_to_one={self.set_alpha_to_one}"

    @property
    def reference(self) -> Reference:
        """The derived kernel this configuration should match."""
        if self.scheduler == "DDPM":
            variance = "large" if self.variance_type.startswith("fixed_large") else "small"
            return Reference("ddpm", variance=variance, prediction=self.prediction)
        return Reference("ddim", eta=self.eta, prediction=self.prediction)


def grid(schedulers: Sequence[str] = SCHEDULERS, steps: Sequence[int] | None = None,
         beta_schedules: Sequence[str] = BETA_SCHEDULES, predictions: Sequence[str] = derived.PREDICTIONS,
         spacings: Sequence[str] = SPACINGS, variance_types: Sequence[str] = DDPM_VARIANCES,
         etas: Sequence[float] = DDIM_ETAS, set_alpha_to_one: Sequence[bool] = (True, False)) -> list[Config]:
    """Every configuration of the named schedulers over the given values (default: the whole grid;
    ``steps`` defaults to each scheduler's own list)."""
    configs: list[Config] = []
    if "DDPM" in schedulers:
        configs += [Config("DDPM", n, b, p, s, variance_type=v) for v, b, p, s, n in
                    itertools.product(variance_types, beta_schedules, predictions, spacings, steps or DDPM_STEPS)]
    if "DDIM" in schedulers:
        configs += [Config("DDIM", n, b, p, s, eta=e, set_alpha_to_one=one) for e, one, b, p, s, n in
                    itertools.product(etas, set_alpha_to_one, beta_schedules, predictions, spacings,
                                      steps or DDIM_STEPS)]
    return configs


def version() -> str:
    import diffusers

    return diffusers.__version__


def make(config: Config):
    """The configured scheduler after ``set_timesteps``, its tables promoted to float64."""
    from diffusers import DDIMScheduler, DDPMScheduler

    common = dict(num_train_timesteps=TRAIN_STEPS, beta_schedule=config.beta_schedule, clip_sample=False,
                  prediction_type=config.prediction, timestep_spacing=config.spacing)
    if config.scheduler == "DDPM":
        scheduler = DDPMScheduler(variance_type=config.variance_type, **common)
        scheduler.one = torch.tensor(1.0, dtype=torch.float64)
    else:
        scheduler = DDIMScheduler(set_alpha_to_one=config.set_alpha_to_one, **common)
        scheduler.final_alpha_cumprod = scheduler.final_alpha_cumprod.to(torch.float64)
    scheduler.set_timesteps(config.steps)
    scheduler.alphas_cumprod = scheduler.alphas_cumprod.to(torch.float64)
    return scheduler


@contextlib.contextmanager
def stepping(config: Config, scheduler) -> Iterator[kernel.StepFn]:
    """The library's step as ``step(x_t, model_output, t, noise) -> x_prev``. DDPMScheduler draws its
    noise itself (``randn_tensor``): it is scripted for as long as the context is open."""
    if config.scheduler == "DDIM":
        yield lambda x, y, t, z: scheduler.step(y, int(t), x, eta=config.eta, variance_noise=z).prev_sample
        return
    from diffusers.schedulers import scheduling_ddpm

    scripted: list[torch.Tensor] = []

    def draw(shape, **kw):
        return scripted[-1].reshape(shape).to(kw["dtype"])

    def step(x, y, t, z):
        scripted[:] = [z]
        # As an image batch (1, n): DDPMScheduler reads shape[1] to tell a learned variance's channels.
        return scheduler.step(y.reshape(1, -1), int(t), x.reshape(1, -1)).prev_sample.reshape(-1)

    with mock.patch.object(scheduling_ddpm, "randn_tensor", draw):
        yield step


def library_previous(config: Config, scheduler, t: int) -> tuple[int, float]:
    """The previous timestep ``step`` uses at ``t`` and its :math:`\\bar\\alpha` (-1: the final level)."""
    if config.scheduler == "DDPM":
        prev = int(scheduler.previous_timestep(t))
        return prev, float(scheduler.alphas_cumprod[prev]) if prev >= 0 else 1.0
    prev = t - TRAIN_STEPS // config.steps
    return prev, float(scheduler.alphas_cumprod[prev]) if prev >= 0 else float(scheduler.final_alpha_cumprod)


KINDS = {
    "nonfinite": "non-finite output",
    "mean": "mean coefficients (A, B) differ from the derived kernel at the library's own previous level",
    "noise": "noise std S differs from the derived kernel at the library's own previous level",
    "bookkeeping": "a step lands off the schedule's next timestep (or off the clean level after the last)",
    "last_step_noise": "noise added on the last step (the textbook adds none onto x_0)",
}


@dataclass
class Row:
    config: Config
    timesteps: list[int]
    # max over steps of |coefficient - derived| / (tolerance * kernel size), the derived kernel taken at
    # the previous level the library uses: the mean's coefficients A, B and the noise's S
    mean_error: float
    noise_error: float
    worst_noise: tuple[int, float, float]  # (timestep, library's S, derived S) where noise_error is reached
    affine_residual: float
    nonfinite_steps: int
    # (step index, timestep, library's stated previous, implied previous, textbook previous) where the
    # implied (the level the kernel lands on; -1 clean) and the textbook's differ
    bookkeeping: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    last_step_noise: float = 0.0  # S on the last step (the textbook lands on the clean level without noise)
    textbook_error: float = 0.0  # max coefficient error against the textbook kernel, in tolerances
    w2: dict[str, dict[str, float]] = field(default_factory=dict)  # data label -> {quantity: value}

    @property
    def formula_ok(self) -> bool:
        return self.mean_error <= 1.0 and self.noise_error <= 1.0 and self.nonfinite_steps == 0

    @property
    def kinds(self) -> list[str]:
        """The kinds of discrepancy in this row (keys of :data:`KINDS`)."""
        out = []
        if self.nonfinite_steps:
            out.append("nonfinite")
        else:
            out += ["mean"] * (self.mean_error > 1) + ["noise"] * (self.noise_error > 1)
        out += ["bookkeeping"] * bool(self.bookkeeping) + ["last_step_noise"] * (self.last_step_noise > 0)
        return out

    @property
    def findings(self) -> list[str]:
        out = []
        if self.nonfinite_steps:
            out.append(f"non-finite output on {self.nonfinite_steps} steps")
        else:
            if self.mean_error > 1.0:
                out.append(f"mean coefficients off by {self.mean_error:.3g} x tolerance")
            if self.noise_error > 1.0:
                t, lib, ref = self.worst_noise
                out.append(f"noise std {lib:.3g} where the derived kernel has {ref:.3g} (t={t})")
        if self.bookkeeping:
            i, t, lib, implied, book = self.bookkeeping[0]
            out.append(f"lands off the schedule's next timestep on {len(self.bookkeeping)} of {len(self.timesteps)} "
                       f"steps (first: t={t} -> {implied}, schedule's next {book}; -1 = clean)")
        if self.last_step_noise > 0:
            out.append(f"noise std {self.last_step_noise:.3g} on the last step (textbook: none)")
        return out


def run(config: Config, data: tuple[law.GaussianData, ...] = law.DATA) -> Row:
    scheduler = make(config)
    with stepping(config, scheduler) as step:
        return _run(config, scheduler, step, data)


def _run(config: Config, scheduler, step: kernel.StepFn, data: tuple[law.GaussianData, ...]) -> Row:
    table = scheduler.alphas_cumprod.numpy()
    timesteps = [int(t) for t in scheduler.timesteps]
    reference = config.reference
    w = loop.walk(step, table, timesteps, config.prediction, data)
    previous = [library_previous(config, scheduler, t) for t in timesteps]
    alpha_bar = table[timesteps]
    lib_prev = [p for p, _ in previous]
    lib_alpha_prev = np.array([a for _, a in previous])
    book_prev = timesteps[1:] + [-1]
    book_alpha_prev = np.append(alpha_bar[1:], 1.0)

    formula = reference_mod.errors(reference, w.a, w.b, w.s, alpha_bar, lib_alpha_prev)
    textbook_errors = reference_mod.errors(reference, w.a, w.b, w.s, alpha_bar, book_alpha_prev)
    implied = loop.implied_previous(w, table, timesteps, config.prediction)
    bookkeeping = [(i, t, lib_prev[i], implied[i], book_prev[i]) for i, t in enumerate(timesteps)
                   if implied[i] not in (book_prev[i], -2)]
    worst = int(np.argmax(formula.noise))
    w2 = loop.w2_table(reference, [float(v) for v in alpha_bar] + [1.0], data, w.laws)
    return Row(config, timesteps, float(np.max(formula.mean)), float(formula.noise[worst]),
               (timesteps[worst], float(w.s[worst]), float(formula.expected.s[worst])), w.affine_residual,
               w.nonfinite_steps, bookkeeping, abs(float(w.s[-1])),
               float(np.max(np.maximum(textbook_errors.mean, textbook_errors.noise))), w2)


def run_grid(configs: Sequence[Config], data: tuple[law.GaussianData, ...] = law.DATA, jobs: int = 1,
             cluster=None) -> list[Row]:
    """Every configuration's row, in order; ``jobs`` > 1 runs them in that many processes, a ``cluster``
    (:class:`checks.core.cluster.Cluster`) as its Ray tasks."""
    if cluster is not None:
        import functools

        return cluster.map(functools.partial(run, data=data), list(configs), gpus_per_task=0.0)
    if jobs <= 1 or len(configs) < 2:
        return [run(c, data) for c in configs]
    import concurrent.futures
    import functools
    import multiprocessing

    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(functools.partial(run, data=data), configs, chunksize=max(1, len(configs) // (4 * jobs))))
