r"""Forward processes seen by the reverse samplers, through their kernel moments.

Every process of the suite has the coordinate-wise kernel
:math:`q(x_t \mid x_0) = \mathcal N(m_t x_0, v_t)`. The moments come from the
derivations (``sde.vp``, ``sde.subvp``, ``sde.ve``, ``ddpm.marginal``). For a
continuous process the SDE :math:`dX = f(t) X\,dt + g(t)\,dW` is recovered
from the moment ODEs :math:`\dot m = f m`, :math:`\dot v = 2 f v + g^2`:

.. math:: f = \frac{d}{dt}\log m_t, \qquad g^2 = \dot v_t - 2 f v_t,

evaluated by automatic differentiation of the derived closed forms, so the
drift and diffusion a sampler uses are those of the derived moments.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import torch

import derivations
from derivations.core import notation
from derivations.core.registry import Lambdified, Registry

ClosedForm = Callable[[str, str], Callable[..., torch.Tensor]]


def derived(derivation_id: str, name: str) -> Callable[..., torch.Tensor]:
    """The torch closed form ``name`` of ``derivation_id`` (the default source of every formula)."""
    return derivations.get(derivation_id).function(name, "torch")


class Coefficients(NamedTuple):
    """Kernel moments and SDE coefficients at one time (floats; nan where undefined)."""

    mean_coef: float  # m_t
    var: float        # v_t
    drift_coef: float  # f(t)
    diffusion_sq: float  # g(t)^2


@dataclass(frozen=True, eq=False)
class Process:
    """A forward process given by ``moments(t) -> (m_t, v_t)`` on float64 tensors.

    ``continuous`` processes also have :math:`f` and :math:`g^2`; a discrete
    chain (DDPM) only has its kernels at integer steps.
    """

    name: str
    moments: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]] = field(repr=False)
    t_start: float
    t_end: float
    continuous: bool = True

    @functools.lru_cache(maxsize=65536)
    def at(self, t: float) -> Coefficients:
        if not self.continuous:
            m, v = self.moments(torch.tensor(float(t), dtype=torch.float64))
            return Coefficients(float(m), float(v), math.nan, math.nan)
        # f and g^2 come from autograd, which a caller's torch.no_grad() would silence (and cache as 0)
        with torch.enable_grad():
            time = torch.tensor(float(t), dtype=torch.float64, requires_grad=True)
            m, v = self.moments(time)
            f = float(_grad(torch.log(m), time))
            dv = float(_grad(v, time))
        return Coefficients(float(m.detach()), float(v.detach()), f, dv - 2 * f * float(v.detach()))

    def uniform_times(self, steps: int) -> tuple[float, ...]:
        """``steps + 1`` equally spaced times from ``t_start`` down to ``t_end``."""
        if self.continuous:
            # k / steps is correctly rounded, so nested grids (N, 2N, ...) share their times exactly
            # and the coefficient cache serves a whole step-size sweep.
            span = self.t_start - self.t_end
            return tuple(self.t_start - span * (k / steps) if k < steps else self.t_end for k in range(steps + 1))
        if int(self.t_start) % steps:
            raise ValueError(f"{self.name}: {steps} steps do not divide {int(self.t_start)}")
        stride = int(self.t_start) // steps
        return tuple(float(t) for t in range(int(self.t_start), int(self.t_end) - 1, -stride))


def _grad(output: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
    if not output.requires_grad:  # a constant moment (VE: m = 1)
        return torch.zeros((), dtype=torch.float64)
    (grad,) = torch.autograd.grad(output, time, retain_graph=True)
    return grad


def _integrated_linear_schedule(beta_min: float, beta_max: float) -> Callable[[torch.Tensor], torch.Tensor]:
    schedule = Lambdified(notation.lookup("B_linear").definition, "torch")
    return lambda t: schedule(t=t, beta_min=beta_min, beta_max=beta_max)


def vp(beta_min: float = 0.1, beta_max: float = 20.0, t_end: float = 1e-3, closed_form: ClosedForm = derived) -> Process:
    """VP SDE, linear :math:`\\beta(t)`: moments of ``sde.vp`` at :math:`B(t)`."""
    integrated = _integrated_linear_schedule(beta_min, beta_max)
    mean_coef, var = closed_form("sde.vp", "mean_coef"), closed_form("sde.vp", "var")
    return Process("vp", lambda t: (mean_coef(B_t=integrated(t)), var(B_t=integrated(t))), 1.0, t_end)


def subvp(beta_min: float = 0.1, beta_max: float = 20.0, t_end: float = 1e-3, closed_form: ClosedForm = derived
          ) -> Process:
    """sub-VP SDE: moments of ``sde.subvp`` at :math:`B(t)`."""
    integrated = _integrated_linear_schedule(beta_min, beta_max)
    mean_coef, var = closed_form("sde.subvp", "mean_coef"), closed_form("sde.subvp", "var")
    return Process("subvp", lambda t: (mean_coef(B_t=integrated(t)), var(B_t=integrated(t))), 1.0, t_end)


def ve(sigma_min: float = 0.01, sigma_max: float = 10.0, t_end: float = 1e-3, closed_form: ClosedForm = derived
       ) -> Process:
    """VE SDE, geometric :math:`\\sigma(t)`: moments of ``sde.ve``."""
    var = closed_form("sde.ve", "var")

    def moments(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.ones_like(t), var(t=t, sigma_min=sigma_min, sigma_max=sigma_max)

    return Process("ve", moments, 1.0, t_end)


def ddpm(schedule: str = "linear", steps: int = 1000, closed_form: ClosedForm = derived) -> Process:
    """The discrete DDPM chain: kernels of ``ddpm.marginal`` at integer steps (step 0: no noise)."""
    from derivations.core import schedules

    alpha_bar = torch.as_tensor(schedules.make(schedule, steps).alpha_bar, dtype=torch.float64)
    mean_coef, var = closed_form("ddpm.marginal", "mean_coef"), closed_form("ddpm.marginal", "var")

    def moments(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        level = alpha_bar[int(t)]
        return mean_coef(alpha_bar_t=level), var(alpha_bar_t=level)

    return Process(f"ddpm-{schedule}", moments, float(steps), 0.0, continuous=False)


_DEFAULTS: Registry[Callable[[], Process]] = Registry("process")
for _name, _factory in (("vp", vp), ("subvp", subvp), ("ve", ve), ("ddpm", ddpm)):
    _DEFAULTS.add(_name, _factory)


@functools.lru_cache(maxsize=None)
def named(name: str) -> Process:
    """The process a catalogue record names, with its default parameters (built on first use)."""
    return _DEFAULTS.get(name)()
