r"""The derived one-step kernels a sampler's step is compared with, evaluated from the derivations.

Every closed form here is a result of the registry (compiled, or read from the derivation
cache), never typed in:

* the model output's meaning, :math:`\hat x_0 = a_0 x_t + b_0 \hat y`, from
  ``score.reparameterizations`` (``x0_from_eps``, ``x0_from_v``; :math:`\hat y = \hat x_0` for
  ``sample``);
* DDPM over skipped steps :math:`\tau_i \to \tau_{i-1}`: the forward posterior ``ddpm.posterior``
  with :math:`\alpha_t \to r = \bar\alpha_{\tau_i}/\bar\alpha_{\tau_{i-1}}`, :math:`\beta_t \to 1 - r`;
  noise variance the posterior's (``small``) or the forward kernel's :math:`1 - r` (``large``,
  Ho et al.'s :math:`\sigma_t^2 = \beta_t`), and no noise onto a clean level
  :math:`\bar\alpha_{\tau_{i-1}} = 1` (Ho et al., Algorithm 2: :math:`z = 0` at :math:`t = 1`);
* DDIM: the kernel mean of ``ddim.family`` with :math:`x_0 \to \hat x_0` and
  :math:`\sigma^2 = \sigma^2(\eta)` (``var_eta``).

Each kernel is returned as :math:`(A, B, S)` in ``x_prev = A x_t + B \hat y + S z`` (no offset).
The closed forms are linear without constant term, so evaluating them at unit vectors reads
their coefficients exactly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from checks.conform.axes import PREDICTIONS  # noqa: F401  (re-exported: the model outputs a kernel reads)

# The suite's name of the DDPM noise variance: the posterior's ("small") or the forward kernel's ("large").
VARIANCES = ("small", "large")


@functools.cache
def form(derivation_id: str, name: str):
    """The result ``name`` of ``derivation_id``, compiled for numpy (from the derivation cache when there)."""
    from derivations.core import cache

    return cache.function(derivation_id, name, "numpy")


@dataclass(frozen=True)
class Coefficients:
    r"""``x_prev = a x_t + b \hat y + s z`` (arrays over the steps, or floats)."""

    a: np.ndarray
    b: np.ndarray
    s: np.ndarray


def x0_map(prediction: str, alpha_bar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`(a_0, b_0)` with :math:`\hat x_0 = a_0 x_t + b_0 \hat y` for the model output ``prediction``."""
    alpha_bar = np.asarray(alpha_bar, dtype=np.float64)
    if prediction == "sample":
        return np.zeros_like(alpha_bar), np.ones_like(alpha_bar)
    name, target = {"epsilon": ("x0_from_eps", "eps"), "v_prediction": ("x0_from_v", "v_target")}[prediction]
    reparameterize = form("score.reparameterizations", name)
    return (reparameterize(alpha_bar_t=alpha_bar, x_t=1.0, **{target: 0.0}) + 0 * alpha_bar,
            reparameterize(alpha_bar_t=alpha_bar, x_t=0.0, **{target: 1.0}) + 0 * alpha_bar)


def output_in_eps(prediction: str, alpha_bar: np.ndarray) -> np.ndarray:
    r"""The coefficient of :math:`x_t` in the model output written in :math:`(x_t, \varepsilon)`:
    0 for ``epsilon``, and from ``v_from_eps`` / ``x0_from_eps``."""
    alpha_bar = np.asarray(alpha_bar, dtype=np.float64)
    if prediction == "epsilon":
        return np.zeros_like(alpha_bar)
    name = {"v_prediction": "v_from_eps", "sample": "x0_from_eps"}[prediction]
    return form("score.reparameterizations", name)(alpha_bar_t=alpha_bar, x_t=1.0, eps=0.0) + 0 * alpha_bar


