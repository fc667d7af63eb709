r"""diffusers' :math:`\sigma`-parameterized and multistep schedulers (``EulerDiscrete``, ``EulerAncestralDiscrete``,
``HeunDiscrete``, ``KDPM2Discrete``, ``LMSDiscrete``, ``DPMSolverMultistep``, ``UniPCMultistep``,
``DEISMultistep``, ``PNDM``) run as whole samplers, against the catalogue's rules and k-diffusion.

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
``sample_dpmpp_2m`` on the same grid (cross-library equivalence); ``KDPM2Discrete`` with ``dpm_solver_2``
(DPM-Solver-2, midpoint in :math:`\lambda = -\log\sigma`) and k-diffusion's ``sample_dpm_2``;
``LMSDiscrete`` with k-diffusion's ``sample_lms`` of the same order; ``DEISMultistep`` of order 1 with ``ddim``
(:math:`\eta = 0`). The model is an :math:`\varepsilon`-prediction (and a :math:`v`-prediction where the
scheduler takes one, :func:`model_output`) on ``scaled_linear`` betas (Stable Diffusion's).

Every scheduler's convergence order is fitted from the exact law over :math:`N` (:func:`fit_order`) against
the order it advertises (:class:`Family`), and the two-stage schedulers (``HeunDiscrete``, ``KDPM2Discrete``),
whose ``step()`` is called twice per step, have the composite kernel of each pair of calls read and compared
with the derived Heun and DPM-2 steps (:func:`stage_kernels`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence
from unittest import mock

import numpy as np
import torch

from checks.conform import law, sampler
from checks.conform.axes import DPM_ALGORITHMS, DPM_ORDERS, SPACINGS, TRAIN_STEPS
from checks.conform.axes import SIGMA_SCHEDULERS as SCHEDULERS
from checks.conform.axes import SIGMA_STEPS as STEPS

BETA_SCHEDULE = "scaled_linear"
# Relative gap below which the model's level and the scheduler's float32 level are the same level.
LEVEL_ROUNDING = 8 * float(torch.finfo(torch.float32).eps)
# The convergence-order sweeps: step counts that divide the training steps (so "leading" spacing is uniform).
ORDER_STEPS = (25, 50, 100, 200)


@dataclass(frozen=True)
class Family:
    r"""What one diffusers scheduler is, and what it advertises.

    ``vp``: its samples are :math:`x_\sigma/\sqrt{1 + \sigma^2}` (variance preserving, started from
    :math:`N(0, 1)`), not :math:`x_\sigma`. ``float32``: held to float32's rounding, because ``step()`` casts the
    sample to float32 (Euler, ancestral Euler, DPM-Solver: "upcast to avoid precision issues") or computes an
    intermediate level in float32 (KDPM2's :math:`\sqrt{\sigma_i\sigma_{i+1}}`, from float32 logarithms).
    ``orders``/``algorithms``: the grid's ``solver_order`` (LMS: ``step()``'s ``order``) and variants.
    ``advertised``: the convergence order it claims for an order ``p`` (with the source of the claim)."""

    karras: bool
    vp: bool
    float32: bool
    predictions: tuple[str, ...]
    advertised: Callable[[int], float]
    claim: str
    orders: tuple[int, ...] = (1,)
    algorithms: tuple[str, ...] = ("",)
    stages: int = 1  # model calls per step (HeunDiscrete, KDPM2Discrete: 2)


_EPS, _BOTH = ("epsilon",), ("epsilon", "v_prediction")
FAMILIES = {
    "EulerDiscrete": Family(True, False, True, _EPS, lambda p: 1.0, "Euler's method (Karras et al. 2022, Alg. 2)"),
    "EulerAncestralDiscrete": Family(False, False, True, _EPS, lambda p: 1.0,
                                     "ancestral Euler: weak order 1 (the law of its output)"),
    "HeunDiscrete": Family(True, False, False, _EPS, lambda p: 2.0, "Heun's method (Karras et al. 2022, Alg. 1)",
                           stages=2),
    "DPMSolverMultistep": Family(True, True, True, _EPS, float, "DPM-Solver(++) of order solver_order (Lu et al.)",
                                 DPM_ORDERS, DPM_ALGORITHMS),
    "KDPM2Discrete": Family(True, False, True, _BOTH, lambda p: 2.0, "DPM-Solver-2 (Lu et al. 2022; k-diffusion)",
                            stages=2),
    "LMSDiscrete": Family(True, False, False, _BOTH, float, "linear multistep of step()'s order (default 4)",
                          (2, 4)),
    "UniPCMultistep": Family(True, True, False, _BOTH, lambda p: p + 1.0,
                             "docstring: \"the effective order of accuracy is solver_order + 1 due to the UniC\"",
                             (1, 2, 3), ("bh2", "bh1")),
    "DEISMultistep": Family(True, True, False, _BOTH, float, "DEIS of order solver_order (Zhang & Chen 2023)",
                            (1, 2, 3)),
    # skip_prk_steps False: pseudo Runge-Kutta (4th order) for the first three steps; True: PLMS from the start.
    # (its pseudo Runge-Kutta and linear multistep steps are the classical 4th-order ones' weights)
    "PNDM": Family(False, True, False, _BOTH, lambda p: 2.0,
                   "Liu et al. (2022): pseudo numerical methods are second-order convergent", (4,), ("prk", "plms")),
}
assert tuple(FAMILIES) == SCHEDULERS
# DPMSolverMultistep's default order in a Config (the others': their family's last, the pipelines' default)
DEFAULT_ORDER = {"DPMSolverMultistep": 1, "LMSDiscrete": 4, "UniPCMultistep": 2, "DEISMultistep": 2}


@dataclass(frozen=True)
class Config:
    scheduler: str
    steps: int
    karras: bool = False
    spacing: str = "linspace"
    order: int | None = None  # solver_order (LMSDiscrete: step()'s order); None: the scheduler's default
    # DPM: algorithm_type; UniPC: solver_type; PNDM: "prk" or "plms"; None: the family's first (the library's default)
    algorithm: str | None = None
    prediction: str = "epsilon"

    def __post_init__(self) -> None:
        family = FAMILIES[self.scheduler]
        if self.order is None:
            object.__setattr__(self, "order", DEFAULT_ORDER.get(self.scheduler, family.orders[0]))
        if self.algorithm is None:
            object.__setattr__(self, "algorithm", family.algorithms[0])

    @property
    def family(self) -> Family:
        return FAMILIES[self.scheduler]

    @property
    def label(self) -> str:
        family = self.family
        extra = f" order={self.order}" if len(family.orders) > 1 else ""
        extra += f" {self.algorithm}" if len(family.algorithms) > 1 else ""
        prediction = "" if self.prediction == "epsilon" else f" {self.prediction}"
        return f"{self.scheduler} N={self.steps} {self.spacing}{' karras' if self.karras else ''}{extra}{prediction}"

    @property
    def advertised(self) -> float:
        return self.family.advertised(self.order)

    @property
    def textbook(self) -> tuple[str, dict] | None:
        if self.scheduler in ("DPMSolverMultistep", "DEISMultistep"):
            return ("ddim", {"eta": 0.0}) if self.order == 1 else None
        return {"EulerDiscrete": ("pf_euler", {}), "HeunDiscrete": ("edm_heun", {}),
                "EulerAncestralDiscrete": ("ddim", {"eta": 1.0}),
                "KDPM2Discrete": ("dpm_solver_2", {})}.get(self.scheduler)

    @property
    def kdiffusion(self) -> str | None:
        """k-diffusion's sampler that is the same scheme on a shared grid."""
        if self.scheduler == "DPMSolverMultistep":
            return "dpmpp_2m" if (self.order, self.algorithm) == (2, "dpmsolver++") else None
        return {"EulerDiscrete": "euler", "HeunDiscrete": "heun", "EulerAncestralDiscrete": "euler_ancestral",
                "KDPM2Discrete": "dpm_2", "LMSDiscrete": "lms"}.get(self.scheduler)


