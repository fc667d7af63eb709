"""What a case runs: the library loop, its grid, its process, its same-grid reference; and each library's
subset (:data:`CASES`)."""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from checks.conform.mixture.law import (REFINE, TABLE_SAMPLES, BrownianPath, EngineNoise, Score, installed, mixture_data,
                                        sigma_process, table_process)


@dataclass(frozen=True)
class Models:
    """The exact model in the forms a run needs: ``score(x, t)`` for the engine (``t`` a level of the case's
    process), and ``library(x, level)``, the form the library calls (denoiser or noise prediction)."""

    score: Score
    library: Callable[[torch.Tensor, object], torch.Tensor]


@dataclass(frozen=True)
class Reference:
    """A run of the same scheme on given levels: ``run(models, levels, x, path) -> x_out`` (``path`` the
    Brownian path, None for a deterministic case)."""

    label: str
    run: Callable = dataclasses.field(repr=False)


def catalogue_reference(scheme: str, options: dict, process_of: Callable[[], object]) -> Reference:
    """The catalogue's rule ``scheme`` run by the engine on the case's process."""
    from checks.sim import Grid, Sampler

    def run(models: Models, levels, x, path: BrownianPath | None) -> torch.Tensor:
        grid = Grid(process_of(), tuple(float(v) for v in levels))
        noise = EngineNoise(path, levels)
        return Sampler(scheme)(models.score, grid, x, noise, callback=noise.advance, **options)

    label = scheme + "".join(f" {k}={v}" for k, v in options.items())
    return Reference(f"catalogue {label}", run)


@dataclass(frozen=True)
class Case:
    """One library sampler in one configuration.

    ``sampler(steps)`` is the library's loop as ``sample(model, x, noise_sampler) -> x_out`` on its grid of
    ``steps`` steps (``model`` in the library's form, ``noise_sampler(level, next_level)`` a standard normal
    batch); ``grid(steps)`` the levels of that grid in the case's process (``kind`` "sigma": :math:`\\sigma`;
    "table": timestep + 1, 0 clean); ``fine`` the levels of the bias run."""

    id: str
    library: str
    label: str
    kind: str
    steps: int
    sampler: Callable[[int], Callable] = dataclasses.field(repr=False)
    grid: Callable[[int], np.ndarray] = dataclasses.field(repr=False)
    fine: Callable[[], np.ndarray] = dataclasses.field(repr=False)
    process: Callable[[], object] = dataclasses.field(repr=False)
    reference: Callable[[], Reference | None] = dataclasses.field(repr=False)
    order: float
    resolution: torch.dtype
    stochastic: bool
    samples: int = 100_000

    @property
    def check_id(self) -> str:
        return f"conform.mixture.{self.id}"


def noise_sampler(path: BrownianPath | None, rows: int | None = None):
    def draw(level, next_level):
        if path is None:
            raise RuntimeError("a deterministic case drew noise")
        return path.increment(level, next_level, rows)

    return draw


def models_for(case: Case) -> Models:
    process = case.process()
    score = mixture_data().score(process)
    if case.kind == "sigma":
        def denoiser(x: torch.Tensor, sigma, **_: object) -> torch.Tensor:
            s = float(torch.as_tensor(sigma).reshape(-1)[0])
            paths = x.reshape(-1, 1)  # the data score takes one row per path, whatever shape the loop keeps
            return (paths + s**2 * score(paths, s)).reshape(x.shape)

        return Models(score, denoiser)

    def eps(x: torch.Tensor, timestep) -> torch.Tensor:
        t = int(timestep) + 1
        return -math.sqrt(process.at(t).var) * score(x, t)

    return Models(score, eps)


def sigma_levels(case: Case, levels: np.ndarray) -> np.ndarray:
    """The grid as variance-exploding levels (for the rounding bound): :math:`\\sigma`, or
    :math:`\\sqrt{(1 - \\bar\\alpha)/\\bar\\alpha}` on a table."""
    if case.kind == "sigma":
        return np.asarray(levels, dtype=np.float64)
    process = case.process()
    out = []
    for t in levels:
        c = process.at(float(t))
        out.append(math.sqrt(c.var) / c.mean_coef)
    return np.array(out)


def _kdiffusion_case(name: str, scheme: tuple[str, dict] | None, order: float, steps: int = 25, grid: str = "sd",
                     options: dict | None = None) -> Case:
    from checks.conform import kdiffusion_grid as g

    options = options or {}
    config = g.Config(name, steps, grid)

    def sampler(n: int):
        sample = getattr(g.library(), f"sample_{name}")
        levels = torch.tensor(g.sigmas(config, n), dtype=torch.float64)

        def run(model, x, noise):
            extra = {"noise_sampler": noise} if "noise_sampler" in _parameters(sample) else {}
            return sample(model, x, levels, disable=True, **extra, **options)

        return run

    reference = (lambda: catalogue_reference(scheme[0], scheme[1], sigma_process)) if scheme else (lambda: None)
    label = f"sample_{name}" + "".join(f" {k}={v:g}" for k, v in options.items()) + f", Karras {grid}, {steps} steps"
    return Case(f"k-diffusion.{name}", "k-diffusion", label, "sigma", steps, sampler,
                lambda n: g.sigmas(config, n), lambda: g.sigmas(config, REFINE * steps), sigma_process, reference,
                order, torch.float64, "noise_sampler" in _parameters(getattr(g.library(), f"sample_{name}")))


