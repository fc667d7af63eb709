"""Exact W2 table of the samplers for Gaussian data (gauss_exact.*, checks.exact.w2, diffverify w2-table)."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
import torch

import sympy as sp

import derivations
import checks
from checks.exact import data
from checks.exact import w2 as exact_w2
from checks.core import stats
from checks.exact import kernel as w2_kernel
from checks.exact import kernel_c
from checks.core.registry import CheckContext
from checks.suite import gauss_exact as eigenbasis
from checks.app.cli import main

REFERENCE_RTOL = 1e-4
# Cells whose reference is 0 (p_T at eps = 0: the exact process returns p_0): round-off only.
ZERO_ATOL = 1e-10
# The fused CPU kernels, each skipped where it cannot run: C needs a compiler, numba its package.
FUSED = [pytest.param("c", marks=pytest.mark.skipif(not kernel_c.available(), reason="no C compiler")),
         pytest.param("numba", marks=pytest.mark.skipif(not w2_kernel.available(), reason="numba not installed"))]


@pytest.fixture(scope="module")
def cifar() -> np.ndarray:
    return data.spectrum("cifar10")


@pytest.fixture(scope="module")
def cifar_table(cifar) -> dict:
    return {c.key: c for c in exact_w2.table(cifar, nfes=(50, 250, 500, 1000), backend="numpy")}


def test_every_reference_cell_of_table5_is_reproduced(cifar_table):
    rows = data.table5()
    assert len(rows) == 208
    for row in rows:
        cell = cifar_table[(row["scheme"], repr(float(row["eps"])), row["init"], row["nfe"])]
        reference = float(row["reference"])
        where = f"{row['scheme']} eps={row['eps']} {row['init']} NFE={row['nfe']}"
        if math.isinf(reference):
            assert cell.divergent, f"{where}: published '-', computed {cell.w2}"
        elif reference == 0:
            assert abs(cell.w2) <= ZERO_ATOL, f"{where}: {cell.w2}"
        else:
            assert math.isfinite(cell.w2), f"{where}: computed {cell.w2}"
            assert abs(cell.w2 - reference) <= REFERENCE_RTOL * reference, f"{where}: {cell.w2} vs {reference}"


def test_heun_and_rk4_columns_need_their_step_counts(cifar):
    """The published Heun column is N = NFE grid points; RK4 is N = NFE // 4 (see checks.exact.w2)."""
    assert exact_w2.SCHEME_BY_LABEL["Heun"].points(250) == 250
    assert exact_w2.SCHEME_BY_LABEL["RK4"].points(250) == 62
    reference = {(r["scheme"], r["eps"], r["init"], r["nfe"]): float(r["reference"]) for r in data.table5()}
    for label, other in exact_w2.ALTERNATIVE_POINTS.items():
        cells = exact_w2.table(cifar, nfes=(250,), eps_values=(1e-4,), schemes=(label,), points={label: other},
                               continuous=False, backend="numpy")
        for c in cells:
            published = reference[(label, "0.0001", c.init, "250")]
            assert abs(c.w2 - published) > 0.1 * published, f"{label} also matches under the other reading"


def test_table_has_every_cell_and_the_ddim_rows(cifar_table):
    schemes = {k[0] for k in cifar_table}
    assert schemes == {"SDE", "ODE"} | {s.label for s in exact_w2.SCHEMES}
    assert len(cifar_table) == 16 + len(exact_w2.SCHEMES) * 4 * 2 * 4


def test_torch_backend_agrees_with_numpy(cifar):
    kwargs = dict(nfes=(50,), eps_values=(1e-3,), continuous=False)
    numpy_cells = exact_w2.table(cifar, backend="numpy", **kwargs)
    torch_cells = exact_w2.table(cifar, backend="torch", **kwargs)
    for a, b in zip(numpy_cells, torch_cells):
        assert a.key == b.key and math.isclose(a.w2, b.w2, rel_tol=1e-10)


