r"""bridge.*: Doob's h-transform of Brownian motion to a fixed endpoint.

Brownian motion from :math:`a` conditioned on :math:`W_T = b` is, by Doob's h-transform with
:math:`h(t, x) = \mathcal N(b; x, T - t)` (the probability of ending at :math:`b` from :math:`(t, x)`),
the diffusion :math:`dX = \partial_x\log h\,dt + dW`. The drift is derived from :math:`h`; :math:`h`
solves the backward equation :math:`\partial_t h + \tfrac12\partial_x^2 h = 0`; the marginal law by
Gaussian conditioning (``gaussian.linear_bayes``'s rule) solves the conditioned process's Fokker–Planck
equation, and its moments solve the moment ODEs of the SDE.
"""

from __future__ import annotations

import sympy as sp

from derivations.core.notation import (
    bridge_end,
    bridge_horizon,
    bridge_start,
    cond_y,
    kappa_ou,
    s_ou,
    mean_cond_y,
    sigma_ou,
    slope_cond_y,
    std_cond_y,
    t_ou,
    theta_ou,
    time,
    x_sde,
)
from derivations.core.proof import Tier
from derivations.core import work
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation, get
from derivations.core.work import named
from derivations.families.gaussian import condition, log_density

KARATZAS_SHREVE = "I. Karatzas, S. Shreve, Brownian Motion and Stochastic Calculus (1991), §5.6.B (Brownian bridge)"
ROGERS_WILLIAMS = ("L. C. G. Rogers, D. Williams, Diffusions, Markov Processes and Martingales, Vol. 2 (2000), "
                   "§IV.39 (Doob's h-transform)")


@derivation(
    id="bridge.brownian",
    title="Brownian bridge by Doob's h-transform: drift, Fokker–Planck equation, marginal moments",
    statement=r"With $h(t, x) = \mathcal N(b; x, T - t)$, the bridge from $a$ to $b$ solves "
    r"$dX = \frac{b - X}{T - t}\,dt + dW$; its marginal is $\mathcal N\big(a + \frac tT(b - a),\ \frac{t(T - t)}{T}\big)$ "
    r"(Gaussian conditioning of $W_t$ on $W_T = b$), which solves the conditioned Fokker–Planck equation "
    r"$\partial_t p = -\partial_x\big(\frac{b - x}{T - t}p\big) + \frac12\partial_x^2 p$ and whose moments solve "
    r"$\dot m = \frac{b - m}{T - t}$, $\dot v = 1 - \frac{2v}{T - t}$ from $m(0) = a$, $v(0) = 0$.",
    tier=Tier.EXACT,
    assumptions=(r"$0 < t < T$",),
    references=(KARATZAS_SHREVE, ROGERS_WILLIAMS),
)
def brownian() -> Body:
    t, x, T, a, b = time, x_sde, bridge_horizon, bridge_start, bridge_end
    log_h = log_density(b, x, T - t)
    h = sp.exp(log_h)
    drift = sp.cancel(sp.diff(log_h, x))
    # W_t ~ N(a, t); W_T | W_t ~ N(W_t, T - t): condition W_t on W_T = b.
    mean, var = condition(a, t, 1, 0, T - t, b, x)
    mean, var = sp.factor(mean), sp.factor(var)
    log_p = log_density(x, mean, var)
    m_fn, u = sp.Function("m"), sp.Symbol("u", positive=True)
    mean_ode = sp.dsolve(sp.Eq(m_fn(u).diff(u), (b - m_fn(u)) / (T - u)), m_fn(u), ics={m_fn(0): a}).rhs
    var_ode = sp.dsolve(sp.Eq(m_fn(u).diff(u), 1 - 2 * m_fn(u) / (T - u)), m_fn(u), ics={m_fn(0): 0}).rhs
    return Body(
        steps=(
            Relation(r"$h$ solves the backward equation $\partial_t h + \frac12\partial_x^2 h = 0$",
                     sp.expand(sp.diff(h, t) / h), sp.expand(-sp.diff(h, x, 2) / (2 * h))),
            Relation(r"the h-transform's drift $\partial_x\log h = (b - x)/(T - t)$", sp.diff(log_h, x), (b - x) / (T - t)),
            # Divided by p > 0 and written with log p (a quadratic in x), both sides are rational in
            # (t, x): no exponential is left to cancel.
            Relation(r"the conditioned marginal solves the Fokker–Planck equation, divided by $p > 0$: "
                     r"$\partial_t \log p = -\partial_x f - f\,\partial_x \log p + \frac12\big(\partial_x^2 \log p "
                     r"+ (\partial_x \log p)^2\big)$",
                     sp.factor(sp.diff(log_p, t)),
                     sp.Add(-sp.diff(drift, x), -drift * sp.factor(sp.diff(log_p, x)),
                            sp.factor((sp.diff(log_p, x, 2) + sp.diff(log_p, x) ** 2) / 2), evaluate=False)),
            Relation(r"the mean ODE's solution is the conditioned mean", mean_ode.subs(u, t), mean),
            Relation(r"the variance ODE's solution is the conditioned variance", var_ode.subs(u, t), var),
        ),
        results=(
            Result("drift", drift, "drift of the bridge: d/dx log h"),
            Result("mean", mean, "E[X_t] of the bridge"),
            Result("var", var, "Var[X_t] of the bridge"),
        ),
        claims=(
            Claim("mean", a + t / T * (b - a), KARATZAS_SHREVE),
            Claim("var", t * (T - t) / T, KARATZAS_SHREVE),
        ),
        wrong_variants=(
            WrongVariant("drift", (b - x) / T, "remaining time T - t replaced by the horizon T"),
            WrongVariant("var", t * (T - t) / T**2, "variance divided by T^2"),
            WrongVariant("var", t * (T - t), "factor 1/T missing"),
            WrongVariant("mean", a + t / T * b, "start not subtracted from the end"),
        ),
    )