def ddpm(alpha_bar: np.ndarray, alpha_bar_prev: np.ndarray, prediction: str, variance: str) -> Coefficients:
    """The DDPM ancestral kernel from ``alpha_bar`` to ``alpha_bar_prev`` (steps may be skipped)."""
    alpha_bar, alpha_bar_prev = np.broadcast_arrays(np.asarray(alpha_bar, np.float64),
                                                    np.asarray(alpha_bar_prev, np.float64))
    ratio = alpha_bar / alpha_bar_prev
    schedule = {"alpha_bar_prev": alpha_bar_prev, "alpha_t": ratio, "beta_t": 1 - ratio}
    coef_x0 = form("ddpm.posterior", "coef_x0")(**schedule)
    coef_xt = form("ddpm.posterior", "coef_xt")(**schedule)
    if variance == "small":
        var = form("ddpm.posterior", "var")(**schedule)
    elif variance == "large":
        var = schedule["beta_t"]
    else:
        raise ValueError(f"unknown DDPM variance {variance!r}; known: {', '.join(VARIANCES)}")
    var = np.where(alpha_bar_prev == 1, 0.0, var)
    a0, b0 = x0_map(prediction, alpha_bar)
    return Coefficients(coef_xt + coef_x0 * a0, coef_x0 * b0, np.sqrt(np.maximum(var, 0.0)))


def ddim(alpha_bar: np.ndarray, alpha_bar_prev: np.ndarray, prediction: str, eta: float) -> Coefficients:
    r"""The DDIM kernel with :math:`\sigma^2(\eta)` from ``alpha_bar`` to ``alpha_bar_prev``."""
    alpha_bar, alpha_bar_prev = np.broadcast_arrays(np.asarray(alpha_bar, np.float64),
                                                    np.asarray(alpha_bar_prev, np.float64))
    var = form("ddim.family", "var_eta")(alpha_bar_tau_prev=alpha_bar_prev, alpha_ratio_tau=alpha_bar / alpha_bar_prev,
                                          eta_ddim=eta) + 0 * alpha_bar
    mean = form("ddim.family", "mean")
    on_x0 = mean(alpha_bar_tau=alpha_bar, alpha_bar_tau_prev=alpha_bar_prev, var_ddim=var, x_0=1.0, x_tau=0.0)
    on_xt = mean(alpha_bar_tau=alpha_bar, alpha_bar_tau_prev=alpha_bar_prev, var_ddim=var, x_0=0.0, x_tau=1.0)
    a0, b0 = x0_map(prediction, alpha_bar)
    return Coefficients(on_xt + on_x0 * a0, on_x0 * b0, np.sqrt(np.maximum(var, 0.0)))


def implied_alpha_bar_prev(a: np.ndarray, b: np.ndarray, alpha_bar: np.ndarray, prediction: str) -> np.ndarray:
    r"""The :math:`\bar\alpha_{\tau_{i-1}}` a kernel lands on. Written in :math:`(x_t, \hat\varepsilon)`, every
    DDPM and DDIM kernel has gain :math:`\sqrt{\bar\alpha_{\tau_{i-1}}/\bar\alpha_{\tau_i}}` on :math:`x_t`
    (``ddim.family``'s ``mean_eps``, and ``ddpm.posterior``'s ``mean_eps`` over the skip), so
    :math:`\bar\alpha_{\tau_{i-1}} = \bar\alpha_{\tau_i} (A + B\,y_x)^2` with :math:`y_x` from
    :func:`output_in_eps`."""
    gain = np.asarray(a) + np.asarray(b) * output_in_eps(prediction, alpha_bar)
    return np.asarray(alpha_bar, np.float64) * gain**2


def nearest_timestep(alpha_bar_prev: float, alphas_cumprod: np.ndarray, clean_tolerance: float = 1e-9) -> int:
    """The training timestep whose ``alphas_cumprod`` is nearest (relatively) to ``alpha_bar_prev``;
    -1 for a clean level (``alpha_bar_prev`` = 1)."""
    if abs(alpha_bar_prev - 1.0) <= clean_tolerance:
        return -1
    return int(np.argmin(np.abs(np.log(alphas_cumprod) - np.log(max(alpha_bar_prev, 1e-300)))))