def grid(schedulers: Sequence[str] = SCHEDULERS, steps: Sequence[int] = STEPS, spacings: Sequence[str] = SPACINGS,
         karras: Sequence[bool] = (False, True), orders: Sequence[int] = DPM_ORDERS,
         algorithms: Sequence[str] = DPM_ALGORITHMS) -> list[Config]:
    """Every configuration; ``orders`` and ``algorithms`` select DPMSolverMultistep's (the other schedulers run
    every order and variant of their :class:`Family`)."""
    configs = []
    for s, n, sp, k in itertools.product(schedulers, steps, spacings, karras):
        family = FAMILIES[s]
        if k and not family.karras:
            continue
        own = (orders, algorithms) if s == "DPMSolverMultistep" else (family.orders, family.algorithms)
        # a v model reads as the same scheme: once per order and variant, on the unmodified grid
        predictions = family.predictions if (sp, k) == (SPACINGS[-1], False) else family.predictions[:1]
        configs += [Config(s, n, k, sp, o, a, p) for o, a, p in itertools.product(*own, predictions)]
    return configs


def make(config: Config):
    """The configured scheduler, its timesteps set for ``config.steps``."""
    import copy

    scheduler = copy.deepcopy(_constructed(dataclasses.replace(config, steps=1)))
    scheduler.set_timesteps(config.steps)
    return scheduler


