r"""k-diffusion's samplers against the catalogue's rules and the exact laws, on Karras grids.

For each configuration (sampler, Karras grid from k-diffusion's own ``get_sigmas_karras``, steps
:math:`N`, :math:`\eta`) the *real* ``sample_*`` function runs once on a batch, with the exact denoiser
of Gaussian data and a scripted Brownian noise (:mod:`checks.conform.sampler`), which reads its whole
run as an affine map and so its exact output law. Measured, per data law:

* **W2 to the data** of the library's output from its start :math:`N(0, \sigma_{max}^2)`, and from the
  exact :math:`q(x_{\sigma_{max}}) = N(\mu, s^2 + \sigma_{max}^2)` (the initialisation's share is the gap);
* **library vs textbook**: where the catalogue has the scheme (:data:`SAMPLERS`), the catalogue's rule
  on the same :math:`\sigma` grid (:func:`checks.conform.textbook.run_sigmas`) from the same start; their
  distance, relative to the output's scale, against :func:`checks.conform.reference.loop_tolerance`;
* **the convergence order**: the weak error :math:`|\Delta \text{mean}| + |\Delta \text{var}|` at
  :math:`\sigma_{min}` (the grid without its final 0, from the exact start) over a sweep of :math:`N`,
  its log-log slope (:func:`checks.core.stats.loglog_slope`) against the order the sampler advertises,
  within :data:`checks.sim.orders.ORDER_RESOLUTION`.

k-diffusion's package imports torchvision, CLIP and more at load; only ``k_diffusion/sampling.py`` is
loaded here (:func:`library`), with the functions it reads from ``utils.py`` taken from the library's
own source, so the optional extra needs only ``scipy``, ``torchsde``, ``torchdiffeq`` and ``tqdm`` beside
k-diffusion installed with ``--no-deps``.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import itertools
import math
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from checks.conform import law, sampler
from checks.conform.axes import KARRAS_GRIDS, KDIFFUSION_ETAS, KDIFFUSION_SAMPLERS, KDIFFUSION_STEPS
from checks.conform.reference import loop_tolerance

# The name the sampling module is loaded under (not "k_diffusion": a full install stays untouched).
PACKAGE = "diffverify_k_diffusion"
ORDER_STEPS = (32, 64, 128, 256)


@dataclass(frozen=True)
class Record:
    """What a sampler advertises, and the catalogue rule that is the same scheme (None: no such rule)."""

    order: float
    scheme: str | None = None
    stochastic: bool = False  # takes eta and a noise_sampler
    ode_scheme: str | None = None  # the catalogue rule of its eta = 0 limit, where that differs


SAMPLERS = {
    "euler": Record(1.0, "pf_euler"),  # Karras et al., Algorithm 2 without churn: Euler in sigma
    "heun": Record(2.0, "edm_heun"),  # Karras et al., Algorithm 1: Heun, Euler onto sigma = 0
    "dpm_2": Record(2.0, "dpm_solver_2"),  # DPM-Solver-2 with r_1 = 1/2 in lambda = -log sigma
    "lms": Record(4.0),  # linear multistep, order 4 by default
    "euler_ancestral": Record(1.0, "ddim", stochastic=True),  # DDIM(eta): sigma_up^2 = eta^2 sigma'^2 (1 - sigma'^2/sigma^2)
    "dpmpp_2m": Record(2.0),
    "dpmpp_sde": Record(2.0, None, stochastic=True, ode_scheme="dpmpp_2s"),
    "dpmpp_2m_sde": Record(2.0, stochastic=True),
    "dpmpp_3m_sde": Record(3.0, stochastic=True),
}
assert tuple(SAMPLERS) == KDIFFUSION_SAMPLERS


@functools.cache
def library() -> types.ModuleType:
    """k-diffusion's ``sampling`` module, loaded alone."""
    spec = importlib.util.find_spec("k_diffusion")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("k-diffusion is not installed (optional extra 'conform')")
    folder = Path(list(spec.submodule_search_locations)[0])
    source = (folder / "sampling.py").read_text()
    needed = set(re.findall(r"\butils\.(\w+)", source))
    utils = types.ModuleType(f"{PACKAGE}.utils")
    utils.__dict__.update(torch=torch, math=math)
    tree = ast.parse((folder / "utils.py").read_text())
    defs = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in needed]
    exec(compile(ast.Module(body=defs, type_ignores=[]), str(folder / "utils.py"), "exec"), utils.__dict__)
    if needed - set(utils.__dict__):
        raise ImportError(f"k-diffusion's utils.py lacks {sorted(needed - set(utils.__dict__))}")
    package = types.ModuleType(PACKAGE)
    package.__path__ = [str(folder)]
    package.utils = utils
    sys.modules[PACKAGE], sys.modules[utils.__name__] = package, utils
    module_spec = importlib.util.spec_from_file_location(f"{PACKAGE}.sampling", folder / "sampling.py")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module
    module_spec.loader.exec_module(module)
    return module


