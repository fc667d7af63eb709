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
time = base("t", "t", "time", Domain(0.05, 1.0), positive=True)
B_t = base("B_t", r"B(t)", "integrated schedule int_0^t beta(u) du", Domain(0.01, 8.0), positive=True)
beta_min = base("beta_min", r"\beta_{\min}", "VP schedule at t = 0", Domain(0.05, 0.5), positive=True)
beta_max = base("beta_max", r"\beta_{\max}", "VP schedule at t = 1", Domain(5.0, 20.0), positive=True)
sigma_min = base("sigma_min", r"\sigma_{\min}", "VE noise level at t = 0", Domain(0.01, 0.5), positive=True)
sigma_max = base("sigma_max", r"\sigma_{\max}", "VE noise level at t = 1", Domain(1.0, 50.0), positive=True)
var_data = base("var_data", r"\lambda", "data variance (an eigenvalue of Sigma)", Domain(0.0, 3.0), positive=True)
B_linear = defined("B_linear", r"B_{\mathrm{lin}}(t)", "integrated linear schedule",
                   beta_min * time + (beta_max - beta_min) * time**2 / 2, positive=True)
sigma_ve = defined("sigma_ve", r"\sigma(t)", "VE geometric noise level sigma_min (sigma_max/sigma_min)^t",
                   sigma_min * (sigma_max / sigma_min) ** time, positive=True)


# --------------------------------------------------------------------------
# Fokker-Planck, reverse-time SDEs, probability-flow ODE, Langevin (fp.*, langevin.*)
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# Exact Gaussian-data solutions and discretized samplers (gauss_exact.*)
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# Reverse samplers of the Monte Carlo engine (samplers.*)
# --------------------------------------------------------------------------
mix_weight = base("mix_weight", "w", "weight of the first component of a two-component Gaussian mixture",
                  POSITIVE_UNIT, positive=True)
mix_mean_1 = base("mix_mean_1", r"\mu_1", "mean of mixture component 1 (data)", REAL, real=True)
mix_mean_2 = base("mix_mean_2", r"\mu_2", "mean of mixture component 2 (data)", REAL, real=True)
mix_var_1 = base("mix_var_1", r"s_1^2", "variance of mixture component 1 (data)", POSITIVE, positive=True)
mix_var_2 = base("mix_var_2", r"s_2^2", "variance of mixture component 2 (data)", POSITIVE, positive=True)
kernel_mean_coef = base("kernel_mean_coef", r"m_t", "signal coefficient of the forward kernel N(m_t x_0, v_t)",
                        POSITIVE_UNIT, positive=True)
kernel_var = base("kernel_var", r"v_t", "variance of the forward kernel N(m_t x_0, v_t)", POSITIVE, positive=True)
