r"""sde.*: transition moments of the VP, VE and sub-VP SDEs (Song et al. 2021).

For a linear SDE :math:`dX = f(t) X\,dt + g(t)\,dW` started at a point
:math:`x_0`, the mean and variance solve the moment ODEs
:math:`\dot m = f m`, :math:`\dot v = 2 f v + g^2`. For the VP family
:math:`f = -\tfrac12\beta(t)` and :math:`g^2 \propto \beta(t)`, so the time
change :math:`B(t) = \int_0^t \beta(u)\,du` (:math:`dB = \beta\,dt`) turns them
into constant-coefficient ODEs in :math:`B`, which ``dsolve`` solves; a step
then checks by the chain rule that the solution solves the ODE in :math:`t`
for an arbitrary schedule :math:`\beta(t)`.
"""

from __future__ import annotations

import sympy as sp

from derivations.core.notation import B_linear, B_t, beta_max, beta_min, sigma_max, sigma_min, sigma_ve, time, var_data, x_0
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation
from derivations.core.work import at, derivative, held_power, held_product, held_sum

SONG_2021 = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, eqs. (29), (31), (33) and App. B"

_u = sp.Symbol("u", positive=True)  # integration variable, bound inside Integral
_beta = sp.Function("beta", positive=True)
_schedule_integral = sp.Integral(_beta(_u), (_u, 0, time))  # B(t) for an arbitrary schedule


def solve_moment_ode(rate: sp.Expr, source: sp.Expr, initial: sp.Expr) -> sp.Expr:
    r"""Solve :math:`dv/dB = \text{rate}\cdot v + \text{source}(B)`, :math:`v(0) = \text{initial}`, by ``dsolve``."""
    v = sp.Function("v")
    solution = sp.dsolve(sp.Eq(v(B_t).diff(B_t), rate * v(B_t) + source.subs(B_t, B_t)), ics={v(0): initial})
    return sp.simplify(solution.rhs)


def ode_steps(name: str, label: str, moment: sp.Expr, rate: sp.Expr, source: sp.Expr, initial: sp.Expr
              ) -> tuple[Relation, ...]:
    r"""The ``dsolve`` solution of :math:`dv/dB = \text{rate}\,v + \text{source}(B)`, :math:`v(0) = \text{initial}`,
    substituted back into its ODE and initial value; then, through :math:`B(t) = \int_0^t\beta` for an
    undefined schedule :math:`\beta`, into :math:`\dot v = \beta(t)(\text{rate}\,v + \text{source})` (chain rule)."""
    in_t = moment.subs(B_t, _schedule_integral)
    return (
        Relation(rf"{name}: solve ${label}$ by `dsolve`; substituted back, the solution satisfies the ODE in $B$",
                 derivative(moment, B_t), held_sum(held_product(rate, moment), source)),
        Relation(rf"{name}: and its initial value at $B = 0$", at(moment, {B_t: 0}), initial),
        Relation(rf"{name}: chain rule through $B(t) = \int_0^t\beta(u)\,du$: the ODE in $t$ holds for any schedule "
                 r"$\beta$", derivative(in_t, time),
                 held_product(_beta(time), held_sum(held_product(rate, in_t), source.subs(B_t, _schedule_integral)))),
    )


def _vp_like(var_source: sp.Expr, source_label: str) -> tuple[sp.Expr, sp.Expr, tuple[Relation, ...]]:
    """Mean coefficient and variance for f = -beta/2 and g^2 = beta * var_source(B), from x_0."""
    mean_coef = solve_moment_ode(-sp.Rational(1, 2), sp.Integer(0), sp.Integer(1))
    var = solve_moment_ode(-sp.Integer(1), var_source, sp.Integer(0))
    steps = (ode_steps("mean", r"dm/dB = -\tfrac12 m,\ m(0) = 1", mean_coef, -sp.Rational(1, 2), sp.Integer(0),
                       sp.Integer(1))
             + ode_steps("variance", rf"dv/dB = -v + {source_label},\ v(0) = 0", var, -sp.Integer(1), var_source,
                         sp.Integer(0)))
    return mean_coef, var, steps


def _linear(expr: sp.Expr) -> sp.Expr:
    return expr.subs(B_t, B_linear)