def version() -> str:
    from importlib.metadata import version as installed

    return installed("k-diffusion")


@dataclass(frozen=True)
class Config:
    sampler: str
    steps: int
    grid: str = "edm"
    eta: float | None = None  # stochastic samplers only

    @property
    def record(self) -> Record:
        return SAMPLERS[self.sampler]

    @property
    def label(self) -> str:
        eta = "" if self.eta is None else f" eta={self.eta:g}"
        return f"sample_{self.sampler} N={self.steps} {self.grid}{eta}"

    @property
    def options(self) -> dict:
        return {} if self.eta is None else {"eta": self.eta}

    @property
    def textbook(self) -> tuple[str, dict] | None:
        """The catalogue rule and options this configuration is, or None."""
        record = self.record
        if record.scheme == "ddim":
            return "ddim", {"eta": self.eta}
        if record.scheme is not None:
            return record.scheme, {}
        if record.ode_scheme is not None and self.eta == 0:
            return record.ode_scheme, {}
        return None


def sigmas(config: Config, steps: int | None = None) -> np.ndarray:
    """k-diffusion's Karras grid (``get_sigmas_karras``: float32 levels, then 0), as float64."""
    sigma_min, sigma_max, rho = KARRAS_GRIDS[config.grid]
    grid = library().get_sigmas_karras(steps or config.steps, sigma_min, sigma_max, rho=rho)
    return grid.to(torch.float64).numpy()


def grid(samplers: Sequence[str] = KDIFFUSION_SAMPLERS, steps: Sequence[int] = KDIFFUSION_STEPS,
         grids: Sequence[str] = tuple(KARRAS_GRIDS), etas: Sequence[float] = KDIFFUSION_ETAS) -> list[Config]:
    """Every configuration: each sampler on each grid and step count, the stochastic ones at each eta."""
    return [Config(s, n, g, e) for s in samplers for g, n in itertools.product(grids, steps)
            for e in (etas if SAMPLERS[s].stochastic else (None,))]


def real_sampler(config: Config):
    return getattr(library(), f"sample_{config.sampler}")


@dataclass
class Row:
    config: Config
    tolerance: float  # loop_tolerance of the grid
    affine_residual: float  # relative to the map's size
    # data label -> {"library", "library, exact start", "textbook", "textbook, exact start",
    # "library vs textbook"}: W2 (the last relative to the output's scale, in tolerances, under "error")
    w2: dict[str, dict[str, float]] = field(default_factory=dict)
    error: float | None = None  # max over data of W2(library, textbook) / scale, in tolerances; None: no rule

    @property
    def conforms(self) -> bool | None:
        return None if self.error is None else self.error <= 1 and self.affine_residual <= self.tolerance

    @property
    def findings(self) -> list[str]:
        out = []
        if self.affine_residual > self.tolerance:
            out.append(f"not affine in its inputs (residual {self.affine_residual:.3g})")
        if self.error is not None and self.error > 1:
            worst = max(self.w2.values(), key=lambda w: w["library vs textbook"])
            out.append(f"output law differs from the catalogue's {self.config.textbook[0]} on the same grid: "
                       f"W2 {worst['library vs textbook']:.3g} ({self.error:.3g} x tolerance)")
        return out


