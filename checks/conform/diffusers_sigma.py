r"""diffusers' :math:`\sigma`-parameterized schedulers (``EulerDiscrete``, ``EulerAncestralDiscrete``,
``HeunDiscrete``, ``DPMSolverMultistep``) run as whole samplers, against the catalogue's rules and k-diffusion.

Each configured scheduler's real loop (``set_timesteps``, ``scale_model_input``, ``step``) is wrapped as a
sampler of k-diffusion's form, ``sample(model, x, sigmas, noise_sampler)`` in the variance-exploding
coordinates :math:`x_\sigma = x_0 + \sigma z` (:mod:`checks.conform.sampler` then reads its exact output
law). The model the scheduler calls is the exact noise prediction
:math:`\hat\varepsilon = (x - D(x; \sigma))/\sigma` of Gaussian data at the noise level of the *timestep
it is given* (the training table :math:`\sigma_t = \sqrt{(1 - \bar\alpha_t)/\bar\alpha_t}` at an integer
:math:`t`; at a fractional :math:`t` the table has no level, and the scheduler's own is taken), read from the scaled model input
:math:`x/\sqrt{1 + \sigma^2}` as a network would. A second run evaluates it at the scheduler's own
:math:`\sigma_i` instead: the gap between the two is the share of the timestep the model is handed
(``DPMSolverMultistep`` rounds the timesteps of a Karras grid to integers).

Compared on the scheduler's own :math:`\sigma` grid: with the catalogue's rule where it has the scheme
(Euler: ``pf_euler``; Heun: ``edm_heun``; ancestral Euler: ``ddim`` with :math:`\eta = 1`;
DPM-Solver(++) of order 1: ``ddim`` with :math:`\eta = 0`), and DPM-Solver++(2M) with k-diffusion's
``sample_dpmpp_2m`` on the same grid (cross-library equivalence). The model is an
:math:`\varepsilon`-prediction on ``scaled_linear`` betas (Stable Diffusion's).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Sequence
from unittest import mock

import numpy as np
import torch

from checks.conform import law, sampler
from checks.conform.axes import DPM_ALGORITHMS, DPM_ORDERS, SPACINGS, TRAIN_STEPS
from checks.conform.axes import SIGMA_SCHEDULERS as SCHEDULERS
from checks.conform.axes import SIGMA_STEPS as STEPS
BETA_SCHEDULE = "scaled_linear"
# Their step() casts the sample to float32 whatever its dtype (diffusers: "upcast to avoid precision issues"),
# so they are held to float32's resolution; HeunDiscrete steps in the sample's dtype.
FLOAT32_STEPS = ("EulerDiscrete", "EulerAncestralDiscrete", "DPMSolverMultistep")
# Relative gap below which the model's level and the scheduler's float32 level are the same level.
LEVEL_ROUNDING = 8 * float(torch.finfo(torch.float32).eps)
# EulerAncestralDiscreteScheduler has no use_karras_sigmas.
KARRAS = ("EulerDiscrete", "HeunDiscrete", "DPMSolverMultistep")


@dataclass(frozen=True)
class Config:
    scheduler: str
    steps: int
    karras: bool = False
    spacing: str = "linspace"
    order: int = 1  # DPMSolverMultistep
    algorithm: str = "dpmsolver++"  # DPMSolverMultistep

    @property
    def label(self) -> str:
        extra = f" order={self.order} {self.algorithm}" if self.scheduler == "DPMSolverMultistep" else ""
        return f"{self.scheduler} N={self.steps} {self.spacing}{' karras' if self.karras else ''}{extra}"

    @property
    def textbook(self) -> tuple[str, dict] | None:
        if self.scheduler == "EulerDiscrete":
            return "pf_euler", {}
        if self.scheduler == "HeunDiscrete":
            return "edm_heun", {}
        if self.scheduler == "EulerAncestralDiscrete":
            return "ddim", {"eta": 1.0}
        return ("ddim", {"eta": 0.0}) if self.order == 1 else None

    @property
    def kdiffusion(self) -> str | None:
        """k-diffusion's sampler that is the same scheme on a shared grid."""
        if self.scheduler == "DPMSolverMultistep":
            return "dpmpp_2m" if (self.order, self.algorithm) == (2, "dpmsolver++") else None
        return {"EulerDiscrete": "euler", "HeunDiscrete": "heun", "EulerAncestralDiscrete": "euler_ancestral"}[
            self.scheduler]


