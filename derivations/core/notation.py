r"""The one notation of the suite: every symbol is defined here, once.

A *base* symbol is free: it has SymPy assumptions and an admissible domain
that the numeric proof tier samples from. A *defined* symbol is a name for an
expression in other symbols (``beta_t`` is :math:`1 - \alpha_t`); proofs
expand definitions down to base symbols, while results keep the readable
names, and numeric evaluation takes the defined names as inputs too.

Constraints between quantities are built into the choice of base symbols
(e.g. :math:`\bar\alpha_t = \alpha_t \bar\alpha_{t-1}` makes
:math:`\bar\alpha_t < \bar\alpha_{t-1}` automatic), so that every random
point of the domains is admissible. Such a base symbol that stands for an
expression in other names (the VE increment :math:`\Delta\sigma_i^2 =
\sigma_i^2 - \sigma_{i-1}^2`) gets an atomic glyph and records that expression
(:func:`abbreviate`), so that a page never prints a compound glyph inside a formula.

One concept has one name, and one name one glyph: two symbols that appear on one
page never print alike (``tests/test_notation.py``). Indices follow the process:
:math:`x_t` for DDPM steps, :math:`x_i` for VE noise levels, :math:`x_{\tau_i}`
for DDIM's retained timesteps. The full table, code name, LaTeX, meaning and
domain or definition, is generated as ``reports/notation.md``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Iterable

import mpmath
import sympy as sp


@dataclass(frozen=True)
class Domain:
    """An open interval that random admissible points are drawn from."""

    low: float
    high: float

    def sample(self, rng: random.Random) -> mpmath.mpf:
        return mpmath.mpf(self.low) + (mpmath.mpf(self.high) - self.low) * mpmath.mpf(rng.random())


POSITIVE_UNIT = Domain(0.0, 1.0)
REAL = Domain(-3.0, 3.0)
POSITIVE = Domain(0.05, 4.0)


@dataclass(frozen=True)
class Name:
    """One entry of the notation: a SymPy symbol with its LaTeX and meaning."""

    name: str
    latex: str
    meaning: str
    symbol: sp.Symbol
    domain: Domain | None = None
    definition: sp.Expr | None = None
    stands_for: sp.Expr | None = None  # a base symbol's meaning as an expression in other names

    @property
    def is_base(self) -> bool:
        """A free symbol (sampled by the numeric tier), not a name for an expression."""
        return self.definition is None


_NAMES: dict[str, Name] = {}


def base(name: str, latex: str, meaning: str, domain: Domain, **assumptions: bool) -> sp.Symbol:
    """Declare a free symbol; ``domain`` must agree with ``assumptions``."""
    if name in _NAMES:
        raise ValueError(f"notation: {name!r} is defined twice")
    symbol = sp.Symbol(name, **assumptions)
    _NAMES[name] = Name(name, latex, meaning, symbol, domain=domain)
    return symbol


def defined(name: str, latex: str, meaning: str, definition: sp.Expr, **assumptions: bool) -> sp.Symbol:
    """Declare a name for ``definition`` (an expression in earlier symbols)."""
    if name in _NAMES:
        raise ValueError(f"notation: {name!r} is defined twice")
    symbol = sp.Symbol(name, **assumptions)
    _NAMES[name] = Name(name, latex, meaning, symbol, definition=sp.sympify(definition))
    return symbol


def abbreviate(symbol: sp.Symbol, expression: sp.Expr) -> None:
    r"""Record that the base ``symbol`` stands for ``expression`` (in names declared since).

    The symbol stays free (it encodes a constraint such as :math:`\sigma_i > \sigma_{i-1}`);
    a test proves that ``expression`` expands back to it.
    """
    entry = _NAMES[symbol.name]
    if not entry.is_base:
        raise ValueError(f"notation: {symbol.name!r} is defined; only a base symbol abbreviates")
    _NAMES[symbol.name] = replace(entry, stands_for=sp.sympify(expression))


def lookup(name: str) -> Name:
    return _NAMES[name]


def names() -> dict[str, Name]:
    """Every notation entry by code name (a copy)."""
    return dict(_NAMES)


def entries_for(expressions: Iterable[sp.Expr]) -> list[Name]:
    """The notation entries that the expressions use, definitions followed."""
    seen: dict[str, Name] = {}
    stack = [s for e in expressions for s in sp.sympify(e).free_symbols]
    while stack:
        sym = stack.pop()
        entry = _NAMES.get(sym.name)
        if entry is None or entry.name in seen:
            continue
        seen[entry.name] = entry
        for expression in (entry.definition, entry.stands_for):
            if expression is not None:
                stack.extend(expression.free_symbols)
    return sorted(seen.values(), key=lambda e: e.name)


def expand_definitions(expr: sp.Expr) -> sp.Expr:
    """Replace every defined name by its definition until only base symbols remain."""
    expr = sp.sympify(expr)
    for _ in range(len(_NAMES) + 1):
        subs = {
            s: _NAMES[s.name].definition
            for s in expr.free_symbols
            if s.name in _NAMES and _NAMES[s.name].definition is not None
        }
        if not subs:
            return expr
        expr = expr.xreplace(subs)
    raise RecursionError("notation: circular definitions")


def tidy(expr: sp.Expr) -> sp.Expr:
    """A readable form of ``expr`` for display: factored, with defined names put back.

    Display only: callers compare the tidy form with the original before using it.
    """
    tidied = sp.factor(sp.cancel(expand_definitions(expr)))
    for entry in _NAMES.values():
        if entry.definition is None:
            continue
        pattern = expand_definitions(entry.definition)
        if isinstance(pattern, (sp.Add, sp.Mul)) and len(pattern.args) <= 3:
            tidied = tidied.subs(pattern, entry.symbol).subs(-pattern, -entry.symbol)
    return tidied


def undeclared(expr: sp.Expr) -> list[str]:
    """Free symbols of ``expr`` that the notation does not know (a defect)."""
    return sorted(s.name for s in sp.sympify(expr).free_symbols if s.name not in _NAMES)


def random_point(symbols: Iterable[sp.Symbol], rng: random.Random) -> dict[sp.Symbol, mpmath.mpf]:
    """A random admissible point for base ``symbols``."""
    point = {}
    for s in symbols:
        entry = _NAMES[s.name]
        if entry.domain is None:
            raise ValueError(f"notation: {s.name!r} is not a base symbol")
        point[s] = entry.domain.sample(rng)
    return point


# --------------------------------------------------------------------------
# Generic Gaussian toolkit (gaussian.*): scalar linear-Gaussian pair
#   x ~ N(mu_x, var_x),  y | x ~ N(gain * x + offset, var_noise)
# --------------------------------------------------------------------------
x = base("x", "x", "latent variable of a linear-Gaussian pair", REAL, real=True)
y = base("y", "y", "observation of a linear-Gaussian pair (Tweedie: the noisy observation x + sigma z)", REAL,
         real=True)
mu_x = base("mu_x", r"\mu_x", "prior mean of x", REAL, real=True)
var_x = base("var_x", r"\sigma_x^2", "prior variance of x", POSITIVE, positive=True)
gain = base("gain", "a", "linear map from x to the mean of y", REAL, real=True)
offset = base("offset", "b", "offset of the mean of y", REAL, real=True)
var_noise = base("var_noise", "s^2", "variance of y given x", POSITIVE, positive=True)

# --------------------------------------------------------------------------
# Discrete VP (DDPM) process: x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) eps
# --------------------------------------------------------------------------
alpha_t = base("alpha_t", r"\alpha_t", "one-step signal factor 1 - beta_t", POSITIVE_UNIT, positive=True)
alpha_bar_prev = base(
    "alpha_bar_prev", r"\bar\alpha_{t-1}", "cumulative product up to t-1", POSITIVE_UNIT, positive=True
)
beta_t = defined("beta_t", r"\beta_t", "noise variance of step t", 1 - alpha_t, positive=True)
alpha_bar_t = defined(
    "alpha_bar_t", r"\bar\alpha_t", "cumulative product prod_{s<=t} alpha_s", alpha_t * alpha_bar_prev, positive=True
)
beta_tilde_t = defined(
    "beta_tilde_t",
    r"\tilde\beta_t",
    "posterior variance (1 - alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t)",
    (1 - alpha_bar_prev) * beta_t / (1 - alpha_bar_t),
    positive=True,
)
snr_t = defined("snr_t", r"\mathrm{SNR}_t", "signal-to-noise ratio alpha_bar_t / (1 - alpha_bar_t)",
                alpha_bar_t / (1 - alpha_bar_t), positive=True)
snr_prev = defined("snr_prev", r"\mathrm{SNR}_{t-1}", "signal-to-noise ratio at t-1",
                   alpha_bar_prev / (1 - alpha_bar_prev), positive=True)
x_0 = base("x_0", "x_0", "clean data point", REAL, real=True)
x_t = base("x_t", "x_t", "noisy sample at DDPM step t", REAL, real=True)
x_prev = base("x_prev", "x_{t-1}", "sample at DDPM step t-1", REAL, real=True)
eps = base("eps", r"\varepsilon", "standard normal noise", REAL, real=True)

# --------------------------------------------------------------------------
# Discrete: VE (SMLD), DDIM, ELBO and KL terms (ve.*, ddim.*, elbo.*, gaussian.kl/w2)
# --------------------------------------------------------------------------
# Two scalar Gaussian laws P = N(mean_p, var_p), Q = N(mean_q, var_q), and a
# second coordinate (suffix 2) for the two-dimensional diagonal case.
mean_p = base("mean_p", r"\mu_P", "mean of the Gaussian law P", REAL, real=True)
var_p = base("var_p", r"\sigma_P^2", "variance of the Gaussian law P", POSITIVE, positive=True)
mean_q = base("mean_q", r"\mu_Q", "mean of the Gaussian law Q", REAL, real=True)
var_q = base("var_q", r"\sigma_Q^2", "variance of the Gaussian law Q", POSITIVE, positive=True)
mean_p2 = base("mean_p2", r"\mu_{P,2}", "second coordinate of the mean of P", REAL, real=True)
var_p2 = base("var_p2", r"\sigma_{P,2}^2", "second diagonal variance of P", POSITIVE, positive=True)
mean_q2 = base("mean_q2", r"\mu_{Q,2}", "second coordinate of the mean of Q", REAL, real=True)
var_q2 = base("var_q2", r"\sigma_{Q,2}^2", "second diagonal variance of Q", POSITIVE, positive=True)
coupling_corr = base("coupling_corr", r"\rho", "correlation of a coupling of two Gaussian laws",
                     Domain(-0.99, 0.99), real=True)
# VAE encoder q(z | x) = N(vae_mean, vae_std^2) against the prior N(0, 1).
vae_mean = base("vae_mean", r"\mu", "mean of the VAE encoder", REAL, real=True)
vae_std = base("vae_std", r"\sigma", "standard deviation of the VAE encoder", POSITIVE, positive=True)
# VE (SMLD/NCSN) chain x_i = x_{i-1} + sqrt(sigma_i^2 - sigma_{i-1}^2) z_i, indexed by the noise level i.
var_ve_prev = base("var_ve_prev", r"\sigma_{i-1}^2", "VE noise variance at level i-1", POSITIVE, positive=True)
var_ve_step = base("var_ve_step", r"\Delta\sigma_i^2", "VE variance added by step i", POSITIVE, positive=True)
var_ve_i = defined("var_ve_i", r"\sigma_i^2", "VE noise variance at level i", var_ve_prev + var_ve_step,
                   positive=True)
abbreviate(var_ve_step, var_ve_i - var_ve_prev)
x_ve_i = base("x_ve_i", "x_i", "VE sample at noise level i", REAL, real=True)
x_ve_prev = base("x_ve_prev", "x_{i-1}", "VE sample at noise level i-1", REAL, real=True)
cond_score_ve = defined("cond_score_ve", r"s_{\mathrm{VE}}",
                        "score grad log q(x_i | x_0) of the VE kernel at x_i = x_0 + sigma_i eps",
                        -eps / sp.sqrt(var_ve_i), real=True)
# DDIM between two retained timesteps tau_{i-1} < tau_i (steps may be skipped).
alpha_bar_tau_prev = base("alpha_bar_tau_prev", r"\bar\alpha_{\tau_{i-1}}", "cumulative product at tau_{i-1}",
                          POSITIVE_UNIT, positive=True)
alpha_ratio_tau = base("alpha_ratio_tau", "r",
                       "product of the alphas of the steps from tau_{i-1} + 1 to tau_i", POSITIVE_UNIT, positive=True)
alpha_bar_tau = defined("alpha_bar_tau", r"\bar\alpha_{\tau_i}", "cumulative product at tau_i",
                        alpha_ratio_tau * alpha_bar_tau_prev, positive=True)
abbreviate(alpha_ratio_tau, alpha_bar_tau / alpha_bar_tau_prev)
x_tau = base("x_tau", r"x_{\tau_i}", "DDIM sample at the retained timestep tau_i", REAL, real=True)
x_tau_prev = base("x_tau_prev", r"x_{\tau_{i-1}}", "DDIM sample at the retained timestep tau_{i-1}", REAL,
                  real=True)
ddim_rho = base("ddim_rho", r"\rho", "DDIM kernel variance as a fraction of 1 - alpha_bar_{tau_{i-1}}",
                POSITIVE_UNIT, positive=True)
var_ddim = defined("var_ddim", r"\sigma_{\tau_i}^2", "variance of the DDIM kernel",
                   ddim_rho * (1 - alpha_bar_tau_prev), positive=True)
eta_ddim = base("eta_ddim", r"\eta", "DDIM stochasticity (0: deterministic, 1: ancestral/DDPM)", POSITIVE_UNIT,
                positive=True)
# ELBO: the reverse model p_theta(x_{t-1} | x_t) = N(mu_theta, var_model) and its predictions.
var_model = base("var_model", r"\sigma_t^2", "variance of the reverse kernel p_theta(x_{t-1} | x_t)", POSITIVE,
                 positive=True)
x0_hat = base("x0_hat", r"\hat x_0", "model prediction of x_0", REAL, real=True)
eps_hat = base("eps_hat", r"\hat\varepsilon", "model prediction of the noise", REAL, real=True)
score_hat = base("score_hat", r"\hat s", "model prediction of the score", REAL, real=True)
v_hat = base("v_hat", r"\hat v", "model prediction of v", REAL, real=True)
v_target = defined("v_target", "v", "velocity target sqrt(alpha_bar_t) eps - sqrt(1 - alpha_bar_t) x_0",
                   sp.sqrt(alpha_bar_t) * eps - sp.sqrt(1 - alpha_bar_t) * x_0, real=True)
cond_score_t = defined("cond_score_t", "s", "score grad log q(x_t | x_0) of the VP kernel at the sample",
                       -eps / sp.sqrt(1 - alpha_bar_t), real=True)
# A two-step (T = 2) model: x_2 ~ N(0, 1), x_1 | x_2 ~ N(a_2 x_2 + b_2, v_2), x_0 | x_1 ~ N(a_1 x_1 + b_1, v_1).
rev_gain_1 = base("rev_gain_1", "a_1", "gain of the reverse kernel p_theta(x_0 | x_1)", REAL, real=True)
rev_offset_1 = base("rev_offset_1", "b_1", "offset of the reverse kernel p_theta(x_0 | x_1)", REAL, real=True)
rev_var_1 = base("rev_var_1", "v_1", "variance of the reverse kernel p_theta(x_0 | x_1)", POSITIVE, positive=True)
rev_gain_2 = base("rev_gain_2", "a_2", "gain of the reverse kernel p_theta(x_1 | x_2)", REAL, real=True)
rev_offset_2 = base("rev_offset_2", "b_2", "offset of the reverse kernel p_theta(x_1 | x_2)", REAL, real=True)
rev_var_2 = base("rev_var_2", "v_2", "variance of the reverse kernel p_theta(x_1 | x_2)", POSITIVE, positive=True)


# --------------------------------------------------------------------------
# Tweedie and score matching (tweedie.*, score.*), Gaussian-mixture data (mixture.*, fp.*, samplers)
# --------------------------------------------------------------------------
#   y = x + sigma_tw z; a two-component Gaussian-mixture prior or data law
#   w N(mu_1, v_1) + (1 - w) N(mu_2, v_2) (per coordinate in 2-D);
#   an affine score model s(y) = score_slope * y + score_intercept.
sigma_tw = base("sigma_tw", r"\sigma", "noise standard deviation in y = x + sigma z", POSITIVE, positive=True)
mix_weight = base("mix_weight", "w", "weight of the first mixture component", Domain(0.05, 0.95), positive=True)
mix_mean_1 = base("mix_mean_1", r"\mu_1", "mean of the first mixture component (first coordinate in 2-D)", REAL,
                  real=True)
mix_mean_2 = base("mix_mean_2", r"\mu_2", "mean of the second mixture component (first coordinate in 2-D)", REAL,
                  real=True)
mix_mean_1_y = base("mix_mean_1_y", r"\mu_{1,y}", "second coordinate of the mean of the first component", REAL,
                    real=True)
mix_mean_2_y = base("mix_mean_2_y", r"\mu_{2,y}", "second coordinate of the mean of the second component", REAL,
                    real=True)
mix_var_1 = base("mix_var_1", r"v_1", "variance of the first mixture component (per coordinate)", POSITIVE,
                 positive=True)
mix_var_2 = base("mix_var_2", r"v_2", "variance of the second mixture component (per coordinate)", POSITIVE,
                 positive=True)
dens_tw = base("dens_tw", "p(y)", "value of a smooth positive density at y", POSITIVE, positive=True)
dens_d1_tw = base("dens_d1_tw", "p'(y)", "first derivative of that density at y", REAL, real=True)
dens_d2_tw = base("dens_d2_tw", "p''(y)", "second derivative of that density at y", REAL, real=True)
score_slope = base("score_slope", r"a_\theta", "slope of an affine score model", REAL, real=True)
score_intercept = base("score_intercept", r"b_\theta", "intercept of an affine score model", REAL, real=True)


# --------------------------------------------------------------------------
# Continuous time: OU, VP/VE/sub-VP SDEs, Ito calculus (ou.*, sde.*, ito.*)
# --------------------------------------------------------------------------
time = base("t", "t", "time", Domain(0.05, 1.0), positive=True)
x_sde = base("x_sde", "x", "state of a continuous-time process at the current time (first coordinate in 2-D)",
             REAL, real=True)
y_sde = base("y_sde", "y", "second coordinate of a 2-D continuous-time state", REAL, real=True)
B_t = base("B_t", r"B(t)", "integrated schedule int_0^t beta(u) du", Domain(0.01, 8.0), positive=True)
beta_min = base("beta_min", r"\beta_{\min}", "VP schedule at t = 0", Domain(0.05, 0.5), positive=True)
beta_max = base("beta_max", r"\beta_{\max}", "VP schedule at t = 1", Domain(5.0, 20.0), positive=True)
sigma_min = base("sigma_min", r"\sigma_{\min}", "VE noise level at t = 0", Domain(0.01, 0.5), positive=True)
sigma_max = base("sigma_max", r"\sigma_{\max}", "VE noise level at t = 1", Domain(1.0, 50.0), positive=True)
# Gaussian data: N(mean_data, var_data) in 1-D (var_data: also one eigenvalue of a data covariance Sigma_0),
# N((mean_data, mean_data_y), [[std_data_x^2, corr_data std_data_x std_data_y], [., std_data_y^2]]) in 2-D.
var_data = base("var_data", r"\sigma_0^2", "variance of Gaussian data (one eigenvalue of its covariance Sigma_0)",
                POSITIVE, positive=True)
mean_data = base("mean_data", r"\mu_0", "mean of Gaussian data (first coordinate in 2-D)", REAL, real=True)
mean_data_y = base("mean_data_y", r"\mu_{0,y}", "second coordinate of the Gaussian data mean", REAL, real=True)
std_data_x = base("std_data_x", r"s_x", "2-D Gaussian data: standard deviation of the first coordinate",
                  POSITIVE, positive=True)
std_data_y = base("std_data_y", r"s_y", "2-D Gaussian data: standard deviation of the second coordinate",
                  POSITIVE, positive=True)
corr_data = base("corr_data", r"\rho_0", "2-D Gaussian data: correlation of the two coordinates", Domain(-0.9, 0.9),
                 real=True)
B_linear = defined("B_linear", r"B_{\mathrm{lin}}(t)", "integrated linear schedule",
                   beta_min * time + (beta_max - beta_min) * time**2 / 2, positive=True)
sigma_ve = defined("sigma_ve", r"\sigma(t)", "VE geometric noise level sigma_min (sigma_max/sigma_min)^t",
                   sigma_min * (sigma_max / sigma_min) ** time, positive=True)
# Discretizations (Euler-Maruyama steps, Riemann sums of stochastic integrals)
h_sde = base("h_sde", "h", "time step of a discretization (Euler-Maruyama, Langevin chain, Riemann sums)",
             Domain(0.001, 0.1), positive=True)
# OU process dX = kappa_ou (theta_ou - X) dt + sigma_ou dW from X_s = x_start_ou; s < t <= t'
kappa_ou = base("kappa_ou", r"\kappa", "OU mean-reversion rate", Domain(0.2, 3.0), positive=True)
theta_ou = base("theta_ou", r"\theta", "OU long-run mean", REAL, real=True)
sigma_ou = base("sigma_ou", r"\sigma", "OU noise level (diffusion coefficient)", Domain(0.1, 2.0), positive=True)
x_start_ou = base("x_start_ou", "x_s", "OU state at the start time s", REAL, real=True)
s_ou = base("s_ou", "s", "OU start time", Domain(0.0, 1.0), nonnegative=True)
lag_ou = base("lag_ou", r"\Delta t", "elapsed time from s to the first time t", Domain(0.05, 1.5), positive=True)
lag2_ou = base("lag2_ou", r"\Delta t'", "gap from t to the second time t'", Domain(0.0, 1.5), nonnegative=True)
t_ou = defined("t_ou", "t", "first OU observation time", s_ou + lag_ou, positive=True)
tp_ou = defined("tp_ou", "t'", "second OU observation time t' >= t", t_ou + lag2_ou, positive=True)
abbreviate(lag_ou, t_ou - s_ou)
abbreviate(lag2_ou, tp_ou - t_ou)
# Ito calculus: Ito processes dX = b dt + s dW, Brownian motion, GBM (ito.*)
w_ito = base("w_ito", "W_t", "standard Brownian motion at time t", REAL, real=True)
drift_ito = base("drift_ito", "b", "drift of an Ito process at (t, x)", REAL, real=True)
diffusion_ito = base("diffusion_ito", "s", "diffusion coefficient of an Ito process at (t, x)", REAL, real=True)
lam_ito = base("lam_ito", r"\lambda", "evaluation point of the Riemann sums in [0, 1] (0 Ito, 1/2 Stratonovich)",
               Domain(0.0, 1.0), nonnegative=True)
rate_ito = base("rate_ito", "r", "growth rate of a deterministic integrand e^{r u}", Domain(0.1, 2.0), positive=True)
mu_gbm = base("mu_gbm", r"\mu", "GBM drift rate", Domain(-1.0, 1.0), real=True)
sigma_gbm = base("sigma_gbm", r"\sigma", "GBM volatility", Domain(0.1, 1.5), positive=True)
u0_gbm = base("u0_gbm", "U_0", "GBM initial value", Domain(0.1, 3.0), positive=True)


# --------------------------------------------------------------------------
# Fokker-Planck, reverse-time SDEs, probability-flow ODE, Langevin (fp.*, langevin.*)
# --------------------------------------------------------------------------
beta_now = base("beta_now", r"\beta(t)", "VP schedule value at time t (pointwise free of B(t))",
                Domain(0.05, 20.0), positive=True)
T_rev = base("T_rev", "T", "horizon of the forward process", Domain(1.0, 1.5), positive=True)
s_rev = base("s_rev", "s", "reverse time: Y_s = X_{T-s}", Domain(0.0, 0.9), nonnegative=True)
lam_rev = base("lam_rev", r"\lambda", "diffusion scale of the reverse-time family", Domain(0.0, 3.0),
               nonnegative=True)
f_fp = base("f_fp", "f", "forward drift f(t, x) at the current point", REAL, real=True)
g_fp = base("g_fp", "g", "forward diffusion coefficient g(t)", POSITIVE, positive=True)
gain_fp = base("gain_fp", "a", "drift gain a(t) of a linear SDE dX = (a X + b) dt + g dW", REAL, real=True)
offset_fp = base("offset_fp", "b", "drift offset b(t) of a linear SDE dX = (a X + b) dt + g dW", REAL, real=True)
mean_offset_fp = base("mean_offset_fp", "c", "mean offset c(t) of a linear SDE: E[X_t | X_0] = m_t X_0 + c", REAL,
                      real=True)
score_fp = base("score_fp", r"\nabla\log p_t", "score of the forward marginal at the current point", REAL,
                real=True)
alpha_lgv = base("alpha_lgv", r"\alpha", "noise level of the backward Langevin family", Domain(0.0, 3.0),
                 nonnegative=True)
k_lgv = base("k_lgv", "k", "stiffness of the quadratic potential k (x - c)^2 / 2", POSITIVE, positive=True)
c_lgv = base("c_lgv", "c", "centre of the quadratic potential", REAL, real=True)
a_lgv = base("a_lgv", "a", "coefficient of the quartic potential a x^4 / 4", POSITIVE, positive=True)
U_lgv = base("U_lgv", "U", "potential value U(x) at the current point", REAL, real=True)
dU_lgv = base("dU_lgv", "U'", "potential slope U'(x) at the current point", REAL, real=True)
d2U_lgv = base("d2U_lgv", "U''", "potential curvature U''(x) at the current point", REAL, real=True)


# --------------------------------------------------------------------------
# Exact Gaussian-data solutions and discretized samplers (gauss_exact.*)
# --------------------------------------------------------------------------
# Scaled VP SDE dX = -beta(u) X du + sqrt(2 beta(u)) dW (rate half the standard VP's), data N(0, Sigma_0),
# one eigenvalue var_data of Sigma_0 at a time; "_pg" marks the Pierret-Galerne setting.
u_pg = base("u_pg", "u", "forward time of the scaled VP SDE", POSITIVE_UNIT, positive=True)
beta_min_pg = base("beta_min_pg", r"\beta_{\min}", "rate of the scaled VP SDE's linear schedule at u = 0",
                   POSITIVE, positive=True)
beta_span_pg = base("beta_span_pg", r"\Delta\beta", "slope of the scaled VP SDE's linear schedule over [0, 1]",
                    Domain(0.5, 10.0), positive=True)
beta_max_pg = defined("beta_max_pg", r"\beta_{\max}", "rate of the scaled VP SDE's linear schedule at u = 1",
                      beta_min_pg + beta_span_pg, positive=True)
abbreviate(beta_span_pg, beta_max_pg - beta_min_pg)
B_u_pg = base("B_u_pg", "B(u)", "integrated rate B(u) = int_0^u beta of the scaled VP SDE", POSITIVE, positive=True)
B_T_pg = base("B_T_pg", "B(T)", "integrated rate at the final time T", POSITIVE, positive=True)
var_init_pg = base("var_init_pg", "C_T", "variance (one eigen-direction) the backward process starts from",
                   POSITIVE, positive=True)
y_pg = base("y_pg", "y", "state of a backward sampler (one eigen-direction)", REAL, real=True)
z0_pg = base("z0_pg", "z_0", "standard normal of the current state y = sqrt(c) z_0", REAL, real=True)
z_pg = base("z_pg", "z_k", "standard normal injected by a stochastic step", REAL, real=True)
var_c_pg = base("var_c_pg", "c", "variance of the sampler state before a step", POSITIVE, positive=True)
dt_pg = base("dt_pg", r"\Delta", "step size of a backward sampler in reversed time s = T - u", Domain(0.001, 0.05),
             positive=True)
prec_k_pg = base("prec_k_pg", r"\Sigma_{u_k}^{-1}", "precision of p_u at u_k: the score is -prec y", POSITIVE,
                 positive=True)
prec_next_pg = base("prec_next_pg", r"\Sigma_{u_{k+1}}^{-1}", "precision of p_u at u_{k+1}", POSITIVE, positive=True)
prec_mid_pg = base("prec_mid_pg", r"\Sigma_{u_{k+1/2}}^{-1}", "precision of p_u at the midpoint", POSITIVE,
                   positive=True)
# One step t -> t' < t of any catalogue sampler (gauss_exact.step_*), in the coefficients of a
# forward process with kernel N(m_t x_0, v_t) and SDE dX = f X dt + g dW, on data whose noised
# marginal at each time is N(mu, 1/prec) per eigen-direction. The kernel from t' to t is
# N(a x, b): m_t = a m_{t'}, v_t = a^2 v_{t'} + b, so every admissible point keeps v_t >= b.
a_st = base("a_st", r"a_{t|t'}", "gain m_t / m_{t'} of the forward kernel from a step's end t' to its start t",
            POSITIVE_UNIT, positive=True)
b_st = base("b_st", r"v_{t|t'}", "variance v_t - a^2 v_{t'} of the forward kernel from a step's end t' to its start t",
            POSITIVE, positive=True)
m_next_st = base("m_next_st", "m_{t'}", "signal coefficient of the forward kernel at the step's end", POSITIVE_UNIT,
                 positive=True)
v_next_st = base("v_next_st", "v_{t'}", "variance of the forward kernel at the step's end", POSITIVE, positive=True)
f_k_st = base("f_k_st", "f_t", "drift coefficient f of the forward SDE at the step's start", REAL, real=True)
f_next_st = base("f_next_st", "f_{t'}", "drift coefficient f at the step's end", REAL, real=True)
f_mid_st = base("f_mid_st", "f_{(t+t')/2}", "drift coefficient f at the step's midpoint", REAL, real=True)
g2_k_st = base("g2_k_st", "g_t^2", "squared diffusion coefficient of the forward SDE at the step's start", POSITIVE,
               positive=True)
g2_next_st = base("g2_next_st", "g_{t'}^2", "squared diffusion coefficient at the step's end", POSITIVE, positive=True)
g2_mid_st = base("g2_mid_st", "g_{(t+t')/2}^2", "squared diffusion coefficient at the step's midpoint", POSITIVE,
                 positive=True)
m_mid_st = base("m_mid_st", "m_{(t+t')/2}", "signal coefficient of the forward kernel at the step's midpoint",
                POSITIVE_UNIT, positive=True)
v_mid_st = base("v_mid_st", "v_{(t+t')/2}", "variance of the forward kernel at the step's midpoint", POSITIVE,
                positive=True)
mu_k_st = base("mu_k_st", r"\mu_t", "mean of the noised data marginal p_t at the step's start", REAL, real=True)
mu_next_st = base("mu_next_st", r"\mu_{t'}", "mean of p_t at the step's end", REAL, real=True)
mu_mid_st = base("mu_mid_st", r"\mu_{(t+t')/2}", "mean of p_t at the step's midpoint", REAL, real=True)
# The points s_1, s_2 of a step at a third and two thirds of its half-log-SNR increment (DPM-Solver-3):
# lambda_t + h/3, lambda_t + 2h/3. Their kernels are free in the step maps, as the midpoint's are.
m_s1_st = base("m_s1_st", r"m_{s_1}", "signal coefficient of the forward kernel a third of a step's "
               "half-log-SNR increment in", POSITIVE_UNIT, positive=True)
v_s1_st = base("v_s1_st", r"v_{s_1}", "variance of the forward kernel a third of a step's half-log-SNR "
               "increment in", POSITIVE, positive=True)
mu_s1_st = base("mu_s1_st", r"\mu_{s_1}", "mean of p_t a third of a step's half-log-SNR increment in", REAL,
                real=True)
prec_s1_pg = base("prec_s1_pg", r"\Sigma_{s_1}^{-1}", "precision of p_u a third of a step's half-log-SNR "
                  "increment in", POSITIVE, positive=True)
m_s2_st = base("m_s2_st", r"m_{s_2}", "signal coefficient of the forward kernel two thirds of a step's "
               "half-log-SNR increment in", POSITIVE_UNIT, positive=True)
v_s2_st = base("v_s2_st", r"v_{s_2}", "variance of the forward kernel two thirds of a step's half-log-SNR "
               "increment in", POSITIVE, positive=True)
mu_s2_st = base("mu_s2_st", r"\mu_{s_2}", "mean of p_t two thirds of a step's half-log-SNR increment in",
                REAL, real=True)
prec_s2_pg = base("prec_s2_pg", r"\Sigma_{s_2}^{-1}", "precision of p_u two thirds of a step's "
                  "half-log-SNR increment in", POSITIVE, positive=True)
# A raised level t_hat >= t of a step (EDM's churn, Karras et al. 2022, Algorithm 2): the step first moves
# x_t to x_t_hat by the forward kernel, then integrates from t_hat down to t'. Its kernel and coefficients
# are free in the step maps, as the midpoint's are.
a_hat_st = base("a_hat_st", r"a_{\hat t|t}", "gain m_t_hat / m_t of the forward kernel from a step's start t to its "
                "raised level t_hat", Domain(0.5, 1.0), positive=True)
b_hat_st = base("b_hat_st", r"v_{\hat t|t}", "variance v_t_hat - a^2 v_t of the forward kernel from a step's start t to "
                "its raised level t_hat", Domain(0.0, 0.5), nonnegative=True)
f_hat_st = base("f_hat_st", r"f_{\hat t}", "drift coefficient f at a step's raised level t_hat", REAL, real=True)
g2_hat_st = base("g2_hat_st", r"g_{\hat t}^2", "squared diffusion coefficient at a step's raised level t_hat",
                 POSITIVE, positive=True)
mu_hat_st = base("mu_hat_st", r"\mu_{\hat t}", "mean of p_t at a step's raised level t_hat", REAL, real=True)
prec_hat_pg = base("prec_hat_pg", r"\Sigma_{\hat u_k}^{-1}", "precision of p_u at a step's raised level",
                   POSITIVE, positive=True)
rise_st = base("rise_st", r"\delta_{\hat t}", "rise t_hat - t >= 0 of a step's raised level above its start",
               Domain(0.0, 0.05), nonnegative=True)
noise_scale_edm = base("noise_scale_edm", r"S_{\mathrm{noise}}", "scale of the fresh noise of EDM's churn "
                       "(Karras et al. 2022, Algorithm 2)", Domain(0.9, 1.1), positive=True)
snr_st = base("snr_st", "r", "signal-to-noise ratio of the Langevin corrector (step 2 r^2 v_{t'})", POSITIVE_UNIT,
              positive=True)
ratio_st = base("ratio_st", r"\epsilon", "Langevin step of annealed Langevin dynamics per unit v_{t'}",
                POSITIVE_UNIT, positive=True)
# Further standard normals of a step that draws more than once (a corrector, annealed levels).
draws_st = tuple(base(f"z{j}_st", f"z_{{k,{j}}}", f"standard normal of a step's draw {j}", REAL, real=True)
                 for j in range(2, 13))



# --------------------------------------------------------------------------
# Reverse samplers of the Monte Carlo engine (samplers.*)
# --------------------------------------------------------------------------
# The mixture data (mix_weight, mix_mean_*, mix_var_*) are the ones of the Tweedie section.
kernel_mean_coef = base("kernel_mean_coef", r"m_t", "signal coefficient of the forward kernel N(m_t x_0, v_t)",
                        POSITIVE_UNIT, positive=True)
kernel_var = base("kernel_var", r"v_t", "variance of the forward kernel N(m_t x_0, v_t)", POSITIVE, positive=True)


# --------------------------------------------------------------------------
# Conditional generation: guidance and inpainting (guidance.*, inpaint.*)
# --------------------------------------------------------------------------
#   Class c = the first component of the two-component mixture above (prior mix_weight); the guided
#   field (1 + w) s(x | c) - w s(x); Gaussian class-conditional N(mean_cls, var_cls) and Gaussian
#   unconditional N(mean_unc, var_unc) laws. Inpainting: 2-D Gaussian data of the gauss_exact section,
#   the first coordinate observed (obs_inp), the second unknown (x_sde at the unknown's value).
guide_w = base("guide_w", r"\omega", "classifier-free guidance scale omega: (1 + omega) s(x | c) - omega s(x)",
               Domain(0.0, 4.0), nonnegative=True)
cls_scale = base("cls_scale", r"\gamma", "classifier guidance scale: s(x) + gamma grad log p(c | x)",
                 Domain(0.0, 5.0), nonnegative=True)
mean_cls = base("mean_cls", r"\mu_c", "mean of a Gaussian class-conditional data law p(x | c)", REAL, real=True)
var_cls = base("var_cls", r"\sigma_c^2", "variance of a Gaussian class-conditional data law p(x | c)", POSITIVE,
               positive=True)
mean_unc = base("mean_unc", r"\mu_u", "mean of a Gaussian unconditional data law p(x)", REAL, real=True)
var_unc = base("var_unc", r"\sigma_u^2", "variance of a Gaussian unconditional data law p(x)", POSITIVE,
               positive=True)
obs_inp = base("obs_inp", r"x_{\mathrm{o}}", "observed (known) coordinate of inpainted 2-D data", REAL, real=True)
# Brownian bridge (bridge.*): W from a at time 0, conditioned on W_T = b; time t in (0, T).
bridge_start = base("bridge_start", "a", "start value of a Brownian bridge at time 0", REAL, real=True)
bridge_end = base("bridge_end", "b", "end value a Brownian bridge is conditioned on at its horizon", REAL, real=True)
bridge_horizon = base("bridge_horizon", "T", "horizon of a Brownian bridge (t < T)", Domain(1.1, 2.0), positive=True)
# Linear inverse problems (inverse.*): y = A x_0 + n, n ~ N(0, sigma_y^2); Gaussian prior N(mean_data, var_data).
op_inv = base("op_inv", "A", "forward operator of a linear inverse problem y = A x_0 + n (one coordinate)", POSITIVE,
              positive=True)
obs_inv = base("obs_inv", r"y_{\mathrm{obs}}", "measurement y of a linear inverse problem", REAL, real=True)
var_obs_inv = base("var_obs_inv", r"\sigma_y^2", "variance of the measurement noise n", POSITIVE, positive=True)
zeta_dps = base("zeta_dps", r"\zeta", "DPS step size: x' - zeta grad ||y - A x0_hat(x)||^2", Domain(0.0, 2.0),
                nonnegative=True)
# Conditional OU (bridge.conditional_ou): dX = kappa (theta + c_Y Y - X) dt + sigma sqrt(1 + Y^2) dW, Y ~ N(mu_Y, s_Y^2).
cond_y = base("cond_y", "Y", "condition of the conditional OU process (independent of its Brownian motion)", REAL,
              real=True)
mean_cond_y = base("mean_cond_y", r"\mu_Y", "mean of the condition Y", REAL, real=True)
std_cond_y = base("std_cond_y", r"s_Y", "standard deviation of the condition Y", POSITIVE, positive=True)
slope_cond_y = base("slope_cond_y", r"c_Y", "slope of the conditional OU's long-run mean in Y", REAL, real=True)


# --------------------------------------------------------------------------
# One-step solvers on the linear test equation y' = r(t) y (solver_order.*)
# --------------------------------------------------------------------------
# On Gaussian data the probability-flow ODE is y' = r(t) y per eigenvalue; r is expanded at the
# step's start, r(t + tau) = sum_k r_k tau^k / k!.
_RATE_TERMS = ("value", "first derivative", "second derivative", "third derivative", "fourth derivative")
rate_derivs_ode = tuple(
    base(f"rate_d{k}_ode", f"r_{k}", f"{term} of the test equation's rate r(t) at the step's start", REAL, real=True)
    for k, term in enumerate(_RATE_TERMS))
stage_mid_ode = base("stage_mid_ode", r"c_{\mathrm{mid}}",
                     "fraction of the step at which RK4's two middle stages evaluate the right-hand side",
                     POSITIVE_UNIT, positive=True)

# --------------------------------------------------------------------------
# Exponential moving average of parameters (ema.*)
# --------------------------------------------------------------------------
decay_ema = base("decay_ema", r"\beta_{\mathrm{ema}}", "decay of the exponential moving average", POSITIVE_UNIT,
                 positive=True)

# --------------------------------------------------------------------------
# The reversed Brownian motion of a time reversal (fp.reversed_brownian)
# --------------------------------------------------------------------------
u_rev = base("u_rev", "u", "intermediate time t <= u <= T of the forward process", Domain(0.05, 1.0), positive=True)
count_ema = base("count_ema", "n", "number of updates the moving average has seen", Domain(1.0, 50.0),
                 integer=True, positive=True)
age_ema = base("age_ema", "m", "age n - k of the k-th update after n updates", Domain(0.0, 50.0),
               integer=True, nonnegative=True)

# --------------------------------------------------------------------------
# Linear-Gaussian VAE (vae.*): prior N(mu_x, var_x), decoder N(gain x + offset, var_noise), encoder N(vae_mean, vae_std^2)
# --------------------------------------------------------------------------
vae_post_var = defined("vae_post_var", r"\sigma_{x|y}^2", "variance of the true posterior p(x | y)",
                       var_noise * var_x / (gain**2 * var_x + var_noise), positive=True)
vae_post_mean = defined("vae_post_mean", r"\mu_{x|y}", "mean of the true posterior p(x | y)",
                        vae_post_var * (mu_x / var_x + gain * (y - offset) / var_noise), real=True)

# DPM-Solver (dpm_solver.*): one step t_{i-1} -> t_i of the probability-flow ODE in the
# half-log-SNR lambda = log(alpha / sigma) (Lu et al. 2022), for any kernel N(alpha x_0, sigma^2);
# s_i is a step's intermediate point, t_{i-2} the previous grid point of a multistep method.
# --------------------------------------------------------------------------
lam_s_dpm = base("lam_s_dpm", r"\lambda_{t_{i-1}}", "half-log-SNR log(alpha/sigma) at a solver step's start",
                 REAL, real=True)
h_dpm = base("h_dpm", "h_i", "solver step lambda_{t_i} - lambda_{t_{i-1}} in half-log-SNR", Domain(0.01, 1.5),
             positive=True)
lam_t_dpm = defined("lam_t_dpm", r"\lambda_{t_i}", "half-log-SNR at a solver step's end", lam_s_dpm + h_dpm,
                    real=True)
abbreviate(h_dpm, lam_t_dpm - lam_s_dpm)
alpha_s_dpm = base("alpha_s_dpm", r"\alpha_{t_{i-1}}", "signal coefficient of the kernel at a solver step's start",
                   POSITIVE_UNIT, positive=True)
alpha_t_dpm = base("alpha_t_dpm", r"\alpha_{t_i}", "signal coefficient of the kernel at a solver step's end",
                   POSITIVE_UNIT, positive=True)
alpha_u_dpm = base("alpha_u_dpm", r"\alpha_{s_i}", "signal coefficient of the kernel at a solver step's "
                   "intermediate point", POSITIVE_UNIT, positive=True)
r_dpm = base("r_dpm", "r_1", "position (lambda_{s_i} - lambda_{t_{i-1}}) / h_i of a single-step solver's "
             "intermediate point", Domain(0.1, 0.9), positive=True)
ratio_dpm = base("ratio_dpm", "r_i", "ratio h_{i-1} / h_i of a multistep solver's previous step to its step",
                 Domain(0.3, 3.0), positive=True)
sigma_s_dpm = defined("sigma_s_dpm", r"\sigma_{t_{i-1}}", "noise standard deviation of the kernel at a solver "
                      "step's start", alpha_s_dpm * sp.exp(-lam_s_dpm), positive=True)
sigma_t_dpm = defined("sigma_t_dpm", r"\sigma_{t_i}", "noise standard deviation of the kernel at a solver "
                      "step's end", alpha_t_dpm * sp.exp(-lam_t_dpm), positive=True)
sigma_u_dpm = defined("sigma_u_dpm", r"\sigma_{s_i}", "noise standard deviation of the kernel at a solver "
                      "step's intermediate point", alpha_u_dpm * sp.exp(-lam_s_dpm - r_dpm * h_dpm), positive=True)
x_s_dpm = base("x_s_dpm", r"\tilde x_{t_{i-1}}", "solver state at a step's start", REAL, real=True)
eps_s_dpm = base("eps_s_dpm", r"\varepsilon_{t_{i-1}}", "noise prediction at a solver step's start", REAL,
                 real=True)
eps_u_dpm = base("eps_u_dpm", r"\varepsilon_{s_i}", "noise prediction at a solver step's intermediate point",
                 REAL, real=True)
eps_d1_dpm = base("eps_d1_dpm", r"\varepsilon^{(1)}", "first lambda-derivative of the noise prediction along "
                  "the exact trajectory at a step's start", REAL, real=True)
eps_d2_dpm = base("eps_d2_dpm", r"\varepsilon^{(2)}", "second lambda-derivative of the noise prediction along "
                  "the exact trajectory at a step's start", REAL, real=True)
jac_dpm = base("jac_dpm", r"J_\varepsilon", "derivative of the noise prediction in the state near the exact "
               "trajectory", REAL, real=True)
data_s_dpm = base("data_s_dpm", r"\hat x_{0|t_{i-1}}", "data prediction at a solver step's start", REAL,
                  real=True)
data_prev_dpm = base("data_prev_dpm", r"\hat x_{0|t_{i-2}}", "data prediction at a multistep solver's previous "
                     "grid point", REAL, real=True)
data_d1_dpm = base("data_d1_dpm", r"\hat x_0^{(1)}", "first lambda-derivative of the data prediction along the "
                   "exact trajectory at a step's start", REAL, real=True)
data_d2_dpm = base("data_d2_dpm", r"\hat x_0^{(2)}", "second lambda-derivative of the data prediction along the "
                   "exact trajectory at a step's start", REAL, real=True)
# DPM-Solver-3: its second intermediate point s_i' at lambda_{t_{i-1}} + 2 h_i / 3 (the first at h_i / 3).
alpha_u2_dpm = base("alpha_u2_dpm", r"\alpha_{s'_i}", "signal coefficient of the kernel at a third-order solver's "
                    "second intermediate point", POSITIVE_UNIT, positive=True)
sigma_u2_dpm = defined("sigma_u2_dpm", r"\sigma_{s'_i}", "noise standard deviation at a third-order solver's second "
                       "intermediate point", alpha_u2_dpm * sp.exp(-lam_s_dpm - 2 * h_dpm / 3), positive=True)
eps_u2_dpm = base("eps_u2_dpm", r"\varepsilon_{s'_i}", "noise prediction at a third-order solver's second "
                  "intermediate point", REAL, real=True)


# --------------------------------------------------------------------------
# Schedules and loss weights (schedules.*): the cosine schedule at the fraction tau = t/T of the
# steps, the zero-terminal-SNR rescaling between the first and last levels, min-SNR-gamma weights.
# --------------------------------------------------------------------------
tau_cos = base("tau_cos", r"\tau", "fraction t/T of the way through the noising steps", Domain(0.05, 0.95),
               positive=True)
offset_cos = base("offset_cos", r"s_{\cos}", "offset s of the cosine schedule (0.008 in Nichol & Dhariwal)",
                  Domain(0.001, 0.1), positive=True)
dtau_cos = base("dtau_cos", r"\Delta\tau", "one step 1/T as a fraction of the noising steps", Domain(0.001, 0.04),
                positive=True)
alpha_bar_first = base("alpha_bar_first", r"\bar\alpha_1", "cumulative product at the first noising step",
                       POSITIVE_UNIT, positive=True)
alpha_bar_last = base("alpha_bar_last", r"\bar\alpha_T", "cumulative product at the last noising step T",
                      POSITIVE_UNIT, positive=True)
gamma_snr = base("gamma_snr", r"\gamma", "SNR cap of the min-SNR-gamma loss weight", Domain(1.0, 10.0),
                 positive=True)


# --------------------------------------------------------------------------
# EDM's preconditioning (edm.*): x = y + n, y of standard deviation sigma_data, n ~ N(0, sigma^2)
# --------------------------------------------------------------------------
sigma_edm = base("sigma_edm", r"\sigma_n", "noise level sigma of EDM's noised input x = y + n", POSITIVE,
                 positive=True)
sigma_data_edm = base("sigma_data_edm", r"\sigma_{\mathrm{data}}", "standard deviation of the data in EDM's "
                      "preconditioning", POSITIVE, positive=True)


# --------------------------------------------------------------------------
# Likelihoods (likelihood.*): VDM's bound with T steps between SNR_max (t = 0) and SNR_min (t = 1),
# the probability-flow ODE's divergence in d dimensions.
# --------------------------------------------------------------------------
snr_max_vdm = base("snr_max_vdm", r"\mathrm{SNR}_{\max}", "signal-to-noise ratio at t = 0 (least noise)", POSITIVE,
                   positive=True)
snr_min_vdm = base("snr_min_vdm", r"\mathrm{SNR}_{\min}", "signal-to-noise ratio at t = 1 (most noise)", POSITIVE,
                   positive=True)
snr_rate_vdm = base("snr_rate_vdm", r"\mathrm{SNR}_t^{\prime}", "time derivative SNR'(t) of a continuous signal-to-noise "
                    "ratio", REAL, real=True)
rate_err_vdm = base("rate_err_vdm", r"\kappa", "decay rate of the example error curve e^{-kappa t}",
                    Domain(0.1, 3.0), positive=True)
lap_log_p = base("lap_log_p", r"\Lambda_t", "Laplacian (trace of the Hessian) of log p_t at the current point",
                 REAL, real=True)
# Consistency models (consistency.*): a second time s of the same trajectory, through B(s) = int_0^s beta.
B_s_cm = base("B_s_cm", "B(s)", "integrated VP schedule at a second time s of a trajectory", Domain(0.01, 8.0),
              positive=True)
# EDM's time discretization (edm.rho_schedule): N levels sigma_0 = sigma_max > ... > sigma_{N-1} = sigma_min.
rho_edm = base("rho_edm", r"\rho", "exponent of EDM's noise-level discretization (7 in Karras et al.)",
               Domain(1.0, 10.0), positive=True)
steps_edm = base("steps_edm", "N", "number of noise levels of a sampler's discretization", Domain(2.0, 50.0),
                 integer=True, positive=True)
index_edm = base("index_edm", "k", "index of a noise level, 0 <= k <= N - 1", Domain(0.0, 1.0), nonnegative=True)
# EDM's ODE and SDE family (edm.ode_sde): x = s(t) (y + n), n ~ N(0, sigma(t)^2), at one time t.
scale_edm = base("scale_edm", "s_t", "EDM's scale s(t) of the noised signal", POSITIVE, positive=True)
dscale_edm = base("dscale_edm", r"s_t^{\prime}", "time derivative of EDM's scale s(t)", REAL, real=True)
sigma_t_edm = base("sigma_t_edm", r"\sigma_t", "EDM's noise level sigma(t) at time t", POSITIVE, positive=True)
dsigma_edm = base("dsigma_edm", r"\sigma_t^{\prime}", "time derivative of EDM's noise level sigma(t)", REAL, real=True)
score_edm = base("score_edm", r"\psi", "score of the noised data p(y; sigma) at y = x / s(t)", REAL, real=True)
rate_lgv_edm = base("rate_lgv_edm", r"\beta_{\mathrm{L}}", "rate beta(t) of the Langevin exchange in EDM's SDE family",
                    Domain(0.0, 3.0), nonnegative=True)
# EDM's churn (edm.churn): the level t raised to t_hat = (1 + gamma) t, fresh noise of variance t_hat^2 - t^2.
gamma_churn = base("gamma_churn", r"\gamma_{\mathrm{churn}}", "EDM's churn factor gamma_i: t_hat = (1 + gamma_i) t_i",
                   Domain(0.0, 1.0), nonnegative=True)
level_churn = base("level_churn", r"t_{\mathrm{c}}", "noise level t_i = sigma(t_i) that EDM's churn raises",
                   POSITIVE, positive=True)
# EDM's conditioning of the network on the noise level (edm.c_noise).
c_noise_edm = base("c_noise_edm", r"c_{\mathrm{noise}}", "EDM's noise-level input of the network F", REAL, real=True)
p_mean_edm = base("p_mean_edm", r"P_{\mathrm{mean}}", "mean of ln sigma under EDM's training distribution (-1.2)",
                  REAL, real=True)
p_std_edm = base("p_std_edm", r"P_{\mathrm{std}}", "standard deviation of ln sigma under EDM's training distribution (1.2)",
                 POSITIVE, positive=True)
# The bound at a generic step t (elbo.generic_t): the reverse kernel p_theta(x_{t-1} | x_t) = N(a_t x_t + b_t, sigma_t^2)
# (its variance is var_model).
rev_gain_t = base("rev_gain_t", "a_t", "gain of the reverse kernel p_theta(x_{t-1} | x_t)", REAL, real=True)
rev_offset_t = base("rev_offset_t", "b_t", "offset of the reverse kernel p_theta(x_{t-1} | x_t)", REAL, real=True)
# A linear SDE dX = mu(t) X dt + sigma(t) dW written with its coefficients apart (sde.linear_reverse).
mu_lin = base("mu_lin", r"\mu(t)", "drift rate mu(t) of a linear SDE dX = mu X dt + sigma dW", REAL, real=True)
sigma_lin = base("sigma_lin", r"\sigma_{\mathrm{lin}}(t)", "diffusion coefficient sigma(t) of a linear SDE "
                 "dX = mu X dt + sigma dW", POSITIVE, positive=True)
var_lin = base("var_lin", "V(t)", "variance of the Gaussian marginal p_t of a linear SDE", POSITIVE, positive=True)
# Isotropic Gaussians in d dimensions (gaussian.isotropic): P = N(mu_P, sigma_P^2 I), Q = N(mu_Q, sigma_Q^2 I).
# One symbol for the dimension (gaussian.isotropic, likelihood.pf_ode_exact); "D", since the page
# reader takes a "d" over 2 for a derivative.
dim_d = base("dim_d", "D", "dimension of the state space", Domain(1.0, 8.0), positive=True)
mean_dist_sq = base("mean_dist_sq", r"\Delta_\mu^2", "squared distance ||mu_Q - mu_P||^2 between the means of "
                    "P and Q in d dimensions", POSITIVE, positive=True)
dev_sq = base("dev_sq", "r^2", "squared distance ||x - mu_P||^2 of a point to the mean of P in d dimensions",
              POSITIVE, positive=True)
# Two-level hierarchical VAE (vae.hierarchical): p(z_2) = N(0, 1), p(z_1 | z_2) = N(c z_2, u), p(y | z_1) = N(a z_1 + b, s^2);
# encoder q(z_1 | y) = N(m_1, w_1), q(z_2 | z_1) = N(k z_1 + m_2, w_2).
hvae_prior_gain = base("hvae_prior_gain", "c", "gain of the hierarchical prior p(z_1 | z_2) = N(c z_2, u)", REAL,
                       real=True)
hvae_prior_var = base("hvae_prior_var", "u", "variance of the hierarchical prior p(z_1 | z_2)", POSITIVE,
                      positive=True)
hvae_mean_1 = base("hvae_mean_1", "m_1", "mean of the encoder q(z_1 | y) = N(m_1, w_1)", REAL, real=True)
hvae_var_1 = base("hvae_var_1", "w_1", "variance of the encoder q(z_1 | y)", POSITIVE, positive=True)
hvae_gain_2 = base("hvae_gain_2", "k", "gain of the encoder q(z_2 | z_1) = N(k z_1 + m_2, w_2)", REAL, real=True)
hvae_mean_2 = base("hvae_mean_2", "m_2", "offset of the encoder q(z_2 | z_1)", REAL, real=True)
hvae_var_2 = base("hvae_var_2", "w_2", "variance of the encoder q(z_2 | z_1)", POSITIVE, positive=True)
# One term of a Riemann sum of a stochastic integral (ito.lambda_summand): grid point t_k = k h.
t_grid = base("t_grid", "t_k", "grid point t_k = k h of a Riemann sum", Domain(0.0, 1.0), nonnegative=True)
# One symbol for the horizon of every discrete bound (elbo.generic_t, likelihood.vdm_continuous).
steps_T = base("steps_T", "T", "number of steps T of a noising chain (a discrete bound's horizon)",
               Domain(2.0, 12.0), integer=True, positive=True)
