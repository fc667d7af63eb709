r"""Monte Carlo conformance of library samplers on Gaussian-mixture data.

With Gaussian data a sampler is affine and its output law is exact (:mod:`checks.conform.sampler`);
with the two-mode mixture :data:`checks.suite.samplers.mixture.MIXTURE` the exact score
(``mixture.noised_score``, through :class:`checks.sim.data.MixtureData`) is not affine, so the
*real* library loop runs on a batch of paths, the model being the exact score read as the library
expects it: the denoiser :math:`D(x; \sigma) = x + \sigma^2 \nabla\log p_\sigma(x)` of the
variance-exploding coordinates :math:`x_\sigma = x_0 + \sigma z` (k-diffusion, and diffusers'
:math:`\sigma` schedulers through :func:`checks.conform.diffusers_sigma.as_sampler`), or the noise
prediction :math:`\hat\varepsilon = -\sqrt{1 - \bar\alpha_t}\,\nabla\log p_t(x)` (diffusers' DDPM and
DDIM). Every path starts from the exact noised law at the grid's first level, and a stochastic
sampler's noise is the normalized increment of one Brownian path over the union of the levels of
the runs being compared (:class:`BrownianPath`), so the runs are coupled.

Three statistics of the output, each tested twice (six estimates, three where there is no same-grid
reference; one false-alarm probability split over them, :mod:`checks.core.stats`):

* the mean, the variance, and the weight of the first mode, estimated as the mean of the posterior
  responsibility :math:`r_1(x)` of the data law (``mixture.noised_score``, ``responsibility``):
  :math:`\mathbb E_p[r_1(X)] = w_1` exactly (the law of total probability), and :math:`r_1` is
  smooth, so it has less variance than the proportion below the valley and pairs well;
* **same grid**: against the reference run on the library's own grid, from the same start with the
  same noise: the catalogue's rule (:mod:`derivations.catalogue`, run by the engine
  :mod:`checks.sim`) where the library's algorithm is a catalogue scheme, or another library's
  sampler of the same scheme. The two outputs differ path by path by rounding only, so the
  estimate is the library's, the expected value the reference's on the same paths, the standard
  error that of the paired differences, and the bias allowance the statistic's change when every
  output moves by the rounding bound :func:`checks.conform.reference.loop_tolerance` at the
  library's resolution (the detectable error is then about twice that bound);
* **data law**: against the exact value of the data law (``marginal_mean``, ``marginal_var``,
  ``mix_weight``), with a bias allowance for the discretisation from a fine-grid run: the same
  scheme (the reference where there is one, else the library itself) on a grid :data:`REFINE`
  times finer from the same starts and the same Brownian path gives the paired difference
  :math:`\hat\Delta` of the statistic between the two grids; with weak order :math:`p` the bias at
  the coarse grid is :math:`\Delta\,K^p/(K^p - 1)`, bounded by
  :math:`(|\hat\Delta| + c\,\mathrm{SE}_\Delta)\,K^p/(K^p - 1)` with the check's own critical value.
  Where the bound comes from the library's own loop (no reference), a defect of that loop that
  vanishes as the grid is refined (a score taken one level late) is part of its scheme and is
  absorbed in the bound; a defect that does not vanish (a noise scale) stays visible. A planted
  ``sampler`` (:func:`run`) is held to the bound of the library's real loop.

Seeds derive from the case's id (:func:`checks.core.registry.seed_for`), so a run is the same in any
process. The libraries are the optional extra ``conform``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from checks.core import stats
from checks.core.registry import seed_for

# The fine grid of the bias bound has REFINE times the steps (nested for the diffusers tables).
REFINE = 4
# The fine-grid run uses this fraction of the paths: the coupled differences vary little.
FINE_FRACTION = 4
# diffusers' DDPM and DDIM take 50 steps (a fine grid of 196): half the paths keep their run to seconds.
TABLE_SAMPLES = 50_000
# Library names (as the CLI spells them) -> import names.
LIBRARIES = {"diffusers": "diffusers", "k-diffusion": "k_diffusion"}
STATISTICS = ("mean", "variance", "first-mode weight")

# model(x, level) for the engine: the exact score at a level of the case's process.
Score = Callable[[torch.Tensor, float], torch.Tensor]


def installed(library: str) -> bool:
    return importlib.util.find_spec(LIBRARIES[library]) is not None


# --- the data law and the processes the levels live on ---

def mixture_data():
    from checks.sim.data import MixtureData
    from checks.suite.samplers.mixture import MIXTURE

    return MixtureData(*(torch.tensor(MIXTURE[k], dtype=torch.float64) for k in ("weights", "means", "variances")))


def mixture_args() -> dict:
    from checks.suite.samplers.mixture import MIXTURE

    (w, _), (m1, m2), (v1, v2) = MIXTURE["weights"], MIXTURE["means"], MIXTURE["variances"]
    one = lambda v: torch.tensor(float(v), dtype=torch.float64)  # noqa: E731
    # the data law: the kernel N(1 x_0, 0)
    return dict(mix_weight=one(w), mix_mean_1=one(m1), mix_mean_2=one(m2), mix_var_1=one(v1), mix_var_2=one(v2),
                kernel_mean_coef=one(1.0), kernel_var=one(0.0))


def data_law() -> dict[str, float]:
    """The exact mean, variance and first-mode weight of the data law."""
    from checks.sim.processes import derived

    args = mixture_args()
    return {"mean": float(derived("mixture.noised_score", "marginal_mean")(**args)),
            "variance": float(derived("mixture.noised_score", "marginal_var")(**args)),
            "first-mode weight": float(args["mix_weight"])}


def responsibility(x: torch.Tensor) -> torch.Tensor:
    r""":math:`r_1(x)`: the posterior probability, under the data law, that ``x`` came from the first mode
    (``mixture.noised_score``'s ``responsibility``, :math:`w_1\mathcal N_1/\sum_k w_k\mathcal N_k`, taken as a
    softmax of the derived component log-densities, as the engine's mixture score does, so that a far
    outlier gives 0 or 1 rather than 0/0)."""
    from checks.sim.processes import derived

    data, args = mixture_data(), mixture_args()
    parts = dict(x_t=x.reshape(-1, 1).to(torch.float64), mix_mean_1=data.means, mix_var_1=data.variances,
                 kernel_mean_coef=args["kernel_mean_coef"], kernel_var=args["kernel_var"])
    log_density = derived("mixture.noised_score", "component_log_density")(**parts)
    return torch.softmax(torch.log(data.weights) + log_density, dim=-1)[:, 0]


@functools.cache
def sigma_process():
    r"""The variance-exploding process in the time :math:`t = \sigma`: :math:`m = 1`, :math:`v = \sigma^2`
    (so :math:`f = 0`, :math:`g^2 = 2\sigma`), the coordinates of k-diffusion's samplers."""
    from checks.sim.processes import Process

    return Process("sigma", lambda t: (torch.ones_like(t), t**2), math.inf, 0.0)