@pytest.mark.parametrize("backend", FUSED)
def test_fused_kernels_agree_with_numpy(cifar_table, cifar, backend):
    """The generated kernels (C or numba: the default CPU path) give the numpy path's table, divergent cells included.

    numba (the fallback without a C compiler) runs one NFE: every column's statements, in four of the seven
    group structures, since each structure costs numba seconds to compile in a fresh cache; the kernels of
    both are written by one generator (``test_w2_kernel_oracle``)."""
    nfes = (50, 250, 500, 1000) if backend == "c" else (50,)
    fused = exact_w2.table(cifar, nfes=nfes, backend=backend)
    assert len(fused) == sum(1 for c in cifar_table.values() if c.nfe in nfes + (exact_w2.CONTINUOUS,))
    for cell in fused:
        expected = cifar_table[cell.key].w2
        if math.isfinite(expected):
            assert math.isclose(cell.w2, expected, rel_tol=1e-10, abs_tol=ZERO_ATOL), cell
        else:
            assert cell.divergent, cell


def test_fused_kernel_source_follows_the_monomials():
    """One line per scheme's gain, noise only where the scheme injects it, P_{k+1/2} only when used."""
    linear = (((0, 0, 0), (1, 0, 0)), True)
    trapezoid = (((0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0)), False)
    source = w2_kernel.kernel_source((linear, trapezoid))
    assert "g = c0_0 + c0_1 * p0\n" in source and "g = c1_0 + c1_1 * p0 + c1_2 * p1 + c1_3 * (p0*p1)\n" in source
    assert "B0[j] = B0[j] * g + z0" in source and "B1[j]" not in source and "p2" not in source


FURTHER_POINTS = ("EDM-churn", "DPM-Solver-3")  # the raised level and noise before the gain; the step's thirds


@pytest.mark.parametrize("backend", FUSED)
@pytest.mark.parametrize("spacing", ["time", "lambda"])
@pytest.mark.parametrize("label", FURTHER_POINTS)
def test_fused_kernels_run_the_columns_with_further_points(label, spacing, backend):
    """The columns reading precisions beyond the step's ends and midpoint run fused and give the numpy path's law."""
    lam = np.array([1e-5, 1e-3, 0.05, 0.7, 1.0, 3.0, 40.0, 900.0])
    for n_points in (3, 4, 40):
        for init in exact_w2.INITS:
            fused, arrays = (exact_w2.output_variance(lam, label, 1e-3, n_points, init, backend, spacing)
                             for backend in (backend, "numpy"))
            np.testing.assert_allclose(fused, arrays, rtol=1e-13, atol=0)


@pytest.mark.parametrize("backend", FUSED)
def test_fused_group_with_further_points_agrees_with_numpy(backend):
    """One kernel for columns on the step's ends, midpoint, raised level and thirds together."""
    lam = np.array([1e-5, 1e-3, 0.05, 0.7, 1.0, 3.0, 40.0, 900.0])
    schemes = (*FURTHER_POINTS, "Euler", "DPM-Solver-2", "DDPM")
    kwargs = dict(nfes=(60,), eps_values=(0.0, 1e-3), continuous=False, schemes=schemes,
                  points={s: (lambda nfe: 20) for s in schemes})  # one grid: one group, one kernel
    for a, b in zip(exact_w2.table(lam, backend=backend, **kwargs), exact_w2.table(lam, backend="numpy", **kwargs)):
        assert a.key == b.key and (math.isclose(a.w2, b.w2, rel_tol=1e-12) or a.divergent and b.divergent), (a, b)


def test_baseline_loop_agrees_with_the_vectorized_table():
    lam = np.array([0.0, 1e-3, 0.5, 2.0, 2.0, 40.0])
    kwargs = dict(nfes=(50,), eps_values=(0.0, 1e-3))
    fast = {c.key: c.w2 for c in exact_w2.table(lam, continuous=False, backend="numpy", **kwargs)}
    for c in exact_w2.baseline_table(lam, **kwargs):
        if math.isfinite(c.w2):
            assert math.isclose(fast[c.key], c.w2, rel_tol=1e-9), c
        else:
            assert not math.isfinite(fast[c.key]), c


@pytest.mark.parametrize("name", ["cifar10", "adsn"])
def test_sde_ends_closer_than_ode_from_standard_normal(name):
    """gauss_exact.sde_beats_ode on both data sets, every eps: to p_eps (the theorem) and to p_0 (the table)."""
    lam = np.unique(data.spectrum(name))
    for eps in exact_w2.EPS_VALUES:
        sde = exact_w2.continuous_variance(lam, "SDE", eps, "N0")
        ode = exact_w2.continuous_variance(lam, "ODE", eps, "N0")
        p_eps = exact_w2.continuous_variance(lam, "SDE", eps, "p_T")
        assert exact_w2.w2(sde, p_eps) <= exact_w2.w2(ode, p_eps)
        assert exact_w2.w2(sde, lam) <= exact_w2.w2(ode, lam)
        # per eigenvalue, as the derivation states
        assert np.all(np.abs(np.sqrt(sde) - np.sqrt(p_eps)) <= np.abs(np.sqrt(ode) - np.sqrt(p_eps)) + 1e-15)


