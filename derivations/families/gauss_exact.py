r"""gauss_exact.*: exact laws of diffusion samplers for Gaussian data (Pierret & Galerne, 2025).

Forward process (the scaled VP SDE, forward time :math:`u \in [0, T]`):

.. math::
    dX_u = -\beta(u) X_u\,du + \sqrt{2\beta(u)}\,dW_u, \qquad X_0 \sim \mathcal N(0, \Sigma),
    \qquad B(u) = \int_0^u \beta .

Every law stays centred Gaussian with a covariance that commutes with
:math:`\Sigma`, so everything is computed per eigenvalue :math:`\sigma_0^2` of
:math:`\Sigma`. The backward samplers run in reversed time :math:`s = T - u`
with the exact score :math:`\nabla\log p_u(y) = -\Sigma_u^{-1} y`; one step of
each scheme maps :math:`\mathcal N(0, c)` to :math:`\mathcal N(0, a^2 c + b)`,
and the pair :math:`(a, b)` is derived here from the scheme's update rule by
taking Gaussian moments of the update applied to :math:`y = \sqrt c\, z_0`.

==============  =====================================  =================================
code name       LaTeX                                  meaning
==============  =====================================  =================================
var_data        :math:`\sigma_0^2`                     eigenvalue of :math:`\Sigma`
B_u_pg          :math:`B(u)`                           integrated rate
prec_k_pg       :math:`\Sigma_{u_k}^{-1}`              precision at the step's left end
dt_pg           :math:`\Delta`                         step in reversed time
var_c_pg        :math:`c`                              variance before a step
==============  =====================================  =================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp

from derivations.families.gaussian import log_density
from derivations.core.notation import (
    B_T_pg,
    B_u_pg,
    ab_k_pg,
    ab_next_pg,
    beta_int_pg,
    beta_k_pg,
    beta_mid_pg,
    beta_min_pg,
    beta_next_pg,
    beta_span_pg,
    coupling_corr,
    dt_pg,
    eta_ddim,
    prec_k_pg,
    prec_mid_pg,
    prec_next_pg,
    u_pg,
    var_c_pg,
    var_data,
    var_init_pg,
    y_pg,
    z0_pg,
    z_pg,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation

PIERRET_GALERNE = ("É. Pierret, B. Galerne, Diffusion models for Gaussian distributions: exact solutions "
                   "and Wasserstein errors, ICML 2025 (arXiv:2405.14250)")
SONG_2021 = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, eqs. (6), (13)"
DDIM_2021 = "J. Song, C. Meng, S. Ermon, Denoising Diffusion Implicit Models, ICLR 2021, eq. (12)"
ANDERSON_1982 = "B. D. O. Anderson, Reverse-time diffusion equation models, Stoch. Proc. Appl. 12 (1982)"


# --------------------------------------------------------------------------
# Helpers: Gaussian moments of polynomial updates
# --------------------------------------------------------------------------

def normal_expectation(expr: sp.Expr, normals: tuple[sp.Symbol, ...]) -> sp.Expr:
    r""":math:`E[\text{expr}]` for independent standard normals ``normals``, ``expr`` polynomial in them:
    :math:`E[z^n] = (n-1)!!` for even :math:`n`, 0 for odd."""
    total = sp.Integer(0)
    for exponents, coeff in sp.Poly(sp.expand(expr), *normals).terms():
        moment = sp.Integer(1)
        for e in exponents:
            moment *= 0 if e % 2 else sp.factorial2(e - 1)
        total += coeff * moment
    return total


def variance_of_state(var_expr: sp.Expr) -> sp.Expr:
    r"""Variance at the data eigenvalue: :math:`\Sigma(B) = 1 + e^{-2B}(\sigma_0^2 - 1)` with :math:`B` given."""
    return 1 + sp.exp(-2 * var_expr) * (var_data - 1)


def score(prec: sp.Expr, y: sp.Expr) -> sp.Expr:
    r"""Exact score of :math:`\mathcal N(0, \Sigma_u)` at ``y``: :math:`-\Sigma_u^{-1} y` (``gauss_exact.backward``)."""
    return -prec * y


def pf_drift(beta: sp.Expr, prec: sp.Expr, y: sp.Expr) -> sp.Expr:
    r"""Probability-flow drift in reversed time: :math:`\hat f = \beta (y + \nabla\log p) = \beta(y - \Sigma^{-1}y)`."""
    return beta * (y + score(prec, y))


def sde_drift(beta: sp.Expr, prec: sp.Expr, y: sp.Expr) -> sp.Expr:
    r"""Reverse-SDE drift in reversed time: :math:`\beta (y + 2\nabla\log p)`."""
    return beta * (y + 2 * score(prec, y))


# --------------------------------------------------------------------------
# Continuous time
# --------------------------------------------------------------------------

@derivation(
    id="gauss_exact.backward",
    title="Scaled VP SDE on Gaussian data: Σ_t, exact score, backward SDE and probability-flow ODE laws",
    statement=r"For $dX = -\beta X\,du + \sqrt{2\beta}\,dW$, $X_0 \sim \mathcal N(0,\Sigma)$: "
    r"$\Sigma_u = e^{-2B(u)}\Sigma + (1 - e^{-2B(u)}) I$, $\nabla\log p_u(x) = -\Sigma_u^{-1}x$; "
    r"started at time $T$ from $\mathcal N(0, C_T)$, the probability-flow ODE gives at time $u$ "
    r"the covariance $\Sigma_u\Sigma_T^{-1}C_T$ and the reverse SDE "
    r"$\Sigma_u + e^{-2(B(T)-B(u))}\Sigma_u^2\Sigma_T^{-2}(C_T - \Sigma_T)$.",
    tier=Tier.EXACT,
    assumptions=(r"$\beta > 0$ continuous; for the closed form in $u$, $\beta(u) = \beta_{\min} + "
                 r"(\beta_{\max} - \beta_{\min})u$", "per eigenvalue of Σ (all covariances commute with Σ)",
                 r"the backward variance ODEs are solved in the time $w = B(u)$ ($dw = \beta\,du$)"),
    references=(PIERRET_GALERNE, SONG_2021, ANDERSON_1982),
)
def backward() -> Body:
    u, w, m_fn = sp.Symbol("u", positive=True), sp.Symbol("w", positive=True), sp.Function("m")
    beta_lin = beta_min_pg + beta_span_pg * u_pg
    B_lin = sp.integrate(beta_lin.subs(u_pg, u), (u, 0, u_pg))
    # Ito: the generator of dX = -beta X du + sqrt(2 beta) dW on x^2 gives d E[X^2]/du.
    x = sp.Symbol("x", real=True)
    generator_x2 = sp.diff(x**2, x) * (-beta_lin * x) + sp.Rational(1, 2) * 2 * beta_lin * sp.diff(x**2, x, 2)
    moment_rhs = sp.expand(generator_x2).subs(x**2, m_fn(u_pg))
    var_u_solution = sp.dsolve(sp.Eq(m_fn(u_pg).diff(u_pg), moment_rhs), m_fn(u_pg), ics={m_fn(0): var_data}).rhs
    var_u = variance_of_state(B_u_pg)
    score_coef = sp.cancel(sp.diff(log_density(y_pg, 0, var_u), y_pg) / y_pg)
    var_w = variance_of_state(w)

    # Backward second moments in w = B(u), run from w = B(T) down: dm/dw = (dm/ds)(ds/dw), ds/dw = -1/beta.
    # PF ODE: dy/ds = beta (y - y / Sigma) => dm/ds = 2 beta (1 - 1/Sigma) m.
    ode_rhs = -2 * (1 - 1 / var_w) * m_fn(w)
    # Reverse SDE: dy = beta (y - 2 y / Sigma) ds + sqrt(2 beta) dW => dm/ds = 2 beta (1 - 2/Sigma) m + 2 beta.
    sde_rhs = -(2 * (1 - 2 / var_w) * m_fn(w) + 2)
    ode_var = sp.dsolve(sp.Eq(m_fn(w).diff(w), ode_rhs), m_fn(w), ics={m_fn(B_T_pg): var_init_pg}).rhs
    sde_var = sp.dsolve(sp.Eq(m_fn(w).diff(w), sde_rhs), m_fn(w), ics={m_fn(B_T_pg): var_init_pg}).rhs
    ode_var, sde_var = (sp.factor(sp.cancel(e.subs(w, B_u_pg))) for e in (ode_var, sde_var))

    var_T = variance_of_state(B_T_pg)
    decay = sp.exp(-2 * (B_T_pg - B_u_pg))
    def ode_residual(expr: sp.Expr) -> sp.Expr:
        return sp.diff(expr, B_u_pg) - ode_rhs.subs(m_fn(w), expr).subs(w, B_u_pg)
    def sde_residual(expr: sp.Expr) -> sp.Expr:
        return sp.diff(expr, B_u_pg) - sde_rhs.subs(m_fn(w), expr).subs(w, B_u_pg)
    return Body(
        steps=(
            Relation(r"Itô: $\frac{d}{du}E[X_u^2] = 2\beta(u)(1 - E[X_u^2])$", moment_rhs.subs(m_fn(u_pg), var_data),
                     2 * beta_lin * (1 - var_data)),
            Relation(r"$B(u) = \int_0^u \beta = \beta_{\min}u + (\beta_{\max}-\beta_{\min})u^2/2$", sp.diff(B_lin, u_pg),
                     beta_lin),
            Relation(r"dsolve of the variance ODE with $\Sigma_0 = \sigma_0^2$ is $\Sigma(B(u))$", var_u_solution,
                     var_u.subs(B_u_pg, B_lin)),
            Relation(r"score $\partial_y \log\mathcal N(y; 0, \Sigma_u) = -y/\Sigma_u$", score_coef, -1 / var_u),
            Relation("the ODE solution solves its variance ODE", ode_residual(ode_var), 0),
            Relation("the ODE solution starts at C_T", ode_var.subs(B_u_pg, B_T_pg), var_init_pg),
            Relation("the SDE solution solves its variance ODE", sde_residual(sde_var), 0),
            Relation("the SDE solution starts at C_T", sde_var.subs(B_u_pg, B_T_pg), var_init_pg),
            Relation(r"started from $p_T$ ($C_T = \Sigma_T$), both return $\Sigma_u$",
                     ode_var.subs(var_init_pg, var_T) + sde_var.subs(var_init_pg, var_T), 2 * var_u),
        ),
        results=(
            Result("beta_lin", beta_lin, "linear schedule beta(u)"),
            Result("B_lin", B_lin, "B(u) for the linear schedule"),
            Result("var_t", var_u, "Sigma_u in terms of B(u), per eigenvalue"),
            Result("score_coef", score_coef, "score / y = -1/Sigma_u"),
            Result("ode_var", ode_var, "variance at time u of the PF ODE started from N(0, C_T) at T"),
            Result("sde_var", sde_var, "variance at time u of the reverse SDE started from N(0, C_T) at T"),
        ),
        claims=(
            Claim("ode_var", var_u / var_T * var_init_pg, r"MATH.md / Pierret & Galerne (2025): $\Sigma_t\Sigma_T^{-1}C_T$"),
            Claim("sde_var", var_u + decay * var_u**2 / var_T**2 * (var_init_pg - var_T),
                  r"MATH.md / Pierret & Galerne (2025): $\Sigma_t + e^{-2(B_T-B_t)}\Sigma_t^2\Sigma_T^{-2}(C_T-\Sigma_T)$"),
        ),
        wrong_variants=(
            WrongVariant("ode_var", sp.sqrt(var_u / var_T) * var_init_pg, "flow-map gain not squared"),
            WrongVariant("sde_var", var_u + sp.exp(-(B_T_pg - B_u_pg)) * var_u**2 / var_T**2 * (var_init_pg - var_T),
                         "decay exp(-(B_T - B_t)) instead of exp(-2(B_T - B_t))"),
            WrongVariant("sde_var", var_u + decay * var_u / var_T * (var_init_pg - var_T),
                         "Sigma_t / Sigma_T not squared"),
            WrongVariant("var_t", sp.exp(-B_u_pg) * var_data + 1 - sp.exp(-B_u_pg), "e^{-B} for e^{-2B}"),
        ),
    )


@derivation(
    id="gauss_exact.sde_beats_ode",
    title="From N(0, I), the reverse SDE ends closer to p_t than the probability-flow ODE",
    statement=r"Started from $\mathcal N(0, I)$ at $T$, per eigenvalue "
    r"$v_{\rm SDE} - \Sigma_t = r\,(v_{\rm ODE} - \Sigma_t)$ with "
    r"$r = \frac{e^{2B(t)} + \sigma_0^2 - 1}{e^{2B(T)} + \sigma_0^2 - 1} \in (0, 1)$, so "
    r"$|\sqrt{v_{\rm SDE}} - \sqrt{\Sigma_t}| \le |\sqrt{v_{\rm ODE}} - \sqrt{\Sigma_t}|$ for every eigenvalue and "
    r"$W_2(\text{SDE law}, p_t) \le W_2(\text{ODE law}, p_t)$.",
    tier=Tier.EXACT,
    assumptions=(r"$B(T) > B(t) \ge 0$, $\sigma_0^2 \ge 0$", "exact score; covariances commute with Σ"),
    references=(PIERRET_GALERNE,),
)
def sde_beats_ode() -> Body:
    from derivations.core.registry import get

    laws = get("gauss_exact.backward")
    var_u = laws.result("var_t")
    v_ode = laws.result("ode_var").subs(var_init_pg, 1)
    v_sde = laws.result("sde_var").subs(var_init_pg, 1)
    ratio = sp.factor(sp.cancel((v_sde - var_u) / (v_ode - var_u)))
    gap = sp.factor(sp.cancel(1 - ratio))
    return Body(
        steps=(
            Relation(r"$v_{\rm SDE} - \Sigma_t = r\,(v_{\rm ODE} - \Sigma_t)$", v_sde - var_u, ratio * (v_ode - var_u)),
            Relation(r"$r = (e^{2B(t)} + \sigma_0^2 - 1)/(e^{2B(T)} + \sigma_0^2 - 1) > 0$", ratio,
                     (sp.exp(2 * B_u_pg) + var_data - 1) / (sp.exp(2 * B_T_pg) + var_data - 1)),
            Relation(r"$1 - r = (e^{2B(T)} - e^{2B(t)})/(e^{2B(T)} + \sigma_0^2 - 1) > 0$ when $B(T) > B(t)$", gap,
                     (sp.exp(2 * B_T_pg) - sp.exp(2 * B_u_pg)) / (sp.exp(2 * B_T_pg) + var_data - 1)),
        ),
        results=(
            Result("contraction", ratio, "r: the SDE's deviation from Sigma_t over the ODE's"),
            Result("sde_var_from_identity", v_sde, "SDE output variance from N(0, I)"),
            Result("ode_var_from_identity", v_ode, "ODE output variance from N(0, I)"),
        ),
        claims=(
            Claim("contraction", sp.exp(-2 * (B_T_pg - B_u_pg)) * var_u / variance_of_state(B_T_pg),
                  r"the factor of the SDE solution in MATH.md: $e^{-2(B_T - B_t)}\Sigma_t\Sigma_T^{-1}$"),
        ),
        wrong_variants=(
            WrongVariant("contraction", var_u / variance_of_state(B_T_pg), "decay factor dropped"),
            WrongVariant("contraction", (sp.exp(-2 * B_u_pg) + var_data - 1) / (sp.exp(-2 * B_T_pg) + var_data - 1),
                         "sign of the exponents flipped"),
        ),
    )


@derivation(
    id="gauss_exact.w2",
    title="W2 between centred Gaussians with commuting covariances (one eigen-direction)",
    statement=r"$W_2^2(\mathcal N(0, c), \mathcal N(0, \sigma_0^2)) = (\sqrt c - \sigma_0)^2$; summed over the "
    r"common eigenbasis, $W_2^2 = \sum_i (\sqrt{c_i} - \sigma_{0,i})^2$.",
    tier=Tier.EXACT,
    assumptions=(r"$c, \sigma_0^2 \ge 0$; covariances diagonal in one basis",),
    references=("C. R. Givens, R. M. Shortt, A class of Wasserstein metrics for probability distributions, "
                "Michigan Math. J. 31 (1984)", PIERRET_GALERNE),
)
def w2() -> Body:
    from sympy import stats

    z_first, z_second = stats.Normal("Z1", 0, 1), stats.Normal("Z2", 0, 1)
    # A coupling with correlation rho: X = sqrt(c) Z1, Y = sqrt(lam) (rho Z1 + sqrt(1 - rho^2) Z2).
    x_c = sp.sqrt(var_c_pg) * z_first
    y_c = sp.sqrt(var_data) * (coupling_corr * z_first + sp.sqrt(1 - coupling_corr**2) * z_second)
    coupling_cost = sp.expand(stats.E(sp.expand((x_c - y_c) ** 2)))
    comonotone_cost = sp.expand(coupling_cost.subs(coupling_corr, 1))
    # The comonotone coupling (rho = 1) with the difference collected before squaring, so the
    # result stays a square (no cancellation in floating point when c is close to lambda).
    difference_coef = sp.diff(x_c - y_c.subs(coupling_corr, 1), z_first)  # X - Y = k Z1 under this coupling
    w2_sq = difference_coef**2 * stats.E(z_first**2)
    return Body(
        steps=(
            Relation(r"$E(X - Y)^2 = c + \sigma_0^2 - 2\rho\sigma_0\sqrt{c}$ for correlation $\rho$", coupling_cost,
                     var_c_pg + var_data - 2 * coupling_corr * sp.sqrt(var_c_pg * var_data)),
            Relation(r"every coupling costs at least the comonotone one: excess $2(1-\rho)\sigma_0\sqrt{c} \ge 0$",
                     coupling_cost - comonotone_cost, 2 * (1 - coupling_corr) * sp.sqrt(var_c_pg) * sp.sqrt(var_data)),
            Relation("the comonotone cost, collected before squaring", w2_sq, comonotone_cost),
        ),
        results=(Result("w2_sq", w2_sq, "squared W2 contribution of one eigen-direction"),),
        claims=(Claim("w2_sq", (sp.sqrt(var_c_pg) - sp.sqrt(var_data)) ** 2, "Givens & Shortt (1984), commuting case"),),
        wrong_variants=(
            WrongVariant("w2_sq", (var_c_pg - var_data) ** 2, "variances in place of standard deviations"),
            WrongVariant("w2_sq", var_c_pg + var_data - 2 * var_c_pg * var_data, "cross term without square root"),
        ),
    )


# --------------------------------------------------------------------------
# Discretized samplers: one step on N(0, c) from the update rule
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Scheme:
    """A sampler step in reversed time: the update rule, its theory as data, its claims and misprints."""

    key: str
    title: str
    update: Callable[[], sp.Expr]
    order: int
    stochastic: bool
    claims: Callable[[], tuple[Claim, ...]]
    wrong_variants: Callable[[], tuple[WrongVariant, ...]]
    rule_tex: str


def _em() -> sp.Expr:
    return y_pg + dt_pg * sde_drift(beta_k_pg, prec_k_pg, y_pg) + sp.sqrt(2 * dt_pg * beta_k_pg) * z_pg


def _ei() -> sp.Expr:
    gamma1 = sp.exp(beta_int_pg) - 1
    gamma2 = (sp.exp(2 * beta_int_pg) - 1) / 2
    return y_pg + gamma1 * (y_pg + 2 * score(prec_k_pg, y_pg)) + sp.sqrt(2 * gamma2) * z_pg


def _beta_ddpm() -> sp.Expr:
    return 2 * dt_pg * beta_k_pg


def _ddpm() -> sp.Expr:
    beta_d = _beta_ddpm()
    return (y_pg + beta_d * score(prec_k_pg, y_pg)) / sp.sqrt(1 - beta_d) + sp.sqrt(beta_d) * z_pg


def _euler() -> sp.Expr:
    return y_pg + dt_pg * pf_drift(beta_k_pg, prec_k_pg, y_pg)


def _heun() -> sp.Expr:
    slope_k = pf_drift(beta_k_pg, prec_k_pg, y_pg)
    predictor = y_pg + dt_pg * slope_k
    return y_pg + dt_pg / 2 * (slope_k + pf_drift(beta_next_pg, prec_next_pg, predictor))


def _rk4() -> sp.Expr:
    k1 = pf_drift(beta_k_pg, prec_k_pg, y_pg)
    k2 = pf_drift(beta_mid_pg, prec_mid_pg, y_pg + dt_pg / 2 * k1)
    k3 = pf_drift(beta_mid_pg, prec_mid_pg, y_pg + dt_pg / 2 * k2)
    k4 = pf_drift(beta_next_pg, prec_next_pg, y_pg + dt_pg * k3)
    return y_pg + dt_pg / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def _ddim_noise_var() -> sp.Expr:
    return eta_ddim**2 * (1 - ab_next_pg) / (1 - ab_k_pg) * (1 - ab_k_pg / ab_next_pg)


def _ddim() -> sp.Expr:
    eps_hat = -sp.sqrt(1 - ab_k_pg) * score(prec_k_pg, y_pg)
    x0_hat = (y_pg - sp.sqrt(1 - ab_k_pg) * eps_hat) / sp.sqrt(ab_k_pg)
    noise_var = _ddim_noise_var()
    return sp.sqrt(ab_next_pg) * x0_hat + sp.sqrt(1 - ab_next_pg - noise_var) * eps_hat + sp.sqrt(noise_var) * z_pg


def _g(beta: sp.Expr, prec: sp.Expr) -> sp.Expr:
    return beta * (1 - prec)


_PG = "covariance recursion of the scheme in the eigenbasis, as used by Pierret & Galerne (2025)"

SCHEMES: dict[str, Scheme] = {s.key: s for s in (
    Scheme(
        "em", "Euler–Maruyama on the reverse SDE", _em, 1, True,
        lambda: (Claim("var_next", (1 + dt_pg * beta_k_pg * (1 - 2 * prec_k_pg)) ** 2 * var_c_pg
                       + 2 * dt_pg * beta_k_pg, _PG),),
        lambda: (WrongVariant("noise_var", (2 * dt_pg * beta_k_pg) ** 2, "noise 2 Δ β z without square root"),
                 WrongVariant("gain", 1 + dt_pg * beta_k_pg * (1 - prec_k_pg), "score weight 1 (ODE drift) in the SDE")),
        r"y_{k+1} = y_k + \Delta\beta_k(y_k + 2\nabla\log p_{u_k}(y_k)) + \sqrt{2\Delta\beta_k}\,z_k",
    ),
    Scheme(
        "ei", "Exponential integrator on the reverse SDE", _ei, 1, True,
        lambda: (Claim("var_next", (sp.exp(beta_int_pg) - (sp.exp(beta_int_pg) - 1) * 2 * prec_k_pg) ** 2 * var_c_pg
                       + sp.exp(2 * beta_int_pg) - 1, _PG),),
        lambda: (WrongVariant("noise_var", 2 * (sp.exp(2 * beta_int_pg) - 1), "gamma_2 without the factor 1/2"),
                 WrongVariant("gain", 1 + sp.exp(beta_int_pg) * (1 - 2 * prec_k_pg), "gamma_1 = e^h (missing -1)")),
        r"y_{k+1} = y_k + \gamma_{1,k}(y_k + 2\nabla\log p_{u_k}(y_k)) + \sqrt{2\gamma_{2,k}}\,z_k,\ "
        r"\gamma_1 = e^{h}-1,\ \gamma_2 = (e^{2h}-1)/2,\ h = B(u_k) - B(u_{k+1})",
    ),
    Scheme(
        "ddpm", "DDPM ancestral sampling with beta^D = 2 Δ β", _ddpm, 1, True,
        lambda: (Claim("var_next", (1 - _beta_ddpm() * prec_k_pg) ** 2 / (1 - _beta_ddpm()) * var_c_pg + _beta_ddpm(),
                       _PG),),
        lambda: (WrongVariant("gain", 1 - _beta_ddpm() * prec_k_pg, "without the 1/sqrt(1 - beta) factor"),
                 WrongVariant("noise_var", _beta_ddpm() ** 2, "noise beta z without square root")),
        r"y_{k+1} = (y_k + \beta^D_k\nabla\log p_{u_k}(y_k))/\sqrt{1-\beta^D_k} + \sqrt{\beta^D_k}\,z_k,\ "
        r"\beta^D_k = 2\Delta\beta_k",
    ),
    Scheme(
        "euler", "Euler on the probability-flow ODE", _euler, 1, False,
        lambda: (Claim("gain", 1 + dt_pg * _g(beta_k_pg, prec_k_pg), _PG),),
        lambda: (WrongVariant("gain", 1 + dt_pg * beta_k_pg * (1 - 2 * prec_k_pg), "SDE score weight 2 in the ODE"),
                 WrongVariant("gain", 1 - dt_pg * _g(beta_k_pg, prec_k_pg), "sign of the drift flipped")),
        r"y_{k+1} = y_k + \Delta \hat f(s_k, y_k)",
    ),
    Scheme(
        "heun", "Heun (explicit trapezoid) on the probability-flow ODE", _heun, 2, False,
        lambda: (Claim("gain", 1 + dt_pg / 2 * (_g(beta_k_pg, prec_k_pg) + _g(beta_next_pg, prec_next_pg)
                                                * (1 + dt_pg * _g(beta_k_pg, prec_k_pg))), _PG),),
        lambda: (WrongVariant("gain", 1 + dt_pg / 2 * (_g(beta_k_pg, prec_k_pg) + _g(beta_next_pg, prec_next_pg)),
                              "second slope taken at y_k, not at the predictor"),
                 WrongVariant("gain", 1 + dt_pg * (_g(beta_k_pg, prec_k_pg) + _g(beta_next_pg, prec_next_pg)
                                                   * (1 + dt_pg * _g(beta_k_pg, prec_k_pg))),
                              "slopes summed instead of averaged")),
        r"\tilde y = y_k + \Delta\hat f(s_k, y_k),\ y_{k+1} = y_k + \tfrac{\Delta}{2}(\hat f(s_k, y_k) + "
        r"\hat f(s_{k+1}, \tilde y))",
    ),
    Scheme(
        "rk4", "Classical Runge–Kutta 4 on the probability-flow ODE", _rk4, 4, False,
        lambda: (Claim("gain", _rk4_gain_claim(), "classical RK4 on y' = g(s) y (Kutta 1901)"),),
        lambda: (WrongVariant("gain", _rk4_gain_claim(weights=(1, 1, 1, 1), scale=4), "equal stage weights"),
                 WrongVariant("gain", _rk4_gain_claim(last_at_mid=True), "last stage at the midpoint")),
        r"k_1 = \hat f(s_k, y_k),\ k_2 = \hat f(s_{k+1/2}, y_k + \tfrac\Delta2 k_1),\ "
        r"k_3 = \hat f(s_{k+1/2}, y_k + \tfrac\Delta2 k_2),\ k_4 = \hat f(s_{k+1}, y_k + \Delta k_3),\ "
        r"y_{k+1} = y_k + \tfrac\Delta6(k_1 + 2k_2 + 2k_3 + k_4)",
    ),
    Scheme(
        "ddim", "DDIM with stochasticity eta (eta = 0 deterministic, eta = 1 ancestral)", _ddim, 1, True,
        lambda: (Claim("noise_var", _ddim_noise_var(), DDIM_2021),),
        lambda: (WrongVariant("noise_var", eta_ddim**2 * (1 - ab_k_pg / ab_next_pg), "sigma without (1 - ab')/(1 - ab)"),
                 WrongVariant("gain", sp.sqrt(ab_next_pg / ab_k_pg) * (1 - (1 - ab_k_pg) * prec_k_pg),
                              "direction term sqrt(1 - ab' - sigma^2) eps dropped")),
        r"\hat\varepsilon = -\sqrt{1-\bar\alpha_k}\nabla\log p_{u_k}(y_k),\ "
        r"y_{k+1} = \sqrt{\bar\alpha_{k+1}}\frac{y_k - \sqrt{1-\bar\alpha_k}\hat\varepsilon}{\sqrt{\bar\alpha_k}} + "
        r"\sqrt{1-\bar\alpha_{k+1}-\sigma_k^2}\,\hat\varepsilon + \sigma_k z_k,\ \bar\alpha = e^{-2B}",
    ),
)}


def _rk4_gain_claim(weights: tuple[int, ...] = (1, 2, 2, 1), scale: int = 6, last_at_mid: bool = False) -> sp.Expr:
    g_k, g_mid = _g(beta_k_pg, prec_k_pg), _g(beta_mid_pg, prec_mid_pg)
    g_last = g_mid if last_at_mid else _g(beta_next_pg, prec_next_pg)
    r1 = g_k
    r2 = g_mid * (1 + dt_pg / 2 * r1)
    r3 = g_mid * (1 + dt_pg / 2 * r2)
    r4 = g_last * (1 + dt_pg * r3)
    return 1 + dt_pg / scale * sum(w * r for w, r in zip(weights, (r1, r2, r3, r4)))


def linear_moments(expr: sp.Expr, normals: tuple[sp.Symbol, ...]) -> tuple[sp.Expr, sp.Expr, tuple[sp.Expr, ...]]:
    r"""Mean and variance of ``expr``, affine in independent standard normals, and its coefficients.

    The coefficients :math:`a_i = \partial\,\text{expr}/\partial z_i` stand in as atoms while
    :func:`normal_expectation` takes the moments of :math:`(a_0 + \sum_i a_i z_i)^k`, so the
    (possibly long) coefficients are never expanded.
    """
    coefs = tuple(sp.diff(expr, z) for z in normals)
    constant = expr.subs({z: 0 for z in normals})
    atoms = sp.symbols(f"atom0:{len(normals) + 1}")
    linear = atoms[0] + sum(a * z for a, z in zip(atoms[1:], normals))
    back = dict(zip(atoms, (constant, *coefs)))
    mean = normal_expectation(linear, normals).xreplace(back)
    second = normal_expectation(linear**2, normals).xreplace(back)
    return mean, second - mean**2, coefs


def step_map_body(scheme: Scheme) -> Body:
    r"""Apply the update to :math:`y = \sqrt c\, z_0` and take Gaussian moments in :math:`(z_0, z_k)`."""
    update = scheme.update()
    at_state = update.subs(y_pg, sp.sqrt(var_c_pg) * z0_pg)
    normals = (z0_pg, z_pg)
    mean, var_next, (state_coef, noise_coef) = linear_moments(at_state, normals)
    gain = sp.diff(update, y_pg).subs(z_pg, 0)
    _, noise_var, _ = linear_moments(update.subs(y_pg, 0), (z_pg,))
    return Body(
        steps=(
            Relation("the update is affine in the normals: y_{k+1} = A z_0 + B z_k",
                     at_state, state_coef * z0_pg + noise_coef * z_pg),
            Relation(r"$E[y_{k+1}] = 0$", mean, 0),
            Relation(r"$\mathrm{Var}[y_{k+1}] = a^2 c + b$ with $a = \partial y_{k+1}/\partial y_k$",
                     var_next, gain**2 * var_c_pg + noise_var),
        ),
        results=(
            Result("gain", gain, "a: y_{k+1} = a y_k + noise"),
            Result("noise_var", noise_var, "b: variance injected by the step"),
            Result("var_next", var_next, "variance after one step from N(0, c)"),
        ),
        claims=scheme.claims(),
        wrong_variants=scheme.wrong_variants(),
    )


def _register(scheme: Scheme) -> None:
    @derivation(
        id=f"gauss_exact.step_{scheme.key}",
        title=f"One step of {scheme.title} on N(0, c): c -> a^2 c + b",
        statement=rf"Update ${scheme.rule_tex}$ with the exact score $\nabla\log p_u(y) = -\Sigma_u^{{-1}}y$ maps "
        r"$\mathcal N(0, c)$ to $\mathcal N(0, a^2 c + b)$ in each eigen-direction, with $a$ and $b$ "
        r"derived from the update's Gaussian moments.",
        tier=Tier.EXACT,
        assumptions=(r"$z_k \sim \mathcal N(0, 1)$ independent of $y_k$", "per eigenvalue of Σ",
                     "reversed time s = T - u; beta and Σ^{-1} evaluated where the rule says"),
        references=(PIERRET_GALERNE, SONG_2021) + ((DDIM_2021,) if scheme.key == "ddim" else ()),
    )
    def build() -> Body:
        return step_map_body(scheme)

    build.__name__ = f"step_{scheme.key}"


for _scheme in SCHEMES.values():
    _register(_scheme)
