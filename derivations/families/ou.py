r"""ou.*: the Ornstein-Uhlenbeck process :math:`dX = \kappa(\theta - X)\,dt + \sigma\,dW`.

The transition law is derived twice: by Itô's formula on :math:`e^{\kappa t}X_t`
(:func:`derivations.families.ito.ito_differential`), whose drift does not depend on
:math:`X`, so that :math:`X_t` is an explicit Wiener integral whose covariance
the Itô isometry gives; and by the moment ODEs (``dsolve``) that Itô's formula
on :math:`x` and :math:`x^2` produces. The Euler-Maruyama chain of
:func:`checks.sim.forward.euler_maruyama` is linear-Gaussian too: its exact
discrete moments (pushed forward step by step, solved by ``rsolve``) give the
discretization bias that the Monte Carlo checks account for.

Times are encoded as :math:`s`, :math:`t = s + (t - s)`, :math:`t' = t + (t' - t)`
with nonnegative increments, so :math:`s < t \le t'` at every admissible point.
"""

from __future__ import annotations

import sympy as sp

from derivations.families.gaussian import log_density, push_forward
from derivations.families.ito import ito_differential
from derivations.core.notation import (
    expand_definitions,
    kappa_ou,
    lag_ou,
    s_ou,
    sigma_ou,
    h_sde,
    t_ou,
    theta_ou,
    tp_ou,
    x_sde,
    x_start_ou,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Equivalent, Relation, Result, WrongVariant, derivation
from derivations.core.work import derivative, held_product, held_sum, limit, named

OKSENDAL = "B. Øksendal, Stochastic Differential Equations, 6th ed. (2003), Example 5.1.4 (Langevin equation)"
GARDINER = "C. Gardiner, Stochastic Methods, 4th ed. (2009), §3.8.4 (Ornstein-Uhlenbeck process)"

_u = sp.Symbol("u", positive=True)  # time inside integrals and ODEs
_k = sp.Symbol("k", integer=True, nonnegative=True)  # Euler-Maruyama step index


def _drift(x: sp.Expr) -> sp.Expr:
    return kappa_ou * (theta_ou - x)


def _by_ito_formula() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""Mean, cross-covariance and the :math:`x`-dependence of the drift of :math:`d(e^{\kappa u}X_u)`.

    :math:`e^{\kappa t}X_t = e^{\kappa s}x_s + \int_s^t \kappa\theta e^{\kappa u}du + \int_s^t \sigma
    e^{\kappa u}dW_u`; for :math:`t \le t'` the isometry gives
    :math:`\mathrm{Cov} = e^{-\kappa(t + t')}\int_s^t \sigma^2 e^{2\kappa u}du`.
    """
    drift, diffusion = ito_differential(sp.exp(kappa_ou * _u) * x_sde, _u, x_sde, _drift(x_sde), sigma_ou)
    mean = sp.exp(-kappa_ou * t_ou) * (sp.exp(kappa_ou * s_ou) * x_start_ou + sp.integrate(drift, (_u, s_ou, t_ou)))
    cross_cov = sp.exp(-kappa_ou * (t_ou + tp_ou)) * sp.integrate(diffusion**2, (_u, s_ou, t_ou))
    return sp.powsimp(sp.expand(mean)), sp.powsimp(sp.expand(cross_cov)), sp.diff(drift, x_sde)


def _by_moment_odes() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""Mean, variance and cross-covariance from the moment ODEs, solved by ``dsolve``.

    Itô's formula on :math:`x` and :math:`x^2` gives drifts linear in :math:`(x, x^2)`;
    replacing them by :math:`m(u)` and :math:`S(u) = E[X_u^2]` gives the ODEs. For
    :math:`t' \ge t`, :math:`C(t') = \mathrm{Cov}(X_t, X_{t'})` solves
    :math:`\partial_{t'}C = -\kappa C` (the drift is affine), :math:`C(t) = \mathrm{Var}X_t`.
    """
    m, var_fn, cov = sp.Function("m"), sp.Function("v"), sp.Function("C")
    mean_rate, _ = ito_differential(x_sde, _u, x_sde, _drift(x_sde), sigma_ou)
    second_rate, _ = ito_differential(x_sde**2, _u, x_sde, _drift(x_sde), sigma_ou)
    # E[X^2] = v + m^2, and d/du (v + m^2) = E[second_rate]: solve for v'.
    second_rate = sp.expand(second_rate).subs(x_sde**2, var_fn(_u) + m(_u) ** 2).subs(x_sde, m(_u))
    var_rate = sp.expand(second_rate - 2 * m(_u) * mean_rate.subs(x_sde, m(_u)))
    mean = sp.dsolve(sp.Eq(m(_u).diff(_u), mean_rate.subs(x_sde, m(_u))), ics={m(s_ou): x_start_ou}).rhs
    var = sp.dsolve(sp.Eq(var_fn(_u).diff(_u), var_rate), ics={var_fn(s_ou): 0}).rhs
    var_at_t = var.subs(_u, t_ou)
    mean_drift_slope = sp.diff(mean_rate, x_sde)  # -kappa: the covariance decays at the mean's rate
    cross = sp.dsolve(sp.Eq(cov(_u).diff(_u), mean_drift_slope * cov(_u)), ics={cov(t_ou): var_at_t}).rhs
    return mean.subs(_u, t_ou), var_at_t, cross.subs(_u, tp_ou)


def _rational_in_decay(expr: sp.Expr, time_: sp.Symbol) -> sp.Expr:
    r"""``expr`` simplified with :math:`e^{-\kappa\tau}` as one variable (the density is then rational in it),
    written back: the rewrite the proofs of the Kolmogorov relations compare after."""
    decay = sp.Dummy("e", positive=True)
    rational = expr.subs(sp.exp(-2 * kappa_ou * time_), decay**2).subs(sp.exp(-kappa_ou * time_), decay)
    rational = rational.subs(sp.exp(kappa_ou * time_), 1 / decay).subs(sp.exp(2 * kappa_ou * time_), decay**-2)
    return sp.cancel(sp.together(sp.expand(sp.powsimp(rational)))).subs(decay, sp.exp(-kappa_ou * time_))


def _rational_in_lag_decay(expr: sp.Expr) -> sp.Expr:
    """:func:`_rational_in_decay` in the lag (a module-level function: a relation's ``prepare`` is pickled)."""
    return _rational_in_decay(expr, lag_ou)


def _kolmogorov_sides(density: sp.Expr, time_: sp.Symbol | None) -> tuple[sp.Expr, sp.Expr]:
    r""":math:`\partial_t p / p` (0 when stationary) and :math:`(-\partial_x(bp) + \tfrac12\sigma^2\partial_x^2 p)/p`,
    derivatives held."""
    rhs = held_product(held_sum(-derivative(_drift(x_sde) * density, x_sde),
                                held_product(sigma_ou**2 / 2, derivative(density, (x_sde, 2)))), 1 / density)
    lhs = held_product(derivative(density, time_), 1 / density) if time_ is not None else sp.Integer(0)
    return lhs, rhs


def _euler_maruyama_law() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""Mean, variance and covariance decay factor of the Euler-Maruyama chain
    :math:`X_{k+1} = X_k + \kappa(\theta - X_k)h + \sigma\sqrt h Z_k` at :math:`t = s + kh`,
    :math:`t' = t + k'h`: one step pushes :math:`\mathcal N(m, v)` to
    :math:`\mathcal N(am + \kappa\theta h, a^2v + \sigma^2h)`, :math:`a = 1 - \kappa h`, and
    :math:`\mathrm{Cov}(X_k, X_{k+k'}) = a^{k'}\mathrm{Var}X_k` (later noise is independent of :math:`X_k`)."""
    m, v = sp.Function("m"), sp.Function("v")
    gain = sp.Symbol("a", positive=True)  # 1 - kappa h > 0, kept positive so powers stay real
    mean_next, var_next = push_forward(m(_k), v(_k), gain, kappa_ou * theta_ou * h_sde, sigma_ou**2 * h_sde)
    solved = {gain: 1 - kappa_ou * h_sde}
    mean = sp.rsolve(m(_k + 1) - mean_next, m(_k), {m(0): x_start_ou}).subs(solved)
    var = sp.rsolve(v(_k + 1) - var_next, v(_k), {v(0): 0}).subs(solved)
    steps_to_t, steps_between = (t_ou - s_ou) / h_sde, (tp_ou - t_ou) / h_sde
    return mean.subs(_k, steps_to_t), var.subs(_k, steps_to_t), solved[gain] ** steps_between


def _in_lags(expr: sp.Expr) -> sp.Expr:
    """``expr`` in the base time symbols (s, t - s, t' - t)."""
    return sp.powsimp(expand_definitions(expr), combine="exp")


@derivation(
    id="ou.moments",
    title="Ornstein-Uhlenbeck process: transition law, cross-covariance, stationary law, Euler-Maruyama bias",
    statement=r"$dX = \kappa(\theta - X)dt + \sigma dW$, $X_s = x_s$, $s < t \le t'$: "
    r"$E[X_t] = \theta + (x_s - \theta)e^{-\kappa(t-s)}$, "
    r"$\mathrm{Cov}(X_t, X_{t'}) = \frac{\sigma^2}{2\kappa}(e^{-\kappa|t-t'|} - e^{-\kappa(t+t'-2s)})$; "
    r"the transition density $\mathcal N(E[X_t], \mathrm{Var}X_t)$ solves the forward Kolmogorov equation; "
    r"as $t - s \to \infty$ the law tends to the stationary $\mathcal N(\theta, \sigma^2/(2\kappa))$, "
    r"which solves the stationary Fokker-Planck equation. Euler-Maruyama with step $h$ has mean "
    r"$\theta + (x_s - \theta)(1 - \kappa h)^{(t-s)/h}$ and "
    r"variance $\sigma^2 h\frac{1 - (1-\kappa h)^{2(t-s)/h}}{1 - (1-\kappa h)^2}$.",
    tier=Tier.EXACT,
    assumptions=(r"$\kappa > 0$, $\sigma > 0$; $x_s$ deterministic",
                 r"$(t - s)/h$ and $(t' - t)/h$ integers for the Euler-Maruyama law; $\kappa h < 1$"),
    references=(OKSENDAL, GARDINER, "P. E. Kloeden, E. Platen, Numerical Solution of SDEs (1992), §9.1"),
)
def moments() -> Body:
    mean, cross_cov, drift_slope_in_x = _by_ito_formula()
    ode_mean, ode_var, ode_cross = _by_moment_odes()
    var = cross_cov.subs(tp_ou, t_ou)
    stationary_mean = sp.limit(expand_definitions(mean), lag_ou, sp.oo)
    stationary_var = sp.limit(expand_definitions(var), lag_ou, sp.oo)
    log_p = log_density(x_sde, mean, var)
    in_lag = expand_definitions(log_p).subs(s_ou, 0)  # time-homogeneous: the lag is the time
    em_mean, em_var, em_decay = _euler_maruyama_law()
    mean_bias, cross_cov_bias = em_mean - mean, em_decay * em_var - cross_cov
    stationary_log_p = log_density(x_sde, stationary_mean, stationary_var)
    transition = named("p_OU", r"p(x, t\mid x_s, s)", sp.exp(in_lag), description="the transition density, "
                       r"time-homogeneous: a function of the lag $t - s$")
    stationary = named("p_inf", r"p_\infty(x)", sp.exp(stationary_log_p), description="the stationary density")
    product = sp.exp(kappa_ou * s_ou) * x_sde  # e^{kappa u} X_u at u = s, the point where Ito's formula is read
    drift_terms = held_sum(derivative(product, s_ou), held_product(_drift(x_sde), derivative(product, x_sde)))
    # Gardiner (2009), §3.8.4: <x(t), x(s)> = D/(2k) (e^{-k|t - s|} - e^{-k(t + s)}) from x(0), for dx = -kx dt + sqrt(D) dW.
    k_src, d_src, t_src, s_src = sp.symbols("k D t s")
    gardiner = {k_src: kappa_ou, d_src: sigma_ou**2, t_src: t_ou - s_ou, s_src: tp_ou - s_ou}
    return Body(
        steps=(
            Relation(r"Itô's formula on $e^{\kappa u}X_u$: the $x$ terms of the drift $\partial_u + b\,\partial_x$ "
                     r"cancel, so $e^{\kappa u}X_u$ has a deterministic drift", drift_terms,
                     kappa_ou * theta_ou * sp.exp(kappa_ou * s_ou)),
            Relation("mean: Itô's formula = moment ODE (dsolve)", mean, ode_mean),
            Relation(r"variance: isometry = moment ODE $\dot v = -2\kappa v + \sigma^2$ from $d(X^2)$ (dsolve)",
                     var, ode_var),
            Relation(r"cross-covariance: isometry = $\partial_{t'}C = -\kappa C$ (dsolve)", cross_cov, ode_cross),
            Relation("substitute the transition density into the forward Kolmogorov equation (divided by $p$)",
                     *_kolmogorov_sides(transition, lag_ou), prepare=_rational_in_lag_decay),
            Relation("substitute the stationary density into the stationary Fokker-Planck equation (divided by $p$)",
                     *reversed(_kolmogorov_sides(stationary, None))),
            Relation(r"Euler-Maruyama mean $\to E[X_t]$ as $h \to 0$",
                     limit(_in_lags(em_mean), h_sde, 0), _in_lags(mean)),
            Relation(r"Euler-Maruyama variance $\to \mathrm{Var}X_t$ as $h \to 0$",
                     limit(_in_lags(em_var), h_sde, 0), _in_lags(var)),
            Relation(r"Euler-Maruyama decay $(1 - \kappa h)^{(t'-t)/h} \to e^{-\kappa(t'-t)}$ as $h \to 0$",
                     limit(_in_lags(em_decay), h_sde, 0), _in_lags(cross_cov / var)),
        ),
        results=(
            Result("mean", mean, "E[X_t | X_s = x_s]"),
            Result("var", var, "Var[X_t | X_s]"),
            Result("cross_cov", cross_cov, "Cov(X_t, X_t' | X_s), t <= t'"),
            Result("log_density", log_p, "log p(x, t | x_s, s)"),
            Result("stationary_mean", stationary_mean, "mean of the stationary law"),
            Result("stationary_var", stationary_var, "variance of the stationary law"),
            Result("mean_em_bias", mean_bias, "Euler-Maruyama mean minus E[X_t]"),
            Result("cross_cov_em_bias", cross_cov_bias, "Euler-Maruyama covariance minus Cov(X_t, X_t')"),
        ),
        claims=(
            Claim.as_printed("cross_cov", d_src / (2 * k_src) * (sp.exp(-k_src * sp.Abs(t_src - s_src))
                                                                 - sp.exp(-k_src * (t_src + s_src))),
                             "C. Gardiner, Stochastic Methods (2009)",
                             r"§3.8.4, eq. (3.8.85), times from the start $s$ (the covariance does not depend on "
                             r"$\theta$)", gardiner),
        ),
        equivalents=(
            Equivalent("mean", theta_ou + (x_start_ou - theta_ou) * sp.exp(-kappa_ou * (t_ou - s_ou)),
                       r"$\theta + (x_s - \theta)e^{-\kappa(t-s)}$"),
            Equivalent("stationary_var", sigma_ou**2 / (2 * kappa_ou), r"$\sigma^2/(2\kappa)$"),
        ),
        wrong_variants=(
            WrongVariant("var", theta_ou**2 / (2 * kappa_ou) * (1 - sp.exp(-2 * kappa_ou * (t_ou - s_ou))),
                         "theta in place of sigma in the variance"),
            WrongVariant("cross_cov", sigma_ou**2 / kappa_ou * (sp.exp(-kappa_ou * (tp_ou - t_ou))
                                                                - sp.exp(-kappa_ou * (t_ou + tp_ou - 2 * s_ou))),
                         "missing factor 2"),
            WrongVariant("cross_cov", sigma_ou**2 / (2 * kappa_ou) * (1 - sp.exp(-2 * kappa_ou * (t_ou - s_ou))),
                         "Var X_t used as the covariance (no decay over t' - t)"),
            WrongVariant("mean", theta_ou + (x_start_ou - theta_ou) * sp.exp(-kappa_ou * t_ou), "start time ignored"),
            WrongVariant("mean", x_start_ou * sp.exp(-kappa_ou * (t_ou - s_ou)), "long-run mean dropped"),
            WrongVariant("stationary_var", sigma_ou / (2 * kappa_ou), "sigma not squared"),
        ),
    )
