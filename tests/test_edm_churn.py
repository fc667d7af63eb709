"""EDM's stochastic sampler (Algorithm 2): S_churn = 0 is Algorithm 1, the churn keeps the sampler
consistent (exact W2 decreasing with NFE, second order), its misprints are rejected."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
import torch

import derivations
from checks.exact import w2 as exact_w2
from checks.exact.data import spectrum
from checks.sim import Grid, processes
from checks.sim import get as get_sampler
from checks.sim.data import GaussianData
from derivations.core import notation as n
from derivations.core.step_vocabulary import CHURN_CAP, churn_gamma

CHURN = derivations.get("gauss_exact.step_edm_churn")
HEUN = derivations.get("gauss_exact.step_edm_heun")
# No churn: the raised level is the step's start (kernel N(x, 0), no rise, the same coefficients).
AT_START = {n.a_hat_st: 1, n.b_hat_st: 0, n.rise_st: 0, n.f_hat_st: n.f_k_st, n.g2_hat_st: n.g2_k_st,
            n.prec_hat_pg: n.prec_k_pg, n.mu_hat_st: n.mu_k_st}


@pytest.mark.parametrize("name", ["gain", "gain_last", "offset", "offset_last"])
def test_without_churn_the_step_map_is_algorithm_1(name):
    churned = n.expand_definitions(CHURN.result(name)).subs(AT_START)
    assert sp.simplify(churned - n.expand_definitions(HEUN.result(name))) == 0


@pytest.mark.parametrize("name", ["noise_var", "noise_var_last"])
def test_without_churn_no_noise_is_injected(name):
    assert sp.simplify(n.expand_definitions(CHURN.result(name)).subs(AT_START)) == 0


def test_without_churn_the_engine_runs_algorithm_1():
    process = processes.named("vp")
    data = GaussianData(torch.zeros(3, dtype=torch.float64), torch.tensor([0.2, 1.0, 3.0], dtype=torch.float64))
    grid = Grid.uniform(process, 12)
    x = data.sample_marginal(process, grid.times[0], 500, torch.Generator().manual_seed(1))
    heun = get_sampler("edm_heun")(data.score(process), grid, x, torch.Generator().manual_seed(2))
    churned = get_sampler("edm_churn")(data.score(process), grid, x, torch.Generator().manual_seed(2), churn=0.0)
    assert torch.equal(heun, churned)


def test_the_churn_factor_is_capped_and_windowed():
    assert churn_gamma(0.5, 10, 30.0, 0.01, 1.0) == CHURN_CAP  # 30/10 capped at sqrt(2) - 1
    assert churn_gamma(0.5, 300, 30.0, 0.01, 1.0) == pytest.approx(0.1)
    assert churn_gamma(2.0, 300, 30.0, 0.01, 1.0) == 0.0 and churn_gamma(0.005, 300, 30.0, 0.01, 1.0) == 0.0


def test_the_raised_level_has_the_raised_noise_level():
    """On the table's grid: sigma(u_hat) = (1 + gamma) sigma(u), sigma^2 = e^{2B} - 1, and the kernel to it is
    the forward one, N(e^{-(B_hat - B)} x, 1 - e^{-2(B_hat - B)})."""
    g = exact_w2.grid(1e-3, 50)
    raised, B_hat = g.raised((30.0, 0.01, 1.0))
    sigma = np.sqrt(np.expm1(2 * g.B_points[:-1]))
    gamma = np.array([churn_gamma(s, 49, 30.0, 0.01, 1.0) for s in sigma])
    assert np.any(gamma > 0) and np.any(gamma == 0)
    np.testing.assert_allclose(np.sqrt(np.expm1(2 * B_hat)), (1 + gamma) * sigma, rtol=1e-10)
    np.testing.assert_allclose(raised["a_hat_st"], np.exp(-(B_hat - g.B_points[:-1])), rtol=1e-12)
    assert np.all(raised["b_hat_st"][gamma == 0] == 0) and np.all(raised["rise_st"][gamma == 0] == 0)
    u_hat = g.u_points[:-1] + raised["rise_st"]
    linear = exact_w2.BETA_MIN * u_hat + (exact_w2.BETA_MAX - exact_w2.BETA_MIN) * u_hat**2 / 2  # B of the schedule
    np.testing.assert_allclose(linear, B_hat, rtol=1e-10)


def test_exact_w2_decreases_with_nfe_on_both_spectra():
    for name in ("cifar10", "adsn"):
        lam = spectrum(name)
        cells = exact_w2.table(lam, nfes=(50, 100, 250, 500, 1000), eps_values=(1e-3,), schemes=("EDM-churn",),
                               continuous=False)
        w2 = [c.w2 for c in cells if c.init == "p_T"]
        assert all(math.isfinite(v) for v in w2) and all(b < a for a, b in zip(w2, w2[1:])), (name, w2)


def test_the_churn_keeps_the_second_order():
    """Against the exact law at eps = 1e-2 (where every mode is resolved), the error falls as N^-2."""
    lam, counts = np.unique(spectrum("cifar10"), return_counts=True)
    exact = exact_w2.continuous_variance(lam, "SDE", 1e-2, "p_T")
    points = (501, 1001, 2001)
    errors = [exact_w2.w2(exact_w2.output_variance(lam, "EDM-churn", 1e-2, p, "p_T"), exact, counts) for p in points]
    slope = np.polyfit(np.log(np.array(points) - 1), np.log(errors), 1)[0]
    assert abs(-slope - 2.0) < 0.2, slope


def test_every_misprint_is_rejected_with_a_counterexample():
    verdicts = CHURN.variant_verdicts
    assert len(verdicts) >= 4
    for v in verdicts:
        assert v.proof.tier.name == "FAILED" and v.proof.counterexample, v.description


def test_the_misprinted_noise_changes_the_exact_law():
    """Noise of variance t_hat - t for t_hat^2 - t^2 (and the uncapped variance t_hat^2) moves the output law."""
    values = {n.a_st: 0.9, n.b_st: 0.3, n.m_next_st: 0.8, n.v_next_st: 0.36, n.dt_pg: 0.02, n.a_hat_st: 0.95,
              n.b_hat_st: 0.08, n.rise_st: 0.01, n.f_hat_st: -1.2, n.g2_hat_st: 2.4, n.f_next_st: -1.0,
              n.g2_next_st: 2.0, n.prec_hat_pg: 1.3, n.prec_next_pg: 1.5, n.noise_scale_edm: 1.0}
    right = float(n.expand_definitions(CHURN.result("noise_var")).subs(values))
    for wrong in CHURN.body.wrong_variants:
        if wrong.result == "noise_var":
            assert abs(float(n.expand_definitions(wrong.expr).subs(values)) - right) > 1e-3 * right, wrong.description