@derivation(
    id="sde.vp",
    title="VP SDE transition moments (DDPM in continuous time)",
    statement=r"$dX = -\tfrac12\beta(t)X\,dt + \sqrt{\beta(t)}\,dW$ from $X_0 = x_0$: "
    r"$X_t \sim \mathcal N(e^{-B(t)/2}x_0, 1 - e^{-B(t)})$, $B(t) = \int_0^t\beta$; linear "
    r"$\beta(t) = \beta_{\min} + t(\beta_{\max}-\beta_{\min})$ gives $B = \beta_{\min}t + \tfrac12 t^2(\beta_{\max}-\beta_{\min})$.",
    tier=Tier.EXACT,
    assumptions=(r"$\beta(t) > 0$ continuous", "coordinate-wise in d dimensions"),
    references=(SONG_2021,),
)
def vp() -> Body:
    mean_coef, var, steps = _vp_like(sp.Integer(1), "1")
    # Song et al. (2021), eq. (29): mean factor e^{-t^2 (bmax - bmin)/4 - t bmin/2} for beta(t) = bmin + t (bmax - bmin).
    bbar_min, bbar_max = sp.symbols("betabar_min betabar_max")
    return Body(
        steps=steps,
        results=(
            Result("mean_coef", mean_coef, "E[X_t | X_0 = x_0] / x_0 in B(t)"),
            Result("var", var, "Var[X_t | X_0] in B(t)"),
            Result("std", sp.sqrt(var), "standard deviation of X_t given X_0"),
            Result("mean_coef_linear", _linear(mean_coef), "mean coefficient, linear schedule"),
            Result("var_linear", _linear(var), "variance, linear schedule"),
            Result("mean", mean_coef * x_0, "E[X_t | X_0 = x_0]"),
        ),
        claims=(Claim.as_printed("mean_coef_linear",
                                 sp.exp(-time**2 * (bbar_max - bbar_min) / 4 - time * bbar_min / 2),
                                 "Song et al. (2021)", "eq. (29), App. B", {bbar_min: beta_min, bbar_max: beta_max}),),
        wrong_variants=(
            WrongVariant("mean_coef", sp.exp(-B_t), "exponent -B instead of -B/2"),
            WrongVariant("var", 1 - sp.exp(-B_t / 2), "variance with the mean's exponent"),
            WrongVariant("std", 1 - sp.exp(-B_t), "variance used as a standard deviation"),
        ),
    )


@derivation(
    id="sde.subvp",
    title="sub-VP SDE transition moments",
    statement=r"$dX = -\tfrac12\beta X\,dt + \sqrt{\beta(t)(1 - e^{-2B(t)})}\,dW$: "
    r"$X_t \sim \mathcal N(e^{-B/2}x_0, (1 - e^{-B})^2)$, a variance below the VP one.",
    tier=Tier.EXACT,
    assumptions=(r"$\beta(t) > 0$ continuous",),
    references=(SONG_2021,),
)
def subvp() -> Body:
    mean_coef, var, steps = _vp_like(1 - sp.exp(-2 * B_t), "(1 - e^{-2B})")
    vp_var = 1 - sp.exp(-B_t)
    return Body(
        steps=steps + (Relation(r"factor: the sub-VP variance is the square of the VP variance", var,
                                held_power(vp_var, 2)),),
        results=(
            Result("mean_coef", mean_coef, "mean coefficient in B(t)"),
            Result("var", var, "Var[X_t | X_0] in B(t)"),
            # e^B - 1 > 0 for B > 0: the square root of the square drops the absolute value.
            Result("std", sp.sqrt(sp.factor(var)).replace(sp.Abs, lambda inner: inner), "standard deviation"),
            Result("var_linear", _linear(var), "variance, linear schedule"),
        ),
        # Song et al. (2021), eq. (33): p_0t = N(e^{-B/2} x(0), [1 - e^{-B}]^2 I), B = int_0^t beta.
        claims=(Claim.as_printed("var", held_power(1 - sp.exp(-B_t), 2), "Song et al. (2021)", "eq. (33), App. B"),),
        wrong_variants=(
            WrongVariant("var", 1 - sp.exp(-B_t), "the VP variance"),
            WrongVariant("var", 1 - sp.exp(-2 * B_t), "variance 1 - e^{-2B}"),
        ),
    )