@dataclass(frozen=True)
class OrderFit:
    config: Config  # its steps are not used: the sweep's are
    steps: tuple[int, ...]
    errors: tuple[float, ...]
    slope: float
    slope_se: float
    declared: float

    @property
    def matches(self) -> bool:
        from checks.sim.orders import ORDER_RESOLUTION

        return abs(self.slope - self.declared) <= ORDER_RESOLUTION

    @property
    def label(self) -> str:
        return self.config.label.replace(f" N={self.config.steps}", "")

    @property
    def finding(self) -> str:
        return "" if self.matches else (f"fitted order {self.slope:.2f} +- {self.slope_se:.2f}, advertised "
                                        f"{self.declared:g}")


def fit_order(config: Config, steps: Sequence[int] = ORDER_STEPS, data: law.GaussianData = law.DATA[1]) -> OrderFit:
    r"""The fitted order of ``config``'s sampler on its grid over ``steps`` (step size :math:`1/N`): the weak error
    :math:`|\Delta\text{mean}| + |\Delta\text{var}|` at :math:`\sigma_{min}` (the grid without its final 0)
    from the exact start, the discretisation alone."""
    return fit_order_of(real_sampler(config), config, steps, data)


def run(config: Config, data: tuple[law.GaussianData, ...] = law.DATA) -> Row:
    grid_sigmas = sigmas(config)
    residual, error, table = sampler.compare(real_sampler(config), grid_sigmas, config.textbook, data, config.options)
    return Row(config, loop_tolerance(grid_sigmas), residual, table, error)


def _parallel(function, items: Sequence, jobs: int) -> list:
    if jobs <= 1 or len(items) < 2:
        return [function(item) for item in items]
    import concurrent.futures
    import multiprocessing

    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(function, items, chunksize=max(1, len(items) // (4 * jobs))))


def run_grid(configs: Sequence[Config], data: tuple[law.GaussianData, ...] = law.DATA, jobs: int = 1) -> list[Row]:
    """Every configuration's row, in order; ``jobs`` > 1 runs them in that many processes."""
    return _parallel(functools.partial(run, data=data), configs, jobs)


def fit_orders(configs: Sequence[Config], jobs: int = 1) -> list[OrderFit]:
    """One order fit per (sampler, grid, eta) among ``configs`` (their step counts are the sweep's)."""
    distinct = list({(c.sampler, c.grid, c.eta): c for c in configs}.values())
    return _parallel(fit_order, distinct, jobs)


# The term of sample_dpmpp_3m_sde whose coefficient is tested (the lambda-Taylor term of D'' is -h^2 phi_3 D'',
# and d2 ~ h^2 D''/2): the sampler as shipped, and with the coefficient doubled.
THIRD_ORDER_TERM = "x = x + phi_2 * d1 - phi_3 * d2"
THIRD_ORDER_DOUBLED = "x = x + phi_2 * d1 - 2 * phi_3 * d2"


def amended(name: str, old: str, new: str):
    """k-diffusion's ``sample_<name>`` with the source line ``old`` replaced by ``new``, compiled in the sampling
    module's namespace: the library's own code with one term changed, to test a diagnosis."""
    import inspect
    import textwrap

    module = library()
    source = textwrap.dedent(inspect.getsource(getattr(module, f"sample_{name}")))
    if source.count(old) != 1:
        raise ValueError(f"sample_{name} has {source.count(old)} occurrences of {old!r}, not one")
    namespace = dict(module.__dict__)
    exec(compile(source.replace(old, new), f"<sample_{name}, amended>", "exec"), namespace)
    return namespace[f"sample_{name}"]


def fit_order_of(sample: sampler.SampleFn, config: Config, steps: Sequence[int] = ORDER_STEPS,
                 data: law.GaussianData = law.DATA[1]) -> OrderFit:
    """:func:`fit_order` for another sampler function on ``config``'s grid and options."""
    from checks.core import stats

    errors = []
    for n in steps:
        grid_sigmas = sigmas(config, n)[:-1]
        (m,) = sampler.read(sample, grid_sigmas, [data], **config.options)
        out, exact = m.law(sampler.start(data, float(grid_sigmas[0]))), sampler.start(data, float(grid_sigmas[-1]))
        errors.append(abs(out.mean - exact.mean) + abs(out.var - exact.var))
    slope, se = stats.loglog_slope([1 / n for n in steps], errors)
    return OrderFit(config, tuple(steps), tuple(errors), float(slope), float(se), config.record.order)
