r"""The one notation of the suite: every symbol is defined here, once.

A *base* symbol is free: it has SymPy assumptions and an admissible domain
that the numeric proof tier samples from. A *defined* symbol is a name for an
expression in other symbols (``beta_t`` is :math:`1 - \alpha_t`); proofs
expand definitions down to base symbols, while results keep the readable
names, and numeric evaluation takes the defined names as inputs too.

Constraints between quantities are built into the choice of base symbols
(e.g. :math:`\bar\alpha_t = \alpha_t \bar\alpha_{t-1}` makes
:math:`\bar\alpha_t < \bar\alpha_{t-1}` automatic), so that every random
point of the domains is admissible.

=================  ===============================  ==========================
code name          LaTeX                            meaning
=================  ===============================  ==========================
(see ``table()``; the report prints the table of each derivation's symbols)
=================  ===============================  ==========================
"""

from __future__ import annotations

import random
from dataclasses import dataclass
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

    @property
    def is_base(self) -> bool:
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
        if entry.definition is not None:
            stack.extend(entry.definition.free_symbols)
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
x = base("x", "x", "latent variable", REAL, real=True)
y = base("y", "y", "observation", REAL, real=True)
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
x_t = base("x_t", "x_t", "noisy sample at step t", REAL, real=True)
x_prev = base("x_prev", "x_{t-1}", "sample at step t-1", REAL, real=True)
eps = base("eps", r"\varepsilon", "standard normal noise", REAL, real=True)

# --------------------------------------------------------------------------
# Discrete: VE (SMLD), DDIM, ELBO and KL terms (ve.*, ddim.*, elbo.*, gaussian.kl/w2)
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# Tweedie and score matching (tweedie.*, score.*)
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# Continuous time: OU, VP/VE/sub-VP SDEs, Ito calculus (ou.*, sde.*, ito.*)
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# Fokker-Planck, reverse-time SDEs, probability-flow ODE, Langevin (fp.*, langevin.*)
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# Exact Gaussian-data solutions and discretized samplers (gauss_exact.*)
# --------------------------------------------------------------------------
# Scaled VP SDE dX = -beta(u) X du + sqrt(2 beta(u)) dW, data N(0, Sigma), one
# eigenvalue lam_eig of Sigma at a time; "_pg" marks the Pierret-Galerne setting.
lam_eig = base("lam_eig", r"\lambda", "an eigenvalue of the data covariance Sigma", POSITIVE, positive=True)
u_pg = base("u_pg", "u", "forward time of the scaled VP SDE", POSITIVE_UNIT, positive=True)
beta_min_pg = base("beta_min_pg", r"\beta_{\min}", "rate of the linear schedule at u = 0", POSITIVE, positive=True)
beta_span_pg = base("beta_span_pg", r"\beta_{\max} - \beta_{\min}", "slope of the linear schedule over [0, 1]",
                    Domain(0.5, 10.0), positive=True)
B_u_pg = base("B_u_pg", "B(u)", "integrated rate B(u) = int_0^u beta", POSITIVE, positive=True)
B_T_pg = base("B_T_pg", "B(T)", "integrated rate at the final time T", POSITIVE, positive=True)
var_init_pg = base("var_init_pg", "C_T", "variance (one eigen-direction) the backward process starts from",
                   POSITIVE, positive=True)
y_pg = base("y_pg", "y", "state of a backward sampler (one eigen-direction)", REAL, real=True)
z0_pg = base("z0_pg", "z_0", "standard normal of the current state y = sqrt(c) z_0", REAL, real=True)
z_pg = base("z_pg", "z_k", "standard normal injected by a stochastic step", REAL, real=True)
var_c_pg = base("var_c_pg", "c", "variance of the sampler state before a step", POSITIVE, positive=True)
rho_pg = base("rho_pg", r"\rho", "correlation of a coupling of two centred Gaussians", POSITIVE_UNIT, positive=True)
dt_pg = base("dt_pg", r"\Delta", "step size of a sampler in reversed time", Domain(0.001, 0.05), positive=True)
beta_k_pg = base("beta_k_pg", r"\beta_k", "rate at the left end u_k of a step", POSITIVE, positive=True)
beta_next_pg = base("beta_next_pg", r"\beta_{k+1}", "rate at the right end u_{k+1} of a step", POSITIVE,
                    positive=True)
beta_mid_pg = base("beta_mid_pg", r"\beta_{k+1/2}", "rate at the midpoint of a step", POSITIVE, positive=True)
prec_k_pg = base("prec_k_pg", r"\Sigma_{u_k}^{-1}", "precision of p_u at u_k: the score is -prec y", POSITIVE,
                 positive=True)
prec_next_pg = base("prec_next_pg", r"\Sigma_{u_{k+1}}^{-1}", "precision of p_u at u_{k+1}", POSITIVE, positive=True)
prec_mid_pg = base("prec_mid_pg", r"\Sigma_{u_{k+1/2}}^{-1}", "precision of p_u at the midpoint", POSITIVE,
                   positive=True)
beta_int_pg = base("beta_int_pg", "h_k", "rate integrated over one step, B(u_k) - B(u_{k+1})", POSITIVE,
                   positive=True)
ab_next_pg = base("ab_next_pg", r"\bar\alpha_{k+1}", "signal fraction e^{-2B} at u_{k+1}", POSITIVE_UNIT,
                  positive=True)
ab_k_pg = defined("ab_k_pg", r"\bar\alpha_k", "signal fraction e^{-2B} at u_k", ab_next_pg * sp.exp(-2 * beta_int_pg),
                  positive=True)
eta_pg = base("eta_pg", r"\eta", "DDIM stochasticity (0: deterministic, 1: ancestral)", POSITIVE_UNIT, positive=True)



# --------------------------------------------------------------------------
# Reverse samplers of the Monte Carlo engine (samplers.*)
# --------------------------------------------------------------------------