@functools.lru_cache(maxsize=256)
def _constructed(config: Config):
    """The scheduler as constructed (KDPM2Discrete's constructor sets 1000 timesteps: 0.7 s), copied by
    :func:`make`."""
    import diffusers

    cls = getattr(diffusers, f"{config.scheduler}Scheduler")
    options = dict(num_train_timesteps=TRAIN_STEPS, beta_schedule=BETA_SCHEDULE, prediction_type=config.prediction,
                   timestep_spacing=config.spacing)
    if config.family.karras:
        options["use_karras_sigmas"] = config.karras
    if config.scheduler in ("DPMSolverMultistep", "UniPCMultistep", "DEISMultistep"):
        options["solver_order"] = config.order
    if config.scheduler == "DPMSolverMultistep":
        options["algorithm_type"] = config.algorithm
        if config.algorithm == "dpmsolver":  # it refuses the default final level 0
            options["final_sigmas_type"] = "sigma_min"
    if config.scheduler == "UniPCMultistep":
        options["solver_type"] = config.algorithm
    if config.scheduler == "PNDM":
        options["skip_prk_steps"] = config.algorithm == "plms"
    with warnings.catch_warnings():  # algorithm_type "dpmsolver" is deprecated: still checked while it ships
        warnings.simplefilter("ignore", FutureWarning)
        return cls(**options)


def _table_level(alphas_cumprod, t: float) -> float:
    """The training table's noise level :math:`\\sqrt{(1 - \\bar\\alpha_t)/\\bar\\alpha_t}` at an integer ``t``."""
    alpha_bar = float(alphas_cumprod[int(round(t))])
    return math.sqrt((1 - alpha_bar) / alpha_bar)


def levels(scheduler) -> np.ndarray:
    """The scheduler's :math:`\\sigma` grid, as float64: one level per step and the last (HeunDiscrete and
    KDPM2Discrete keep each inner level twice, once per stage; PNDM has no sigmas: its timesteps' levels and the
    level of ``final_alpha_cumprod``)."""
    name = type(scheduler).__name__
    if name == "PNDMScheduler":
        final = float(scheduler.final_alpha_cumprod)
        steps = [_table_level(scheduler.alphas_cumprod, t) for t in scheduler._timesteps[::-1]]
        return np.array(steps + [math.sqrt((1 - final) / final)])
    sigmas = scheduler.sigmas.to(torch.float64).numpy()
    if name == "HeunDiscreteScheduler":  # s_0, then s_1, ..., s_{N-1} twice, then the last
        return np.append(sigmas[0:-1:2], sigmas[-1])
    if name == "KDPM2DiscreteScheduler":  # the same, with the last level three times
        return np.append(sigmas[0:-2:2], sigmas[-1])
    return sigmas


def start_var(config: Config, scheduler) -> float:
    r"""The variance of the scheduler's initial sample, in :math:`x_\sigma` coordinates: ``init_noise_sigma``
    squared for the Euler family (whose samples are :math:`x_\sigma`), and :math:`1 + \sigma_{max}^2` for
    the variance-preserving ones (samples :math:`x_\sigma/\sqrt{1+\sigma^2}`, started from :math:`N(0, 1)`)."""
    if config.family.vp:
        return 1.0 + float(levels(scheduler)[0]) ** 2
    return float(scheduler.init_noise_sigma) ** 2


def model_level(scheduler, t: float, own: float) -> float:
    """The noise level a model handed timestep ``t`` was trained at: the training table's at an integer ``t``;
    at a fractional ``t`` (no level of the table) the scheduler's own ``own``."""
    if t != round(t):
        return own
    level = _table_level(scheduler.alphas_cumprod, t)
    # The scheduler keeps its levels in float32: a level equal up to that rounding is the same level.
    return own if abs(level - own) <= LEVEL_ROUNDING * own else level


