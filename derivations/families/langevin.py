r"""langevin.*: overdamped Langevin dynamics and its Euler-Maruyama chain.

:math:`dX = -U'(X)\,dt + \sqrt2\,dW` has the stationary Fokker-Planck equation
:math:`0 = \partial_x(U' p) + \partial_x^2 p`; :math:`p \propto e^{-U}` solves it
for every :math:`U` (an undefined function: the proof checks every jet :math:`U, U', U''`). Moments
of :math:`e^{-U}` come from SymPy's integrals. The Euler-Maruyama chain
:math:`X_{n+1} = X_n - hU'(X_n) + \sqrt{2h}\,Z_n` for a quadratic :math:`U` is an
AR(1) chain whose stationary law is solved as the fixed point of the Gaussian
push-forward: it is the continuous law plus an explicit step-size bias.
"""

from __future__ import annotations

import sympy as sp

from derivations.families.gaussian import push_forward, shown_push_forward
from derivations.core.notation import a_lgv, c_lgv, h_sde, k_lgv, x_sde
from derivations.core.proof import Tier
from derivations.core.registry import Body, Equivalent, Relation, Result, WrongVariant, derivation, get
from derivations.core.work import at, derivative, held_product, limit

PAVLIOTIS = "G. A. Pavliotis, Stochastic Processes and Applications, Springer (2014), §4.5"
ROBERTS_TWEEDIE = "G. O. Roberts, R. L. Tweedie, Exponential convergence of Langevin distributions, Bernoulli 2 (1996)"


