r"""``fp.reversed_brownian``: the Brownian motion of the time-reversed Ornstein–Uhlenbeck process.

Haussmann & Pardoux (1986) and Anderson (1982) write the reversal of :math:`dX = f\,du + \sigma\,dW`
with the process :math:`\bar w` defined by :math:`d\bar w = dW + \sigma\nabla\log p_u(X_u)\,du`: it is
a Brownian motion in reversed time, its increments over :math:`[t, T]` independent of :math:`X_T`.
For the OU process :math:`dX = -\kappa X\,du + \sigma\,dW` from Gaussian data
:math:`X_0 \sim \mathcal N(\mu_0, \sigma_0^2)` everything is jointly Gaussian, so independence is
:math:`\mathrm{Cov}(\bar w_T - \bar w_t, X_T) = 0`, and the Brownian law of the increment is
:math:`\mathrm{Var}(\bar w_T - \bar w_t) = T - t`. Both are computed here from second moments,
each obtained by solving the linear ODE Itô's formula gives for it:

* :math:`v(u) = \mathrm{Var}\,X_u`: :math:`v' = -2\kappa v + \sigma^2`, :math:`v(0) = \sigma_0^2`;
* :math:`\mathrm{Cov}(X_u, X_T) = e^{-\kappa(T-u)} v(u)` (:math:`\partial_T` of it is :math:`-\kappa` times it);
* :math:`c(u) = \mathrm{Cov}(W_u - W_t, X_u)`: :math:`c' = -\kappa c + \sigma`, :math:`c(t) = 0`;
* the score :math:`\nabla\log p_u(x) = -(x - m(u))/v(u)` is affine, so its covariances are those of
  :math:`X_u` divided by :math:`-v(u)`.
"""

from __future__ import annotations

import sympy as sp

from derivations.core.notation import T_rev, kappa_ou, sigma_ou, time, u_rev, var_data
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation

HAUSSMANN_PARDOUX = "U. G. Haussmann, E. Pardoux, Time reversal of diffusions, Ann. Probab. 14 (1986), Thm. 2.1"
ANDERSON = "B. D. O. Anderson, Reverse-time diffusion equation models, Stoch. Proc. Appl. 12 (1982), eq. (3.5)"

_r = sp.Symbol("r", positive=True)  # second integration time, t <= u <= r <= T


def _solve_linear(rate: sp.Expr, source: sp.Expr, start: sp.Expr, value: sp.Expr) -> sp.Expr:
    """The solution of :math:`y' = \\text{rate}\\,y + \\text{source}` in :math:`u` with :math:`y(\\text{start}) = \\text{value}`."""
    y = sp.Function("y")
    solution = sp.dsolve(sp.Eq(y(u_rev).diff(u_rev), rate * y(u_rev) + source), y(u_rev),
                         ics={y(start): value}).rhs
    return sp.simplify(solution)