def ou_transition(start: sp.Expr, lag: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    r"""Mean and variance of the OU process :math:`dX = \kappa(\theta - X)dt + \sigma dW` after ``lag`` from ``start``."""
    decay = sp.exp(-kappa_ou * lag)
    return theta_ou + (start - theta_ou) * decay, sigma_ou**2 * (1 - decay**2) / (2 * kappa_ou)


@derivation(
    id="bridge.ou",
    title="OU (VP) bridge to a fixed endpoint by Doob's h-transform: drift, Fokker–Planck equation, marginal moments",
    statement=r"For $dX = \kappa(\theta - X)dt + \sigma dW$ from $a$ at 0, conditioned on $X_T = b$: "
    r"$h(t, x) = \mathcal N\big(b;\ \theta + (x - \theta)e^{-\kappa(T - t)},\ \sigma^2(1 - e^{-2\kappa(T-t)})/(2\kappa)\big)$ "
    r"solves the backward equation, the bridge's drift is $\kappa(\theta - x) + \sigma^2\partial_x\log h$, and its "
    r"marginal (Gaussian conditioning of $X_t$ on $X_T = b$) solves the conditioned Fokker–Planck equation. "
    r"The VP SDE is $\kappa = \beta/2$, $\theta = 0$, $\sigma^2 = \beta$; $\kappa \to 0$ gives ``bridge.brownian``.",
    tier=Tier.EXACT,
    assumptions=(r"$0 < t < T$, $\kappa > 0$, $\sigma > 0$",),
    references=(ROGERS_WILLIAMS, "S. Särkkä, A. Solin, Applied Stochastic Differential Equations (2019), §7.5"),
)
def ou() -> Body:
    t, x, T, a, b = time, x_sde, bridge_horizon, bridge_start, bridge_end
    ahead_mean, ahead_var = ou_transition(x, T - t)
    log_h = log_density(b, ahead_mean, ahead_var)
    base_drift = kappa_ou * (theta_ou - x)
    drift = base_drift + sigma_ou**2 * sp.diff(log_h, x)
    half = sigma_ou**2 / 2
    # X_t ~ N(m_t, v_t) from a; X_T | X_t ~ N(theta + (X_t - theta) e^{-kappa (T - t)}, V_{T - t}).
    now_mean, now_var = ou_transition(a, t)
    decay = sp.exp(-kappa_ou * (T - t))
    mean, var = condition(now_mean, now_var, decay, theta_ou * (1 - decay), ahead_var, b, x)
    # The page shows h and p through their x-free moments, named (their definitions listed below the steps).
    ahead_var_n = named("V_ahead", r"V_{T-t}", ahead_var, description=r"variance of $X_T$ given $X_t$")
    decay_n = named("D_ahead", r"D_{T-t}", decay, description=r"$e^{-\kappa(T - t)}$, the OU decay over the remaining time")
    mean_n = named("m_bridge", r"m_{\mathrm{br}}(t)", sp.factor(mean), description="the bridge's mean")
    var_n = named("v_bridge", r"v_{\mathrm{br}}(t)", sp.factor(var), description="the bridge's variance")
    log_h_n = log_density(b, theta_ou + (x - theta_ou) * decay_n, ahead_var_n)
    log_p_n = log_density(x, mean_n, var_n)
    drift_n = named("f_bridge", r"f(t, x)", sp.factor(drift),
                    description=r"the h-transformed drift $\kappa(\theta - x) + \sigma^2\partial_x\log h$")
    score_n = work.derivative(log_p_n, x)
    small_k = sp.Symbol("k", positive=True)
    small = sp.limit(sp.simplify(drift.subs(kappa_ou, small_k)), small_k, 0)
    return Body(
        steps=(
            Relation(r"$h$ solves the backward equation, divided by $h$: $\partial_t\log h + \kappa(\theta - x)\partial_x\log h "
                     r"+ \frac{\sigma^2}2\big(\partial_x^2\log h + (\partial_x\log h)^2\big) = 0$",
                     sp.Add(work.derivative(log_h_n, t), base_drift * work.derivative(log_h_n, x),
                            half * (work.derivative(log_h_n, (x, 2)) + work.derivative(log_h_n, x) ** 2), evaluate=False), 0),
            Relation(r"Doob's h-transform: the drift gains $\sigma^2\partial_x\log h$", drift_n,
                     base_drift + sigma_ou**2 * work.derivative(log_h_n, x)),
            Relation(r"the conditioned marginal solves the Fokker–Planck equation with the h-transformed drift $f$, "
                     r"divided by $p$: $\partial_t\log p = -\partial_x f - f\,\partial_x\log p + \frac{\sigma^2}2"
                     r"\big(\partial_x^2\log p + (\partial_x\log p)^2\big)$",
                     work.derivative(log_p_n, t),
                     sp.Add(-work.derivative(drift_n, x), -drift_n * score_n,
                            half * (work.derivative(log_p_n, (x, 2)) + score_n**2), evaluate=False)),
            Relation(r"at $t \to 0$ the marginal starts at $a$ (mean)", work.limit(mean_n, t, 0), a),
            Relation(r"$\kappa \to 0$, $\sigma = 1$: the drift is the Brownian bridge's", small.subs(sigma_ou, 1),
                     (b - x) / (T - t)),
        ),
        results=(
            Result("drift", drift, "drift of the OU bridge: kappa (theta - x) + sigma^2 d/dx log h"),
            Result("mean", mean, "E[X_t] of the OU bridge"),
            Result("var", var, "Var[X_t] of the OU bridge"),
        ),
        claims=(
            Claim("var", (sigma_ou**2 * sp.sinh(kappa_ou * t) * sp.sinh(kappa_ou * (T - t))
                          / (kappa_ou * sp.sinh(kappa_ou * T))).rewrite(sp.exp),
                  r"Särkkä & Solin (2019): $\frac{\sigma^2}{\kappa}\frac{\sinh(\kappa t)\sinh(\kappa(T-t))}{\sinh(\kappa T)}$, "
                  r"the sines hyperbolic written with exponentials"),
        ),
        wrong_variants=(
            WrongVariant("drift", base_drift + sp.diff(log_h, x), r"$\sigma^2$ missing from the h-transform's drift"),
            WrongVariant("var", now_var, "the unconditioned OU variance"),
            WrongVariant("mean", now_mean, "the unconditioned OU mean"),
        ),
    )


@derivation(
    id="bridge.conditional_ou",
    title="Conditional OU: mean and volatility depending on a condition Y, conditional and total moments",
    statement=r"$dX = \kappa(\theta + c_Y Y - X)dt + \sigma\sqrt{1 + Y^2}\,dW$ from $X_s = x_s$, $Y \sim \mathcal N(\mu_Y, s_Y^2)$ "
    r"independent of $W$: given $Y$, ``ou.moments`` with $\theta \to \theta + c_Y Y$, $\sigma^2 \to \sigma^2(1 + Y^2)$; "
    r"unconditionally $E[X_t] = \theta + c_Y\mu_Y + (x_s - \theta - c_Y\mu_Y)e^{-\kappa\Delta t}$, "
    r"$\mathrm{Var}X_t = c_Y^2 s_Y^2(1 - e^{-\kappa\Delta t})^2 + \sigma^2(1 + \mu_Y^2 + s_Y^2)(1 - e^{-2\kappa\Delta t})/(2\kappa)$ "
    r"(total expectation and variance), $\mathrm{Cov}(X_t, Y) = c_Y s_Y^2(1 - e^{-\kappa\Delta t})$.",
    tier=Tier.EXACT,
    assumptions=(r"$\kappa > 0$, $\sigma > 0$; $Y$ independent of the Brownian motion",),
    references=("C. Gardiner, Stochastic Methods (2009), §3.8.4", "law of total variance"),
)
def conditional_ou() -> Body:
    from sympy import stats

    moments = get("ou.moments")
    given = {theta_ou: theta_ou + slope_cond_y * cond_y}
    cond_mean = moments.result("mean").xreplace(given)
    cond_var = moments.result("var").xreplace({sigma_ou: sigma_ou * sp.sqrt(1 + cond_y**2)})
    condition_rv = stats.Normal("Ytilde", mean_cond_y, std_cond_y)  # Y as a random variable
    on_rv = {cond_y: condition_rv}
    total_mean = sp.simplify(stats.E(cond_mean.xreplace(on_rv)))
    mean_of_var = sp.simplify(stats.E(cond_var.xreplace(on_rv)))
    var_of_mean = sp.simplify(stats.variance(cond_mean.xreplace(on_rv)))
    total_var = mean_of_var + var_of_mean
    cross = sp.simplify(stats.covariance(cond_mean.xreplace(on_rv), condition_rv))
    decay = sp.exp(-kappa_ou * (t_ou - s_ou))  # in the results' times (t_ou is s + the lag)
    return Body(
        steps=(
            Relation(r"total expectation: $E[X_t] = E\big[E[X_t\mid Y]\big]$",
                     work.expectation(cond_mean.xreplace(on_rv)), total_mean),
            Relation(r"$E\big[\mathrm{Var}(X_t\mid Y)\big]$: $E[1 + Y^2] = 1 + \mu_Y^2 + s_Y^2$",
                     work.expectation(cond_var.xreplace(on_rv)),
                     sigma_ou**2 * (1 + mean_cond_y**2 + std_cond_y**2) * (1 - decay**2) / (2 * kappa_ou)),
            Relation(r"$\mathrm{Var}\big(E[X_t\mid Y]\big)$: the mean is affine in $Y$",
                     work.variance(cond_mean.xreplace(on_rv)), slope_cond_y**2 * std_cond_y**2 * (1 - decay)**2),
            Relation(r"$\mathrm{Cov}(X_t, Y) = \mathrm{Cov}(E[X_t\mid Y], Y)$ (the noise is independent of $Y$)",
                     work.covariance(cond_mean.xreplace(on_rv), condition_rv),
                     slope_cond_y * std_cond_y**2 * (1 - decay)),
        ),
        results=(
            Result("cond_mean", cond_mean, "E[X_t | Y]"),
            Result("cond_var", cond_var, "Var[X_t | Y]"),
            Result("mean", total_mean, "E[X_t]"),
            Result("var", total_var, "Var[X_t] = E[Var(X_t | Y)] + Var(E[X_t | Y])"),
            Result("cov_xy", cross, "Cov(X_t, Y)"),
        ),
        claims=(
            Claim("var", slope_cond_y**2 * std_cond_y**2 * (1 - decay)**2
                  + sigma_ou**2 * (1 + mean_cond_y**2 + std_cond_y**2) * (1 - decay**2) / (2 * kappa_ou),
                  "law of total variance"),
        ),
        wrong_variants=(
            WrongVariant("var", mean_of_var, r"$\mathrm{Var}(E[X_t\mid Y])$ dropped (the condition's spread ignored)"),
            WrongVariant("var", var_of_mean + sigma_ou**2 * (1 + mean_cond_y**2) * (1 - decay**2) / (2 * kappa_ou),
                         r"the volatility at $Y = \mu_Y$ (plug-in) in place of its mean"),
        ),
    )
