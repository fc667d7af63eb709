r"""langevin.*: overdamped Langevin dynamics and its Euler-Maruyama chain.

:math:`dX = -U'(X)\,dt + \sqrt2\,dW` has the stationary Fokker-Planck equation
:math:`0 = \partial_x(U' p) + \partial_x^2 p`; :math:`p \propto e^{-U}` solves it
for every :math:`U` (shown on the jet :math:`U, U', U''` at a point). Moments
of :math:`e^{-U}` come from SymPy's integrals. The Euler-Maruyama chain
:math:`X_{n+1} = X_n - hU'(X_n) + \sqrt{2h}\,Z_n` for a quadratic :math:`U` is an
AR(1) chain whose stationary law is solved as the fixed point of the Gaussian
push-forward: it is the continuous law plus an explicit step-size bias.
"""

from __future__ import annotations

import sympy as sp

from .gaussian import push_forward
from .notation import U_lgv, a_lgv, c_lgv, d2U_lgv, dU_lgv, h_lgv, k_lgv, x_fp
from .proof import Tier
from .registry import Body, Claim, Relation, Result, WrongVariant, derivation, get

PAVLIOTIS = "G. A. Pavliotis, Stochastic Processes and Applications, Springer (2014), §4.5"
ROBERTS_TWEEDIE = "G. O. Roberts, R. L. Tweedie, Exponential convergence of Langevin distributions, Bernoulli 2 (1996)"


def stationary_moment(potential: sp.Expr, power: int) -> sp.Expr:
    r""":math:`\int x^n e^{-U} dx / \int e^{-U} dx` by SymPy integration."""
    weight = sp.exp(-potential)
    norm = sp.integrate(weight, (x_fp, -sp.oo, sp.oo))
    return sp.simplify(sp.integrate(x_fp**power * weight, (x_fp, -sp.oo, sp.oo)) / norm)


@derivation(
    id="langevin.stationary",
    title="Langevin dynamics: e^{-U} is stationary; moments for quadratic and quartic U",
    statement=r"$dX = -\nabla U\,dt + \sqrt2\,dW$ has stationary density $\propto e^{-U}$: "
    r"$\partial_x(U' e^{-U}) + \partial_x^2 e^{-U} = 0$ for every $U$. For $U = k(x-c)^2/2$: mean $c$, "
    r"variance $1/k$; for $U = a x^4/4$: $E X^2 = 2\Gamma(3/4)/(\Gamma(1/4)\sqrt a)$, $E X^4 = 1/a$.",
    tier=Tier.EXACT,
    assumptions=(r"$U$ smooth with $\int e^{-U} < \infty$",),
    references=(PAVLIOTIS, ROBERTS_TWEEDIE),
)
def stationary() -> Body:
    potential = sp.Function("U")(x_fp)
    density = sp.exp(-potential)
    residual = sp.diff(sp.diff(potential, x_fp) * density, x_fp) + sp.diff(density, x_fp, 2)
    # At one point x the values U, U', U'' are free: the residual must vanish as a function of them.
    jet = {sp.Derivative(potential, (x_fp, 2)): d2U_lgv, sp.Derivative(potential, x_fp): dU_lgv, potential: U_lgv}
    residual_on_jet = residual.subs(jet)
    quadratic = k_lgv * (x_fp - c_lgv) ** 2 / 2
    quartic = a_lgv * x_fp**4 / 4
    mean_q = stationary_moment(quadratic, 1)
    var_q = sp.simplify(stationary_moment(quadratic, 2) - mean_q**2)
    m2_quartic, m4_quartic = stationary_moment(quartic, 2), stationary_moment(quartic, 4)
    return Body(
        steps=(
            Relation(r"stationary Fokker-Planck residual of $e^{-U}$ on the jet $(U, U', U'')$", residual_on_jet, 0),
            Relation(r"quartic: $E[X U'(X)] = 1$ (integration by parts)", a_lgv * m4_quartic, 1),
            Relation(r"quartic: $E X^2 = 2\Gamma(3/4)/(\Gamma(1/4)\sqrt a)$", m2_quartic,
                     2 * sp.gamma(sp.Rational(3, 4)) / (sp.gamma(sp.Rational(1, 4)) * sp.sqrt(a_lgv))),
        ),
        results=(
            Result("mean_quadratic", mean_q, "stationary mean, U = k (x - c)^2 / 2"),
            Result("var_quadratic", var_q, "stationary variance, U = k (x - c)^2 / 2"),
            Result("m4_quartic", m4_quartic, "stationary E X^4, U = a x^4 / 4"),
        ),
        claims=(Claim("m4_quartic", 1 / a_lgv, "E[X U'(X)] = E[1] (integration by parts)"),),
        wrong_variants=(
            WrongVariant("var_quadratic", 1 / (2 * k_lgv), "sqrt(2) missing: density e^{-2U}"),
            WrongVariant("m4_quartic", 1 / (2 * a_lgv), "sqrt(2) missing: density e^{-2U}"),
        ),
    )