@derivation(
    id="sde.ve",
    title="VE SDE transition moments (SMLD in continuous time)",
    statement=r"$dX = \sqrt{d\sigma^2(t)/dt}\,dW$ with $\sigma(t) = \sigma_{\min}(\sigma_{\max}/\sigma_{\min})^t$: "
    r"$X_t \sim \mathcal N(x_0, \sigma(t)^2 - \sigma_{\min}^2)$ from $X_0 = x_0$.",
    tier=Tier.EXACT,
    assumptions=(r"$0 < \sigma_{\min} < \sigma_{\max}$",
                 r"score_sde's kernel $\mathcal N(x_0, \sigma(t)^2)$ treats the data as already carrying "
                 r"$\sigma_{\min}^2$ of noise; the two agree to $\sigma_{\min}^2$"),
    references=(SONG_2021,),
)
def ve() -> Body:
    level = sigma_min * (sigma_max / sigma_min) ** time  # sigma(t) written out, so SymPy can integrate
    diffusion_sq = sp.diff(level**2, time)
    # v' = g^2 with v(0) = 0: the variance is the integral of g^2.
    var = sp.simplify(sp.integrate(diffusion_sq.subs(time, _u), (_u, 0, time)))
    return Body(
        steps=(
            Relation(r"integrate $\dot v = g^2 = d\sigma^2/dt$ from $v(0) = 0$", sp.Integral(diffusion_sq.subs(time, _u),
                                                                                          (_u, 0, time)), var),
            Relation(r"in the notation: $v(t) = \sigma(t)^2 - \sigma_{\min}^2$", var, sigma_ve**2 - sigma_min**2),
        ),
        results=(
            Result("mean_coef", sp.Integer(1), "mean coefficient: the mean stays x_0"),
            Result("var", var, "Var[X_t | X_0]"),
            Result("diffusion_sq", diffusion_sq, "g(t)^2 = d sigma^2 / dt"),
        ),
        # Song et al. (2021), eq. (30): dx = sigma_min (sigma_max/sigma_min)^t sqrt(2 log(sigma_max/sigma_min)) dw.
        claims=(Claim.as_printed("diffusion_sq", held_power(sigma_min * (sigma_max / sigma_min) ** time
                                                            * sp.sqrt(2 * sp.log(sigma_max / sigma_min)), 2),
                                 "Song et al. (2021)", "eq. (30), App. C, the diffusion coefficient squared"),),
        wrong_variants=(
            WrongVariant("var", sigma_ve**2 - sigma_min, "sigma_min not squared"),
            WrongVariant("diffusion_sq", sigma_ve**2 * sp.log(sigma_max / sigma_min), "missing factor 2"),
        ),
    )


@derivation(
    id="sde.vp_scaled",
    title="Scaled VP SDE with Gaussian data: Sigma_t and its ODE",
    statement=r"$dX = -\beta X\,dt + \sqrt{2\beta}\,dW$ with $X_0 \sim \mathcal N(0, \Sigma)$: "
    r"$\Sigma_t = e^{-2B}\Sigma + (1 - e^{-2B}) I$ and $d\Sigma_t/dt = 2\beta(I - \Sigma_t)$ "
    r"(per eigenvalue $\sigma_0^2$ of $\Sigma$).",
    tier=Tier.EXACT,
    assumptions=(r"$\Sigma$ symmetric positive semi-definite; the eigenbasis of $\Sigma$ is kept by the flow",),
    references=(SONG_2021, "E. Pierret, B. Galerne, Diffusion models for Gaussian distributions, ICML 2025, §2"),
)
def vp_scaled() -> Body:
    var = solve_moment_ode(-sp.Integer(2), sp.Integer(2), var_data)
    return Body(
        steps=ode_steps("variance", r"dv/dB = -2v + 2,\ v(0) = \lambda", var, -sp.Integer(2), sp.Integer(2), var_data),
        results=(
            Result("var", var, "eigenvalue of Sigma_t"),
            Result("var_rate", sp.expand(2 * (1 - var)), "dSigma_t/dB = (dSigma_t/dt)/beta"),
            Result("score_coef", -1 / var, "exact score of p_t: -Sigma_t^{-1} x"),
        ),
        claims=(Claim.as_printed("var", sp.exp(-2 * B_t) * var_data + 1 - sp.exp(-2 * B_t), "Pierret & Galerne (2025)",
                                 r"§2, $\Sigma_t = e^{-2B_t}\Sigma + (1 - e^{-2B_t})I$ per eigenvalue"),),
        wrong_variants=(
            WrongVariant("var", sp.exp(-B_t) * var_data + 1 - sp.exp(-B_t), "exponent -B instead of -2B"),
            WrongVariant("score_coef", -var, "covariance instead of its inverse"),
        ),
    )