def table_process(alphas_cumprod: np.ndarray):
    r"""A discrete chain on a library's :math:`\bar\alpha` table, in the times :math:`\tau + 1` of its
    timesteps :math:`\tau`, with time 0 the clean level (:math:`\bar\alpha = 1`); the kernels of
    ``ddpm.marginal``."""
    from checks.sim.processes import Process, derived

    table = torch.cat([torch.ones(1, dtype=torch.float64), torch.as_tensor(alphas_cumprod, dtype=torch.float64)])
    mean_coef, var = derived("ddpm.marginal", "mean_coef"), derived("ddpm.marginal", "var")

    def moments(t: torch.Tensor):
        level = table[int(t)]
        return mean_coef(alpha_bar_t=level), var(alpha_bar_t=level)

    return Process("table", moments, float(len(table) - 1), 0.0, continuous=False)


class BrownianPath:
    r"""One Brownian path per sample on a finite set of levels, and its normalized increments
    :math:`(W(b) - W(a))/\sqrt{|b - a|}`: over the disjoint intervals of any one grid they are independent
    standard normals, and two grids whose levels are all among the path's see the same path (coupled)."""

    def __init__(self, levels: Sequence[float], samples: int, generator: torch.Generator):
        ordered = sorted({float(v) for v in levels}, reverse=True)
        steps = torch.tensor(np.sqrt(np.abs(np.diff(ordered))), dtype=torch.float64)
        xi = torch.randn(samples, len(ordered) - 1, generator=generator, dtype=torch.float64)
        self._path = torch.cat([torch.zeros(samples, 1, dtype=torch.float64), torch.cumsum(xi * steps, dim=1)], 1)
        self._index = {v: k for k, v in enumerate(ordered)}

    def increment(self, a, b, rows: int | None = None) -> torch.Tensor:
        a, b = float(a), float(b)
        w = self._path[:rows] if rows is not None else self._path
        return ((w[:, self._index[b]] - w[:, self._index[a]]) / math.sqrt(abs(b - a))).unsqueeze(-1)