def grid(schedulers: Sequence[str] = SCHEDULERS, steps: Sequence[int] = STEPS, spacings: Sequence[str] = SPACINGS,
         karras: Sequence[bool] = (False, True), orders: Sequence[int] = DPM_ORDERS,
         algorithms: Sequence[str] = DPM_ALGORITHMS) -> list[Config]:
    configs = []
    for s, n, sp, k in itertools.product(schedulers, steps, spacings, karras):
        if k and s not in KARRAS:
            continue
        if s == "DPMSolverMultistep":
            configs += [Config(s, n, k, sp, o, a) for o, a in itertools.product(orders, algorithms)]
        else:
            configs.append(Config(s, n, k, sp))
    return configs


def make(config: Config):
    import diffusers

    cls = getattr(diffusers, f"{config.scheduler}Scheduler")
    options = dict(num_train_timesteps=TRAIN_STEPS, beta_schedule=BETA_SCHEDULE, prediction_type="epsilon",
                   timestep_spacing=config.spacing)
    if config.scheduler in KARRAS:
        options["use_karras_sigmas"] = config.karras
    if config.scheduler == "DPMSolverMultistep":
        options.update(solver_order=config.order, algorithm_type=config.algorithm)
        if config.algorithm == "dpmsolver":  # it refuses the default final level 0
            options["final_sigmas_type"] = "sigma_min"
    with warnings.catch_warnings():  # algorithm_type "dpmsolver" is deprecated: still checked while it ships
        warnings.simplefilter("ignore", FutureWarning)
        scheduler = cls(**options)
    scheduler.set_timesteps(config.steps)
    return scheduler


def levels(scheduler) -> np.ndarray:
    """The scheduler's :math:`\\sigma` grid, as float64: one level per step and the last (HeunDiscrete keeps each
    inner level twice, once per stage)."""
    sigmas = scheduler.sigmas.to(torch.float64).numpy()
    if type(scheduler).__name__ == "HeunDiscreteScheduler":
        return np.append(sigmas[0:-1:2], sigmas[-1])
    return sigmas


def start_var(config: Config, scheduler) -> float:
    r"""The variance of the scheduler's initial sample, in :math:`x_\sigma` coordinates: ``init_noise_sigma``
    squared for the Euler family (whose samples are :math:`x_\sigma`), and :math:`1 + \sigma_{max}^2` for
    DPM-Solver (whose samples are :math:`x_\sigma/\sqrt{1+\sigma^2}`, started from :math:`N(0, 1)`)."""
    if config.scheduler == "DPMSolverMultistep":
        return 1.0 + float(levels(scheduler)[0]) ** 2
    return float(scheduler.init_noise_sigma) ** 2


def model_level(scheduler, t: float, own: float) -> float:
    """The noise level a model handed timestep ``t`` was trained at: the training table's at an integer ``t``;
    at a fractional ``t`` (no level of the table) the scheduler's own ``own``."""
    if t != round(t):
        return own
    level = float(((1 - scheduler.alphas_cumprod[int(round(t))]) / scheduler.alphas_cumprod[int(round(t))])
                  .to(torch.float64).sqrt())
    # The scheduler keeps its levels in float32: a level equal up to that rounding is the same level.
    return own if abs(level - own) <= LEVEL_ROUNDING * own else level


@contextlib.contextmanager
def _scripted(config: Config, scheduler, noise_sampler):
    """EulerAncestralDiscrete draws its noise itself: the scripted noise of the step's interval instead."""
    if config.scheduler != "EulerAncestralDiscrete":
        yield
        return
    from diffusers.schedulers import scheduling_euler_ancestral_discrete as module

    def draw(shape, dtype=None, **_):
        i = scheduler.step_index
        return noise_sampler(scheduler.sigmas[i], scheduler.sigmas[i + 1]).reshape(shape).to(dtype)

    with mock.patch.object(module, "randn_tensor", draw):
        yield