# Convergence: W2 between the scheme's output and the exact continuous output (both from p_T),
# at eps = 1e-2 where every mode is resolved by these grids (the asymptotic regime).
CONVERGENCE_EPS = 1e-2
CONVERGENCE_POINTS = {"RK4": (129, 257, 513), "DPM-Solver-3": (129, 257, 513)}
ORDER_TOLERANCE = 0.2


@pytest.mark.parametrize("spec", exact_w2.SCHEMES, ids=lambda s: s.label)
def test_error_decays_at_the_declared_order(spec, cifar):
    lam, counts = np.unique(cifar, return_counts=True)
    exact = exact_w2.continuous_variance(lam, "SDE", CONVERGENCE_EPS, "p_T")
    points = CONVERGENCE_POINTS.get(spec.label, (501, 1001, 2001))
    errors = [exact_w2.w2(exact_w2.output_variance(lam, spec.label, CONVERGENCE_EPS, n, "p_T"), exact, counts)
              for n in points]
    slope = np.polyfit(np.log(np.array(points) - 1), np.log(errors), 1)[0]
    assert abs(-slope - spec.order) < ORDER_TOLERANCE, f"{spec.label}: slope {slope:.3f}, declared order {spec.order}"


# On a grid uniform in the half-log-SNR (DPM-Solver's), the orders hold as well; there DPM-Solver-2 is
# more accurate than Heun at the same grid points (the same NFE, less one evaluation).
LAMBDA_POINTS = (65, 129, 257)
LAMBDA_ORDERS = {"Euler": 1.0, "DDIM-eta0": 1.0, "Heun": 2.0, "DPM-Solver-2": 2.0, "DPM-Solver++2S": 2.0,
                 "DPM-Solver-3": 3.0}


@pytest.fixture(scope="module")
def lambda_errors(cifar) -> dict[str, list[float]]:
    lam, counts = np.unique(cifar, return_counts=True)
    exact = exact_w2.continuous_variance(lam, "SDE", CONVERGENCE_EPS, "p_T")
    return {label: [exact_w2.w2(exact_w2.output_variance(lam, label, CONVERGENCE_EPS, n, "p_T", spacing="lambda"),
                                exact, counts) for n in LAMBDA_POINTS] for label in LAMBDA_ORDERS}


@pytest.mark.parametrize("label", list(LAMBDA_ORDERS))
def test_orders_on_a_grid_uniform_in_lambda(label, lambda_errors):
    slope = np.polyfit(np.log(np.array(LAMBDA_POINTS) - 1), np.log(lambda_errors[label]), 1)[0]
    assert abs(-slope - LAMBDA_ORDERS[label]) < ORDER_TOLERANCE, f"{label}: slope {slope:.3f}"


def test_dpm_solver_2_beats_heun_on_the_lambda_grid(lambda_errors):
    assert all(d < 0.5 * h for d, h in zip(lambda_errors["DPM-Solver-2"], lambda_errors["Heun"]))


def test_the_lambda_grid_is_uniform_in_lambda():
    g = exact_w2.lambda_grid(CONVERGENCE_EPS, 9)
    B = g.B_points
    lam = -B - 0.5 * np.log(-np.expm1(-2 * B))
    assert np.allclose(np.diff(lam), np.diff(lam)[0], rtol=1e-10)
    assert g.u_points[0] == exact_w2.T_END and g.u_points[-1] == pytest.approx(CONVERGENCE_EPS, rel=1e-12)


# --- one step of each update rule, simulated directly, against the derived map -------------------------
# The numpy updates below are the independent oracle: the table's update rules written a second time,
# on purpose, in Pierret & Galerne's own vocabulary (beta, B, alpha_bar), without the catalogue. Every
# other evaluation of a rule comes from its one definition in the catalogue (derivations/catalogue/).

