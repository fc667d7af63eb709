"""Langevin family: the step-size biases and the transient bounds of the EM checks."""

from __future__ import annotations

import math

import sympy as sp
import torch

import checks
import derivations
from checks import stats
from checks.forward import euler_maruyama
from checks.suite import langevin as suite
from derivations.notation import h_lgv, k_lgv


def test_step_size_bias_vanishes_linearly():
    bias = derivations.get("langevin.em_quadratic").result("var_bias")
    assert sp.limit(bias / h_lgv, h_lgv, 0) == sp.Rational(1, 2)
    assert sp.simplify(bias - h_lgv / (2 - h_lgv * k_lgv)) == 0


def test_transient_below_bound_after_the_steps_run():
    for step in suite.STEP_SIZES:
        n = suite._steps(step)
        assert abs(1 - step * suite.STIFFNESS) ** n * abs(suite.START - suite.CENTRE) < suite.TRANSIENT


def _coupled_step_sweep(step: float, n: int, horizon: float, seed: int) -> torch.Tensor:
    """Rows: the chain of step h/2 and the chain of step h on one Brownian path (h/2 grid; the coarse
    chain's drift frozen over each pair of half steps, so its increments are sums of two)."""
    half = step / 2
    k = round(horizon / half)
    grid = torch.arange(k + 1, dtype=torch.float64) * half
    frozen, calls = {}, [0]

    def drift(t, x):
        if calls[0] % 2 == 0:
            frozen["coarse"] = -suite.QUARTIC_COEF * x[1] ** 3
        calls[0] += 1
        return torch.stack([-suite.QUARTIC_COEF * x[0] ** 3, frozen["coarse"]])

    noise = torch.tensor(math.sqrt(2.0), dtype=torch.float64)
    x0 = torch.zeros(2, n, dtype=torch.float64)
    return euler_maruyama(drift, lambda t, x: noise, x0, grid, torch.Generator().manual_seed(seed), {k}, (n,))[k]


def _detectable(samples: torch.Tensor, n_check: int) -> float:
    return (stats.critical_value(stats.FALSE_ALARM_PER_CHECK / 2) + stats.power_quantile()) * float(
        samples.std()) / math.sqrt(n_check)


def test_quartic_euler_bias_is_small_against_the_detectable_error():
    """Weak order 1: bias(h) ~ 2 (E f(X^h) - E f(X^{h/2})); below a fifth of what the check detects."""
    paths = _coupled_step_sweep(suite.QUARTIC_STEP, 20_000, suite.QUARTIC_HORIZON, seed=5)
    n_check = checks.get("langevin.stationary.quartic").default_samples
    for power in (2, 4):
        difference = paths[1] ** power - paths[0] ** power
        bias_bound = 2 * (abs(float(difference.mean())) + 3 * float(difference.std()) / math.sqrt(difference.numel()))
        assert bias_bound < _detectable(paths[0] ** power, n_check) / 5, power


def test_quartic_euler_bias_halves_with_the_step():
    """The sweep sees order 1: the coupled difference at 2h is about twice that at h."""
    wide = _coupled_step_sweep(2 * suite.QUARTIC_STEP, 20_000, suite.QUARTIC_HORIZON, seed=6)
    narrow = _coupled_step_sweep(suite.QUARTIC_STEP, 20_000, suite.QUARTIC_HORIZON, seed=6)
    ratio = float((wide[1] ** 4 - wide[0] ** 4).mean() / (narrow[1] ** 4 - narrow[0] ** 4).mean())
    assert 1.5 < ratio < 3.0


def test_quartic_start_is_forgotten_by_the_horizon():
    """Chains from -S and S on one path enclose those from 0 and from e^{-U} (|x| < S but for ~1e-9):
    |f(X_T) - f(Z_T)| <= width * max|f'| on the enclosure, averaged: far below the detectable error."""
    n = 20_000
    starts = torch.stack([torch.full((n,), -suite.QUARTIC_SANDWICH, dtype=torch.float64),
                          torch.full((n,), suite.QUARTIC_SANDWICH, dtype=torch.float64)])
    ends = suite.quartic_chains(starts, suite.QUARTIC_STEP, suite.QUARTIC_HORIZON, torch.Generator().manual_seed(7),
                                (n,))
    width, reach = ends[1] - ends[0], ends.abs().max(dim=0).values
    assert float(width.min()) >= 0, "a synchronous coupling keeps the order in 1-D"
    n_check = checks.get("langevin.stationary.quartic").default_samples
    for power in (2, 4):
        start_effect = float((width * power * reach ** (power - 1)).mean())
        assert start_effect < _detectable(ends[1] ** power, n_check) / 20, power


def test_quartic_mass_outside_the_enclosure_is_negligible():
    from derivations.notation import a_lgv
    outside = 2 * sp.Integral(sp.exp(-a_lgv * sp.Symbol("x") ** 4 / 4), (sp.Symbol("x"), suite.QUARTIC_SANDWICH, sp.oo))
    total = sp.Integral(sp.exp(-a_lgv * sp.Symbol("x") ** 4 / 4), (sp.Symbol("x"), -sp.oo, sp.oo))
    assert float((outside / total).subs(a_lgv, suite.QUARTIC_COEF).evalf(20)) < 1e-6