def stationary_moment(potential: sp.Expr, power: int) -> sp.Expr:
    r""":math:`\int x^n e^{-U} dx / \int e^{-U} dx` by SymPy integration."""
    weight = sp.exp(-potential)
    norm = sp.integrate(weight, (x_sde, -sp.oo, sp.oo))
    return sp.simplify(sp.integrate(x_sde**power * weight, (x_sde, -sp.oo, sp.oo)) / norm)


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
    potential = sp.Function("U")(x_sde)
    density = sp.exp(-potential)
    quadratic = k_lgv * (x_sde - c_lgv) ** 2 / 2
    quartic = a_lgv * x_sde**4 / 4
    mean_q = stationary_moment(quadratic, 1)
    var_q = sp.simplify(stationary_moment(quadratic, 2) - mean_q**2)
    m2_quartic, m4_quartic = stationary_moment(quartic, 2), stationary_moment(quartic, 4)

    def expectation_under(potential_: sp.Expr, integrand: sp.Expr) -> sp.Expr:
        r""":math:`\int f e^{-U} dx / \int e^{-U} dx`, the integrals held."""
        line = (x_sde, -sp.oo, sp.oo)
        return held_product(sp.Integral(integrand * sp.exp(-potential_), line), 1 / sp.Integral(sp.exp(-potential_), line))

    return Body(
        steps=(
            Relation(r"substitute $p = e^{-U}$ into the stationary Fokker-Planck equation "
                     r"$\partial_x(U' p) + \partial_x^2 p = 0$, for an undefined potential $U$",
                     derivative(derivative(potential, x_sde) * density, x_sde) + derivative(density, (x_sde, 2)), 0),
            Relation(r"quartic: $E[X U'(X)] = 1$ by integration (the integration-by-parts identity)",
                     expectation_under(quartic, x_sde * sp.diff(quartic, x_sde)), 1),
            Relation(r"quartic: integrate $E X^2$ (Gamma functions)", expectation_under(quartic, x_sde**2),
                     2 * sp.gamma(sp.Rational(3, 4)) / (sp.gamma(sp.Rational(1, 4)) * sp.sqrt(a_lgv))),
        ),
        results=(
            Result("mean_quadratic", mean_q, "stationary mean, U = k (x - c)^2 / 2"),
            Result("var_quadratic", var_q, "stationary variance, U = k (x - c)^2 / 2"),
            Result("m2_quartic", m2_quartic, "stationary E X^2, U = a x^4 / 4"),
            Result("m4_quartic", m4_quartic, "stationary E X^4, U = a x^4 / 4"),
        ),
        equivalents=(Equivalent("m4_quartic", 1 / a_lgv, r"$E[X U'(X)] = a E X^4 = 1$"),),
        wrong_variants=(
            WrongVariant("var_quadratic", 1 / (2 * k_lgv), "sqrt(2) missing: density e^{-2U}"),
            WrongVariant("m4_quartic", 1 / (2 * a_lgv), "sqrt(2) missing: density e^{-2U}"),
            WrongVariant("m2_quartic", sp.gamma(sp.Rational(3, 4)) / sp.gamma(sp.Rational(1, 4)) / sp.sqrt(a_lgv),
                         "factor 2 dropped from E X^2 = 2 Γ(3/4) / (Γ(1/4) sqrt(a))"),
            # e^{-cU} for the quartic U is the stationary law of e^{-U} with a replaced by c a.
            WrongVariant("m2_quartic", m2_quartic.subs(a_lgv, 2 * a_lgv), "sqrt(2) missing: density e^{-2U}"),
            WrongVariant("m2_quartic", m2_quartic.subs(a_lgv, a_lgv / 2), "noise 2 sqrt(2): density e^{-U/2}"),
            WrongVariant("m4_quartic", 2 / a_lgv, "noise 2 sqrt(2): density e^{-U/2}"),
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
    gain = 1 - h_sde * k_lgv
    pushed_mean, pushed_var = push_forward(m, v, gain, h_sde * k_lgv * c_lgv, 2 * h_sde)
    solution = sp.solve([pushed_mean - m, pushed_var - v], [m, v], dict=True)[0]
    mean_chain, var_chain = sp.simplify(solution[m]), sp.factor(solution[v])
    continuous = get("langevin.stationary")
    var_bias = sp.factor(var_chain - continuous.result("var_quadratic"))
    pushed_mean, pushed_var = shown_push_forward(mean_chain, var_chain, gain, h_sde * k_lgv * c_lgv, 2 * h_sde)
    return Body(
        steps=(
            Relation("fixed point (solved by `solve`): one step maps the stationary mean to itself; it is the "
                     "continuous stationary mean $c$ of `langevin.stationary`", pushed_mean,
                     continuous.result("mean_quadratic")),
            Relation("fixed point: one step maps the stationary variance to itself", pushed_var, var_chain),
            Relation(r"$h \to 0$: the chain's variance tends to the Langevin variance $1/k$ (`langevin.stationary`)",
                     limit(var_chain, h_sde, 0), continuous.result("var_quadratic")),
        ),
        results=(
            Result("mean_chain", mean_chain, "stationary mean of the EM chain"),
            Result("var_chain", var_chain, "stationary variance of the EM chain"),
            Result("var_bias", var_bias, "step-size bias of the stationary variance"),
            Result("contraction", gain, "per-step contraction of the mean"),
        ),
        equivalents=(Equivalent("var_chain", 1 / (k_lgv * (1 - h_sde * k_lgv / 2)),
                                "the AR(1) stationary variance $2h/(1 - (1-hk)^2)$ simplified"),
                     Equivalent("var_bias", h_sde / (2 - h_sde * k_lgv), "the bias as one fraction")),
        wrong_variants=(
            WrongVariant("var_chain", 1 / k_lgv, "continuous-time variance (no step-size bias)"),
            WrongVariant("var_chain", h_sde / (1 - gain**2), "sqrt(2) missing from the noise"),
            WrongVariant("var_chain", 2 * h_sde / (1 - gain), "contraction not squared"),
        ),
    )


@derivation(
    id="langevin.backward_family",
    title="Backward Langevin alpha-family: reversed OU processes that keep the marginals",
    statement=r"For the forward $dX = -X\,dt + \sqrt2\,dW$ with marginals $p_t$, the reversed "
    r"$Y_t = X_{T-t}$ obeys $dY = \big(Y + (1+\alpha)\nabla\log p_{T-t}(Y)\big)dt + \sqrt{2\alpha}\,dW$ "
    r"for every $\alpha \ge 0$, because $-\Delta\rho = \alpha\Delta\rho - (1+\alpha)\nabla\cdot(\rho\nabla\log\rho)$; "
    r"$\alpha = 0$ is the probability-flow ODE, $\alpha = 1$ the usual reverse SDE "
    r"($\lambda^2 = \alpha$ in `fp.reverse_family`).",
    tier=Tier.EXACT,
    assumptions=(r"$\alpha \ge 0$; $\rho > 0$ smooth", "checked by substitution for the OU process "
                 r"$dX = \kappa(\theta - X)dt + \sigma dW$ with Gaussian data (the forward process above is "
                 r"$\kappa = 1$, $\theta = 0$, $\sigma^2 = 2$)"),
    references=(PAVLIOTIS, "B. D. O. Anderson, Reverse-time diffusion equation models, SPA 12 (1982)"),
)
def backward_family() -> Body:
    from derivations.families.fp.scalar import gaussian_data, ou_sde, reverse_relation, solve_score_weight
    from derivations.core.notation import alpha_lgv, lam_rev

    weight = solve_score_weight(alpha_lgv)  # weight of g^2 grad log p, noise variance alpha g^2
    rho = sp.Function("rho", positive=True)(x_sde)
    laplacian_split = Relation(
        r"$-\Delta\rho = \alpha\Delta\rho - (1+\alpha)\nabla\cdot(\rho\nabla\log\rho)$ for any $\rho > 0$ "
        r"(an undefined function: every jet $\rho, \rho', \rho''$)",
        -derivative(rho, (x_sde, 2)),
        alpha_lgv * derivative(rho, (x_sde, 2)) - (1 + alpha_lgv) * derivative(rho * derivative(sp.log(rho), x_sde), x_sde))
    ou_diffusion_sq = sp.Integer(2)  # sigma^2 of dX = -X dt + sqrt(2) dW
    return Body(
        steps=(
            Relation(r"the weight solved for noise variance $\alpha g^2$ is `fp.reverse_family`'s at "
                     r"$\lambda^2 = \alpha$", weight,
                     at(get("fp.reverse_family").result("score_weight"), {lam_rev: sp.sqrt(alpha_lgv)})),
            laplacian_split,
            reverse_relation("OU", ou_sde(), gaussian_data(1), weight, alpha_lgv, "OU, 1-D Gaussian data",
                             per_density=True),
        ),
        results=(
            Result("score_coef", sp.factor(weight * ou_diffusion_sq), "coefficient of grad log p in the drift of Y"),
            Result("noise_var", alpha_lgv * ou_diffusion_sq, "variance rate of the noise of Y"),
        ),
        equivalents=(Equivalent("score_coef", 1 + alpha_lgv, r"the family's weight $\tfrac12(1+\alpha)$ times "
                                r"$g^2 = 2$"),),
        wrong_variants=(
            WrongVariant("score_coef", (1 + alpha_lgv) / 2, "the weight of g^2 used as the coefficient (g^2 = 2 lost)"),
            WrongVariant("score_coef", alpha_lgv, "1 + alpha replaced by alpha"),
            WrongVariant("noise_var", alpha_lgv, "noise sqrt(alpha) instead of sqrt(2 alpha)"),
        ),
    )