def own_level(scheduler, i: int, t: float) -> float:
    """The level at which the scheduler's formula reads the model output of call ``i`` (timestep ``t``), after
    ``scale_model_input``: KDPM2's second stage its interpolated level, PNDM the level of the timestep it is given,
    the multistep solvers (which set their step index in ``step()``) the loop's index."""
    name = type(scheduler).__name__
    if name == "PNDMScheduler":
        return _table_level(scheduler.alphas_cumprod, t)
    k = i if scheduler.step_index is None else scheduler.step_index
    if name == "KDPM2DiscreteScheduler" and not scheduler.state_in_first_order:
        return float(scheduler.sigmas_interpol[k])
    return float(scheduler.sigmas[k])


def model_output(prediction: str, noisy: torch.Tensor, denoised: torch.Tensor, level: float) -> torch.Tensor:
    r"""The exact model output at :math:`x_\sigma` = ``noisy`` from the exact :math:`D = \mathbb E[x_0 \mid x_\sigma]`:
    :math:`\hat\varepsilon = (x_\sigma - D)/\sigma`, or :math:`\hat v = \sqrt{\bar\alpha}\,\hat\varepsilon -
    \sqrt{1 - \bar\alpha}\,D = (\hat\varepsilon - \sigma D)/\sqrt{1 + \sigma^2}` (``score.reparameterizations``
    with :math:`\bar\alpha = 1/(1 + \sigma^2)`)."""
    eps = (noisy - denoised) / level
    if prediction == "epsilon":
        return eps
    if prediction == "v_prediction":
        return (eps - level * denoised) / math.sqrt(1 + level**2)
    raise ValueError(f"no exact model for prediction {prediction!r}")


def _promote(scheduler) -> None:
    """The scheduler's float32 tables as float64 (the same values: the float32 schedule stays the schedule)."""
    for name in ("sigmas", "sigmas_interpol", "alphas_cumprod"):
        value = getattr(scheduler, name, None)
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            setattr(scheduler, name, value.to(torch.float64))
    if hasattr(scheduler, "final_alpha_cumprod"):
        scheduler.final_alpha_cumprod = torch.as_tensor(scheduler.final_alpha_cumprod, dtype=torch.float64)


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


def truncated(config: Config, scheduler) -> bool:
    """Whether :func:`as_sampler` with ``truncate=True`` stops before the last call: where the grid ends on 0 (one
    step from :math:`\\sigma_{min}` onto the clean level whose error does not vanish with :math:`N`)."""
    return float(levels(scheduler)[-1]) == 0.0


