"""The data law of the mixture conformance, the processes its levels live on, and the coupled noise
(:class:`BrownianPath`). Constants shared by the package are here."""

from __future__ import annotations

import functools
import importlib.util
import math
from typing import Callable, Sequence

import numpy as np
import torch

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
