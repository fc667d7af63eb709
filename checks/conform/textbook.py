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
    """One level of the grid: the kernel :math:`N(\\sqrt{\\bar\\alpha} x_0, 1 - \\bar\\alpha)` and the exact score,
    elementwise for a batch whose elements belong to several data laws."""

    drift_coef = diffusion_sq = None  # discrete-time rules (ancestral, DDIM) do not read the SDE's coefficients

    def __init__(self, alpha_bar: float, data: Sequence[GaussianData]):
        self.mean_coef, self.var = math.sqrt(alpha_bar), 1.0 - alpha_bar
        laws = [noised(d, alpha_bar) for d in data]
        self._mean = np.array([law.mean for law in laws])
        self._var = np.array([law.var for law in laws])

    def score(self, x: np.ndarray) -> np.ndarray:
        return -(x - self._mean) / self._var


class NumpyOps:
    """The catalogue's ``ops`` for one step :math:`\\bar\\alpha \\to \\bar\\alpha'` with scripted noise ``z``."""

    sqrt = staticmethod(math.sqrt)

    def __init__(self, alpha_bar: float, alpha_bar_next: float, data: Sequence[GaussianData], z: np.ndarray,
                 last: bool):
        self.now, self.next, self._z, self.last = _At(alpha_bar, data), _At(alpha_bar_next, data), z, last
        self.h = -1.0  # the discrete rules do not read h

    @property
    def lands_clean(self) -> bool:
        return self.next.var == 0

    def noise(self, x: np.ndarray, var: float) -> np.ndarray | float:
        return math.sqrt(var) * self._z if var > 0 else 0.0


def run(scheme: str, options: dict, alpha_bars: Sequence[float], data: Sequence[GaussianData],
        starts: Sequence[Law]) -> list[Law]:
    """The laws after the catalogue rule ``scheme`` walks ``alpha_bars`` (first the start level, last the
    level it lands on) from ``starts``, the exact score of ``data[k]`` driving ``starts[k]``."""
    return _carry(scheme, options, alpha_bars, data, starts, NumpyOps)


def run_sigmas(scheme: str, options: dict, sigmas: Sequence[float], data: Sequence[GaussianData],
               starts: Sequence[Law]) -> list[Law]:
    r"""As :func:`run`, on a decreasing grid of noise levels :math:`\sigma` (ending at 0 or above) of the
    variance-exploding process :math:`x_\sigma = x_0 + \sigma z` (:class:`SigmaOps`)."""
    return _carry(scheme, options, sigmas, data, starts, SigmaOps)


def _carry(scheme: str, options: dict, levels: Sequence[float], data: Sequence[GaussianData],
           starts: Sequence[Law], make_ops) -> list[Law]:
    """The one loop: the rule stepped level to level on :func:`probe`'s batch, the laws carried by :func:`advance`."""
    from derivations import catalogue

    rule = catalogue.get(scheme).rule
    laws = list(starts)
    element_data = [d for d in data for _ in range(3)]  # probe() gives each law three elements
    for k in range(len(levels) - 1):
        x, z = probe(laws)
        ops = make_ops(levels[k], levels[k + 1], element_data, z, k == len(levels) - 2)
        laws = advance(laws, np.broadcast_to(rule(ops, x, **options), x.shape))
    return laws


class _SigmaAt:
    r"""A noise level :math:`\sigma` of the variance-exploding process in the time :math:`t = \sigma`
    (Karras et al. 2022): kernel :math:`N(x_0, \sigma^2)`, SDE :math:`f = 0`, :math:`g^2 = d\sigma^2/dt = 2\sigma`,
    and the exact score of Gaussian data, :math:`-(x - \mu)/(s^2 + \sigma^2)`."""

    drift_coef = 0.0
    mean_coef = 1.0

    def __init__(self, sigma: float, data: Sequence[GaussianData]):
        self.var, self.diffusion_sq = sigma**2, 2 * sigma
        self._mean = np.array([d.mean for d in data])
        self._var = np.array([d.std**2 + sigma**2 for d in data])

    def score(self, x: np.ndarray) -> np.ndarray:
        return -(x - self._mean) / self._var


