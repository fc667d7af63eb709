"""elbo.*: the bound's decomposition at T = 3 (exact), T = 1000 (float64) and for a symbolic T, and the prior term's values."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import derivations
from derivations.core import schedules
from derivations.families.elbo import Backend, aligned_sums, bound_terms, canonical_logs, chain_log_densities, gauss_expect

DATA_MEAN, DATA_STD = 0.5, 0.8


def _prime_logs(expr: sp.Expr) -> sp.Expr:
    """log(p/q) of rationals as sums of logs of primes, so exact cancellation is syntactic."""
    def split(rational: sp.Rational) -> sp.Expr:
        num, den = sp.fraction(rational)
        return (sum(k * sp.log(p) for p, k in sp.factorint(num).items())
                - sum(k * sp.log(p) for p, k in sp.factorint(den).items()))
    return expr.replace(lambda a: isinstance(a, sp.log) and a.args[0].is_Rational, lambda a: split(a.args[0]))


def _exactly_zero(expr: sp.Expr) -> bool:
    return sp.expand(_prime_logs(sp.expand(sp.expand_log(sp.expand(expr), force=True)))) == 0


def test_decomposition_exact_for_three_steps():
    r = sp.Rational
    alphas = [r(9, 10), r(4, 5), r(7, 10)]
    kernels = [(r(1, 2), r(1, 10), r(1, 5)), (r(6, 5), r(-1, 5), r(1, 3)), (r(3, 4), 0, r(1, 2))]
    terms = bound_terms(alphas, kernels, r(7, 10), Backend("sympy"))
    assert _exactly_zero(terms["elbo_direct"] - terms["elbo"])
    assert _exactly_zero(terms["log_evidence"] - terms["elbo"] - terms["joint_kl"])
    assert float(terms["joint_kl"]) > 0


def _linear_model(schedule: schedules.Schedule) -> list[tuple[float, float, float]]:
    """Fixed reverse kernels: undo the signal scaling (slightly off), small offset, variance beta_t."""
    return [(0.999 / np.sqrt(schedule.alpha[t]), 1e-3, schedule.beta[t]) for t in range(1, schedule.steps + 1)]


@pytest.fixture(scope="module")
def linear_1000():
    schedule = schedules.make("linear", 1000)
    return schedule, list(schedule.alpha[1:]), _linear_model(schedule)


@pytest.mark.parametrize("x0", [-1.3, 0.0, 0.7])
def test_decomposition_float64_at_t_1000(linear_1000, x0):
    _, alphas, kernels = linear_1000
    terms = bound_terms(alphas, kernels, x0, Backend("numpy"))
    gap = terms["log_evidence"] - terms["elbo"]
    assert terms["joint_kl"] > 0 and min(terms["step_kls"]) >= 0 and terms["prior_kl"] >= 0
    assert gap == pytest.approx(terms["joint_kl"], rel=1e-8)
    assert terms["elbo_direct"] == pytest.approx(terms["elbo"], rel=1e-8)


def test_decomposition_float64_averaged_over_gaussian_data(linear_1000):
    """Every term is quadratic in x_0, so the two-point rule averages it over N(m, s^2) exactly."""
    _, alphas, kernels = linear_1000
    backend = Backend("numpy")
    cache: dict[float, dict] = {}

    def term(name: str):
        return lambda x0: cache.setdefault(x0, bound_terms(alphas, kernels, x0, backend))[name]

    averaged = {k: gauss_expect(term(k), DATA_MEAN, DATA_STD**2, backend)
                for k in ("log_evidence", "elbo", "elbo_direct", "joint_kl")}
    assert averaged["log_evidence"] - averaged["elbo"] == pytest.approx(averaged["joint_kl"], rel=1e-8)
    assert averaged["elbo_direct"] == pytest.approx(averaged["elbo"], rel=1e-8)


def test_two_point_rule_is_exact_for_cubics():
    backend = Backend("numpy")
    # E[X^3] for X ~ N(m, v) is m^3 + 3 m v.
    assert gauss_expect(lambda x: x**3, 0.4, 2.0, backend) == pytest.approx(0.4**3 + 3 * 0.4 * 2.0, rel=1e-14)


def test_unknown_backend_raises():
    with pytest.raises(ValueError, match="unknown back end"):
        Backend("jax")


def test_canonical_logs_splits_a_product_of_positive_factors():
    from derivations.core.notation import alpha_bar_prev, alpha_t
    expr = sp.log((1 - alpha_t) * (1 - alpha_bar_prev) / (1 - alpha_t * alpha_bar_prev))
    split = canonical_logs(expr)
    assert split.atoms(sp.log) == {sp.log(1 - alpha_t), sp.log(1 - alpha_bar_prev), sp.log(1 - alpha_t * alpha_bar_prev)}
    assert derivations.prove(expr, split).holds


@pytest.mark.parametrize("name, kl_at_zero, slope", [
    ("linear", "4.072\\times10^{-10}", "2.018\\times10^{-5}"),
    ("scaled_linear", "5.446\\times10^{-6}", "2.330\\times10^{-3}"),
])
def test_prior_term_values_quoted_in_the_statement(name, kl_at_zero, slope):
    """The statement's numbers are the closed form at the schedule's alpha_bar_T, and agree with an
    independent Gauss-Hermite quadrature of E_q[log q - log N(0, 1)]."""
    import mpmath

    d = derivations.get("elbo.prior_term")
    alpha_bar = schedules.make(name, 1000).alpha_bar[-1]
    at_zero = float(d.function("kl_at_zero", "mpmath")(alpha_bar_t=mpmath.mpf(alpha_bar)))
    kl = d.function("kl", "mpmath")
    slope_value = float(kl(alpha_bar_t=mpmath.mpf(alpha_bar), x_0=1) - kl(alpha_bar_t=mpmath.mpf(alpha_bar), x_0=0))
    assert _latex(at_zero) == kl_at_zero and _latex(slope_value) == slope
    assert kl_at_zero in d.statement and slope in d.statement

    nodes, weights = np.polynomial.hermite_e.hermegauss(20)  # exact for the quadratic log-ratio
    for x0 in (0.0, 1.5):
        mean, std = np.sqrt(alpha_bar) * x0, np.sqrt(1 - alpha_bar)
        draws = mean + std * nodes
        log_ratio = -np.log(std) - nodes**2 / 2 + draws**2 / 2
        quadrature = weights @ log_ratio / weights.sum()
        assert quadrature == pytest.approx(float(kl(alpha_bar_t=mpmath.mpf(alpha_bar), x_0=x0)), rel=1e-5, abs=1e-15)


def _latex(value: float) -> str:
    mantissa, exponent = f"{value:.3e}".split("e")
    return f"{mantissa}\\times10^{{{int(exponent)}}}"


def test_aligned_sums_proves_a_telescoping_and_a_shift_and_rejects_a_wrong_endpoint():
    t, horizon = sp.Symbol("t", integer=True, positive=True), sp.Symbol("T", integer=True, positive=True)
    f = sp.Function("f")
    telescoping = sp.Sum(f(t) - f(t - 1), (t, 2, horizon))
    assert aligned_sums(telescoping) - aligned_sums(f(horizon) - f(1)) == 0
    shifted = sp.Sum(f(t + 1), (t, 1, horizon - 1))
    assert aligned_sums(shifted) - aligned_sums(sp.Sum(f(t), (t, 2, horizon))) == 0
    assert aligned_sums(telescoping) - aligned_sums(f(horizon) - f(0)) != 0  # the wrong first term


def test_the_decomposition_for_every_horizon_needs_the_posterior_not_the_one_step_kernel():
    """The symbolic-T step of elbo.generic_t fails when the denoising terms use q(x_t | x_{t-1})."""
    from derivations.core.notation import steps_T

    densities, k = chain_log_densities(bayes=True), sp.Symbol("t", integer=True, positive=True)
    product = sp.Add(densities["prior"](steps_T), densities["reverse"](1), -densities["one_step"](1),
                     sp.Sum(densities["reverse"](k) - densities["one_step"](k), (k, 2, steps_T)))
    right = sp.Add(densities["reverse"](1), densities["prior"](steps_T), -densities["marginal"](steps_T),
                   sp.Sum(densities["reverse"](k) - densities["posterior"](k), (k, 2, steps_T)))
    wrong = sp.Add(densities["reverse"](1), densities["prior"](steps_T), -densities["marginal"](steps_T),
                   sp.Sum(densities["reverse"](k) - densities["one_step"](k), (k, 2, steps_T)))
    assert aligned_sums(product) - aligned_sums(right) == 0
    assert aligned_sums(product) - aligned_sums(wrong) != 0


def test_generic_step_term_matches_the_fixed_horizon_bound_at_t_2():
    """L_{t-1} of elbo.generic_t at t = 2 is the step term of elbo.decomposition (T = 2)."""
    from derivations.core import notation as n

    generic = derivations.get("elbo.generic_t").result("step_term")
    fixed = derivations.get("elbo.decomposition").result("step_kl")
    kernel = {n.rev_gain_t: n.rev_gain_2, n.rev_offset_t: n.rev_offset_2, n.var_model: n.rev_var_2}
    values = dict(alpha_bar_prev=sp.Rational(7, 10), alpha_t=sp.Rational(4, 5), rev_gain_2=sp.Rational(9, 10),
                  rev_offset_2=sp.Rational(-1, 5), rev_var_2=sp.Rational(1, 3), x_0=sp.Rational(1, 2))

    def value(expr: sp.Expr) -> sp.Float:
        expanded = n.expand_definitions(expr)
        return expanded.xreplace({s: values[s.name] for s in expanded.free_symbols}).evalf(30)

    assert abs(value(generic.xreplace(kernel)) - value(fixed)) < 1e-25
