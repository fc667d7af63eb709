r"""The steps the samplers are made of; each exists once and samplers compose them.

Times run backwards: a step goes from :math:`t` to :math:`t' < t`,
:math:`h = t' - t < 0`. With the kernel moments :math:`m_t, v_t` and the SDE
coefficients :math:`f, g^2` of :mod:`checks.sim.processes`:

* reverse :math:`\lambda`-family drift (Song et al. 2021, eq. (13) generalized):
  :math:`b_\lambda(x, t) = f(t)x - \tfrac12(1+\lambda^2) g(t)^2 s(x, t)`, diffusion
  :math:`\lambda g(t)`; :math:`\lambda = 0` is the probability-flow ODE, 1 the reverse SDE;
* Euler, Heun and RK4 steps of an ODE :math:`\dot x = b(x, t)`;
* the ancestral step: with :math:`a = m_t/m_{t'}` and :math:`b = v_t - a^2 v_{t'}` (the
  forward kernel from :math:`t'` to :math:`t`), mean :math:`(x + b\,s)/a` (Tweedie's
  :math:`\hat x_0` in the forward posterior) and variance :math:`b` ("beta") or
  :math:`b\,v_{t'}/v_t` ("beta_tilde"); DDPM: :math:`a^2 = \alpha_t`, :math:`b = \beta_t`;
  SMLD: :math:`a = 1`, :math:`b = \sigma_t^2 - \sigma_{t'}^2`;
* the DDIM step with :math:`\hat\varepsilon = -\sqrt{v_t}\,s`, :math:`\hat x_0 = (x - \sqrt{v_t}\hat\varepsilon)/m_t`,
  :math:`\sigma^2 = \eta^2\, b\, v_{t'}/v_t` (the ancestral posterior variance times :math:`\eta^2`;
  VP: :math:`\eta^2 \frac{1-\bar\alpha_{t'}}{1-\bar\alpha_t}(1 - \bar\alpha_t/\bar\alpha_{t'})`),
  :math:`x' = m_{t'}\hat x_0 + \sqrt{v_{t'} - \sigma^2}\,\hat\varepsilon + \sigma z`;
* the exponential integrator of the :math:`\lambda`-family with :math:`\hat\varepsilon` frozen
  over the step (DEIS / DPM-Solver-1): with :math:`\rho = \sqrt{v}/m`, the linear part
  integrates to :math:`m_{t'}/m_t`, :math:`\int_t^{t'}\frac{m_{t'}}{m_u}\frac{g_u^2}{\sqrt{v_u}}du = 2m_{t'}(\rho_{t'} - \rho_t)`
  and the noise variance to :math:`\lambda^2 m_{t'}^2(\rho_t^2 - \rho_{t'}^2)`, because
  :math:`g^2 = m^2 \frac{d}{dt}(v/m^2)`;
* the Langevin step :math:`x + \epsilon s + \sqrt{2\epsilon} z`.

Noise is drawn by :func:`normal_like` from a ``torch.Generator`` or from any
object with ``normal_like(x)`` (the scripted noise of :mod:`checks.sim.exact`);
every noise standard deviation is taken by :func:`noise_std`.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from checks.sim.processes import Process

Model = Callable[[torch.Tensor, float], torch.Tensor]
Drift = Callable[[torch.Tensor, float], torch.Tensor]


def normal_like(x: torch.Tensor, generator) -> torch.Tensor:
    """Standard normal noise shaped like ``x`` (same device and dtype)."""
    if isinstance(generator, torch.Generator):
        return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    return generator.normal_like(x)


def noise_std(var: float) -> float:
    """The standard deviation of a noise term of variance ``var``."""
    return math.sqrt(var)


def add_noise(x: torch.Tensor, var: float, generator) -> torch.Tensor:
    """``x`` plus centred Gaussian noise of variance ``var`` (nothing drawn when ``var`` is 0)."""
    if var == 0:
        return x
    return x + noise_std(var) * normal_like(x, generator)


def reverse_drift(model: Model, process: Process, lam: float) -> Drift:
    r""":math:`b_\lambda(x, t) = f(t)x - \tfrac12(1+\lambda^2)g(t)^2 s(x, t)`."""

    def drift(x: torch.Tensor, t: float) -> torch.Tensor:
        c = process.at(t)
        return c.drift_coef * x - 0.5 * (1 + lam**2) * c.diffusion_sq * model(x, t)

    return drift


def pf_drift(model: Model, process: Process) -> Drift:
    """The probability-flow ODE's drift: the :math:`\\lambda = 0` member of the family."""
    return reverse_drift(model, process, 0.0)