@derivation(
    id="langevin.em_quadratic",
    title="Euler-Maruyama Langevin chain for quadratic U: exact stationary law and step-size bias",
    statement=r"$X_{n+1} = X_n - hk(X_n - c) + \sqrt{2h}\,Z_n$ has stationary law "
    r"$\mathcal N\big(c, \tfrac{2h}{1-(1-hk)^2}\big) = \mathcal N\big(c, \tfrac{1}{k(1 - hk/2)}\big)$ for "
    r"$0 < hk < 2$: the variance exceeds $1/k$ by $h/(2 - hk)$, vanishing as $h \to 0$.",
    tier=Tier.EXACT,
    assumptions=(r"$0 < hk < 2$ (the chain contracts by $|1 - hk| < 1$)",),
    references=(ROBERTS_TWEEDIE,),
)
def em_quadratic() -> Body:
    m, v = sp.symbols("m v")
    gain = 1 - h_lgv * k_lgv
    pushed_mean, pushed_var = push_forward(m, v, gain, h_lgv * k_lgv * c_lgv, 2 * h_lgv)
    solution = sp.solve([pushed_mean - m, pushed_var - v], [m, v], dict=True)[0]
    mean_chain, var_chain = sp.simplify(solution[m]), sp.factor(solution[v])
    continuous = get("langevin.stationary")
    var_bias = sp.factor(var_chain - continuous.result("var_quadratic"))
    return Body(
        steps=(
            Relation("fixed point: one step maps N(mean, var) to itself (variance)",
                     push_forward(mean_chain, var_chain, gain, 0, 2 * h_lgv)[1], var_chain),
            Relation(r"$h \to 0$: the chain's variance tends to the Langevin variance $1/k$",
                     sp.limit(var_chain, h_lgv, 0), continuous.result("var_quadratic")),
            Relation("the chain's mean is the stationary mean", mean_chain, continuous.result("mean_quadratic")),
        ),
        results=(
            Result("mean_chain", mean_chain, "stationary mean of the EM chain"),
            Result("var_chain", var_chain, "stationary variance of the EM chain"),
            Result("var_bias", var_bias, "step-size bias of the stationary variance"),
            Result("contraction", gain, "per-step contraction of the mean"),
        ),
        claims=(Claim("var_chain", 1 / (k_lgv * (1 - h_lgv * k_lgv / 2)), "AR(1) stationary variance"),
                Claim("var_bias", h_lgv / (2 - h_lgv * k_lgv), "bias h/(2 - hk)")),
        wrong_variants=(
            WrongVariant("var_chain", 1 / k_lgv, "continuous-time variance (no step-size bias)"),
            WrongVariant("var_chain", h_lgv / (1 - gain**2), "sqrt(2) missing from the noise"),
            WrongVariant("var_chain", 2 * h_lgv / (1 - gain), "contraction not squared"),
        ),
    )
