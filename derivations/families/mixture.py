r"""mixture.*: Gaussian-mixture data pushed through a Gaussian forward kernel.

Every forward process of the suite (discrete VP, VP, sub-VP, VE SDEs) has the
kernel :math:`q(x_t \mid x_0) = \mathcal N(m_t x_0, v_t)` coordinate-wise. For
data :math:`\sum_k w_k \mathcal N(\mu_k, s_k^2)` each component is pushed
forward by :func:`derivations.families.gaussian.push_forward`, and the score of the
noised mixture is obtained by differentiating the log of the mixture density:

.. math::
    \nabla_x \log p_t(x) = \sum_k r_k(x)\, \nabla_x \log \mathcal N(x; M_k, V_k),
    \quad r_k(x) = \frac{w_k \mathcal N(x; M_k, V_k)}{\sum_j w_j \mathcal N(x; M_j, V_j)}.

The identity is proved for two components with a free weight; the argument
(derivative of a log of a sum) is the same for any number of components, and
one component is Gaussian data (per eigenvalue of :math:`\Sigma`).
"""

from __future__ import annotations

import sympy as sp

from derivations.families.gaussian import log_density, push_forward
from derivations.core.notation import (
    kernel_mean_coef,
    kernel_var,
    mix_mean_1,
    mix_mean_2,
    mix_var_1,
    mix_var_2,
    mix_weight,
    x_t,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Equivalent, Relation, Result, WrongVariant, derivation
from derivations.core.work import derivative, held_product, held_sum, limit, named

SONG_2021 = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, §3.2 (exact scores of p_t)"
BISHOP = "C. M. Bishop, Pattern Recognition and Machine Learning (2006), §9.2 (responsibilities)"


def _component(mean: sp.Expr, var: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    return push_forward(mean, var, kernel_mean_coef, 0, kernel_var)


@derivation(
    id="mixture.noised_score",
    title="Score of Gaussian-mixture data under the kernel N(m_t x_0, v_t)",
    statement=r"For data $\sum_k w_k\mathcal N(\mu_k, s_k^2)$, $p_t = \sum_k w_k \mathcal N(m_t\mu_k, m_t^2 s_k^2 + v_t)$ "
    r"and $\nabla\log p_t(x) = \sum_k r_k(x)\,\frac{-(x - m_t\mu_k)}{m_t^2 s_k^2 + v_t}$ with posterior "
    r"responsibilities $r_k \propto w_k\mathcal N(x; m_t\mu_k, m_t^2 s_k^2 + v_t)$; mean "
    r"$m_t\sum_k w_k\mu_k$ and variance by the law of total variance.",
    tier=Tier.EXACT,
    assumptions=(r"$v_t > 0$, $m_t > 0$, $0 < w < 1$; coordinate-wise (Gaussian data: per eigenvalue of $\Sigma$)",),
    references=(SONG_2021, BISHOP),
)
def noised_score() -> Body:
    mean_1, var_1 = _component(mix_mean_1, mix_var_1)
    mean_2, var_2 = _component(mix_mean_2, mix_var_2)
    log_1, log_2 = log_density(x_t, mean_1, var_1), log_density(x_t, mean_2, var_2)
    component_1 = named("N_1", r"\mathcal N_1(x)", sp.exp(log_1), description=r"noised component 1, "
                        r"$\mathcal N(x; m_t\mu_1, m_t^2 s_1^2 + v_t)$")
    component_2 = named("N_2", r"\mathcal N_2(x)", sp.exp(log_2), description=r"noised component 2")
    density = named("p_t", r"p_t(x)", mix_weight * component_1 + (1 - mix_weight) * component_2,
                    description="the noised mixture density")
    score_1, score_2 = sp.diff(log_1, x_t), sp.diff(log_2, x_t)
    responsibility = named("r_1", r"r_1(x)", mix_weight * component_1 / density,
                           description="posterior probability of component 1 given x")
    score = held_sum(held_product(responsibility, score_1), held_product(1 - responsibility, score_2))
    mixture_mean = mix_weight * mean_1 + (1 - mix_weight) * mean_2
    # Law of total variance: E[Var | component] + Var[E | component].
    mixture_var = mix_weight * var_1 + (1 - mix_weight) * var_2 + mix_weight * (1 - mix_weight) * (mean_1 - mean_2) ** 2
    second_moment = mix_weight * (var_1 + mean_1**2) + (1 - mix_weight) * (var_2 + mean_2**2)
    return Body(
        steps=(
            Relation(r"differentiate the log of the mixture density: $\partial_x \log\sum_k w_k \mathcal N_k = "
                     r"\sum_k r_k\, \partial_x \log \mathcal N_k$ (two components)", derivative(sp.log(density), x_t),
                     score),
            Relation(r"component score: differentiate $\log\mathcal N_1$", derivative(log_1, x_t),
                     -(x_t - mean_1) / var_1),
            Relation(r"total variance $=$ second moment minus squared mean", mixture_var,
                     held_sum(second_moment, -mixture_mean**2)),
        ),
        results=(
            Result("component_mean", mean_1, "mean of a noised component"),
            Result("component_var", var_1, "variance of a noised component"),
            Result("component_log_density", log_1, "log-density of a noised component"),
            Result("component_score", score_1, "score of a noised component (Gaussian data: the score)"),
            Result("responsibility", responsibility, "posterior probability of component 1 given x_t"),
            Result("score", score, "score of the noised two-component mixture"),
            Result("marginal_mean", mixture_mean, "mean of p_t"),
            Result("marginal_var", mixture_var, "variance of p_t"),
        ),
        equivalents=(
            Equivalent("component_score", -(x_t - kernel_mean_coef * mix_mean_1) / (kernel_mean_coef**2 * mix_var_1
                                                                                    + kernel_var),
                       "the Gaussian score $-(x - \text{mean})/\text{variance}$"),
        ),
        wrong_variants=(
            WrongVariant("component_var", kernel_mean_coef * mix_var_1 + kernel_var, "signal coefficient not squared"),
            WrongVariant("component_var", mix_var_1 + kernel_var, "data variance not scaled by m_t^2"),
            WrongVariant("component_score", (x_t - mean_1) / var_1, "sign flipped"),
            WrongVariant("score", mix_weight * score_1 + (1 - mix_weight) * score_2,
                         "prior weights in place of posterior responsibilities"),
            WrongVariant("marginal_var", mix_weight * var_1 + (1 - mix_weight) * var_2,
                         "between-component variance missing"),
        ),
    )



_STANDARDIZED = sp.Symbol("x")  # Abramowitz & Stegun's argument of P(x)


def _standard_normal_cdf() -> tuple[sp.Symbol, sp.Expr]:
    r""":math:`\Phi(a) = \int_{-\infty}^{a} \mathcal N(z; 0, 1)\,dz`, integrated by SymPy (in erf form), and its ``a``."""
    # plain symbols, not Dummies: a page shows the limit in a, and a rebuilt body must equal the stored one
    z, a = sp.Symbol("z", real=True), sp.Symbol("a", real=True)
    return a, sp.expand(sp.integrate(sp.exp(log_density(z, 0, 1)), (z, -sp.oo, a)).rewrite(sp.erf))


def _compiled_cdf(mean: sp.Expr, var: sp.Expr) -> sp.Expr:
    r""":math:`\frac12(1 + \operatorname{erf}((x - M)/\sqrt{2V}))` with :math:`2V` expanded: one radical per
    component (constant radicals elsewhere are folded by :func:`derivations.core.registry.fold_constants`)."""
    return (1 + sp.erf((x_t - mean) / sp.sqrt(sp.expand(2 * var)))) / 2


@derivation(
    id="mixture.noised_cdf",
    title="Distribution function of Gaussian-mixture data under the kernel N(m_t x_0, v_t)",
    statement=r"$P(X_t \le x) = \sum_k w_k \Phi\big((x - m_t\mu_k)/\sqrt{m_t^2 s_k^2 + v_t}\big)$ with "
    r"$\Phi(a) = \tfrac12\big(1 + \operatorname{erf}(a/\sqrt2)\big)$: the integral of the noised density of "
    r"``mixture.noised_score``, component by component.",
    tier=Tier.EXACT,
    assumptions=(r"$v_t > 0$, $m_t > 0$, $0 < w < 1$; one coordinate",),
    references=("M. Abramowitz & I. A. Stegun, Handbook of Mathematical Functions (1964), §26.2 "
                "(normal probability function through erf)", BISHOP),
)
def noised_cdf() -> Body:
    components = [_component(mix_mean_1, mix_var_1), _component(mix_mean_2, mix_var_2)]
    a, phi = _standard_normal_cdf()
    # Change of variables u = M + sqrt(V) z turns each component's integral into Phi((x - M)/sqrt(V)).
    integrated = [phi.subs(a, (x_t - mean) / sp.sqrt(var)) for mean, var in components]
    cdfs = [_compiled_cdf(mean, var) for mean, var in components]
    densities = [sp.exp(log_density(x_t, mean, var)) for mean, var in components]
    cdf = mix_weight * cdfs[0] + (1 - mix_weight) * cdfs[1]

    def misprinted(denominator) -> sp.Expr:
        """The mixture CDF with each erf argument (x - M)/sqrt(2V) divided by ``denominator(V)`` instead."""
        wrong = [(1 + sp.erf((x_t - mean) / denominator(var))) / 2 for mean, var in components]
        return mix_weight * wrong[0] + (1 - mix_weight) * wrong[1]

    return Body(
        steps=(
            # (x - M)/sqrt(V) increases from -oo to oo with x, so F_k's limits are Phi's.
            Relation(r"$\Phi(a) \to 0$ as $a \to -\infty$", limit(phi, a, -sp.oo), sp.Integer(0)),
            Relation(r"$\Phi(a) \to 1$ as $a \to \infty$", limit(phi, a, sp.oo), sp.Integer(1)),
            Relation(r"$F_1 = \Phi((x - M_1)/\sqrt{V_1})$ in the compiled form "
                     r"$\frac12(1 + \operatorname{erf}((x - M_1)/\sqrt{2V_1}))$", integrated[0], cdfs[0]),
            Relation(r"differentiate: $\partial_x F_1 = \mathcal N(x; m_t\mu_1, m_t^2 s_1^2 + v_t)$, so $F_1$ is a "
                     "distribution function of the noised component", derivative(cdfs[0], x_t), densities[0]),
            Relation(r"differentiate: $\partial_x F = $ the noised mixture density $\sum_k w_k \mathcal N_k$",
                     derivative(cdf, x_t), mix_weight * densities[0] + (1 - mix_weight) * densities[1]),
        ),
        results=(
            Result("component_cdf", cdfs[0], "distribution function of a noised component"),
            Result("cdf", cdf, "distribution function P(X_t <= x_t) of the noised two-component mixture"),
        ),
        claims=(
            Claim.as_printed("component_cdf", (1 + sp.erf(_STANDARDIZED / sp.sqrt(2))) / 2, "Abramowitz & Stegun (1964)",
                             r"26.2.29, $P(x) = \tfrac12[1 + \operatorname{erf}(x/\sqrt2)]$",
                             {_STANDARDIZED: (x_t - components[0][0]) / sp.sqrt(components[0][1])}),
        ),
        wrong_variants=(
            WrongVariant("cdf", misprinted(sp.sqrt), r"$\sqrt2$ missing from the erf argument"),
            WrongVariant("cdf", misprinted(lambda var: sp.sqrt(sp.expand(2 * var**2))), "variance in place of the standard deviation"),
            WrongVariant("cdf", (1 - mix_weight) * cdfs[0] + mix_weight * cdfs[1], "component weights swapped"),
        ),
    )
