r"""gauss_exact.*: exact laws of diffusion samplers for Gaussian data (Pierret & Galerne, 2025).

Forward process (the scaled VP SDE, forward time :math:`u \in [0, T]`):

.. math::
    dX_u = -\beta(u) X_u\,du + \sqrt{2\beta(u)}\,dW_u, \qquad X_0 \sim \mathcal N(0, \Sigma),
    \qquad B(u) = \int_0^u \beta .

Every law stays centred Gaussian with a covariance that commutes with
:math:`\Sigma`, so everything is computed per eigenvalue :math:`\sigma_0^2` of
:math:`\Sigma`.

The step maps ``gauss_exact.step_<name>`` come from the update rules of the sampler
catalogue (:mod:`derivations.catalogue`), instantiated over SymPy by
:class:`SymbolicOps`, for any forward process with kernel :math:`\mathcal N(m_t x_0, v_t)`
and any Gaussian data (score :math:`-\Sigma_t^{-1}(y - \mu_t)` per eigen-direction):
one step maps :math:`\mathcal N(\mu_y, c)` to :math:`\mathcal N(a\mu_y + d, a^2 c + b)`, with
:math:`(a, d, b)` from the Gaussian moments of the update applied to :math:`y = \sqrt c\, z_0`.
Pierret & Galerne's setting is the case :math:`f = -\beta`, :math:`g^2 = 2\beta`,
:math:`m = e^{-B}`, :math:`v = 1 - e^{-2B}`, :math:`\mu = 0` (:mod:`checks.exact.w2`).

==============  =====================================  =================================
code name       LaTeX                                  meaning
==============  =====================================  =================================
var_data        :math:`\sigma_0^2`                     eigenvalue of :math:`\Sigma`
B_u_pg          :math:`B(u)`                           integrated rate
prec_k_pg       :math:`\Sigma_{u_k}^{-1}`              precision at the step's left end
dt_pg           :math:`\Delta`                         step t - t' > 0
a_st, b_st      :math:`a_{t|t'}, v_{t|t'}`             kernel N(a_st x, b_st) from t' to t
var_c_pg        :math:`c`                              variance before a step
==============  =====================================  =================================
"""

from __future__ import annotations

import sympy as sp