def euler_step(drift: Drift, x: torch.Tensor, t: float, t_next: float) -> torch.Tensor:
    return x + (t_next - t) * drift(x, t)


def heun_step(drift: Drift, x: torch.Tensor, t: float, t_next: float) -> torch.Tensor:
    h = t_next - t
    slope = drift(x, t)
    return x + 0.5 * h * (slope + drift(x + h * slope, t_next))


def rk4_step(drift: Drift, x: torch.Tensor, t: float, t_next: float) -> torch.Tensor:
    h = t_next - t
    k1 = drift(x, t)
    k2 = drift(x + 0.5 * h * k1, t + 0.5 * h)
    k3 = drift(x + 0.5 * h * k2, t + 0.5 * h)
    k4 = drift(x + h * k3, t_next)
    return x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def lambda_family_step(model: Model, process: Process, x: torch.Tensor, t: float, t_next: float, lam: float,
                       generator) -> torch.Tensor:
    """Euler–Maruyama step of the reverse :math:`\\lambda`-family (noise :math:`\\lambda g(t)\\sqrt{|h|}`)."""
    x = euler_step(reverse_drift(model, process, lam), x, t, t_next)
    return add_noise(x, lam**2 * process.at(t).diffusion_sq * abs(t_next - t), generator)


ANCESTRAL_VARIANCES = ("beta", "beta_tilde")


def ancestral_step(model: Model, process: Process, x: torch.Tensor, t: float, t_next: float, variance: str,
                   generator) -> torch.Tensor:
    """Ancestral step with the forward ("beta") or posterior ("beta_tilde") variance; none onto a noise-free level."""
    if variance not in ANCESTRAL_VARIANCES:
        raise ValueError(f"variance must be one of {ANCESTRAL_VARIANCES}, got {variance!r}")
    now, nxt = process.at(t), process.at(t_next)
    gain = now.mean_coef / nxt.mean_coef
    step_var = now.var - gain**2 * nxt.var
    mean = (x + step_var * model(x, t)) / gain
    if nxt.var == 0:
        return mean
    return add_noise(mean, step_var if variance == "beta" else step_var * nxt.var / now.var, generator)


def ddim_step(model: Model, process: Process, x: torch.Tensor, t: float, t_next: float, eta: float,
              generator) -> torch.Tensor:
    now, nxt = process.at(t), process.at(t_next)
    eps_hat = -math.sqrt(now.var) * model(x, t)
    x0_hat = (x - math.sqrt(now.var) * eps_hat) / now.mean_coef
    gain = now.mean_coef / nxt.mean_coef
    extra_var = eta**2 * (now.var - gain**2 * nxt.var) * nxt.var / now.var
    x = nxt.mean_coef * x0_hat + math.sqrt(nxt.var - extra_var) * eps_hat
    return add_noise(x, extra_var, generator)


def exponential_step(model: Model, process: Process, x: torch.Tensor, t: float, t_next: float, lam: float,
                     generator) -> torch.Tensor:
    now, nxt = process.at(t), process.at(t_next)
    rho, rho_next = math.sqrt(now.var) / now.mean_coef, math.sqrt(nxt.var) / nxt.mean_coef
    eps_hat = -math.sqrt(now.var) * model(x, t)
    x = nxt.mean_coef / now.mean_coef * x + (1 + lam**2) * nxt.mean_coef * (rho_next - rho) * eps_hat
    return add_noise(x, lam**2 * nxt.mean_coef**2 * (rho**2 - rho_next**2), generator)


def langevin_step(model: Model, x: torch.Tensor, t: float, step_size: float, generator) -> torch.Tensor:
    return add_noise(x + step_size * model(x, t), 2 * step_size, generator)
