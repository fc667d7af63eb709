r"""The catalogue's own step maps on a library's grid: the textbook law to compare a library with.

The rules of :mod:`derivations.catalogue` run through a numpy ``ops`` over a discrete
:math:`\bar\alpha` grid (``mean_coef`` :math:`\sqrt{\bar\alpha}`, ``var`` :math:`1 - \bar\alpha`),
with the exact score of Gaussian data and the scripted noise of :func:`checks.conform.law.probe`,
so the textbook law is carried exactly, like the library's.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from checks.conform.law import GaussianData, Law, advance, noised, probe


class _At:
    """One level of the grid: the kernel :math:`N(\\sqrt{\\bar\\alpha} x_0, 1 - \\bar\\alpha)` and the exact score."""

    drift_coef = diffusion_sq = None  # discrete-time rules (ancestral, DDIM) do not read the SDE's coefficients

    def __init__(self, alpha_bar: float, data: GaussianData):
        self.mean_coef, self.var = math.sqrt(alpha_bar), 1.0 - alpha_bar
        self._law = noised(data, alpha_bar)

    def score(self, x: np.ndarray) -> np.ndarray:
        return -(x - self._law.mean) / self._law.var


class NumpyOps:
    """The catalogue's ``ops`` for one step :math:`\\bar\\alpha \\to \\bar\\alpha'` with scripted noise ``z``."""

    sqrt = staticmethod(math.sqrt)

    def __init__(self, alpha_bar: float, alpha_bar_next: float, data: GaussianData, z: np.ndarray, last: bool):
        self.now, self.next, self._z, self.last = _At(alpha_bar, data), _At(alpha_bar_next, data), z, last
        self.h = -1.0  # the discrete rules do not read h

    @property
    def lands_clean(self) -> bool:
        return self.next.var == 0

    def noise(self, x: np.ndarray, var: float) -> np.ndarray | float:
        return math.sqrt(var) * self._z if var > 0 else 0.0


def run(scheme: str, options: dict, alpha_bars: Sequence[float], data: GaussianData, start: Law) -> Law:
    """The law after the catalogue rule ``scheme`` walks ``alpha_bars`` (first the start level, last the
    level it lands on) from ``start``."""
    from derivations import catalogue

    rule = catalogue.get(scheme).rule
    laws = [start]
    for k in range(len(alpha_bars) - 1):
        x, z = probe(laws)
        out = rule(NumpyOps(alpha_bars[k], alpha_bars[k + 1], data, z, k == len(alpha_bars) - 2), x, **options)
        laws = advance(laws, np.broadcast_to(out, x.shape))
    return laws[0]