from derivations import catalogue
from derivations.families.gaussian import log_density
from derivations.core.notation import (
    B_T_pg,
    B_u_pg,
    a_hat_st,
    a_st,
    b_hat_st,
    b_st,
    beta_min_pg,
    beta_span_pg,
    coupling_corr,
    draws_st,
    dt_pg,
    f_hat_st,
    f_k_st,
    f_mid_st,
    f_next_st,
    g2_hat_st,
    g2_k_st,
    g2_mid_st,
    g2_next_st,
    lookup,
    m_s1_st,
    m_s2_st,
    mu_s1_st,
    mu_s2_st,
    names as lookup_names,
    prec_s1_pg,
    prec_s2_pg,
    v_s1_st,
    v_s2_st,
    m_mid_st,
    m_next_st,
    mu_hat_st,
    mu_k_st,
    mu_mid_st,
    mu_next_st,
    prec_hat_pg,
    prec_k_pg,
    prec_mid_pg,
    prec_next_pg,
    rise_st,
    u_pg,
    v_mid_st,
    v_next_st,
    var_c_pg,
    var_data,
    var_init_pg,
    y_pg,
    z0_pg,
    z_pg,
)
from derivations.core.proof import Tier
from derivations.core import work
from derivations.core.step_vocabulary import step_values  # noqa: F401  re-exported: the maps' numbers
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
    return Body(
        steps=(
            Relation(r"Itô: $\frac{d}{du}E[X_u^2] = 2\beta(u)(1 - E[X_u^2])$", moment_rhs.subs(m_fn(u_pg), var_data),
                     2 * beta_lin * (1 - var_data)),
            Relation(r"$B(u) = \int_0^u \beta = \beta_{\min}u + (\beta_{\max}-\beta_{\min})u^2/2$: its derivative is "
                     r"$\beta(u)$", work.derivative(B_lin, u_pg), beta_lin),
            Relation(r"dsolve of the variance ODE with $\Sigma_0 = \sigma_0^2$ is $\Sigma(B(u))$", var_u_solution,
                     var_u.subs(B_u_pg, B_lin)),
            Relation(r"score $\partial_y \log\mathcal N(y; 0, \Sigma_u) = -y/\Sigma_u$", score_coef, -1 / var_u),
            Relation(r"the ODE solution solves its variance ODE $dm/dw = -2(1 - 1/\Sigma(w))\,m$ in $w = B(u)$",
                     work.derivative(ode_var, B_u_pg), ode_rhs.subs(m_fn(w), ode_var).subs(w, B_u_pg)),
            Relation(r"the ODE solution starts at $C_T$ ($w = B(T)$)", work.at(ode_var, {B_u_pg: B_T_pg}), var_init_pg),
            Relation(r"the SDE solution solves its variance ODE $dm/dw = -2(1 - 2/\Sigma(w))\,m - 2$ in $w = B(u)$",
                     work.derivative(sde_var, B_u_pg), sde_rhs.subs(m_fn(w), sde_var).subs(w, B_u_pg)),
            Relation(r"the SDE solution starts at $C_T$ ($w = B(T)$)", work.at(sde_var, {B_u_pg: B_T_pg}), var_init_pg),
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
            Claim("ode_var", var_u / var_T * var_init_pg, r"Pierret & Galerne (2025): $\Sigma_t\Sigma_T^{-1}C_T$"),
            Claim("sde_var", var_u + decay * var_u**2 / var_T**2 * (var_init_pg - var_T),
                  r"Pierret & Galerne (2025): $\Sigma_t + e^{-2(B_T-B_t)}\Sigma_t^2\Sigma_T^{-2}(C_T-\Sigma_T)$"),
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
            Relation(r"$r = (e^{2B(t)} + \sigma_0^2 - 1)/(e^{2B(T)} + \sigma_0^2 - 1) > 0$: the quotient of the deviations",
                     work.held_product(v_sde - var_u, work.held_power(v_ode - var_u, -1)),
                     (sp.exp(2 * B_u_pg) + var_data - 1) / (sp.exp(2 * B_T_pg) + var_data - 1)),
            Relation(r"$1 - r = (e^{2B(T)} - e^{2B(t)})/(e^{2B(T)} + \sigma_0^2 - 1) > 0$ when $B(T) > B(t)$",
                     work.held_sum(1, -ratio),
                     (sp.exp(2 * B_T_pg) - sp.exp(2 * B_u_pg)) / (sp.exp(2 * B_T_pg) + var_data - 1)),
        ),
        results=(
            Result("contraction", ratio, "r: the SDE's deviation from Sigma_t over the ODE's"),
            Result("sde_var_from_identity", v_sde, "SDE output variance from N(0, I)"),
            Result("ode_var_from_identity", v_ode, "ODE output variance from N(0, I)"),
        ),
        claims=(
            Claim("contraction", sp.exp(-2 * (B_T_pg - B_u_pg)) * var_u / variance_of_state(B_T_pg),
                  r"the factor of the SDE solution of `gauss_exact.backward`: $e^{-2(B_T - B_t)}\Sigma_t\Sigma_T^{-1}$"),
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
            Relation(r"$E(X - Y)^2 = c + \sigma_0^2 - 2\rho\sigma_0\sqrt{c}$ for correlation $\rho$ (`sympy.stats`)",
                     work.expectation(sp.expand((x_c - y_c) ** 2), coupling_cost),
                     var_c_pg + var_data - 2 * coupling_corr * sp.sqrt(var_c_pg * var_data)),
            Relation(r"every coupling costs at least the comonotone one: excess $2(1-\rho)\sigma_0\sqrt{c} \ge 0$",
                     coupling_cost - comonotone_cost, 2 * (1 - coupling_corr) * sp.sqrt(var_c_pg) * sp.sqrt(var_data)),
            Relation(r"the comonotone cost ($\rho = 1$), collected before squaring: $X - Y = k Z_1$",
                     work.held_product(work.held_power(difference_coef, 2), work.expectation(z_first**2, 1)),
                     comonotone_cost),
        ),
        results=(Result("w2_sq", w2_sq, "squared W2 contribution of one eigen-direction"),),
        claims=(Claim("w2_sq", (sp.sqrt(var_c_pg) - sp.sqrt(var_data)) ** 2, "Givens & Shortt (1984), commuting case"),),
        wrong_variants=(
            WrongVariant("w2_sq", (var_c_pg - var_data) ** 2, "variances in place of standard deviations"),
            WrongVariant("w2_sq", var_c_pg + var_data - 2 * var_c_pg * var_data, "cross term without square root"),
        ),
    )