def as_sampler(config: Config, model_time: str = "timestep"):
    """The configured scheduler's real loop as ``sample(model, x, sigmas, noise_sampler)``: ``x`` at
    :math:`\\sigma_{max}` in :math:`x_\\sigma` coordinates, ``model`` the denoiser :math:`D(x; \\sigma)` from
    which the noise prediction is formed at the timestep's level (``model_time="timestep"``) or at the
    scheduler's :math:`\\sigma_i` (``"sigma"``); ``sigmas`` is not read (the scheduler has its own)."""
    dpm = config.scheduler == "DPMSolverMultistep"

    def sample(model, x, sigmas, noise_sampler=None):
        scheduler = make(config)
        scheduler.sigmas = scheduler.sigmas.to(torch.float64)
        first = float(scheduler.sigmas[0])
        state = x / math.sqrt(1 + first**2) if dpm else x
        with _scripted(config, scheduler, noise_sampler):
            for i, t in enumerate(scheduler.timesteps):
                model_input = scheduler.scale_model_input(state, t)
                # DPMSolverMultistep sets its step index in step(): there the loop's index is the level's
                own = float(scheduler.sigmas[i if scheduler.step_index is None else scheduler.step_index])
                level = model_level(scheduler, float(t), own) if model_time == "timestep" else own
                noisy = model_input * math.sqrt(1 + level**2)
                eps = (noisy - model(noisy, torch.full_like(noisy, level))) / level
                state = scheduler.step(eps, t, state).prev_sample
        last = float(scheduler.sigmas[-1])
        return state * math.sqrt(1 + last**2) if dpm else state

    return sample


@dataclass
class Row:
    config: Config
    grid: np.ndarray
    # W2 tables (data label -> quantities) with the model at the timestep's level and at the scheduler's sigma
    w2: dict[str, dict[str, float]] = field(default_factory=dict)
    w2_own_sigma: dict[str, dict[str, float]] = field(default_factory=dict)
    error: float | None = None  # against the catalogue's rule, model at the scheduler's sigma; in tolerances
    error_timestep: float | None = None  # the same with the model at the timestep's level
    affine_residual: float = 0.0
    cross: dict[str, float] = field(default_factory=dict)  # data label -> W2(diffusers, k-diffusion), same grid
    cross_error: float | None = None  # in tolerances (model at the scheduler's sigma)
    kernel_error: float | None = None  # largest per-step kernel error (step_kernels), None: not single-step
    # W2 between the output laws with the model at the timestep's level and at the step's sigma (per data law),
    # and its largest ratio to the tolerance
    timestep_gap: dict[str, float] = field(default_factory=dict)
    timestep_error: float = 0.0

    @property
    def findings(self) -> list[str]:
        out = []
        if self.kernel_error is not None and self.kernel_error > 1:
            out.append(f"a step's kernel differs from the catalogue rule's: {self.kernel_error:.3g} x tolerance")
        if self.error is not None and self.error > 1:
            out.append(f"differs from the catalogue's {self.config.textbook[0]} on its own grid: "
                       f"{self.error:.3g} x tolerance")
        if self.timestep_error > 1:
            out.append(f"the model is handed a timestep whose noise level is not the step's sigma: W2 between the "
                       f"outputs with the model at the timestep's level and at the step's sigma "
                       f"{max(self.timestep_gap.values()):.3g} ({self.timestep_error:.3g} x tolerance)")
        if self.cross_error is not None and self.cross_error > 1:
            out.append(f"differs from k-diffusion's sample_{self.config.kdiffusion} on the same grid: W2 "
                       f"{max(self.cross.values()):.3g} ({self.cross_error:.3g} x tolerance)")
        return out


def resolution(config: Config) -> torch.dtype:
    return torch.float32 if config.scheduler in FLOAT32_STEPS else torch.float64


def run(config: Config, data: Sequence[law.GaussianData] = law.DATA, cross: bool = True) -> Row:
    scheduler = make(config)
    sigmas = levels(scheduler)
    common = dict(start_var=start_var(config, scheduler), resolution=resolution(config))
    residual, error_t, table = sampler.compare(as_sampler(config, "timestep"), sigmas, config.textbook, data, **common)
    _, error, own = sampler.compare(as_sampler(config, "sigma"), sigmas, config.textbook, data, **common)
    row = Row(config, sigmas, table, own, error, error_t, residual)
    if single_step(config):
        row.kernel_error = step_kernels(config).max_error
    row.timestep_gap, row.timestep_error = gap(sampler.read(as_sampler(config, "timestep"), sigmas, data),
                                               sampler.read(as_sampler(config, "sigma"), sigmas, data),
                                               sigmas, data, resolution(config))
    if cross and config.kdiffusion is not None:
        import importlib.util

        if importlib.util.find_spec("k_diffusion") is not None:
            row.cross, row.cross_error = cross_library(config, sigmas, data)
    return row


def gap(ours: Sequence[sampler.AffineMap], theirs: Sequence[sampler.AffineMap], sigmas: np.ndarray,
        data: Sequence[law.GaussianData], resolution: torch.dtype) -> tuple[dict[str, float], float]:
    """W2 between two samplers' output laws from the same exact start, per data law, and its largest ratio to
    ``loop_tolerance`` (relative to the output's scale)."""
    from checks.conform.reference import loop_tolerance

    tolerance = loop_tolerance(sigmas, resolution)
    out, worst = {}, 0.0
    for d, a, b in zip(data, ours, theirs):
        start = sampler.start(d, float(sigmas[0]))
        la, lb = a.law(start), b.law(start)
        out[d.label] = law.w2_between(la, lb)
        worst = max(worst, out[d.label] / (math.sqrt(lb.mean**2 + lb.var) * tolerance))
    return out, worst