class EngineNoise:
    """The engine's noise source (``normal_like``) reading the Brownian increment of the current step of
    ``levels``; the step index is advanced by the engine's callback."""

    def __init__(self, path: BrownianPath | None, levels: Sequence[float]):
        self.path, self.levels, self.step = path, [float(v) for v in levels], 0

    def normal_like(self, x: torch.Tensor) -> torch.Tensor:
        if self.path is None:
            raise RuntimeError("a deterministic case drew noise")
        return self.path.increment(self.levels[self.step], self.levels[self.step + 1], x.shape[0]).to(x)

    def advance(self, k: int, t: float, x: torch.Tensor) -> None:
        self.step = k


# --- what a case runs ---

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


# --- the statistics ---

def _values(name: str, x: torch.Tensor) -> torch.Tensor:
    x = x.reshape(-1).to(torch.float64)
    if name == "mean":
        return x
    if name == "variance":
        return (x - x.mean()) ** 2
    return responsibility(x)


def _estimate(name: str, x: torch.Tensor) -> float:
    """The statistic: the mean of the values (for the variance, with the unbiased n - 1)."""
    values = _values(name, x)
    return float(values.sum() / (len(values) - (name == "variance")))


def rounding_allowance(name: str, x: torch.Tensor, shift: float) -> float:
    """The largest change of the statistic when every output moves by at most ``shift`` (bound of the
    rounding), to first order: the mean moves by ``shift``; the variance by :math:`4\\,\\text{shift}\\,E|x - \\bar x|`
    (each centred value moves by up to twice the shift); the weight by :math:`E|r_1(x \\pm \\text{shift}) - r_1(x)|`."""
    x = x.reshape(-1).to(torch.float64)
    if name == "mean":
        return shift
    if name == "variance":
        return float(4 * shift * (x - x.mean()).abs().mean() + 4 * shift**2)
    r = responsibility(x)
    return float(torch.maximum((responsibility(x + shift) - r).abs(), (responsibility(x - shift) - r).abs()).mean())


def paired(name: str, a: torch.Tensor, b: torch.Tensor) -> tuple[float, float, float]:
    """(statistic of ``a``, of ``b``, SE of the difference) over paths paired row by row."""
    differences = _values(name, a) - _values(name, b)
    return _estimate(name, a), _estimate(name, b), float(differences.std() / math.sqrt(len(differences)))


def same_grid_estimates(out: torch.Tensor, ref: torch.Tensor, label: str, tolerance: float) -> list[stats.Estimate]:
    """The library's statistics against the reference's on the same paths, a rounding allowance each."""
    ref_flat = ref.reshape(-1).to(torch.float64)
    scale = math.sqrt(float(ref_flat.mean()) ** 2 + float(ref_flat.var()))
    shift = tolerance * scale
    estimates = []
    for name in STATISTICS:
        lib_value, ref_value, se = paired(name, out, ref)
        allowance = rounding_allowance(name, ref, shift)
        # Outputs equal to the last bit have no spread: the rounding's own spread per path is the floor.
        se = max(se, allowance / math.sqrt(out.shape[0]))
        estimates.append(stats.Estimate(f"{name}, vs {label} (same grid, same noise)", lib_value, ref_value, se,
                                        bias_allowance=allowance))
    return estimates


def bias_bounds(coarse: torch.Tensor, fine: torch.Tensor, order: float, critical: float) -> dict[str, float]:
    r""":math:`(|\hat\Delta| + c\,\mathrm{SE}_\Delta)\,K^p/(K^p - 1)` per statistic, :math:`\hat\Delta` the
    coarse-minus-fine statistic over coupled paths."""
    factor = REFINE**order / (REFINE**order - 1)
    out = {}
    for name in STATISTICS:
        c, f, se = paired(name, coarse, fine)
        out[name] = (abs(c - f) + critical * se) * factor
    return out


def data_law_estimates(out: torch.Tensor, bias: dict[str, float]) -> list[stats.Estimate]:
    exact = data_law()
    x = out.reshape(-1, 1).to(torch.float64)
    made = [stats.mean("mean", x, exact["mean"]), stats.variance("variance", x, exact["variance"]),
            stats.mean("first-mode weight", responsibility(x), exact["first-mode weight"])]
    return [dataclasses.replace(e, name=f"{e.name}, vs data law", bias_allowance=bias[e.name]) for e in made]


@dataclass(frozen=True)
class Result:
    case: Case
    reference: str | None  # the same-grid reference's label
    statistics: tuple[stats.Statistic, ...]
    samples: int
    fine_samples: int
    seed: int
    wall_time_s: float

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.statistics)


