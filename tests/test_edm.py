"""EDM's noise-level discretization: endpoints, monotone decrease, uniform at rho = 1, geometric as rho grows."""

from __future__ import annotations

import numpy as np
import pytest

import derivations


def _levels(rho: float, steps: int = 18, sigma_min: float = 0.002, sigma_max: float = 80.0) -> np.ndarray:
    level = derivations.get("edm.rho_schedule").function("sigma_level")
    return np.array([float(level(index_edm=k, steps_edm=steps, rho_edm=rho, sigma_min=sigma_min,
                                 sigma_max=sigma_max)) for k in range(steps)])


def test_karras_defaults_run_from_sigma_max_down_to_sigma_min():
    levels = _levels(7.0)
    assert levels[0] == pytest.approx(80.0, rel=1e-12) and levels[-1] == pytest.approx(0.002, rel=1e-12)
    assert np.all(np.diff(levels) < 0)


def test_rho_one_is_uniform_and_large_rho_geometric():
    assert np.allclose(np.diff(_levels(1.0)), np.diff(_levels(1.0))[0])
    geometric = 80.0 * (0.002 / 80.0) ** (np.arange(18) / 17)
    assert np.allclose(_levels(1e6), geometric, rtol=1e-4)


def test_the_off_by_one_variant_misses_sigma_min():
    d = derivations.get("edm.rho_schedule")
    from derivations.core.registry import Lambdified
    (variant,) = [w for w in d.body.wrong_variants if "k/N" in w.description]
    last = Lambdified(variant.expr, "numpy")(index_edm=17, steps_edm=18, rho_edm=7.0, sigma_min=0.002, sigma_max=80.0)
    assert float(last) > 3 * 0.002  # more than three times sigma_min


def test_ode_drift_carries_the_gaussian_marginal_variance():
    """Data N(0, c), s = 1, sigma = t: psi = -x / (c + t^2), and d Var/dt = 2 E[x dx/dt] equals d(c + t^2)/dt."""
    drift = derivations.get("edm.ode_sde").function("ode_drift")
    c, t, x = 0.5, 1.3, 0.7
    var = c + t**2
    velocity = float(drift(dscale_edm=0.0, scale_edm=1.0, dsigma_edm=1.0, sigma_t_edm=t, score_edm=-x / var, x_sde=x))
    # linear in x: d Var / dt = 2 (velocity / x) Var
    assert 2 * velocity / x * var == pytest.approx(2 * t, rel=1e-12)


def test_scaled_ode_matches_the_unscaled_one_in_y_equals_x_over_s():
    """With s(t) = e^{t}: y = x/s obeys the s = 1 ODE, dy/dt = (dx/dt - s' y) / s."""
    drift = derivations.get("edm.ode_sde").function("ode_drift")
    s, ds, sigma, dsigma, psi, y = 1.7, 1.7, 0.9, 0.4, -0.3, 0.8
    dx = float(drift(dscale_edm=ds, scale_edm=s, dsigma_edm=dsigma, sigma_t_edm=sigma, score_edm=psi, x_sde=s * y))
    dy = float(drift(dscale_edm=0.0, scale_edm=1.0, dsigma_edm=dsigma, sigma_t_edm=sigma, score_edm=psi, x_sde=y))
    assert (dx - ds * y) / s == pytest.approx(dy, rel=1e-12)