# --------------------------------------------------------------------------
# Discretized samplers: one step of each catalogue rule on N(mu_y, c)
# --------------------------------------------------------------------------

NORMALS = (z_pg, *draws_st)


class _At:
    r"""One time of a step: the forward coefficients and the exact score :math:`-\Sigma^{-1}(y - \mu)`."""

    def __init__(self, mean_coef, var, drift_coef, diffusion_sq, prec, mean, rise=0):
        self.mean_coef, self.var, self.drift_coef, self.diffusion_sq = mean_coef, var, drift_coef, diffusion_sq
        self.prec, self.mean, self.rise = prec, mean, rise

    def score(self, y: sp.Expr) -> sp.Expr:
        return -self.prec * (y - self.mean)


class SymbolicOps:
    r"""The catalogue's ``ops`` over SymPy: a step :math:`t \to t'` in the step-map vocabulary
    (:math:`m_t = a\,m_{t'}`, :math:`v_t = a^2 v_{t'} + b`, :math:`h = -\Delta`); each noise draw is a
    new standard normal of :data:`NORMALS`. The kernel at the midpoint, :math:`(m, v)_{(t+t')/2}`, is
    free of the step's (a rule that reads it states one more point of the forward process)."""

    sqrt = staticmethod(sp.sqrt)
    log = staticmethod(sp.log)

    def __init__(self, flags: frozenset[str] = frozenset()):
        self.flags = flags
        self.h = -dt_pg
        self.now = _At(a_st * m_next_st, a_st**2 * v_next_st + b_st, f_k_st, g2_k_st, prec_k_pg, mu_k_st)
        self.next = _At(m_next_st, v_next_st, f_next_st, g2_next_st, prec_next_pg, mu_next_st)
        self.mid = _At(m_mid_st, v_mid_st, f_mid_st, g2_mid_st, prec_mid_pg, mu_mid_st)
        self.normals: list[sp.Symbol] = []

    def at_lambda(self, fraction) -> _At:
        r"""The point a third or two thirds of the step's half-log-SNR increment in (DPM-Solver-3), its kernel free."""
        third = {sp.Rational(1, 3): 0, sp.Rational(2, 3): 1}[sp.nsimplify(fraction, tolerance=1e-12)]
        return _At(*((m_s1_st, v_s1_st), (m_s2_st, v_s2_st))[third], None, None, (prec_s1_pg, prec_s2_pg)[third],
                   (mu_s1_st, mu_s2_st)[third])

    def raised(self, churn, t_min, t_max) -> _At:
        r"""A raised level :math:`\hat t \ge t` (EDM's churn): the forward kernel :math:`\mathcal N(\hat a x, \hat b)`
        from :math:`t` to :math:`\hat t`, the coefficients there and the rise :math:`\hat t - t` free: the map
        holds wherever the churn puts it."""
        now = self.now
        return _At(a_hat_st * now.mean_coef, a_hat_st**2 * now.var + b_hat_st, f_hat_st, g2_hat_st, prec_hat_pg,
                   mu_hat_st, rise_st)

    def noise(self, y: sp.Expr, var: sp.Expr) -> sp.Expr:
        var = sp.sympify(var)
        if var == 0:
            return sp.Integer(0)
        z = NORMALS[len(self.normals)]
        self.normals.append(z)
        return sp.sqrt(var) * z

    @property
    def last(self) -> bool:
        return "last" in self.flags

    @property
    def lands_clean(self) -> bool:
        return "clean" in self.flags