def as_sampler(config: Config, model_time: str = "timestep", truncate: bool = False):
    """The configured scheduler's real loop as ``sample(model, x, sigmas, noise_sampler)``: ``x`` at
    :math:`\\sigma_{max}` in :math:`x_\\sigma` coordinates, ``model`` the denoiser :math:`D(x; \\sigma)` from
    which the model output is formed at the timestep's level (``model_time="timestep"``) or at the
    scheduler's own level (``"sigma"``); ``sigmas`` is not read (the scheduler has its own). ``truncate``: where
    the grid ends on 0, stop before the last call and return the state at the level before (for order fits)."""
    vp = config.family.vp
    step_options = {"order": config.order} if config.scheduler == "LMSDiscrete" else {}

    def sample(model, x, sigmas, noise_sampler=None):
        scheduler = make(config)
        grid_levels = levels(scheduler)
        _promote(scheduler)
        calls = list(scheduler.timesteps)
        end = float(grid_levels[-1])
        if truncate and truncated(config, scheduler):
            calls, end = calls[:-1], float(grid_levels[-2])
        first = float(grid_levels[0])
        # a batch of one channel each (UniPC's update contracts over a channel axis)
        state = (x / math.sqrt(1 + first**2) if vp else x).reshape(-1, 1)
        with _scripted(config, scheduler, noise_sampler):
            for i, t in enumerate(calls):
                model_input = scheduler.scale_model_input(state, t)
                own = own_level(scheduler, i, float(t))
                level = model_level(scheduler, float(t), own) if model_time == "timestep" else own
                noisy = model_input.reshape(-1) * math.sqrt(1 + level**2)
                output = model_output(config.prediction, noisy, model(noisy, torch.full_like(noisy, level)), level)
                state = scheduler.step(output.reshape(-1, 1), t, state, **step_options).prev_sample
        state = state.reshape(-1)
        return state * math.sqrt(1 + end**2) if vp else state

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
    # largest per-step kernel error (step_kernels, stage_kernels); None: not read (multistep schedulers)
    kernel_error: float | None = None
    # W2 between the output laws with the model at the timestep's level and at the step's sigma (per data law),
    # and its largest ratio to the tolerance
    timestep_gap: dict[str, float] = field(default_factory=dict)
    timestep_error: float = 0.0
    # PNDM: the steps that land off the schedule's next timestep (pndm_landings)
    off_schedule: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def nonfinite(self) -> bool:
        return not all(np.isfinite(v) for table in (self.w2, self.w2_own_sigma) for w in table.values()
                       for v in w.values())

    @property
    def findings(self) -> list[str]:
        out = []
        if self.nonfinite:
            out.append("non-finite output")
        if self.kernel_error is not None and self.kernel_error > 1:
            out.append(f"a step's kernel differs from the catalogue rule's: {self.kernel_error:.3g} x tolerance")
        if self.error is not None and self.error > 1:
            out.append(f"differs from the catalogue's {self.config.textbook[0]} on its own grid: "
                       f"{self.error:.3g} x tolerance")
        if self.timestep_error > 1:
            out.append(f"the model is handed a timestep whose noise level is not the step's sigma: W2 between the "
                       f"outputs with the model at the timestep's level and at the step's sigma "
                       f"{max(self.timestep_gap.values()):.3g} ({self.timestep_error:.3g} x tolerance)")
        if self.off_schedule:
            t, landed, expected = self.off_schedule[0]
            out.append(f"lands off the schedule's next timestep on {len(self.off_schedule)} steps (first: t={t} -> "
                       f"{landed}, schedule's next {expected}; -1 = final_alpha_cumprod)")
        if self.cross_error is not None and self.cross_error > 1:
            out.append(f"differs from k-diffusion's sample_{self.config.kdiffusion} on the same grid: W2 "
                       f"{max(self.cross.values()):.3g} ({self.cross_error:.3g} x tolerance)")
        return out


def resolution(config: Config) -> torch.dtype:
    return torch.float32 if config.family.float32 else torch.float64


def run(config: Config, data: Sequence[law.GaussianData] = law.DATA, cross: bool = True) -> Row:
    scheduler = make(config)
    sigmas = levels(scheduler)
    common = dict(start_var=start_var(config, scheduler), resolution=resolution(config))
    # one read per evaluation of the model serves the comparisons (each read is one run of the real loop)
    at_timestep = sampler.read(as_sampler(config, "timestep"), sigmas, data)
    at_sigma = sampler.read(as_sampler(config, "sigma"), sigmas, data)
    residual, error_t, table = sampler.compare_maps(at_timestep, sigmas, config.textbook, data, **common)
    _, error, own = sampler.compare_maps(at_sigma, sigmas, config.textbook, data, **common)
    row = Row(config, sigmas, table, own, error, error_t, residual)
    if single_step(config):
        row.kernel_error = step_kernels(config).max_error
    elif config.scheduler in TWO_STAGE:
        row.kernel_error = stage_kernels(config).max_error
    if config.scheduler == "PNDM":
        row.off_schedule = pndm_landings(config)
    row.timestep_gap, row.timestep_error = gap(at_timestep, at_sigma, sigmas, data, resolution(config))
    if cross and config.kdiffusion is not None:
        import importlib.util

        if importlib.util.find_spec("k_diffusion") is not None:
            row.cross, row.cross_error = cross_library(config, sigmas, data, at_sigma)
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


def cross_library(config: Config, sigmas: np.ndarray, data: Sequence[law.GaussianData] = law.DATA,
                  ours: Sequence[sampler.AffineMap] | None = None):
    """W2 between diffusers' (model at its own sigma; ``ours``, its maps where already read) and k-diffusion's
    output laws on diffusers' grid, from the same start, per data law; and its largest ratio to the tolerance."""
    from checks.conform import kdiffusion_grid

    options = {"euler_ancestral": {"eta": 1.0}, "lms": {"order": config.order}}.get(config.kdiffusion, {})
    if ours is None:
        ours = sampler.read(as_sampler(config, "sigma"), sigmas, data)
    theirs = sampler.read(getattr(kdiffusion_grid.library(), f"sample_{config.kdiffusion}"), sigmas, data, **options)
    return gap(ours, theirs, sigmas, data, resolution(config))


