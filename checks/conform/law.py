r"""The exact output law of a sampler for Gaussian data, through its real sampling loop.

For data :math:`N(\mu, s^2)` the noised law is :math:`q(x_t) = N(m\mu, m^2 s^2 + v)`
(:math:`m = \sqrt{\bar\alpha_t}`, :math:`v = 1 - \bar\alpha_t`) and the exact model is affine
in :math:`x_t`: :math:`\mathbb E[x_0 \mid x_t] = \mu + \frac{m s^2}{m^2 s^2 + v}(x_t - m\mu)`, and
:math:`\hat\varepsilon`, :math:`\hat v` follow from it (``score.reparameterizations``). A step
is then affine in :math:`x_t` plus :math:`S z`, so a Gaussian stays Gaussian and its law is
carried exactly by three batch elements per data law: the mean, the mean plus one (the gain)
and the mean with a unit noise (the noise gain), :math:`\text{var}' = \text{gain}^2\,\text{var} + S^2`.
No sampling, no Monte Carlo error; the only error is the arithmetic's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from checks.conform import derived


@dataclass(frozen=True)
class GaussianData:
    """The data law :math:`N(\\mu, s^2)`."""

    mean: float
    std: float

    @property
    def label(self) -> str:
        return f"N({self.mean:g}, {self.std:g}²)"


# Centred and unit, shifted and narrower, shifted and narrow: non-zero means and several widths.
DATA = (GaussianData(0.0, 1.0), GaussianData(0.5, 0.5), GaussianData(-1.0, 0.1))


@dataclass(frozen=True)
class Law:
    mean: float
    var: float


def noised(data: GaussianData, alpha_bar: float) -> Law:
    """:math:`q(x_t)` for the data ``data``."""
    m = math.sqrt(alpha_bar)
    return Law(m * data.mean, alpha_bar * data.std**2 + 1 - alpha_bar)


def exact_output(data: Sequence[GaussianData], alpha_bar: float, prediction: str, x: np.ndarray) -> np.ndarray:
    r"""The exact model output at ``x`` (element ``k`` under the data law ``data[k]``):
    :math:`\mathbb E[\cdot \mid x_t]` of the target ``prediction``."""
    mean = np.array([d.mean for d in data])
    var = np.array([d.std**2 for d in data])
    m, v = math.sqrt(alpha_bar), 1 - alpha_bar
    x0 = mean + m * var / (alpha_bar * var + v) * (x - m * mean)
    if prediction == "sample":
        return x0
    # Invert the reparameterization x0_hat = a0 x + b0 y for y (b0 != 0 for epsilon and v).
    a0, b0 = (float(c) for c in derived.x0_map(prediction, alpha_bar))
    return (x0 - a0 * x) / b0


def w2(law: Law, data: GaussianData) -> float:
    r""":math:`W_2` between :math:`N(\text{mean}, \text{var})` and the data: the mean's shift and the
    zero-mean part from ``gauss_exact.w2``."""
    w2_sq = derived.form("gauss_exact.w2", "w2_sq")(var_c_pg=max(law.var, 0.0), var_data=data.std**2)
    return math.sqrt((law.mean - data.mean) ** 2 + float(w2_sq))


def w2_between(a: Law, b: Law) -> float:
    """:math:`W_2` between two Gaussian laws."""
    return w2(a, GaussianData(b.mean, math.sqrt(max(b.var, 0.0))))


def probe(laws: list[Law]) -> tuple[np.ndarray, np.ndarray]:
    """The batch (states, scripted noise) that carries ``laws``: per law its mean, mean + 1, and mean with z = 1."""
    x = np.array([v for law in laws for v in (law.mean, law.mean + 1.0, law.mean)])
    z = np.array([v for _ in laws for v in (0.0, 0.0, 1.0)])
    return x, z


def advance(laws: list[Law], out: np.ndarray) -> list[Law]:
    """The laws after a step, from the step's outputs on :func:`probe`'s batch."""
    new = []
    for k, law in enumerate(laws):
        base, moved, noisy = (float(v) for v in out[3 * k: 3 * k + 3])
        gain, noise = moved - base, noisy - base
        new.append(Law(base, gain**2 * law.var + noise**2))
    return new