STEP_POINT = dict(var_c_pg=0.7, dt_pg=0.2, beta_k=2.0, beta_next=1.5, beta_mid=1.75, prec_k_pg=1.3,
                  prec_next_pg=2.5, prec_mid_pg=1.8, h=0.35, ab_next=0.5, ab_mid=0.36,
                  beta_hat=2.3, prec_hat_pg=1.1, rise_st=0.05, h_hat=0.3,  # EDM's churn: its raised level
                  ab_s1=0.42, ab_s2=0.46, prec_s1_pg=2.1, prec_s2_pg=2.3)  # DPM-Solver-3: points at lambda + h/3, 2h/3
STEP_SAMPLES = 200_000
# |sample variance - a^2 c + b| <= 6 standard errors: a false alarm has probability about 2e-9 per scheme.
STEP_BOUND_SE = 6.0


def _pf(beta, prec, y):
    return beta * (y - prec * y)


def _heun(y, p):
    dt, bk, bn, pk, pn = p["dt_pg"], p["beta_k"], p["beta_next"], p["prec_k_pg"], p["prec_next_pg"]
    slope = _pf(bk, pk, y)
    return y + dt / 2 * (slope + _pf(bn, pn, y + dt * slope))


def _update(label: str, y: np.ndarray, z: np.ndarray, p: dict, last: bool) -> np.ndarray:
    """The table's update rules (expected values of each column), written independently of the catalogue."""
    dt, bk, bn, bm = p["dt_pg"], p["beta_k"], p["beta_next"], p["beta_mid"]
    pk, pn, pm, h = p["prec_k_pg"], p["prec_next_pg"], p["prec_mid_pg"], p["h"]
    if label == "EM":
        return y + dt * bk * (y - 2 * pk * y) + np.sqrt(2 * dt * bk) * z
    if label == "EI":
        return y + np.expm1(h) * (y - 2 * pk * y) + np.sqrt(np.expm1(2 * h)) * z
    if label == "DDPM":
        bd = 2 * dt * bk
        return (y - bd * pk * y) / np.sqrt(1 - bd) + np.sqrt(bd) * z
    if label == "EDM-churn":
        # Karras et al. (2022), Algorithm 2 in VP form: the forward kernel over B(u_hat) - B(u) = h_hat, then
        # Heun (Euler on the last step) from u_hat over dt + rise
        y_hat = np.exp(-p["h_hat"]) * y + np.sqrt(-np.expm1(-2 * p["h_hat"])) * z
        span = dt + p["rise_st"]
        slope = _pf(p["beta_hat"], p["prec_hat_pg"], y_hat)
        euler = y_hat + span * slope
        return euler if last else y_hat + span / 2 * (slope + _pf(bn, p["prec_next_pg"], euler))
    if label == "Euler" or label == "EDM-Heun" and last:
        return y + dt * _pf(bk, pk, y)
    if label in ("Heun", "EDM-Heun"):
        return _heun(y, p)
    if label == "RK4":
        k1 = _pf(bk, pk, y)
        k2 = _pf(bm, pm, y + dt / 2 * k1)
        k3 = _pf(bm, pm, y + dt / 2 * k2)
        k4 = _pf(bn, pn, y + dt * k3)
        return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    if label == "DPM-Solver-2":
        # Lu et al. (2022) in alpha = sqrt(alpha_bar), sigma = sqrt(1 - alpha_bar), lambda = log(alpha/sigma)
        ab_next, ab_mid = p["ab_next"], p["ab_mid"]
        ab = ab_next * np.exp(-2 * h)
        alpha, alpha_mid, alpha_next = np.sqrt(ab), np.sqrt(ab_mid), np.sqrt(ab_next)
        sigma, sigma_mid, sigma_next = np.sqrt(1 - ab), np.sqrt(1 - ab_mid), np.sqrt(1 - ab_next)
        lam, lam_mid, lam_next = (np.log(a / s) for a, s in ((alpha, sigma), (alpha_mid, sigma_mid),
                                                                (alpha_next, sigma_next)))
        eps_t = sigma * pk * y
        if last:
            return alpha_next * (y - sigma * eps_t) / alpha + sigma_next * eps_t
        step, r = lam_next - lam, (lam_mid - lam) / (lam_next - lam)
        u = alpha_mid / alpha * y - sigma_mid * np.expm1(r * step) * eps_t
        eps_u = sigma_mid * pm * u
        return (alpha_next / alpha * y - sigma_next * np.expm1(step) * eps_t
                - sigma_next / (2 * r) * np.expm1(step) * (eps_u - eps_t))
    if label == "DPM-Solver-3":
        # Lu et al. (2022), DPM-Solver-3 with r_1, r_2 read off the points' half-log-SNR
        ab = p["ab_next"] * np.exp(-2 * h)
        alphas = [np.sqrt(v) for v in (ab, p["ab_s1"], p["ab_s2"], p["ab_next"])]
        sigmas = [np.sqrt(1 - v) for v in (ab, p["ab_s1"], p["ab_s2"], p["ab_next"])]
        lams = [np.log(a / s) for a, s in zip(alphas, sigmas)]
        eps_t = sigmas[0] * pk * y  # onto v > 0 the last step is the same third-order step
        step = lams[3] - lams[0]
        r1, r2 = (lams[1] - lams[0]) / step, (lams[2] - lams[0]) / step
        u1 = alphas[1] / alphas[0] * y - sigmas[1] * np.expm1(r1 * step) * eps_t
        d1 = sigmas[1] * p["prec_s1_pg"] * u1 - eps_t
        u2 = (alphas[2] / alphas[0] * y - sigmas[2] * np.expm1(r2 * step) * eps_t
              - sigmas[2] * r2 / r1 * (np.expm1(r2 * step) / (r2 * step) - 1) * d1)
        d2 = sigmas[2] * p["prec_s2_pg"] * u2 - eps_t
        return (alphas[3] / alphas[0] * y - sigmas[3] * np.expm1(step) * eps_t
                - sigmas[3] / r2 * (np.expm1(step) / step - 1) * d2)
    if label == "DPM-Solver++2S":
        # Lu et al. (2022b), Algorithm 1, data prediction x0 = (y - sigma eps)/alpha, general r
        ab_next, ab_mid = p["ab_next"], p["ab_mid"]
        ab = ab_next * np.exp(-2 * h)
        alpha, alpha_mid, alpha_next = np.sqrt(ab), np.sqrt(ab_mid), np.sqrt(ab_next)
        sigma, sigma_mid, sigma_next = np.sqrt(1 - ab), np.sqrt(1 - ab_mid), np.sqrt(1 - ab_next)
        lam, lam_mid, lam_next = (np.log(a / s) for a, s in ((alpha, sigma), (alpha_mid, sigma_mid),
                                                                (alpha_next, sigma_next)))
        x0 = (y - sigma * sigma * pk * y) / alpha
        if last:
            return alpha_next * x0 + sigma_next / sigma * (y - alpha * x0)
        step, r = lam_next - lam, (lam_mid - lam) / (lam_next - lam)
        u = sigma_mid / sigma * y - alpha_mid * np.expm1(-r * step) * x0
        x0_u = (u - sigma_mid**2 * pm * u) / alpha_mid
        return sigma_next / sigma * y - alpha_next * np.expm1(-step) * ((1 - 1 / (2 * r)) * x0 + x0_u / (2 * r))
    if label.startswith("DDIM-eta"):
        eta = float(label.removeprefix("DDIM-eta"))
        ab_next = p["ab_next"]
        ab = ab_next * np.exp(-2 * h)
        eps_hat = np.sqrt(1 - ab) * pk * y
        x0 = (y - np.sqrt(1 - ab) * eps_hat) / np.sqrt(ab)
        sigma_sq = eta**2 * (1 - ab_next) / (1 - ab) * (1 - ab / ab_next)
        return np.sqrt(ab_next) * x0 + np.sqrt(1 - ab_next - sigma_sq) * eps_hat + np.sqrt(sigma_sq) * z
    raise ValueError(label)


