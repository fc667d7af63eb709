"""Likelihoods: VDM's continuous-time limit, the probability-flow ODE's exact likelihood for Gaussian data,
the bound's gap table, and the Hutchinson check with a planted bug."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import checks
import derivations
from derivations.core import notation as n
from derivations.families import likelihood
from checks.suite import likelihood as suite


def test_the_discrete_loss_tends_to_the_continuous_one():
    """T times the step weight at a smooth schedule approaches the continuous weight -SNR'/2 at rate 1/T."""
    rate = derivations.get("likelihood.vdm_continuous").result("time_weight")
    d = derivations.get("likelihood.vdm_continuous")
    step = d.result("step_weight")
    snr = lambda u: 3 * sp.exp(-2 * u)  # noqa: E731 - any smooth schedule
    expected = float(rate.subs(n.snr_rate_vdm, sp.diff(snr(n.time), n.time).subs(n.time, 0.4)))
    errors = []
    for steps in (10, 100, 1000):
        value = steps * step.subs({n.snr_prev: snr(0.4 - sp.Rational(1, steps)), n.snr_t: snr(0.4)})
        errors.append(abs(float(value) - expected))
    assert errors[2] < errors[1] < errors[0] and errors[2] < 1e-2


def test_continuous_loss_does_not_depend_on_the_schedule_between_endpoints():
    d = derivations.get("likelihood.vdm_continuous")
    loss = d.function("loss_gaussian")(var_data=0.3, snr_max_vdm=50.0, snr_min_vdm=0.02)
    grid = np.linspace(0.0, 1.0, 200_001)
    for schedule in (lambda u: 50.0 * (0.02 / 50.0) ** u, lambda u: 50.0 + (0.02 - 50.0) * u,
                     lambda u: 0.02 + (50.0 - 0.02) * (1 - u) ** 3):
        snr = schedule(grid)
        integrand = -np.gradient(snr, grid) * 0.3 / (1 + 0.3 * snr) / 2
        assert np.trapezoid(integrand, grid) == pytest.approx(loss, rel=1e-6)


def test_pf_ode_likelihood_is_the_gaussian_log_density():
    d = derivations.get("likelihood.pf_ode_exact")
    log_likelihood = d.function("log_likelihood")
    for var, mean, x0, b in ((0.3, 0.5, -1.2, 0.7), (2.5, -1.0, 0.4, 4.0), (1.0, 0.0, 2.0, 1.0)):
        exact = -0.5 * math.log(2 * math.pi * var) - (x0 - mean) ** 2 / (2 * var)
        assert float(log_likelihood(var_data=var, mean_data=mean, x_0=x0, B_t=b)) == pytest.approx(exact, rel=1e-12)


def test_flow_map_pushes_the_data_law_to_the_marginal():
    """The flow map is affine in x_0: it maps N(mu_0, s^2) to N(m mu_0, Sigma), the VP marginal."""
    flow = derivations.get("likelihood.pf_ode_exact").result("flow_map")
    slope, offset = sp.diff(flow, n.x_0), flow.subs(n.x_0, 0)
    m = sp.exp(-n.B_t / 2)
    assert sp.simplify(slope**2 * n.var_data - (m**2 * n.var_data + 1 - m**2)) == 0
    assert sp.simplify(offset + slope * n.mean_data - m * n.mean_data) == 0


def test_gap_table_matches_the_statement():
    table = likelihood.gap_table()
    stated = {1.0: {None: 8.37e-7, 1000: 0.0566, 100: 0.597, 10: 11.06},
              0.1: {None: 1.75e-5, 1000: 0.0460, 100: 0.485, 10: 8.92}}
    for var, row in stated.items():
        for steps, value in row.items():
            assert table[var][steps] == pytest.approx(value, rel=5e-3), (var, steps)
        # more steps, a tighter bound; never below the exact likelihood
        assert 0 < table[var][None] < table[var][1000] < table[var][100] < table[var][10]


@pytest.mark.mc
def test_hutchinson_check_rejects_every_wrong_divergence():
    check = checks.get("likelihood.pf_ode_hutchinson")
    wrong = [w for w in derivations.get("likelihood.pf_ode_exact").body.wrong_variants if w.result == "divergence"]
    assert len(wrong) == 3
    right, *variants = checks.run_variants(
        check.id, [{}] + [{("likelihood.pf_ode_exact", "divergence"): w.expr} for w in wrong], device="cpu",
        samples=1000)
    assert right.passed
    assert not any(v.passed for v in variants)


@pytest.mark.mc
def test_hutchinson_check_rejects_a_biased_probe(monkeypatch):
    """A planted bug: probes of variance 2 double the trace estimate (E[v^T A v] = 2 tr A)."""
    monkeypatch.setattr(suite, "probe", lambda ctx, count: 2**0.5 * ctx.normal(count, suite.DIM))
    assert not checks.run("likelihood.pf_ode_hutchinson", device="cpu", samples=1000).passed