def run(case: Case, samples: int | None = None, seed_offset: int = 0, sampler=None,
        false_alarm: float = stats.FALSE_ALARM_PER_CHECK) -> Result:
    """Run ``case`` (or ``sampler`` in place of its library loop: a planted bug) and test its statistics."""
    n = samples or case.samples
    if n < FINE_FRACTION * stats.MIN_SAMPLES:
        raise ValueError(f"{case.check_id}: at least {FINE_FRACTION * stats.MIN_SAMPLES} samples are needed")
    start = time.perf_counter()
    seed = seed_for(case.check_id, seed_offset)
    generator = torch.Generator().manual_seed(seed)
    models, levels, fine = models_for(case), case.grid(case.steps), case.fine()
    x_init = mixture_data().sample_marginal(case.process(), float(levels[0]), n, generator)
    path = BrownianPath(np.concatenate([levels, fine]), n, generator) if case.stochastic else None
    with torch.no_grad():
        out = (sampler or case.sampler(case.steps))(models.library, x_init.clone(), noise_sampler(path))
        reference = case.reference()
        ref_out = None if reference is None else reference.run(models, levels, x_init.clone(), path)
        m = n // FINE_FRACTION
        if reference is not None:
            coarse = ref_out[:m]
            fine_out = reference.run(models, fine, x_init[:m].clone(), path)
        else:  # the library itself on both grids (its own loop, not a planted ``sampler``: the scheme it claims)
            coarse = out[:m] if sampler is None else case.sampler(case.steps)(models.library, x_init[:m].clone(),
                                                                                noise_sampler(path, m))
            fine_out = case.sampler(REFINE * case.steps)(models.library, x_init[:m].clone(), noise_sampler(path, m))
    k = 2 * len(STATISTICS) if reference is not None else len(STATISTICS)
    critical = stats.critical_value(false_alarm / k)
    estimates = []
    if reference is not None:
        from checks.conform.reference import loop_tolerance

        tolerance = loop_tolerance(sigma_levels(case, levels), case.resolution)
        estimates += same_grid_estimates(out, ref_out, reference.label, tolerance)
    estimates += data_law_estimates(out, bias_bounds(coarse, fine_out, case.order, critical))
    return Result(case, None if reference is None else reference.label, tuple(stats.test(estimates, false_alarm)),
                  n, m, seed, time.perf_counter() - start)


# --- the cases ---

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


def run_all(library: str, samples: int | None = None) -> list[Result]:
    return [run(c, samples) for c in cases(library)]


# --- planted bugs: the statistics can fail ---

# Planted bugs are caught on the same grid path by path, so fewer paths do.
PLANTED_SAMPLES = 20_000


def noise_scaled(case: Case, factor: float):
    """The case's library loop with every noise draw multiplied by ``factor`` (a planted bug)."""
    real = case.sampler(case.steps)
    return lambda model, x, noise: real(model, x, lambda a, b: factor * noise(a, b))


def score_one_level_late(case: Case):
    """The case's library loop with the model asked at the grid's next level (a planted bug: the score at the
    wrong time)."""
    real = case.sampler(case.steps)
    levels = [float(v) for v in case.grid(case.steps)]
    if case.kind == "sigma":
        following = dict(zip(levels[:-1], levels[1:]))

        def shifted(model):
            def late(x, sigma, **kw):
                s = float(torch.as_tensor(sigma).reshape(-1)[0])
                return model(x, torch.full_like(torch.as_tensor(sigma), following[s]), **kw)

            return late
    else:  # table levels are timestep + 1; the model takes the timestep (the clean level: -1)
        following = {int(a) - 1: int(b) - 1 for a, b in zip(levels[:-1], levels[1:])}

        def shifted(model):
            return lambda x, t: model(x, following[int(t)]) if following[int(t)] >= 0 else torch.zeros_like(x)

    return lambda model, x, noise: real(shifted(model), x, noise)


# Per library: (case, bug) pairs shown on the study page.
PLANTED = {"diffusers": (("DDPM", "noise x 1.05"), ("DDIM", "score one level late")),
           "k-diffusion": (("euler_ancestral", "noise x 1.05"), ("heun", "score one level late"),
                           ("dpmpp_2m", "score one level late"))}


def planted(case: Case, bug: str):
    return noise_scaled(case, 1.05) if bug == "noise x 1.05" else score_one_level_late(case)