@derivation(
    id="fp.reversed_brownian",
    title="The reversed Brownian motion of the OU process: independent of the future state, Brownian variance",
    statement=r"For $dX = -\kappa X\,du + \sigma\,dW$ from $\mathcal N(\mu_0, \sigma_0^2)$ and "
              r"$d\bar w = dW + \sigma\nabla\log p_u(X_u)\,du$: "
              r"$\mathrm{Cov}(\bar w_T - \bar w_t, X_T) = 0$ and $\mathrm{Var}(\bar w_T - \bar w_t) = T - t$ "
              r"for every $t < T$.",
    tier=Tier.EXACT,
    assumptions=(r"$\kappa, \sigma, \sigma_0 > 0$; $X_0$ independent of $W$; $0 < t < T$",
                 "the mean of the data does not enter: covariances of an affine score ignore it"),
    references=(HAUSSMANN_PARDOUX, ANDERSON),
)
def _reversed_brownian() -> Body:
    kappa, sigma, t, T, u = kappa_ou, sigma_ou, time, T_rev, u_rev
    var = _solve_linear(-2 * kappa, sigma**2, 0, var_data)  # v(u)
    noise_cov = _solve_linear(-kappa, sigma, t, 0)  # c(u) = Cov(W_u - W_t, X_u)
    state_cov_T = sp.exp(-kappa * (T - u)) * var  # Cov(X_u, X_T)
    # Cov(score_u(X_u), X_T) and Cov(W_T - W_t, score_u(X_u)) = -c(u)/v(u)  (W_T - W_u is independent of X_u)
    score_cov_T = sp.simplify(-state_cov_T / var)
    cov_noise = noise_cov.subs(u, T)
    cov_score = sp.integrate(score_cov_T, (u, t, T))
    cov_reversed = sp.simplify(cov_noise + sigma * cov_score)
    # Var of the score integral: 2 int_t^T dr int_t^r Cov(X_u, X_r) / (v(u) v(r)) du, Cov(X_u, X_r) = e^{-k(r-u)} v(u)
    inner = sp.integrate(sp.exp(-kappa * (_r - u)), (u, t, _r)).subs(_r, u)
    score_var_term = sp.Integral(sp.simplify(inner / var), (u, t, T))  # times 2 sigma^2
    cross_term = sp.Integral(sp.simplify(-noise_cov / var), (u, t, T))  # times 2 sigma
    var_reversed = sp.simplify((T - t) + 2 * sigma * cross_term + 2 * sigma**2 * score_var_term)
    steps = (
        Relation(r"$v = \mathrm{Var}\,X_u$ solves $v' = -2\kappa v + \sigma^2$ (Itô's formula on $X^2$): "
                 r"the residual $v' + 2\kappa v - \sigma^2$ with $v$ substituted",
                 sp.Add(sp.diff(var, u), 2 * kappa * var, -sigma**2, evaluate=False), 0),
        Relation(r"$c(u) = \mathrm{Cov}(W_u - W_t, X_u)$ solves $c' = -\kappa c + \sigma$ (Itô's product rule): "
                 r"the residual with $c$ substituted",
                 sp.Add(sp.diff(noise_cov, u), kappa * noise_cov, -sigma, evaluate=False), 0),
        Relation(r"$\mathrm{Cov}(\bar w_T - \bar w_t, X_T) = c(T) + \sigma\int_t^T \mathrm{Cov}(\nabla\log p_u(X_u), X_T)\,du$"
                 r", with $\mathrm{Cov}(\nabla\log p_u(X_u), X_T) = -e^{-\kappa(T-u)}$",
                 sp.Add(cov_noise, sigma * cov_score, evaluate=False), 0),
        Relation(r"$\mathrm{Var}(\bar w_T - \bar w_t)$: $T - t$, plus twice $\sigma$ times the noise-score covariance, "
                 r"plus $\sigma^2$ times the score integral's variance (the last two cancel)",
                 # one integral over [t, T] of the two integrands, which cancel pointwise
                 sp.Add(T - t, sp.Integral(sp.Add(cross_term.function * 2 * sigma, score_var_term.function
                                                  * 2 * sigma**2, evaluate=False), (u, t, T)), evaluate=False),
                 T - t),
    )
    results = (
        Result("var_state", var, "Var X_u of the OU process from N(mu_0, sigma_0^2)"),
        Result("cov_noise_state", cov_noise, "Cov(W_T - W_t, X_T): the forward noise is not independent of X_T"),
        Result("cov_reversed", cov_reversed, "Cov(w-bar_T - w-bar_t, X_T)"),
        Result("var_reversed", var_reversed, "Var(w-bar_T - w-bar_t)"),
    )
    claims = (
        Claim("cov_reversed", sp.Integer(0),
              HAUSSMANN_PARDOUX + r": $\bar w$ has increments independent of the reversed process's past ($X_T$)"),
        Claim("var_reversed", T - t, ANDERSON + r": $\bar w$ is a standard Brownian motion in reversed time"),
    )
    wrong = (
        WrongVariant("cov_reversed", cov_noise, "the score correction dropped: the forward W's covariance with X_T"),
        WrongVariant("cov_reversed", sp.simplify(cov_noise - sigma * cov_score), "the correction's sign flipped (dW - sigma score du)"),
        WrongVariant("var_reversed", T, "the variance of the reversed motion at T, not of its increment"),
    )
    return Body(steps=steps, results=results, claims=claims, wrong_variants=wrong)