def _parameters(function) -> tuple[str, ...]:
    import inspect

    return tuple(inspect.signature(function).parameters)


def _diffusers_sigma_case(scheduler: str, scheme: tuple[str, dict] | None, order: float, steps: int = 25,
                          solver_order: int = 1) -> Case:
    from checks.conform import diffusers_sigma as d

    def config(n: int) -> d.Config:
        return d.Config(scheduler, n, order=solver_order)

    def sampler(n: int):
        sample = d.as_sampler(config(n), "sigma")
        return lambda model, x, noise: sample(model, x, None, noise)

    def levels(n: int) -> np.ndarray:
        return d.levels(d.make(config(n)))

    def reference() -> Reference | None:
        if scheme is not None:
            return catalogue_reference(scheme[0], scheme[1], sigma_process)
        if config(steps).kdiffusion is None or not installed("k-diffusion"):
            return None
        from checks.conform import kdiffusion_grid as g

        other = getattr(g.library(), f"sample_{config(steps).kdiffusion}")
        return Reference(f"k-diffusion sample_{config(steps).kdiffusion}",
                         lambda models, lv, x, path: other(models.library, x, torch.as_tensor(lv), disable=True))

    label = config(steps).label.replace(f" N={steps}", "") + f", {steps} steps"
    return Case(f"diffusers.{scheduler}", "diffusers", label, "sigma", steps, sampler, levels,
                lambda: levels(REFINE * steps), sigma_process, reference, order, d.resolution(config(steps)), False)


def _diffusers_table_case(scheduler: str, steps: int = 50) -> Case:
    from checks.conform import diffusers_grid as g

    config = g.Config(scheduler, steps)  # leading spacing, linear betas, epsilon; DDPM fixed_small, DDIM eta 0

    @functools.cache
    def table() -> np.ndarray:
        return g.make(config).alphas_cumprod.numpy()

    def process():
        return _table_process(table().tobytes())

    def timesteps() -> list[int]:
        return [int(t) for t in g.make(config).timesteps]

    def levels(_: int) -> np.ndarray:
        return np.array([t + 1 for t in timesteps()] + [0], dtype=np.float64)

    def fine() -> np.ndarray:
        coarse = levels(steps)
        stride = int(coarse[0] - coarse[1])
        # each step split into REFINE equal steps of the table, then the clean level
        return np.append(np.arange(coarse[0], coarse[-2] - 1, -stride // REFINE, dtype=np.float64), 0.0)

    def sampler(_: int):
        def run(model, x, noise):
            scheduler_ = g.make(config)
            order = [int(t) for t in scheduler_.timesteps]
            with g.stepping(config, scheduler_) as step:
                for k, t in enumerate(order):
                    z = noise(t + 1, (order[k + 1] + 1) if k + 1 < len(order) else 0) if config.scheduler == "DDPM" \
                        else torch.zeros_like(x)
                    x = step(x.reshape(-1), model(x, t).reshape(-1), t, z.reshape(-1)).reshape(x.shape)
            return x

        return run

    scheme = config.reference.scheme
    label = config.label.replace(f" N={steps}", "") + f", {steps} steps"
    return Case(f"diffusers.{scheduler}", "diffusers", label, "table", steps, sampler, levels, fine, process,
                lambda: catalogue_reference(scheme[0], scheme[1], process), 1.0, torch.float64,
                scheduler == "DDPM", samples=TABLE_SAMPLES)


@functools.lru_cache(maxsize=None)
def _table_process(table: bytes):
    return table_process(np.frombuffer(table, dtype=np.float64).copy())


# Each library's subset: id -> a builder (the builders import the library on use).
CASES: dict[str, dict[str, Callable[[], Case]]] = {
    "diffusers": {
        "DDIM": lambda: _diffusers_table_case("DDIM"),
        "DDPM": lambda: _diffusers_table_case("DDPM"),
        "EulerDiscrete": lambda: _diffusers_sigma_case("EulerDiscrete", ("pf_euler", {}), 1.0),
        "DPMSolverMultistep": lambda: _diffusers_sigma_case("DPMSolverMultistep", None, 2.0, solver_order=2),
    },
    "k-diffusion": {
        "euler": lambda: _kdiffusion_case("euler", ("pf_euler", {}), 1.0),
        "heun": lambda: _kdiffusion_case("heun", ("edm_heun", {}), 2.0),
        "dpmpp_2m": lambda: _kdiffusion_case("dpmpp_2m", None, 2.0),
        "euler_ancestral": lambda: _kdiffusion_case("euler_ancestral", ("ddim", {"eta": 1.0}), 1.0,
                                                    options={"eta": 1.0}),
    },
}


def cases(library: str, names: Sequence[str] | None = None) -> list[Case]:
    return [build() for name, build in CASES[library].items() if names is None or name in names]
