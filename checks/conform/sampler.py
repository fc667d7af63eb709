r"""A whole sampler (k-diffusion's form, ``sample(model, x, sigmas, noise_sampler=...)``) read as one affine map.

With Gaussian data :math:`N(\mu, s^2)` and the exact denoiser
:math:`D(x; \sigma) = \mathbb E[x_0 \mid x_\sigma] = \mu + \frac{s^2}{s^2 + \sigma^2}(x - \mu)` of the
variance-exploding process :math:`x_\sigma = x_0 + \sigma z` (Karras et al. 2022), every step of a linear
sampler, single-step or multistep, is affine in the state, the denoiser outputs and the injected noise,
so the whole run is

.. math:: x_{\text{out}} = c + g\,x_{\text{init}} + \sum_j n_j \xi_j,

with :math:`\xi_j` independent standard normals. One call of the *real* sampler on a batch reads
:math:`c, g, n_j` per data law: an element at :math:`x_\text{init} = 0`, one at 1, one per noise column,
and a generic point that checks the map is affine at all. The noise the sampler draws is scripted
(:class:`ScriptedBrownian`): a Brownian path on the noise levels, held as linear combinations of the
columns, so that calls on overlapping intervals (``sample_dpmpp_sde`` asks for :math:`[\sigma_i, \sigma_s]`
and :math:`[\sigma_i, \sigma_{i+1}]` in one step) are correlated as under k-diffusion's own
``BrownianTreeNoiseSampler``, and calls on disjoint intervals are independent as under ``randn``.
The output law from :math:`N(m_0, v_0)` is then :math:`N(c + g m_0,\ g^2 v_0 + \sum_j n_j^2)`: exact, no
Monte Carlo.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from checks.conform import textbook
from checks.conform.law import DATA, GaussianData, Law, w2, w2_between
from checks.conform.reference import loop_tolerance

# sample(model, x, sigmas, **options) -> x_out; model(x, sigma_batch) -> denoised.
SampleFn = Callable[..., torch.Tensor]
# The generic point of the affinity probe: x_init, and every noise column's value.
_PROBE_X, _PROBE_NOISE = 0.5, 0.3


class ScriptedBrownian:
    r"""k-diffusion's ``noise_sampler(sigma, sigma_next)``: the normalized increment
    :math:`(W(\sigma_{next}) - W(\sigma))/\sqrt{|\sigma_{next} - \sigma|}` of a Brownian path :math:`W` whose
    value at each queried level is a vector of coefficients over ``columns`` independent normals. A new level
    outside the known ones adds an independent increment; one between two known levels is drawn from the
    Brownian bridge (its own new column)."""

    def __init__(self, columns: int, loadings: np.ndarray, dtype: torch.dtype):
        self._columns, self._loadings, self._dtype = columns, loadings, dtype  # loadings: (batch, columns)
        self._path: dict[float, np.ndarray] = {}
        self.used = 0

    def _new_column(self) -> np.ndarray:
        if self.used == self._columns:
            raise RuntimeError(f"the sampler drew noise on more than {self._columns} levels")
        e = np.zeros(self._columns)
        e[self.used] = 1.0
        self.used += 1
        return e

    def _at(self, level: float) -> np.ndarray:
        if level in self._path:
            return self._path[level]
        known = sorted(self._path)
        if not known:
            value = np.zeros(self._columns)
        elif level < known[0] or level > known[-1]:
            edge = known[0] if level < known[0] else known[-1]
            value = self._path[edge] + math.sqrt(abs(level - edge)) * self._new_column()
        else:
            lo = max(k for k in known if k < level)
            hi = min(k for k in known if k > level)
            weight = (level - lo) / (hi - lo)
            bridge_var = (level - lo) * (hi - level) / (hi - lo)
            value = ((1 - weight) * self._path[lo] + weight * self._path[hi]
                     + math.sqrt(bridge_var) * self._new_column())
        self._path[level] = value
        return value

    def __call__(self, sigma, sigma_next) -> torch.Tensor:
        a, b = float(sigma), float(sigma_next)
        increment = (self._at(b) - self._at(a)) / math.sqrt(abs(b - a))
        return torch.tensor(self._loadings @ increment, dtype=self._dtype)


def exact_denoiser(data: Sequence[GaussianData], per_law: int, dtype: torch.dtype):
    r"""``model(x, sigma)``: :math:`\mathbb E[x_0 \mid x_\sigma]` for a batch of ``per_law`` elements per data law."""
    mean = torch.tensor([d.mean for d in data for _ in range(per_law)], dtype=dtype)
    var = torch.tensor([d.std**2 for d in data for _ in range(per_law)], dtype=dtype)

    def model(x: torch.Tensor, sigma: torch.Tensor, **_: object) -> torch.Tensor:
        return mean + var / (var + sigma.to(dtype) ** 2) * (x - mean)

    return model


@dataclass(frozen=True)
class AffineMap:
    """``x_out = offset + gain * x_init + sum_j noise[j] * xi_j`` for one data law."""

    offset: float
    gain: float
    noise: np.ndarray
    residual: float  # at the generic point: 0 up to rounding for an affine sampler

    @property
    def noise_var(self) -> float:
        return float(np.sum(self.noise**2))

    def law(self, start: Law) -> Law:
        """The output law from ``start``."""
        return Law(self.offset + self.gain * start.mean, self.gain**2 * start.var + self.noise_var)

    @property
    def size(self) -> float:
        return abs(self.offset) + abs(self.gain) + math.sqrt(self.noise_var)


def accepts(sample: SampleFn, name: str) -> bool:
    """Whether ``sample`` takes the keyword ``name`` (``noise_sampler``: its noise is then scripted;
    otherwise it draws none)."""
    try:
        return name in inspect.signature(sample).parameters
    except (TypeError, ValueError):
        return False


def read(sample: SampleFn, sigmas: Sequence[float], data: Sequence[GaussianData] = (),
         dtype: torch.dtype = torch.float64, **options) -> list[AffineMap]:
    """The affine map of ``sample`` on ``sigmas`` (decreasing; k-diffusion's grids end with 0), one per
    data law, from one call of the sampler with the exact denoiser and the scripted Brownian noise."""
    sigma_grid = torch.as_tensor(np.asarray(sigmas, dtype=np.float64), dtype=dtype)
    columns = 2 * len(sigma_grid) + 2  # the levels a sampler may query: the grid's, and one inside each step
    per_law = 3 + columns  # x_init = 0, x_init = 1, the generic point, one element per noise column
    block = np.zeros((per_law, columns))
    block[2, :] = _PROBE_NOISE
    block[3:, :] = np.eye(columns)
    loadings = np.concatenate([block] * len(data))
    x_block = [0.0, 1.0, _PROBE_X] + [0.0] * columns
    x = torch.tensor(x_block * len(data), dtype=dtype)
    if accepts(sample, "noise_sampler"):
        options = {"noise_sampler": ScriptedBrownian(columns, loadings, dtype), **options}
    if accepts(sample, "disable"):  # k-diffusion's progress bar
        options = {"disable": True, **options}
    with torch.no_grad():
        out = sample(exact_denoiser(data, per_law, dtype), x, sigma_grid, **options)
    out = out.detach().to(torch.float64).reshape(-1).numpy()
    maps = []
    for k in range(len(data)):
        o = out[k * per_law:(k + 1) * per_law]
        offset, gain, noise = float(o[0]), float(o[1] - o[0]), o[3:] - o[0]
        predicted = offset + gain * _PROBE_X + _PROBE_NOISE * float(np.sum(noise))
        maps.append(AffineMap(offset, gain, noise, abs(float(o[2]) - predicted)))
    return maps


def start(data: GaussianData | None, sigma_max: float) -> Law:
    """The sampler's start :math:`N(0, \\sigma_{max}^2)`, or the exact :math:`q(x_{\\sigma_{max}})` of ``data``."""
    if data is None:
        return Law(0.0, sigma_max**2)
    return Law(data.mean, data.std**2 + sigma_max**2)


def compare(sample: SampleFn, grid_sigmas: np.ndarray, scheme: tuple[str, dict] | None,
            data: Sequence[GaussianData] = DATA, options: dict | None = None,
            dtype: torch.dtype = torch.float64, start_var: float | None = None,
            resolution: torch.dtype | None = None) -> tuple[float, float | None, dict[str, dict[str, float]]]:
    r"""(affine residual, error in tolerances against the catalogue's ``scheme`` or None, the W2 table) of
    ``sample`` on ``grid_sigmas``, started from :math:`N(0, \sigma_{max}^2)` (or :math:`N(0,` ``start_var``:math:`)`)
    and from the exact :math:`q(x_{\sigma_{max}})`: the comparison shared by library samplers and users' samplers.
    Errors are in tolerances of ``resolution`` (default ``dtype``: a sampler that computes in float32 whatever
    its input is held to float32's)."""
    maps = read(sample, grid_sigmas, data, dtype, **(options or {}))
    return compare_maps(maps, grid_sigmas, scheme, data, dtype, start_var, resolution)


def compare_maps(maps: Sequence[AffineMap], grid_sigmas: np.ndarray, scheme: tuple[str, dict] | None,
                 data: Sequence[GaussianData] = DATA, dtype: torch.dtype = torch.float64,
                 start_var: float | None = None,
                 resolution: torch.dtype | None = None) -> tuple[float, float | None, dict[str, dict[str, float]]]:
    """:func:`compare` for maps already read (one per data law), so that one read serves several comparisons."""
    tolerance = loop_tolerance(grid_sigmas, resolution or dtype)
    sigma_max = float(grid_sigmas[0])
    residual = max(m.residual / max(m.size, 1e-300) for m in maps)
    starts = [start(None, sigma_max) if start_var is None else Law(0.0, start_var) for _ in data]
    exact_starts = [start(d, sigma_max) for d in data]
    book = book_exact = None
    if scheme is not None:
        book = textbook.run_sigmas(scheme[0], scheme[1], list(grid_sigmas), data, starts)
        book_exact = textbook.run_sigmas(scheme[0], scheme[1], list(grid_sigmas), data, exact_starts)
    table, errors = {}, []
    for k, (d, m) in enumerate(zip(data, maps)):
        own, own_exact = m.law(starts[k]), m.law(exact_starts[k])
        row = {"library": w2(own, d), "library, exact start": w2(own_exact, d)}
        if book is not None:
            between = w2_between(own, book[k])
            scale = math.sqrt(book[k].mean**2 + max(book[k].var, 0.0))
            row.update({"textbook": w2(book[k], d), "textbook, exact start": w2(book_exact[k], d),
                        "library vs textbook": between})
            errors.append(between / (scale * tolerance))
        table[d.label] = row
    return residual, (max(errors) if errors else None), table