def _vocabulary(spec: exact_w2.SchemeSpec) -> dict[str, float]:
    """STEP_POINT in the step maps' vocabulary: f = -beta, g^2 = 2 beta, m = sqrt(alpha_bar), v = 1 - alpha_bar,
    the kernel from t' to t N(a x, b): a = e^{-h} on the SDE, sqrt(1 - beta^D) on the DDPM chain."""
    p = STEP_POINT
    beta_d = 2 * p["dt_pg"] * p["beta_k"]
    a, b = ((math.sqrt(1 - beta_d), beta_d) if spec.column.chain
            else (math.exp(-p["h"]), -math.expm1(-2 * p["h"])))
    values = {"a_st": a, "b_st": b, "m_next_st": math.sqrt(p["ab_next"]), "v_next_st": 1 - p["ab_next"],
              "m_mid_st": math.sqrt(p["ab_mid"]), "v_mid_st": 1 - p["ab_mid"]}
    for at, beta in (("k", "beta_k"), ("next", "beta_next"), ("mid", "beta_mid"), ("hat", "beta_hat")):
        values |= {f"f_{at}_st": -p[beta], f"g2_{at}_st": 2 * p[beta], f"mu_{at}_st": 0.0}
    values |= {"a_hat_st": math.exp(-p["h_hat"]), "b_hat_st": -math.expm1(-2 * p["h_hat"])}
    for at in ("s1", "s2"):
        values |= {f"m_{at}_st": math.sqrt(p[f"ab_{at}"]), f"v_{at}_st": 1 - p[f"ab_{at}"], f"mu_{at}_st": 0.0}
    return p | values | spec.fixed