def cross_library(config: Config, sigmas: np.ndarray, data: Sequence[law.GaussianData] = law.DATA):
    """W2 between diffusers' (model at its own sigma) and k-diffusion's output laws on diffusers' grid, from
    the same start, per data law; and its largest ratio to the tolerance."""
    from checks.conform import kdiffusion_grid

    options = {"eta": 1.0} if config.kdiffusion == "euler_ancestral" else {}
    ours = sampler.read(as_sampler(config, "sigma"), sigmas, data)
    theirs = sampler.read(getattr(kdiffusion_grid.library(), f"sample_{config.kdiffusion}"), sigmas, data, **options)
    return gap(ours, theirs, sigmas, data, resolution(config))


def run_grid(configs: Sequence[Config], data: Sequence[law.GaussianData] = law.DATA) -> list[Row]:
    return [run(c, data) for c in configs]


def version() -> str:
    import diffusers

    return diffusers.__version__


@dataclass(frozen=True)
class StepKernels:
    r"""Per step :math:`i`, the kernel :math:`x_{i+1} = c + A x_i + B\hat\varepsilon + S z` read off the real
    ``step()`` (in :math:`x_\sigma` coordinates) and the catalogue rule's on the same two levels; the error
    in units of ``loop_tolerance`` of the step at the scheduler's resolution."""

    config: Config
    sigmas: np.ndarray
    read: list  # checks.conform.kernel.Kernel per step
    derived: list
    errors: np.ndarray

    @property
    def max_error(self) -> float:
        return float(np.max(self.errors))


SINGLE_STEP = ("EulerDiscrete", "EulerAncestralDiscrete")  # and DPMSolverMultistep of order 1


def single_step(config: Config) -> bool:
    return config.scheduler in SINGLE_STEP or (config.scheduler == "DPMSolverMultistep" and config.order == 1)


def step_kernels(config: Config) -> StepKernels:
    """Read every step's kernel off the configured scheduler with controlled inputs (unit state, unit noise
    prediction, unit noise; :mod:`checks.conform.kernel`) and compare it with the catalogue rule's."""
    from checks.conform import kernel, textbook
    from checks.conform.reference import loop_tolerance

    if not single_step(config):
        raise ValueError(f"{config.label}: a per-step kernel is read for single-stage, memoryless steps only")
    scheduler = make(config)
    scheduler.sigmas = scheduler.sigmas.to(torch.float64)
    sigmas = levels(scheduler)
    scheme, options = config.textbook
    reference = textbook.as_sigma_step(scheme, options, sigmas)
    x, y, z = (torch.tensor(v, dtype=torch.float64) for v in (kernel.X, kernel.Y, kernel.Z))
    read, derived, errors = [], [], []
    noise = {"value": z}

    def draw(shape, dtype=None, **_):
        return noise["value"].reshape(shape).to(dtype)

    from diffusers.schedulers import scheduling_euler_ancestral_discrete as ancestral

    with mock.patch.object(ancestral, "randn_tensor", draw):
        for i, t in enumerate(scheduler.timesteps):
            scheduler.scale_model_input(x, t)
            out = scheduler.step(y, t, x).prev_sample.to(torch.float64)
            k = kernel.from_outputs(out.tolist())
            if config.scheduler == "DPMSolverMultistep":  # its samples are x_sigma / sqrt(1 + sigma^2)
                into, out_of = math.sqrt(1 + sigmas[i + 1] ** 2), math.sqrt(1 + sigmas[i] ** 2)
                k = kernel.Kernel(k.offset * into, k.a * into / out_of, k.b * into, k.s * into, k.affine_residual)
            ref = kernel.from_outputs(reference(x.numpy(), y.numpy(), i, z.numpy()).tolist())
            size = abs(ref.a) + abs(ref.b) + abs(ref.s)
            allowed = loop_tolerance(sigmas[i:i + 2], resolution(config)) * size
            errors.append(max(abs(k.a - ref.a), abs(k.b - ref.b), abs(k.s - ref.s), abs(k.offset)) / allowed)
            read.append(k)
            derived.append(ref)
    return StepKernels(config, sigmas, read, derived, np.array(errors))
