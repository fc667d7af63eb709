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
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation

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
    :math:`w_k p_k(o)` and the conditioned mean and variance of ``variable``.

    Densities are kept without the common factor :math:`(2\pi)^{-1/2}`: it cancels
    in every ratio, score and (homogeneous) moment identity, and the closed forms
    then compile to torch without symbolic constants."""
    parts = []
    for weight, mean, var in MIXTURE:
        marginal_mean, marginal_var = push_forward(mean, var, gain_, 0, noise_var)
        density = weight * sp.sqrt(2 * sp.pi) * sp.exp(log_density(observation, marginal_mean, marginal_var))
        post_mean, post_var = condition(mean, var, gain_, 0, noise_var, observation, variable)
        parts.append((canonical_exponentials(density), post_mean, post_var))
    return parts


def mixture_moments(parts: list[tuple[sp.Expr, sp.Expr, sp.Expr]]) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""Density :math:`p`, and :math:`p\,E[x]`, :math:`p\,E[x^2]` of the posterior mixture."""
    density = sum(d for d, _, _ in parts)
    first = sum(d * m for d, m, _ in parts)
    second = sum(d * (v + m**2) for d, m, v in parts)
    return density, first, second


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

    density, first, _ = mixture_moments(mixture_posterior(1, noise_var, y, x))
    mixture_mean = first / density
    mixture_score = canonical_exponentials(sp.diff(sp.log(density), y))
    prior_density = sum(w * sp.sqrt(2 * sp.pi) * sp.exp(log_density(y, m, v)) for w, m, v in MIXTURE)

    vp_var = 1 - alpha_bar_t
    vp_gain = sp.sqrt(alpha_bar_t)
    vp_x0_mean, _, vp_score = _gaussian_case(vp_gain, vp_var, x_t, x_0)

    return Body(
        steps=(
            Relation(r"Gaussian prior: Bayes posterior mean $= y + \sigma^2 \partial_y \log \mathcal N(y; \mu_x, "
                     r"\sigma_x^2 + \sigma^2)$", gaussian_mean, y + noise_var * gaussian_score),
            Relation(r"mixture: $\sum_k w_k p_k(y)\,E_k[x \mid y] = y\,p(y) + \sigma^2 p'(y)$",
                     first, canonical_exponentials(y * density + noise_var * sp.diff(density, y))),
            Relation(r"any $p > 0$: $(y\,p + \sigma^2 p')/p = y + \sigma^2 \partial_y \log p$, so the mixture's "
                     r"Bayes mean is Tweedie's", (y * dens_tw + noise_var * dens_d1_tw) / dens_tw,
                     y + noise_var * dens_d1_tw / dens_tw),
            Relation(r"VP, Gaussian data: $\sqrt{\bar\alpha_t}\,E[x_0 \mid x_t] = x_t + (1-\bar\alpha_t)\,"
                     r"\partial_{x_t}\log p_t(x_t)$", vp_gain * vp_x0_mean, x_t + vp_var * vp_score),
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
            Claim("gaussian_mean", (noise_var * mu_x + var_x * y) / (var_x + noise_var),
                  "precision-weighted average; " + BISHOP_2006),
            Claim("vp_x0_mean", (x_t + vp_var * vp_score) / vp_gain, "Tweedie in VP form; " + EFRON_2011),
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

    density, first, second = mixture_moments(mixture_posterior(1, noise_var, y, x))
    d1, d2 = sp.diff(density, y), sp.diff(density, y, 2)
    mixture_var = second / density - (first / density) ** 2  # law of total variance over the components
    mixture_score_slope = canonical_exponentials(sp.diff(sp.log(density), y, 2))

    # Any positive density: the two moment identities give Tweedie's variance.
    mean_any = (y * dens_tw + noise_var * dens_d1_tw) / dens_tw
    second_any = ((y**2 + noise_var) * dens_tw + 2 * y * noise_var * dens_d1_tw + noise_var**2 * dens_d2_tw) / dens_tw
    log_slope_any = dens_d2_tw / dens_tw - (dens_d1_tw / dens_tw) ** 2  # (log p)'' by the chain rule

    vp_var = 1 - alpha_bar_t
    _, vp_x0_var, vp_score = _gaussian_case(sp.sqrt(alpha_bar_t), vp_var, x_t, x_0)

    return Body(
        steps=(
            Relation(r"Gaussian prior: Bayes posterior variance $= \sigma^2(1 + \sigma^2 \partial_y^2 \log p(y))$",
                     gaussian_var, noise_var * (1 + noise_var * gaussian_score_slope)),
            Relation(r"mixture: $\sum_k w_k p_k(y)\,E_k[x^2 \mid y] = (y^2 + \sigma^2)\,p + 2 y \sigma^2 p' + "
                     r"\sigma^4 p''$",
                     second, canonical_exponentials((y**2 + noise_var) * density + 2 * y * noise_var * d1
                                                    + noise_var**2 * d2)),
            Relation(r"any $p > 0$: $E[x^2 \mid y] - E[x \mid y]^2$ from this identity and the first-moment "
                     r"identity $p\,E[x \mid y] = y\,p + \sigma^2 p'$ (proved in tweedie.first_order) "
                     r"$= \sigma^2(1 + \sigma^2 (p''/p - (p'/p)^2))$",
                     second_any - mean_any**2, noise_var * (1 + noise_var * log_slope_any)),
            Relation(r"VP, Gaussian data: $\bar\alpha_t \mathrm{Var}[x_0 \mid x_t] = (1-\bar\alpha_t)(1 + "
                     r"(1-\bar\alpha_t)\partial^2_{x_t}\log p_t)$",
                     alpha_bar_t * vp_x0_var, vp_var * (1 + vp_var * sp.diff(vp_score, x_t))),
        ),
        results=(
            Result("gaussian_var", gaussian_var, "Var[x | y] for the Gaussian prior"),
            Result("gaussian_score_slope", gaussian_score_slope, "d^2/dy^2 log p(y) for the Gaussian prior"),
            Result("mixture_var", mixture_var, "Var[x | y] for the two-component mixture prior (Bayes)"),
            Result("mixture_score_slope", mixture_score_slope, "d^2/dy^2 log p(y) for the mixture prior"),
            Result("vp_x0_var", vp_x0_var, "Var[x_0 | x_t] for Gaussian data N(mu_x, var_x)"),
        ),
        claims=(
            Claim("gaussian_var", var_x * noise_var / (var_x + noise_var), BISHOP_2006),
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
