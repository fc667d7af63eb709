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

from derivations.core.notation import bridge_end, bridge_horizon, bridge_start, time, x_sde
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation
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