def _symbolic_options(scheme: catalogue.Scheme, choice: dict) -> dict:
    """Numeric options as their notation symbols, choices as given, counts at their defaults."""
    out = {}
    for option in scheme.options:
        if option.symbol:
            out[option.name] = lookup(option.symbol).symbol
        else:
            out[option.name] = choice.get(option.name, option.default)
    fixed = {k: sp.nsimplify(v) if isinstance(v, float) else v for k, v in scheme.fixed.items()}
    return out | fixed


# A rule that repeats a substep (annealed Langevin: x <- x + eps s(x) + ...) refers to the state twice
# per repeat, so its expression tree grows as 2^repeats; above this many operations the update is
# expanded (a polynomial in y and the normals) before its coefficients are read off.
EXPAND_ABOVE = 2000


def gaussian_moments(constant: sp.Expr, coefs: tuple[sp.Expr, ...], normals: tuple[sp.Symbol, ...]
                     ) -> tuple[sp.Expr, sp.Expr]:
    r"""Mean and variance of :math:`a_0 + \sum_i a_i z_i` for independent standard normals :math:`z_i`.

    The coefficients stand in as atoms while :func:`normal_expectation` takes the moments of the
    linear form, so the (possibly long) coefficients are never expanded.
    """
    atoms = sp.symbols(f"atom0:{len(normals) + 1}")
    linear = atoms[0] + sum(a * z for a, z in zip(atoms[1:], normals))
    back = dict(zip(atoms, (constant, *coefs)))
    mean = normal_expectation(linear, normals).xreplace(back)
    second = normal_expectation(linear**2, normals).xreplace(back)
    return mean, second - mean**2


# A displayed step longer than this in SymPy's LaTeX (about the page's length, give or take its glyphs) is a wall:
# the step map is then built again with shorter named subexpressions.
STEP_LATEX_MAX = 1100


def step_map_body(scheme: catalogue.Scheme) -> Body:
    r"""For each choice and step kind: read the update's coefficients on :math:`y` and on the normals,
    and take Gaussian moments at :math:`y = \sqrt c\, z_0`; the map is :math:`\mu_y \mapsto a\mu_y + d`,
    :math:`c \mapsto a^2 c + b`. Long forms are named in pieces of at most 400 characters, or shorter
    where a step would still not fit on a line."""
    for max_chars in (400, 200, 100):
        body = _step_map_body(scheme, work.Abbreviations(max_chars=max_chars))
        if all(len(sp.latex(s.lhs)) + len(sp.latex(s.rhs)) <= STEP_LATEX_MAX
               and _page_length(s.lhs) + len(" = ") + _page_length(s.rhs) <= PAGE_LINE_MAX for s in body.steps):
            break
    return body


# The pages' limit on one line of math (tests/test_pages.py).
PAGE_LINE_MAX = 1000


def _page_length(expr: sp.Expr) -> int:
    """Length of ``expr``'s LaTeX with the notation's glyphs, as the page prints it."""
    known = lookup_names()
    return len(sp.latex(expr, symbol_names={s: known[s.name].latex for s in expr.free_symbols if s.name in known}))


