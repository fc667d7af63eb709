r"""tweedie.*: posterior moments of a signal seen in Gaussian noise, read off the score.

Model: :math:`y = x + \sigma z` with :math:`z \sim \mathcal N(0, 1)` independent of
:math:`x`, so :math:`p(y) = \int p(x)\,\mathcal N(y; x, \sigma^2)\,dx`. Tweedie's formulas

.. math::
    E[x \mid y] = y + \sigma^2 \partial_y \log p(y), \qquad
    \mathrm{Var}[x \mid y] = \sigma^2 \bigl(1 + \sigma^2 \partial_y^2 \log p(y)\bigr)

are derived from Bayes' rule for two data families:

* Gaussian prior :math:`\mathcal N(\mu_x, \sigma_x^2)`: the posterior comes from
  :func:`derivations.families.gaussian.condition`, the marginal from ``push_forward``;
* two-component mixture :math:`w\,\mathcal N(\mu_1, v_1) + (1-w)\,\mathcal N(\mu_2, v_2)`:
  the posterior is the mixture of the conditioned components, weighted by the
  responsibilities :math:`w_k p_k(y)/p(y)` (Bayes' rule over the component label).

For the mixture, moments times the density are linear in :math:`p, p', p''`
(:math:`\sum_k w_k p_k(y) E_k[x^j \mid y]`), which SymPy proves exactly; the
variance then follows from those two identities by algebra that holds for any
positive density (a step stated for abstract values :math:`p, p', p''`).
Squaring the mixture directly would put products of exponentials in one
expression, which SymPy's rational simplification does not recognize.

VP form: with :math:`x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon`,
the signal is :math:`\sqrt{\bar\alpha_t}\,x_0` and :math:`\sigma^2 = 1 - \bar\alpha_t`.
"""

from __future__ import annotations

import sympy as sp

from derivations.families.gaussian import condition, log_density, push_forward
from derivations.core.notation import (
    alpha_bar_t,
    dens_d1_tw,
    dens_d2_tw,
    dens_tw,
    mix_mean_1,
    mix_mean_2,
    mix_var_1,
    mix_var_2,
    mix_weight,
    mu_x,
    sigma_tw,
    var_x,
    x,
    x_0,
    x_t,
    y,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Equivalent, Relation, Result, WrongVariant, derivation
from derivations.core.work import derivative, held_product, held_sum, named

EFRON_2011 = "B. Efron, Tweedie's Formula and Selection Bias, J. Amer. Statist. Assoc. 106 (2011), §2"
ROBBINS_1956 = "H. Robbins, An Empirical Bayes Approach to Statistics, Proc. 3rd Berkeley Symp. (1956)"
BISHOP_2006 = "C. M. Bishop, Pattern Recognition and Machine Learning (2006), §2.3.3"

MIXTURE = ((mix_weight, mix_mean_1, mix_var_1), (1 - mix_weight, mix_mean_2, mix_var_2))


def canonical_exponentials(expr: sp.Expr) -> sp.Expr:
    """Spell every exponential's argument one way (factored), so that SymPy's
    rational simplification sees one generator per mixture component."""
    return expr.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(sp.factor(e.args[0])))


def mixture_posterior(gain_: sp.Expr, noise_var: sp.Expr, observation: sp.Symbol, variable: sp.Symbol
                      ) -> list[tuple[sp.Expr, sp.Expr, sp.Expr]]:
    r"""For :math:`x \sim \sum_k w_k \mathcal N(\mu_k, v_k)` observed as
    :math:`o = a x + \text{noise}`: per component, the weighted density
    :math:`w_k p_k(o)` and the conditioned mean and variance of ``variable``, each a named intermediate.

    Densities are kept without the common factor :math:`(2\pi)^{-1/2}`: it cancels
    in every ratio, score and (homogeneous) moment identity."""
    parts = []
    for k, (weight, mean, var) in enumerate(MIXTURE, 1):
        marginal_mean, marginal_var = push_forward(mean, var, gain_, 0, noise_var)
        density = weight * sp.sqrt(2 * sp.pi) * sp.exp(log_density(observation, marginal_mean, marginal_var))
        post_mean, post_var = condition(mean, var, gain_, 0, noise_var, observation, variable)
        parts.append((
            named(f"d{k}", rf"\tilde p_{k}(y)", canonical_exponentials(density),
                  description=rf"$w_{k}\sqrt{{2\pi}}\,\mathcal N(y; m_{k}, v_{k} + \sigma^2)$, component {k}'s weighted "
                  r"density of $y$ (the common $(2\pi)^{-1/2}$ dropped)"),
            named(f"M{k}", rf"\hat x_{k}(y)", post_mean, description=rf"$E[x \mid y]$ within component {k}"),
            named(f"V{k}", rf"\hat v_{k}", post_var, description=rf"$\mathrm{{Var}}[x \mid y]$ within component {k}"),
        ))
    return parts