def _predicted_var(spec: exact_w2.SchemeSpec, gain, noise_var) -> float:
    values = _vocabulary(spec)

    def value(expr):
        return float(sp.sympify(expr).subs({s: values[s.name] for s in sp.sympify(expr).free_symbols}))

    return value(gain) ** 2 * STEP_POINT["var_c_pg"] + value(noise_var)


STEPS_TO_SIMULATE = [(spec, last) for spec in exact_w2.SCHEMES for last in (False, True)
                     if not last or spec.result("gain", True) != spec.result("gain", False)]


@pytest.mark.parametrize("spec,last", STEPS_TO_SIMULATE,
                         ids=[f"{s.label}{'-last' if last else ''}" for s, last in STEPS_TO_SIMULATE])
def test_one_simulated_step_matches_the_derived_map(spec, last):
    d = derivations.get(spec.derivation_id)
    gain_name, noise_name = spec.result("gain", last), spec.result("noise_var", last)
    rng = np.random.default_rng(zlib.crc32(f"{d.id}{last}".encode()))
    y = math.sqrt(STEP_POINT["var_c_pg"]) * rng.standard_normal(STEP_SAMPLES)
    out = _update(spec.label, y, rng.standard_normal(STEP_SAMPLES), STEP_POINT, last)
    expected = _predicted_var(spec, d.result(gain_name), d.result(noise_name))
    estimate = stats.variance(spec.label, torch.from_numpy(out), expected)
    assert abs(estimate.estimate - expected) <= STEP_BOUND_SE * estimate.std_error, estimate
    # the same test rejects the scheme's misprints that are visible at this sample size
    visible = 0
    for wrong in d.body.wrong_variants:
        if wrong.result not in (gain_name, noise_name):
            continue
        parts = {gain_name: d.result(gain_name), noise_name: d.result(noise_name)} | {wrong.result: wrong.expr}
        wrong_var = _predicted_var(spec, parts[gain_name], parts[noise_name])
        if abs(wrong_var - expected) > (STEP_BOUND_SE + 3) * estimate.std_error:
            visible += 1
            assert abs(estimate.estimate - wrong_var) > STEP_BOUND_SE * estimate.std_error, wrong.description
    assert visible >= 1, f"{spec.label}: no wrong variant is visible to the one-step check"


# --- the engine's samplers in the eigenbasis (checks gauss_exact.eigenbasis.*) ----------------------------

@pytest.mark.parametrize("scheme", eigenbasis.SCHEMES, ids=lambda s: s.key)
def test_eigenbasis_recursion_is_the_table_evaluator(scheme, cifar):
    """The check's step-by-step recursion and the vectorized table evaluator give the same variances."""
    chk = checks.get(f"gauss_exact.eigenbasis.{scheme.key}")
    ctx = CheckContext(chk, 1000, 0, torch.device("cpu"), torch.float64)
    for nfe in eigenbasis.NFES:
        by_check = eigenbasis.recursion_variance(ctx, scheme, nfe).numpy()
        by_table = exact_w2.output_variance(cifar, scheme.label, eigenbasis.EPS, scheme.spec.points(nfe), "p_T")
        np.testing.assert_allclose(by_check, by_table, rtol=1e-9)