def _step_map_body(scheme: catalogue.Scheme, short: work.Abbreviations) -> Body:
    steps, results = [], []
    for choice in scheme.choices():
        tag = tuple(str(v) for v in choice.values())
        for flags in catalogue.kinds(scheme, choice):
            ops = SymbolicOps(flags)
            update = sp.sympify(scheme.rule(ops, y_pg, **_symbolic_options(scheme, choice)))
            if sp.count_ops(update) > EXPAND_ABOVE:
                update = sp.expand(update)
            normals = tuple(ops.normals)
            quiet = {z: 0 for z in normals}
            gain, *draws = (sp.diff(update, v).subs(quiet) for v in (y_pg, *normals))
            offset = update.subs({y_pg: 0, **quiet})
            mean, var_next = gaussian_moments(offset, (sp.sqrt(var_c_pg) * gain, *draws), (z0_pg, *normals))
            noise_var = sum((c**2 for c in draws), sp.Integer(0))
            kind = ", ".join((*tag, *sorted(flags))) or "every step"
            names = {base: catalogue.result_name(base, tag, flags) for base in ("gain", "offset", "noise_var")}
            gain_shown, offset_shown = short(gain), short(offset)
            draws_shown = [short(c) for c in draws]
            noise_shown = short(work.held_sum(*(work.held_power(c, 2) for c in draws_shown)))
            noise_terms = [work.held_product(c, z) for c, z in zip(draws_shown, normals)]
            if len(sp.sstr(noise_terms)) > short.max_chars:
                noise_terms = [short(sum((c * z for c, z in zip(draws, normals)), sp.Integer(0)))]
            affine = work.held_sum(work.held_product(gain_shown, y_pg), offset_shown, *noise_terms)
            steps += [
                Relation(f"{kind}: the rule applied to $y$ is affine in $y$ and the normals: "
                         r"$y' = a y + d + \sum_j B_j z_j$, coefficients read off by differentiation",
                         short(update), affine),
                Relation(f"{kind}: the mean over $z_0$ and the normals at $y = \\sqrt c\\, z_0$ is $d$",
                         work.held("E", r"E\left[y'\right]_{y = \sqrt{c} z_0}", (), mean), offset_shown),
                Relation(f"{kind}: the variance at $y = \\sqrt c\\, z_0$ is $a^2 c + b$",
                         work.held("Var", r"\mathrm{Var}\left[y'\right]_{y = \sqrt{c} z_0}", (), var_next),
                         work.held_sum(work.held_product(work.held_power(gain_shown, 2), var_c_pg), noise_shown)),
            ]
            results += [Result(names["gain"], gain_shown, f"a ({kind}): y' = a y + d + noise"),
                        Result(names["offset"], offset_shown, f"d ({kind}): the mean y' takes from y = 0"),
                        Result(names["noise_var"], noise_shown, f"b ({kind}): variance injected by the step")]
    return Body(steps=tuple(steps), results=tuple(results), claims=scheme.claims(),
                wrong_variants=scheme.wrong_variants())


def _register(scheme: catalogue.Scheme) -> None:
    @derivation(
        id=scheme.derivation_id,
        title=f"One step of {scheme.title} on N(mu, c): mu -> a mu + d, c -> a^2 c + b",
        statement=rf"Update ${scheme.rule_tex}$ (``{scheme.name}``) with the exact score "
        r"$s_u(y) = -\Sigma_u^{-1}(y - \mu_u)$ maps $\mathcal N(\mu_y, c)$ to $\mathcal N(a\mu_y + d, a^2 c + b)$ "
        r"in each eigen-direction, with $a$, $d$ and $b$ derived from the update's Gaussian moments, for any "
        r"forward process with kernel $\mathcal N(m_t x_0, v_t)$ and SDE $dX = fX\,dt + g\,dW$.",
        tier=Tier.EXACT,
        assumptions=(r"$z_k \sim \mathcal N(0, 1)$ independent of $y_k$", "per eigenvalue of Σ",
                     r"the kernel from $t'$ to $t$ is $\mathcal N(a x, b)$: $m_t = a m_{t'}$, $v_t = a^2 v_{t'} + b$",
                     *scheme.assumptions),
        references=(PIERRET_GALERNE, scheme.reference),
    )
    def build() -> Body:
        return step_map_body(scheme)

    build.__name__ = f"step_{scheme.name}"


for _scheme in catalogue.all():
    _register(_scheme)