def mixture_moments(parts: list[tuple[sp.Expr, sp.Expr, sp.Expr]]) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""Density :math:`p`, and :math:`p\,E[x]`, :math:`p\,E[x^2]` of the posterior mixture."""
    density = sum(d for d, _, _ in parts)
    first = sum(d * m for d, m, _ in parts)
    second = sum(d * (v + m**2) for d, m, v in parts)
    return density, first, second


def _component_log_slopes(noise_var: sp.Expr) -> list[tuple[sp.Expr, sp.Expr]]:
    r"""(:math:`\partial_y\log p_k`, :math:`\partial_y^2\log p_k`) of each component's Gaussian density of :math:`y`."""
    return [(-(y - mean) / (var + noise_var), -1 / (var + noise_var)) for _, mean, var in MIXTURE]


def _named_density(parts: list[tuple[sp.Expr, sp.Expr, sp.Expr]]) -> sp.Expr:
    return named("p_mix", r"\tilde p(y)", sum(d for d, _, _ in parts),
                 description=r"$\sqrt{2\pi}$ times the marginal density of $y$")


def _gaussian_case(gain_: sp.Expr, noise_var: sp.Expr, observation: sp.Symbol, variable: sp.Symbol
                   ) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Posterior mean, variance and the marginal score for a Gaussian prior N(mu_x, var_x)."""
    post_mean, post_var = condition(mu_x, var_x, gain_, 0, noise_var, observation, variable)
    marginal_mean, marginal_var = push_forward(mu_x, var_x, gain_, 0, noise_var)
    score = sp.diff(log_density(observation, marginal_mean, marginal_var), observation)
    return post_mean, post_var, score


@derivation(
    id="tweedie.first_order",
    title="Tweedie's formula: the posterior mean from the score",
    statement=r"$y = x + \sigma z \Rightarrow E[x \mid y] = y + \sigma^2 \partial_y \log p(y)$, derived by "
    r"Bayes' rule for Gaussian and two-component Gaussian-mixture priors; in VP form "
    r"$E[\sqrt{\bar\alpha_t}\,x_0 \mid x_t] = x_t + (1 - \bar\alpha_t)\,\partial_{x_t}\log p_t(x_t)$.",
    tier=Tier.EXACT,
    assumptions=(r"$\sigma > 0$, $z \sim \mathcal N(0, 1)$ independent of $x$",
                 r"prior $\mathcal N(\mu_x, \sigma_x^2)$ or $w\,\mathcal N(\mu_1, v_1) + (1-w)\,\mathcal N(\mu_2, v_2)$, "
                 r"$0 < w < 1$; coordinate-wise in $d$ dimensions for isotropic noise"),
    references=(EFRON_2011, ROBBINS_1956),
)
def first_order() -> Body:
    noise_var = sigma_tw**2
    gaussian_mean, _, gaussian_score = _gaussian_case(1, noise_var, y, x)

    parts = mixture_posterior(1, noise_var, y, x)
    density, first, _ = mixture_moments(parts)
    named_density = _named_density(parts)
    mixture_mean = first / named_density
    slopes = _component_log_slopes(noise_var)
    mixture_score = sum(d * slope for (d, _, _), (slope, _) in zip(parts, slopes)) / named_density
    prior_density = sum(w * sp.sqrt(2 * sp.pi) * sp.exp(log_density(y, m, v)) for w, m, v in MIXTURE)

    vp_var = 1 - alpha_bar_t
    vp_gain = sp.sqrt(alpha_bar_t)
    vp_x0_mean, _, vp_score = _gaussian_case(vp_gain, vp_var, x_t, x_0)
    # Efron (2011), eq. (1.2): E{mu | z} = z + sigma^2 l'(z), l(z) = log f(z) the log marginal density.
    z_src, l_prime = sp.symbols("z l'(z)")

    return Body(
        steps=(
            Relation(r"Gaussian prior: Bayes posterior mean (completed square, `gaussian.condition`) $= y + \sigma^2 "
                     r"\partial_y \log \mathcal N(y; \mu_x, \sigma_x^2 + \sigma^2)$", gaussian_mean,
                     held_sum(y, held_product(noise_var, gaussian_score))),
            Relation(r"mixture: Bayes over the component label, $\sum_k w_k p_k(y)\,E_k[x \mid y] = y\,p(y) + "
                     r"\sigma^2 p'(y)$ (exponentials written one way)", held_sum(*[d * m for d, m, _ in parts]),
                     held_sum(held_product(y, named_density), held_product(noise_var, derivative(named_density, y))),
                     prepare=canonical_exponentials),
            Relation(r"any $p > 0$: $(y\,p + \sigma^2 p')/p = y + \sigma^2 \partial_y \log p$, so the mixture's "
                     r"Bayes mean is Tweedie's", held_product(y * dens_tw + noise_var * dens_d1_tw, 1 / dens_tw),
                     y + noise_var * dens_d1_tw / dens_tw),
            Relation(r"the mixture's score: differentiate $\log p$ through the components", derivative(sp.log(named_density), y),
                     mixture_score, prepare=canonical_exponentials),
            Relation(r"VP, Gaussian data: $\sqrt{\bar\alpha_t}\,E[x_0 \mid x_t] = x_t + (1-\bar\alpha_t)\,"
                     r"\partial_{x_t}\log p_t(x_t)$", held_product(vp_gain, vp_x0_mean),
                     held_sum(x_t, held_product(vp_var, vp_score))),
        ),
        results=(
            Result("gaussian_mean", gaussian_mean, "E[x | y] for the Gaussian prior N(mu_x, var_x)"),
            Result("gaussian_score", gaussian_score, "d/dy log p(y) for the Gaussian prior"),
            Result("mixture_mean", mixture_mean, "E[x | y] for the two-component mixture prior (Bayes)"),
            Result("mixture_score", mixture_score, "d/dy log p(y) for the two-component mixture prior"),
            Result("vp_x0_mean", vp_x0_mean, "E[x_0 | x_t] for Gaussian data N(mu_x, var_x)"),
            Result("vp_score", vp_score, "d/dx_t log p_t(x_t) for Gaussian data"),
        ),
        claims=(
            Claim.as_printed("mixture_mean", z_src + sigma_tw**2 * l_prime, "B. Efron (2011)",
                             r"eq. (1.2), Tweedie's formula, with $l'(z)$ the derived score of the mixture's marginal",
                             {z_src: y, l_prime: mixture_score}),
        ),
        equivalents=(
            Equivalent("gaussian_mean", (noise_var * mu_x + var_x * y) / (var_x + noise_var),
                       "precision-weighted average of the prior mean and the observation"),
            Equivalent("vp_x0_mean", (x_t + vp_var * vp_score) / vp_gain, "Tweedie's formula in VP form"),
        ),
        wrong_variants=(
            WrongVariant("mixture_mean", y + sigma_tw * mixture_score, "sigma in place of sigma^2"),
            WrongVariant("mixture_mean", y - noise_var * mixture_score, "sign of the score term flipped"),
            WrongVariant("mixture_mean", y + noise_var * sp.diff(sp.log(prior_density), y),
                         "score of the prior p(x) in place of the noisy marginal p(y)"),
            WrongVariant("gaussian_mean", (var_x * mu_x + noise_var * y) / (var_x + noise_var),
                         "weights of prior mean and observation swapped"),
            WrongVariant("vp_x0_mean", x_t + vp_var * vp_score, r"missing division by sqrt(alpha_bar_t)"),
            WrongVariant("vp_x0_mean", (x_t + sp.sqrt(vp_var) * vp_score) / vp_gain,
                         "standard deviation sqrt(1 - alpha_bar_t) in place of the variance"),
        ),
    )


@derivation(
    id="tweedie.second_order",
    title="Second-order Tweedie: the posterior variance from the score's derivative",
    statement=r"$y = x + \sigma z \Rightarrow \mathrm{Var}[x \mid y] = \sigma^2\big(1 + \sigma^2 \partial_y^2 "
    r"\log p(y)\big)$, derived by Bayes' rule for Gaussian and two-component Gaussian-mixture priors "
    r"(for the mixture through the moment identities $p\,E[x^j \mid y]$ linear in $p, p', p''$).",
    tier=Tier.EXACT,
    assumptions=(r"$\sigma > 0$, $z \sim \mathcal N(0, 1)$ independent of $x$",
                 r"prior $\mathcal N(\mu_x, \sigma_x^2)$ or $w\,\mathcal N(\mu_1, v_1) + (1-w)\,\mathcal N(\mu_2, v_2)$, "
                 r"$0 < w < 1$; in $d$ dimensions the Hessian gives the covariance "
                 r"$\sigma^2(I + \sigma^2\nabla^2\log p)$"),
    references=(EFRON_2011,),
)
def second_order() -> Body:
    noise_var = sigma_tw**2
    _, gaussian_var, gaussian_score = _gaussian_case(1, noise_var, y, x)
    gaussian_score_slope = sp.diff(gaussian_score, y)

    parts = mixture_posterior(1, noise_var, y, x)
    named_density = _named_density(parts)
    _, first, second = mixture_moments(parts)
    mixture_var = second / named_density - (first / named_density) ** 2  # law of total variance over the components
    slopes = _component_log_slopes(noise_var)
    score = sum(d * slope for (d, _, _), (slope, _) in zip(parts, slopes)) / named_density
    mixture_score_slope = (sum(d * (slope**2 + curvature) for (d, _, _), (slope, curvature) in zip(parts, slopes))
                           / named_density - score**2)

    # Any positive density: the two moment identities give Tweedie's variance.
    mean_any = (y * dens_tw + noise_var * dens_d1_tw) / dens_tw
    second_any = ((y**2 + noise_var) * dens_tw + 2 * y * noise_var * dens_d1_tw + noise_var**2 * dens_d2_tw) / dens_tw
    log_slope_any = dens_d2_tw / dens_tw - (dens_d1_tw / dens_tw) ** 2  # (log p)'' by the chain rule

    vp_var = 1 - alpha_bar_t
    _, vp_x0_var, vp_score = _gaussian_case(sp.sqrt(alpha_bar_t), vp_var, x_t, x_0)

    return Body(
        steps=(
            Relation(r"Gaussian prior: Bayes posterior variance $= \sigma^2(1 + \sigma^2 \partial_y^2 \log p(y))$",
                     gaussian_var, held_product(noise_var, held_sum(1, held_product(noise_var, gaussian_score_slope)))),
            Relation(r"mixture: $\sum_k w_k p_k(y)\,E_k[x^2 \mid y] = (y^2 + \sigma^2)\,p + 2 y \sigma^2 p' + "
                     r"\sigma^4 p''$ (exponentials written one way)",
                     held_sum(*[d * (v + m**2) for d, m, v in parts]),
                     held_sum(held_product(y**2 + noise_var, named_density),
                              held_product(2 * y * noise_var, derivative(named_density, y)),
                              held_product(noise_var**2, derivative(named_density, (y, 2)))),
                     prepare=canonical_exponentials),
            Relation(r"any $p > 0$: $E[x^2 \mid y] - E[x \mid y]^2$ from this identity and the first-moment "
                     r"identity $p\,E[x \mid y] = y\,p + \sigma^2 p'$ (proved in tweedie.first_order) "
                     r"$= \sigma^2(1 + \sigma^2 (p''/p - (p'/p)^2))$",
                     held_sum(second_any, -mean_any**2), noise_var * (1 + noise_var * log_slope_any)),
            Relation(r"the mixture's $\partial_y^2\log p$: differentiate twice through the components",
                     derivative(sp.log(named_density), (y, 2)), mixture_score_slope, prepare=canonical_exponentials),
            Relation(r"VP, Gaussian data: $\bar\alpha_t \mathrm{Var}[x_0 \mid x_t] = (1-\bar\alpha_t)(1 + "
                     r"(1-\bar\alpha_t)\partial^2_{x_t}\log p_t)$",
                     held_product(alpha_bar_t, vp_x0_var), vp_var * (1 + vp_var * sp.diff(vp_score, x_t))),
        ),
        results=(
            Result("gaussian_var", gaussian_var, "Var[x | y] for the Gaussian prior"),
            Result("gaussian_score_slope", gaussian_score_slope, "d^2/dy^2 log p(y) for the Gaussian prior"),
            Result("mixture_var", mixture_var, "Var[x | y] for the two-component mixture prior (Bayes)"),
            Result("mixture_score_slope", mixture_score_slope, "d^2/dy^2 log p(y) for the mixture prior"),
            Result("vp_x0_var", vp_x0_var, "Var[x_0 | x_t] for Gaussian data N(mu_x, var_x)"),
        ),
        equivalents=(
            Equivalent("gaussian_var", var_x * noise_var / (var_x + noise_var), "product of the variances over their sum"),
        ),
        wrong_variants=(
            WrongVariant("mixture_var", noise_var, "Hessian term missing: sigma^2 alone"),
            WrongVariant("mixture_var", noise_var * (1 + sigma_tw * mixture_score_slope),
                         "sigma in place of sigma^2 in the Hessian term"),
            WrongVariant("mixture_var", noise_var * (1 - noise_var * mixture_score_slope), "sign of the Hessian term"),
            WrongVariant("gaussian_var", noise_var * (1 + noise_var * gaussian_score_slope) ** 2,
                         "bracket squared"),
            WrongVariant("vp_x0_var", vp_var * (1 + vp_var * sp.diff(vp_score, x_t)),
                         r"missing division by alpha_bar_t"),
        ),
    )