def planted_rows(library: str) -> list[str]:
    """Each planted bug of :data:`PLANTED` run at :data:`PLANTED_SAMPLES` paths: the statistics it fails."""
    lines = ["| sampler | planted bug | failed statistics (estimate, expected, threshold) | verdict |",
             "| --- | --- | --- | --- |"]
    for name, bug in PLANTED[library]:
        (case,) = cases(library, [name])
        result = run(case, PLANTED_SAMPLES, sampler=planted(case, bug))
        failed = "; ".join(f"{s.name}: {s.estimate:.4g} vs {s.expected:.4g} (|difference| "
                           f"{abs(s.estimate - s.expected):.3g} > {s.threshold:.3g})"
                           for s in result.statistics if not s.passed)
        lines.append(f"| {case.label} | {bug} | {failed or 'none'} | {'rejected' if failed else 'NOT REJECTED'} |")
    return lines


# --- rendering (CLI and the study pages) ---

def rows(results: Sequence[Result]) -> list[str]:
    lines = ["| sampler | statistic | estimate | expected | SE | z | bias allowance | threshold | "
             "detectable error (99 %) | |", "|" + " --- |" * 10]
    for r in results:
        for s in r.statistics:
            lines.append(f"| {r.case.label} | {s.name} | {s.estimate:.6g} | {s.expected:.6g} | {s.std_error:.3g} | "
                         f"{s.z:.3g} | {s.bias_allowance:.3g} | {s.threshold:.3g} | {s.detectable_error:.3g} | "
                         f"{'pass' if s.passed else 'FAIL'} |")
    return lines


def table(results: Sequence[Result]) -> str:
    return "\n".join(rows(results)) + "\n"


def summary(results: Sequence[Result]) -> str:
    failed = [r.case.id for r in results if not r.passed]
    return (f"{len(results)} samplers on Gaussian-mixture data, {sum(r.passed for r in results)} pass"
            + (f"; FAIL: {', '.join(failed)}" if failed else ""))


def command(library: str) -> int:
    """``diffverify conform LIBRARY --mixture``: the table on stdout; 1 if a statistic fails."""
    import sys

    results = run_all(library)
    sys.stdout.write(f"{library} {version(library)}: {summary(results)} (false-alarm probability "
                     f"{stats.FALSE_ALARM_PER_CHECK:g} per sampler, split over its statistics)\n\n")
    sys.stdout.write(table(results))
    return 0 if all(r.passed for r in results) else 1


def version(library: str) -> str:
    from importlib.metadata import version as installed_version

    return installed_version(library)


def with_section(page, library: str):
    """A study page (``checks.app.plugins.StudyPage``) with :func:`section` appended."""
    lines = section(library)
    return dataclasses.replace(page, markdown=page.markdown + "\n" + "\n".join(lines)) if lines else page


def section(library: str) -> list[str]:
    """The study page's section: the library's subset run here (empty where the library is absent)."""
    if not installed(library):
        return []
    from checks.suite.samplers.mixture import MIXTURE

    results = run_all(library)
    paths = ", ".join(f"{r.case.label.split(',')[0]}: {r.samples:,} ({r.fine_samples:,} on the fine grid)"
                      for r in results)
    return [
        "## Monte Carlo on Gaussian-mixture data", "",
        f"{summary(results)}. Data: the two-mode mixture {MIXTURE} (`checks.suite.samplers.mixture`); the model "
        "is its exact noised score (`mixture.noised_score`) in the form the library calls (denoiser or noise "
        "prediction). The paths start from the exact noised law at the grid's first level; a stochastic "
        "sampler's noise is the increment of one Brownian path, shared with the runs it is compared with "
        f"(`checks.conform.mixture`). Paths: {paths}.", "",
        "Each statistic (mean, variance, weight of the first mode as the mean posterior responsibility, whose "
        "expectation under the data law is the weight) is tested against the reference run on the same grid "
        "from the same start with the same noise (the catalogue's rule, or another library's sampler of the "
        "same scheme: a difference there is bookkeeping, allowed only the rounding bound), and against the "
        "exact data law with an allowance for the discretisation bias, bounded from a coupled run of the "
        f"reference (else of the library) on a grid {REFINE} times finer. Thresholds: the suite's rule, "
        f"false-alarm probability {stats.FALSE_ALARM_PER_CHECK:g} per sampler split over its statistics; the "
        "detectable error is the smallest detected with probability 0.99.", "",
        *rows(results), "",
        f"Planted bugs ({PLANTED_SAMPLES:,} paths): the library's own loop with every noise draw multiplied "
        "by 1.05, or with the model asked at the grid's next level.", "",
        *planted_rows(library), "",
    ]