class SigmaOps(NumpyOps):
    r"""The catalogue's ``ops`` for one step :math:`\sigma \to \sigma'` of the variance-exploding process in
    the time :math:`t = \sigma` (so ``h`` :math:`= \sigma' - \sigma`). ``mid`` is the midpoint in
    :math:`\lambda = -\log\sigma`, :math:`\sqrt{\sigma\sigma'}`: the intermediate point of k-diffusion's
    ``sample_dpm_2`` and ``sample_dpmpp_sde`` (:math:`r_1 = 1/2` in DPM-Solver's rules)."""

    log = staticmethod(math.log)

    def __init__(self, sigma: float, sigma_next: float, data: Sequence[GaussianData], z: np.ndarray, last: bool):
        self.now, self.next = _SigmaAt(sigma, data), _SigmaAt(sigma_next, data)
        self.mid = _SigmaAt(math.sqrt(sigma * sigma_next), data)
        self._z, self.last, self.h = z, last, sigma_next - sigma


class _ModelAt:
    """A level whose score is the model output read as :math:`\\hat\\varepsilon` (score :math:`-\\hat\\varepsilon/\\sqrt v`)."""

    drift_coef = diffusion_sq = None

    def __init__(self, alpha_bar: float, eps_hat):
        self.mean_coef, self.var, self._eps_hat = math.sqrt(alpha_bar), 1.0 - alpha_bar, eps_hat

    def score(self, x):
        return -self._eps_hat / math.sqrt(self.var)


class _StepOps(NumpyOps):
    def __init__(self, alpha_bar: float, alpha_bar_next: float, eps_hat, z, last: bool):
        self.now, self.next, self._z, self.last, self.h = (_ModelAt(alpha_bar, eps_hat), _ModelAt(alpha_bar_next, eps_hat),
                                                            z, last, -1.0)


def as_step(scheme: str, options: dict, alphas_cumprod: Sequence[float], timesteps: Sequence[int]):
    """The catalogue rule ``scheme`` as a step ``step(x_t, eps_hat, t, noise) -> x_prev`` on ``timesteps``
    (then the clean level), the form :func:`checks.conform.conform` reads: the catalogue held to the
    derivations like any user's sampler."""
    from derivations import catalogue

    rule, order = catalogue.get(scheme).rule, list(timesteps)

    def step(x, eps_hat, t, z):
        i = order.index(t)
        nxt = float(alphas_cumprod[order[i + 1]]) if i + 1 < len(order) else 1.0
        return rule(_StepOps(float(alphas_cumprod[t]), nxt, eps_hat, z, i == len(order) - 1), x, **options)

    return step


class _SigmaModelAt(_SigmaAt):
    """A noise level whose score is the model output read as :math:`\\hat\\varepsilon` (score :math:`-\\hat\\varepsilon/\\sigma`)."""

    def __init__(self, sigma: float, eps_hat):
        self.var, self.diffusion_sq, self._eps_hat, self._sigma = sigma**2, 2 * sigma, eps_hat, sigma

    def score(self, x):
        return -self._eps_hat / self._sigma


class _SigmaStepOps(SigmaOps):
    def __init__(self, sigma: float, sigma_next: float, eps_hat, z, last: bool):
        self.now, self.next = _SigmaModelAt(sigma, eps_hat), _SigmaModelAt(sigma_next, eps_hat)
        self.mid = _SigmaModelAt(math.sqrt(sigma * sigma_next), eps_hat)
        self._z, self.last, self.h = z, last, sigma_next - sigma


def as_sigma_step(scheme: str, options: dict, sigmas: Sequence[float]):
    """The catalogue rule ``scheme`` as a step ``step(x_sigma, eps_hat, i, noise) -> x_next`` from ``sigmas[i]`` to
    ``sigmas[i + 1]`` (variance-exploding coordinates, the model output a noise prediction): the derived one-step
    kernel a library's :math:`\\sigma` step is read against (single-stage rules; a rule that evaluates the score
    at a second point would read the same :math:`\\hat\\varepsilon` there)."""
    from derivations import catalogue

    rule, levels = catalogue.get(scheme).rule, [float(s) for s in sigmas]

    def step(x, eps_hat, i, z):
        return rule(_SigmaStepOps(levels[i], levels[i + 1], eps_hat, z, i == len(levels) - 2), x, **options)

    return step