def test_eigenbasis_ddpm_chain_has_the_reference_betas():
    vp = eigenbasis.vp_process()
    times = tuple(float(u) for u in exact_w2.grid(eigenbasis.EPS, 50).u_points)
    chain = eigenbasis.ddpm_chain(vp, times)
    values = exact_w2.grid(eigenbasis.EPS, 50).chain_values
    for k, (u, u_next) in enumerate(zip(times, times[1:])):
        now, nxt = chain.at(u), chain.at(u_next)
        beta_ddpm = 1 - (now.mean_coef / nxt.mean_coef) ** 2
        assert beta_ddpm == pytest.approx(values["b_st"][k], rel=1e-9)
        assert now.var - (now.mean_coef / nxt.mean_coef) ** 2 * nxt.var == pytest.approx(values["b_st"][k], rel=1e-9)
        assert nxt.var == pytest.approx(values["v_next_st"][k], rel=1e-9)
        assert nxt.var > 0, "every step, the last included, injects noise as the reference's recursion does"


def test_eigenbasis_checks_separate_the_discretized_law_from_the_continuous_one(cifar):
    """At NFE 250 the recursion differs from the continuous-time law by far more than a decile statistic
    detects (2 % at 1000 samples), so these checks test the discretization, not just the limit."""
    order = np.argsort(cifar)
    for scheme, kind in (("EM", "SDE"), ("DDPM", "SDE"), ("Heun", "ODE")):
        discrete = exact_w2.output_variance(cifar, scheme, eigenbasis.EPS, 250, "p_T")
        continuous = exact_w2.continuous_variance(cifar, kind, eigenbasis.EPS, "p_T")
        worst_decile = max(abs(np.mean(band) - 1) for band in np.array_split((continuous / discrete)[order], 10))
        assert worst_decile > 0.3, scheme


# --- CLI ------------------------------------------------------------------------------------------------

def test_cli_csv_has_the_reference_labels(tmp_path, capsys):
    path = tmp_path / "lam.npy"
    np.save(path, np.array([0.0, 0.3, 1.0, 4.0]))
    assert main(["w2-table", "--eigenvalues", str(path), "--format", "csv", "--backend", "numpy"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "scheme,eps,init,nfe,w2"
    rows = [line.split(",") for line in lines[1:]]
    reference_keys = {(r["scheme"], r["eps"], r["init"], r["nfe"]) for r in data.table5()}
    assert reference_keys <= {tuple(r[:4]) for r in rows}
    assert {r[0] for r in rows if r[0].startswith("Heun") and r[1] == "0.0"} == {"Heun"}
    assert all(r[4] == "divergent" for r in rows if r[0] in ("Heun", "RK4") and r[1] == "0.0")


def test_cli_markdown_by_default(tmp_path, capsys):
    path = tmp_path / "lam.txt"
    path.write_text("0.5\n2.0\n")
    assert main(["w2-table", "--eigenvalues", str(path), "--backend", "numpy"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| scheme | eps | init | continuous | 50 | 100 | 250 | 500 | 1000 |")


@pytest.mark.parametrize("content", [np.array([[1.0, 2.0]]), np.array([1.0, -0.5]), np.array([1.0, np.nan]),
                                     np.array([], dtype=float), np.array(["a", "b"]), "not an array"])
def test_cli_refuses_bad_eigenvalue_files(tmp_path, capsys, content):
    path = tmp_path / "bad.npy"
    if isinstance(content, str):
        path.write_text(content)
    else:
        np.save(path, content)
    assert main(["w2-table", "--eigenvalues", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("diffverify: error:") and err.count("\n") == 1


def test_cli_refuses_a_missing_file(capsys):
    assert main(["w2-table", "--eigenvalues", "/nonexistent/eigenvalues.npy"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_reader_raises_spectrum_error(tmp_path):
    path = tmp_path / "bad.npy"
    np.save(path, np.array([1.0, -1.0]))
    with pytest.raises(data.SpectrumError, match="non-negative"):
        data.spectrum(path)


def test_edm_heun_skips_the_correction_that_diverges_at_eps_0(cifar):
    """At eps = 0 Heun's last correction evaluates the score at u = 0, where the zero eigenvalues make
    it infinite (the published '-'); EDM's Heun takes an Euler step there and stays finite."""
    cells = {c.scheme: c for c in exact_w2.table(cifar, nfes=(1000,), eps_values=(0.0,), schemes=("Heun", "EDM-Heun"),
                                                 continuous=False, backend="numpy") if c.init == "N0"}
    assert cells["Heun"].divergent
    assert cells["EDM-Heun"].w2 == pytest.approx(0.08123, rel=1e-3)