def run_grid(configs: Sequence[Config], data: Sequence[law.GaussianData] = law.DATA, jobs: int = 1) -> list[Row]:
    """Every configuration's row, in order; ``jobs`` > 1 runs them in that many processes."""
    if jobs <= 1 or len(configs) < 2:
        return [run(c, data) for c in configs]
    import concurrent.futures
    import functools
    import multiprocessing

    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(functools.partial(run, data=data), configs, chunksize=max(1, len(configs) // (4 * jobs))))


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


def fit_order(config: Config, steps: Sequence[int] = ORDER_STEPS, data: law.GaussianData = law.DATA[1]):
    r"""The fitted convergence order of ``config``'s scheduler over ``steps`` (step size :math:`1/N`; ``config.steps``
    is not used): the weak error :math:`|\Delta\text{mean}| + |\Delta\text{var}|` of its exact output law from the
    exact start :math:`q(x_{\sigma_{max}})`, the model at the scheduler's own levels, against the exact
    :math:`q(x_\sigma)` at the level the run ends on, without the step onto 0 where the grid ends there
    (:func:`truncated`: the step from :math:`\sigma_{min}` onto the clean level has an error that does not vanish
    with :math:`N`). A :class:`checks.conform.kdiffusion_grid.OrderFit`, against ``config.advertised``."""
    from checks.conform.kdiffusion_grid import OrderFit
    from checks.core import stats

    errors = []
    for n in steps:
        at_n = dataclasses.replace(config, steps=n)
        scheduler = make(at_n)
        grid_levels = levels(scheduler)
        end = float(grid_levels[-2] if truncated(at_n, scheduler) else grid_levels[-1])
        (m,) = sampler.read(as_sampler(at_n, "sigma", truncate=True), grid_levels, [data])
        out, exact = m.law(sampler.start(data, float(grid_levels[0]))), sampler.start(data, end)
        errors.append(abs(out.mean - exact.mean) + abs(out.var - exact.var))
    with np.errstate(invalid="ignore", divide="ignore"):
        slope, se = stats.loglog_slope([1 / n for n in steps], errors)
    return OrderFit(config, tuple(steps), tuple(errors), float(slope), float(se), config.advertised)


def order_configs(schedulers: Sequence[str] = SCHEDULERS) -> list[Config]:
    """One order sweep per scheduler, order and variant: on its default spacing (PNDM's ``leading``, the others'
    ``linspace``) and, where it has them, on Karras sigmas; with an epsilon model, and a v model where the
    scheduler takes one."""
    configs = []
    for s in schedulers:
        family = FAMILIES[s]
        spacing = "leading" if s == "PNDM" else "linspace"
        for k, o, a, p in itertools.product((False, True) if family.karras else (False,), family.orders,
                                            family.algorithms, family.predictions):
            if p == "v_prediction" and k:
                continue  # the v model once per order, on the default spacing
            configs.append(Config(s, ORDER_STEPS[0], k, spacing, o, a, p))
    return configs


TWO_STAGE = ("HeunDiscrete", "KDPM2Discrete")


class _ReadAt:
    r"""A noise level :math:`\sigma` whose score is a given model output ``y`` read as the scheduler reads it, at
    the point the rule asks for: :math:`\hat x_0 = a_0 x/\sqrt{1 + \sigma^2} + b_0 y` (``score.reparameterizations``
    with :math:`\bar\alpha = 1/(1 + \sigma^2)`), :math:`\hat\varepsilon = (x - \hat x_0)/\sigma`, score
    :math:`-\hat\varepsilon/\sigma` (variance-exploding coordinates, time :math:`t = \sigma`)."""

    drift_coef, mean_coef = 0.0, 1.0

    def __init__(self, sigma: float, y, prediction: str):
        from checks.conform import derived

        self.var, self.diffusion_sq, self._sigma, self._y = sigma**2, 2 * sigma, sigma, y
        self._a0, self._b0 = (float(c) for c in derived.x0_map(prediction, 1 / (1 + sigma**2)))

    def score(self, x):
        x0 = self._a0 * x / math.sqrt(1 + self._sigma**2) + self._b0 * self._y
        return -(x - x0) / self._sigma**2


def _stage_ops(sigma: float, sigma_next: float, y1, y2, prediction: str, last: bool, mid: float | None = None):
    """The catalogue's ``ops`` for one step whose first model output is ``y1`` (at the step's start) and whose
    second is ``y2`` (at the intermediate point: ``mid``, default :math:`\\sqrt{\\sigma\\sigma'}`, and the
    end)."""
    from checks.conform import textbook

    class StageOps(textbook.SigmaOps):
        def __init__(self):
            self.now, self.next = _ReadAt(sigma, y1, prediction), _ReadAt(sigma_next, y2, prediction)
            self.mid = _ReadAt(math.sqrt(sigma * sigma_next) if mid is None else mid, y2, prediction)
            self._z, self.last, self.h = 0.0, last, sigma_next - sigma

    return StageOps()


@dataclass(frozen=True)
class StageKernels:
    r"""Per step of a two-stage scheduler (:data:`TWO_STAGE`), the composite kernel read off its pair of
    ``step()`` calls (:class:`checks.conform.kernel.TwoStage`; the last step, onto 0, is one call) and the
    derived one: the catalogue's rule (HeunDiscrete: ``edm_heun``, Heun's step of the probability-flow ODE in
    :math:`\sigma`, Euler onto 0; KDPM2Discrete: ``dpm_solver_2``, DPM-Solver-2 with its intermediate point at
    the midpoint in :math:`\lambda = -\log\sigma`, :math:`\sqrt{\sigma_i\sigma_{i+1}}`) with its first score read
    from :math:`\hat y_1` and its second from :math:`\hat y_2`; and the predictor stage against Euler onto the
    intermediate level the library uses. Errors in units of ``loop_tolerance`` of the step at the scheduler's
    resolution, relative to the kernel's size."""

    config: Config
    sigmas: np.ndarray
    read: list  # kernel.TwoStage per step
    derived: list
    errors: np.ndarray  # composite
    predictor_errors: np.ndarray

    @property
    def max_error(self) -> float:
        return float(max(np.max(self.errors), np.max(self.predictor_errors)))


def stage_kernels(config: Config) -> StageKernels:
    """Read every step's composite kernel off the configured two-stage scheduler (unit state, unit first and
    second model outputs; :mod:`checks.conform.kernel`) and compare it with the derived step's."""
    from checks.conform import kernel
    from checks.conform.reference import loop_tolerance
    from derivations import catalogue

    if config.scheduler not in TWO_STAGE:
        raise ValueError(f"{config.label}: a two-stage kernel is read for {', '.join(TWO_STAGE)} only")
    scheduler = make(config)
    grid_levels = levels(scheduler)
    _promote(scheduler)
    x, y1, y2 = (torch.tensor(v, dtype=torch.float64).reshape(-1, 1) for v in (kernel.X, kernel.Y, kernel.Z))
    xs, y1s, y2s = (np.array(v) for v in (kernel.X, kernel.Y, kernel.Z))
    rule = catalogue.get(config.textbook[0]).rule
    euler = catalogue.get("pf_euler").rule
    calls, n = list(scheduler.timesteps), len(grid_levels) - 1
    read, derived, errors, predictor_errors = [], [], [], []
    for i in range(n):
        last = i == n - 1
        first = scheduler.step(y1, calls[2 * i], x).prev_sample
        if last:  # onto 0: one call, the rule's last step reads only the first output
            second, mid = first, None
        else:
            mid = float(scheduler.sigmas_interpol[2 * i + 1]) if config.scheduler == "KDPM2Discrete" else None
            second = scheduler.step(y2, calls[2 * i + 1], first).prev_sample
        got = kernel.from_stages(first.reshape(-1).tolist(), second.reshape(-1).tolist())
        sigma, sigma_next = float(grid_levels[i]), float(grid_levels[i + 1])
        ops = _stage_ops(sigma, sigma_next, y1s, y2s, config.prediction, last)
        want_out = np.broadcast_to(rule(ops, xs), xs.shape)
        predictor_to = sigma_next if (last or mid is None) else mid
        predictor_ops = _stage_ops(sigma, predictor_to, y1s, y2s, config.prediction, True)
        want = kernel.from_stages(np.broadcast_to(euler(predictor_ops, xs), xs.shape).tolist(), want_out.tolist())
        allowed = loop_tolerance(grid_levels[i:i + 2], resolution(config))
        for errs, g, w in ((errors, got.composite, want.composite), (predictor_errors, got.predictor, want.predictor)):
            size = abs(w.a) + abs(w.b) + abs(w.s)
            errs.append(max(abs(g.a - w.a), abs(g.b - w.b), abs(g.s - w.s), abs(g.offset - w.offset))
                        / (allowed * size))
        read.append(got)
        derived.append(want)
    # a non-finite coefficient is an infinite error
    return StageKernels(config, grid_levels, read, derived, np.nan_to_num(np.array(errors), nan=np.inf),
                        np.nan_to_num(np.array(predictor_errors), nan=np.inf))


def fit_orders(configs: Sequence[Config], jobs: int = 1) -> list:
    """:func:`fit_order` of each configuration (:func:`order_configs`), in order; ``jobs`` > 1 in processes."""
    if jobs <= 1 or len(configs) < 2:
        return [fit_order(c) for c in configs]
    import concurrent.futures
    import multiprocessing

    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(fit_order, configs))


@dataclass(frozen=True)
class HistoryRead:
    r"""Per call of a multistep scheduler's ``step()``, in its own coordinates: the coefficient :math:`A` of the
    sample it is handed and :math:`B` of the model output it is handed, its stored history held fixed
    (:math:`x_{i+1} = A x_i + B \hat y_i + \text{history}`); read by stepping copies of the scheduler, taken
    just before the call, on the real inputs and on the inputs with the sample or the model output moved by one."""

    timesteps: np.ndarray
    a: np.ndarray
    b: np.ndarray


def history_read(config: Config, data: law.GaussianData = law.DATA[0]) -> HistoryRead:
    """:class:`HistoryRead` along the real loop, with the exact model of ``data`` at the scheduler's own levels."""
    import copy

    scheduler = make(config)
    grid_levels = levels(scheduler)
    _promote(scheduler)
    model = sampler.exact_denoiser([data], 1, torch.float64)
    first = float(grid_levels[0])
    state = torch.full((1, 1), data.mean / math.sqrt(1 + first**2) if config.family.vp else data.mean,
                       dtype=torch.float64)
    step_options = {"order": config.order} if config.scheduler == "LMSDiscrete" else {}
    times, a, b = [], [], []
    for i, t in enumerate(list(scheduler.timesteps)):
        model_input = scheduler.scale_model_input(state, t)
        level = own_level(scheduler, i, float(t))
        noisy = model_input.reshape(-1) * math.sqrt(1 + level**2)
        output = model_output(config.prediction, noisy, model(noisy, torch.full_like(noisy, level)), level).reshape(-1, 1)
        base, moved, pushed = (float(copy.deepcopy(scheduler).step(y, t, x, **step_options).prev_sample)
                               for x, y in ((state, output), (state + 1, output), (state, output + 1)))
        times.append(float(t))
        a.append(moved - base)
        b.append(pushed - base)
        state = scheduler.step(output, t, state, **step_options).prev_sample
    return HistoryRead(np.array(times), np.array(a), np.array(b))


def pndm_landings(config: Config) -> list[tuple[int, int, int]]:
    r"""PNDM's steps that land off its own schedule: per call that steps the sample it is handed (:math:`A \ne 0`),
    the level it lands on, :math:`\bar\alpha_{prev} = A^2 \bar\alpha_t` (its update's gain on the sample is
    :math:`\sqrt{\bar\alpha_{prev}/\bar\alpha_t}`; read with an epsilon model, whose output adds nothing to it), as
    the nearest training timestep, against the schedule's next timestep (-1: ``final_alpha_cumprod``); the
    mismatches as (timestep, landed, schedule's next)."""
    from checks.conform import derived

    eps = dataclasses.replace(config, prediction="epsilon")
    read, scheduler = history_read(eps), make(eps)
    table = scheduler.alphas_cumprod.to(torch.float64).numpy()
    final = float(scheduler.final_alpha_cumprod)
    calls = [int(t) for t in scheduler.timesteps]
    out = []
    for i, (t, a) in enumerate(zip(calls, read.a)):
        if abs(a) < 1e-12:  # a pseudo Runge-Kutta stage that steps the sample it stored, not the one handed
            continue
        landed = a**2 * table[t]
        expected = final if i + 1 == len(calls) else float(table[calls[i + 1]])
        if abs(landed - expected) > 1e-9 * expected:
            nearest = -1 if abs(landed - final) <= 1e-9 * final else derived.nearest_timestep(landed, table)
            out.append((t, nearest, -1 if i + 1 == len(calls) else calls[i + 1]))
    return out
