r"""score.*: scores of the Gaussian noising kernels and score matching.

* ``score.conditional``: :math:`\nabla_{x_t} \log q(x_t \mid x_0)` for
  :math:`q(x_t \mid x_0) = \mathcal N(\sqrt{\bar\alpha_t} x_0, 1 - \bar\alpha_t)`;
* ``score.dsm_equals_esm``: denoising and explicit score matching differ by a
  constant, for any data density, noising kernel and score model (the integrands'
  identities proved for undefined functions); closed forms for Gaussian data and an
  affine model (expectations by Gaussian moments);
* ``score.reparameterizations``: the maps between :math:`x_0`-, :math:`\varepsilon`-,
  score- and :math:`v`-predictions, solved from the noising equation.
"""

from __future__ import annotations

import functools

import sympy as sp

from derivations.families.ddpm import HO_2020, marginal_form
from derivations.families.gaussian import log_density, push_forward
from derivations.core.notation import (
    alpha_bar_t,
    cond_score_t,
    eps,
    mu_x,
    score_intercept,
    score_slope,
    sigma_tw,
    v_target,
    var_x,
    x,
    x_0,
    x_t,
    y,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Equivalent, Relation, Result, WrongVariant, derivation
from derivations.core.work import at, derivative, expectation, held_product, held_sum, named

SONG_2021 = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, eq. (1) and §3.3"


@derivation(
    id="score.conditional",
    title="Score of the noising kernel q(x_t | x_0) and its epsilon form",
    statement=r"$\nabla_{x_t}\log q(x_t\mid x_0) = -\frac{x_t - \sqrt{\bar\alpha_t}x_0}{1-\bar\alpha_t} "
    r"= -\frac{\varepsilon}{\sqrt{1-\bar\alpha_t}}$, so a noise prediction $\hat\varepsilon$ "
    r"gives the score $s = -\hat\varepsilon/\sqrt{1-\bar\alpha_t}$.",
    tier=Tier.EXACT,
    assumptions=(r"$0 < \bar\alpha_t < 1$", r"$x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon$"),
    references=(HO_2020, SONG_2021),
)
def conditional() -> Body:
    mean, var = marginal_form(alpha_bar_t)
    log_kernel = log_density(x_t, mean, var)
    score = sp.diff(log_kernel, x_t)
    noised = {x_t: mean + sp.sqrt(var) * eps}
    score_eps = sp.simplify(score.subs(noised))
    return Body(
        steps=(
            Relation(r"differentiate $\log \mathcal N(x_t; \sqrt{\bar\alpha_t}x_0, 1-\bar\alpha_t)$ in $x_t$",
                     derivative(log_kernel, x_t), -(x_t - mean) / var),
            Relation(r"substitute $x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\varepsilon$",
                     at(score, noised), score_eps),
        ),
        results=(
            Result("score", score, "score in x_t and x_0"),
            Result("score_eps", score_eps, "score in the noise eps"),
            Result("eps_to_score", score_eps / eps, "factor mapping a noise prediction to a score"),
        ),
        equivalents=(Equivalent("score_eps", -eps / sp.sqrt(1 - alpha_bar_t),
                                r"$-\varepsilon/\sqrt{1-\bar\alpha_t}$, the noise over the kernel's standard deviation"),),
        wrong_variants=(
            WrongVariant("score_eps", -eps / (1 - alpha_bar_t), "missing square root"),
            WrongVariant("score_eps", eps / sp.sqrt(1 - alpha_bar_t), "sign flipped"),
            WrongVariant("score", -(x_t - alpha_bar_t * x_0) / (1 - alpha_bar_t), "missing square root on the mean"),
            WrongVariant("eps_to_score", -sp.sqrt(1 - alpha_bar_t), "multiplied instead of divided"),
        ),
    )


VINCENT_2011 = ("P. Vincent, A Connection Between Score Matching and Denoising Autoencoders, "
                "Neural Computation 23 (2011), eqs. (6)-(11)")
HYVARINEN_2005 = "A. Hyvärinen, Estimation of Non-Normalized Statistical Models by Score Matching, JMLR 6 (2005)"
SALIMANS_HO_2022 = ("T. Salimans, J. Ho, Progressive Distillation for Fast Sampling of Diffusion Models, "
                    "ICLR 2022, §4 and Appendix D")


@functools.lru_cache(maxsize=None)
def standard_normal_moment(order: int) -> sp.Expr:
    r""":math:`E[U^k]` for :math:`U \sim \mathcal N(0, 1)`, by SymPy's probability integral."""
    from sympy import stats

    return stats.E(stats.Normal("U", 0, 1) ** order)


def standard_normal_expectation(expr: sp.Expr, normals: tuple[sp.Symbol, ...]) -> sp.Expr:
    r"""Expectation of a polynomial in independent standard normals ``normals``:
    expand into monomials and take :math:`E\prod_i U_i^{k_i} = \prod_i E[U_i^{k_i}]`."""
    poly = sp.Poly(sp.expand(expr), *normals)
    return sp.expand(sum(coef * sp.Mul(*(standard_normal_moment(k) for k in powers))
                         for powers, coef in poly.terms()))


def _linear_tidy(expr: sp.Expr, variables: tuple[sp.Symbol, ...]) -> sp.Expr:
    """A linear form in ``variables`` with each coefficient simplified (readable results)."""
    expanded = sp.expand(expr)
    return sum(sp.simplify(sp.radsimp(expanded.coeff(v))) * v for v in variables)


def _by_parameters(expr: sp.Expr) -> sp.Expr:
    """A quadratic in the model's parameters with each coefficient factored (readable results)."""
    poly = sp.Poly(sp.expand(expr), score_slope, score_intercept)
    return sum(sp.factor(coef) * score_slope**i * score_intercept**j for (i, j), coef in poly.terms())


@derivation(
    id="score.dsm_equals_esm",
    title="Denoising score matching equals explicit score matching plus a constant (any data, kernel and model)",
    statement=r"For data $x \sim p_0$, a noising kernel $q(y \mid x)$, the marginal $p(y) = \int p_0(x) q(y\mid x)\,dx$ "
    r"and any score model $s_\theta$: $J_{DSM} = \tfrac12 E\,|s_\theta(y) - \nabla_y \log q(y \mid x)|^2$ and "
    r"$J_{ESM} = \tfrac12 E\,|s_\theta(y) - \nabla \log p(y)|^2$ differ by "
    r"$C = \tfrac12 E|\nabla_y\log q(y\mid x)|^2 - \tfrac12 E|\nabla\log p(y)|^2$, free of $\theta$. Proved from the "
    r"integrands, for undefined $p_0$, $q$, $p$ and $s_\theta$ (one coordinate; coordinates add): the squares expand, "
    r"and the cross terms agree because $p_0 q\,\partial_y\log q = \partial_y(p_0 q)$ integrates over $x$ to "
    r"$p'(y) = p\,\partial_y\log p$. Closed forms for $y = x + \sigma z$, Gaussian data $\mathcal N(\mu_x, \sigma_x^2)$ "
    r"and the affine model $s(y) = a y + b$: $C = \tfrac12\big(\sigma^{-2} - (\sigma_x^2 + \sigma^2)^{-1}\big)$, and "
    r"the minimizer is the true score $a = -1/(\sigma_x^2 + \sigma^2)$, $b = \mu_x/(\sigma_x^2 + \sigma^2)$.",
    tier=Tier.EXACT,
    assumptions=(r"general case: $p_0$, $q(\cdot\mid x)$ positive and differentiable in $y$; "
                 r"$\partial_y\int p_0 q\,dx = \int \partial_y(p_0 q)\,dx$ (differentiation under the integral) and "
                 r"Fubini for the cross term; $E|s_\theta|^2$, $E|\nabla_y\log q|^2 < \infty$",
                 r"closed forms: $x \sim \mathcal N(\mu_x, \sigma_x^2)$, $z \sim \mathcal N(0, 1)$ independent, "
                 r"$\sigma > 0$; affine score model $s(y) = a y + b$ (contains the true score of Gaussian data)"),
    references=(VINCENT_2011, HYVARINEN_2005),
)
def dsm_equals_esm() -> Body:
    # The general identity, on the integrands: undefined data density, kernel, marginal and model.
    data_density = sp.Function("p_0", positive=True)(x)
    kernel = sp.Function("q", positive=True)(y, x)
    marginal_density = sp.Function("p", positive=True)(y)
    model_score = sp.Function("s_theta")(y)
    kernel_score, marginal_score = derivative(sp.log(kernel), y), derivative(sp.log(marginal_density), y)

    signal_noise, noise = sp.symbols("u z", real=True)  # independent standard normals
    signal = mu_x + sp.sqrt(var_x) * signal_noise
    noisy = signal + sigma_tw * noise
    marginal_mean, marginal_var = push_forward(mu_x, var_x, 1, 0, sigma_tw**2)
    true_score = sp.cancel(sp.diff(log_density(y, marginal_mean, marginal_var), y))
    conditional_score = sp.diff(log_density(y, x_0, sigma_tw**2), y).subs(x_0, signal)  # grad_y log q(y | x)
    model = score_slope * y + score_intercept
    # Both objectives are expectations over the joint law of (x, y) = (signal, noisy).
    expect = functools.partial(standard_normal_expectation, normals=(signal_noise, noise))
    dsm = _by_parameters(expect(((model - conditional_score) ** 2 / 2).subs(y, noisy)))
    esm = _by_parameters(expect(((model - true_score) ** 2 / 2).subs(y, noisy)))
    constant = sp.factor(dsm - esm)
    optimum = sp.solve([sp.diff(dsm, score_slope), sp.diff(dsm, score_intercept)], [score_slope, score_intercept],
                       dict=True)[0]
    slope, intercept = optimum[score_slope], optimum[score_intercept]
    j_dsm = named("J_DSM", r"J_{\mathrm{DSM}}", dsm, description="denoising objective, Gaussian data, affine model")
    j_esm = named("J_ESM", r"J_{\mathrm{ESM}}", esm, description="explicit objective, Gaussian data, affine model")
    from sympy import stats

    u_rv, z_rv = stats.Normal("U", 0, 1), stats.Normal("Z", 0, 1)
    at_sample = {signal_noise: u_rv, noise: z_rv}
    return Body(
        steps=(
            Relation(r"any data, kernel and model: expand the two squares; they differ by the cross term "
                     r"$s_\theta(\partial_y\log p - \partial_y\log q)$ and terms free of $\theta$",
                     held_sum((model_score - kernel_score) ** 2 / 2, -(model_score - marginal_score) ** 2 / 2),
                     held_sum(held_product(model_score, marginal_score - kernel_score),
                              kernel_score**2 / 2, -marginal_score**2 / 2)),
            Relation(r"the cross term of $J_{DSM}$ under the joint law $p_0(x)q(y\mid x)$: "
                     r"$p_0 q\,s_\theta\,\partial_y\log q = s_\theta\,\partial_y(p_0 q)$, which integrates over $x$ "
                     r"(differentiation under the integral) to $s_\theta\,p'(y)$",
                     data_density * kernel * model_score * kernel_score, held_product(model_score,
                                                                                derivative(data_density * kernel, y))),
            Relation(r"the cross term of $J_{ESM}$ under $p(y)$: $p\,s_\theta\,\partial_y\log p = s_\theta\,p'(y)$, "
                     r"the same integrand; so $E[s_\theta(\partial_y\log p - \partial_y\log q)] = 0$ and "
                     r"$J_{DSM} - J_{ESM} = C$", marginal_density * model_score * marginal_score,
                     held_product(model_score, derivative(marginal_density, y))),
            Relation(r"Gaussian data, affine model: integrate $J_{DSM}$ over $x = \mu_x + \sigma_x U$, "
                     r"$y = x + \sigma Z$", expectation(((model - conditional_score) ** 2 / 2).subs(y, noisy).xreplace(
                         at_sample), dsm), j_dsm),
            Relation(r"and $J_{ESM}$", expectation(((model - true_score) ** 2 / 2).subs(y, noisy).xreplace(at_sample), esm),
                     j_esm),
            Relation(r"$J_{DSM} - J_{ESM}$ does not depend on $a$", derivative(held_sum(j_dsm, -j_esm), score_slope), 0),
            Relation(r"nor on $b$", derivative(held_sum(j_dsm, -j_esm), score_intercept), 0),
            Relation(r"the minimizer of $J_{DSM}$ (solve $\partial_a J = \partial_b J = 0$) is the true score "
                     r"$\partial_y \log \mathcal N(y; \mu_x, \sigma_x^2 + \sigma^2)$", slope * y + intercept, true_score),
            Relation(r"$J_{ESM} \ge 0$ vanishes at the minimizer", at(j_esm, optimum), 0),
        ),
        results=(
            Result("dsm_objective", dsm, "denoising score matching loss of s(y) = a y + b"),
            Result("esm_objective", esm, "explicit score matching loss of s(y) = a y + b"),
            Result("constant", constant, "J_DSM - J_ESM, free of the model parameters"),
            Result("true_score", true_score, "d/dy log p(y) for Gaussian data"),
            Result("minimizer_slope", slope, "slope a minimizing J_DSM"),
            Result("minimizer_intercept", intercept, "intercept b minimizing J_DSM"),
        ),
        equivalents=(
            Equivalent("constant", (1 / sigma_tw**2 - 1 / (var_x + sigma_tw**2)) / 2,
                       r"half the Fisher information of $q(y \mid x)$ minus that of $p(y)$"),
        ),
        wrong_variants=(
            WrongVariant("constant", 1 / (2 * sigma_tw**2), "Fisher information of p(y) left out"),
            WrongVariant("constant", (1 / sigma_tw - 1 / (var_x + sigma_tw**2)) / 2, "sigma in place of sigma^2"),
            WrongVariant("minimizer_slope", -1 / var_x, "score of the clean data in place of the noisy marginal"),
            WrongVariant("minimizer_slope", -1 / sigma_tw**2, "slope of the conditional score"),
            WrongVariant("minimizer_intercept", mu_x / var_x, "clean-data variance in the intercept"),
        ),
    )


@derivation(
    id="score.reparameterizations",
    title="x_0-, epsilon-, score- and v-predictions and the maps between them",
    statement=r"With $x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon$, the score "
    r"$s = -\varepsilon/\sqrt{1-\bar\alpha_t}$ and "
    r"$v = \sqrt{\bar\alpha_t}\,\varepsilon - \sqrt{1-\bar\alpha_t}\,x_0$: "
    r"$x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon)/\sqrt{\bar\alpha_t} "
    r"= (x_t + (1-\bar\alpha_t)s)/\sqrt{\bar\alpha_t} "
    r"= \sqrt{\bar\alpha_t}\,x_t - \sqrt{1-\bar\alpha_t}\,v$ and "
    r"$\varepsilon = \sqrt{1-\bar\alpha_t}\,x_t + \sqrt{\bar\alpha_t}\,v$.",
    tier=Tier.EXACT,
    assumptions=(r"$0 < \bar\alpha_t < 1$; a prediction of any one target given $x_t$ determines the others",),
    references=(HO_2020, SALIMANS_HO_2022, SONG_2021),
)
def reparameterizations() -> Body:
    mean, var = marginal_form(alpha_bar_t)
    noising = sp.Eq(x_t, mean + sp.sqrt(var) * eps)
    score_of_eps = sp.diff(log_density(x_t, mean, var), x_t).subs(x_t, noising.rhs)  # score.conditional
    relations = [noising, sp.Eq(cond_score_t, score_of_eps),
                 sp.Eq(v_target, sp.sqrt(alpha_bar_t) * eps - sp.sqrt(var) * x_0)]
    targets = {"x0": x_0, "eps": eps, "score": cond_score_t, "v": v_target}

    def solved(given: str) -> dict[str, sp.Expr]:
        """Every other target in terms of x_t and the ``given`` one."""
        unknowns = [s for n, s in targets.items() if n != given]
        solution = sp.solve(relations, unknowns, dict=True)[0]
        return {n: _linear_tidy(solution[s], (x_t, targets[given])) for n, s in targets.items() if n != given}

    maps = {f"{target}_from_{given}": expr for given in targets for target, expr in solved(given).items()}
    steps = [Relation(r"$x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon$ holds for "
                      r"$x_0$ and $\varepsilon$ recovered from $v$ (by `solve`)",
                      held_sum(held_product(sp.sqrt(alpha_bar_t), maps["x0_from_v"]),
                               held_product(sp.sqrt(var), maps["eps_from_v"])), x_t)]
    # Salimans & Ho (2022): with alpha_t = sqrt(alpha_bar_t), sigma_t = sqrt(1 - alpha_bar_t) and z_t = x_t,
    # x = alpha_t z_t - sigma_t v and eps = sigma_t z_t + alpha_t v.
    alpha_src, sigma_src, z_src, v_src = sp.symbols("alpha_t sigma_t z_t v")
    salimans = {alpha_src: sp.sqrt(alpha_bar_t), sigma_src: sp.sqrt(1 - alpha_bar_t), z_src: x_t, v_src: v_target}
    for a, b in (("x0", "eps"), ("x0", "v"), ("eps", "v"), ("score", "x0"), ("score", "v")):
        there = maps[f"{b}_from_{a}"]
        steps.append(Relation(f"round trip: substitute {b} from {a} into {a} from {b}",
                              at(maps[f"{a}_from_{b}"], {targets[b]: there}), targets[a]))
    return Body(
        steps=tuple(steps),
        results=tuple(Result(name, expr, f"{name.split('_from_')[0]} given x_t and {name.split('_from_')[1]}")
                      for name, expr in sorted(maps.items())),
        claims=(
            Claim.as_printed("x0_from_v", alpha_src * z_src - sigma_src * v_src, "Salimans & Ho (2022)",
                             r"§4 and Appendix D, $\hat x = \alpha_t z_t - \sigma_t\hat v$", salimans),
            Claim.as_printed("eps_from_v", sigma_src * z_src + alpha_src * v_src, "Salimans & Ho (2022)",
                             r"Appendix D, $\hat\epsilon = \sigma_t z_t + \alpha_t\hat v$", salimans),
        ),
        equivalents=(
            Equivalent("x0_from_eps", (x_t - sp.sqrt(1 - alpha_bar_t) * eps) / sp.sqrt(alpha_bar_t),
                       r"the noising equation (Ho et al. 2020, eq. (4)) solved for $x_0$"),
            Equivalent("x0_from_score", (x_t + (1 - alpha_bar_t) * cond_score_t) / sp.sqrt(alpha_bar_t),
                       "Tweedie's formula for the noising kernel"),
            Equivalent("score_from_eps", -eps / sp.sqrt(1 - alpha_bar_t), "`score.conditional`, noise form"),
        ),
        wrong_variants=(
            WrongVariant("x0_from_v", sp.sqrt(alpha_bar_t) * x_t + sp.sqrt(1 - alpha_bar_t) * v_target,
                         "sign of v flipped"),
            WrongVariant("x0_from_v", alpha_bar_t * x_t - (1 - alpha_bar_t) * v_target, "missing square roots"),
            WrongVariant("eps_from_v", sp.sqrt(alpha_bar_t) * x_t + sp.sqrt(1 - alpha_bar_t) * v_target,
                         "coefficients of x_t and v swapped"),
            WrongVariant("x0_from_eps", (x_t - (1 - alpha_bar_t) * eps) / sp.sqrt(alpha_bar_t),
                         "missing square root on 1 - alpha_bar_t"),
            WrongVariant("x0_from_score", (x_t + sp.sqrt(1 - alpha_bar_t) * cond_score_t) / sp.sqrt(alpha_bar_t),
                         "standard deviation in place of the variance"),
            WrongVariant("v_from_eps", (eps - sp.sqrt(alpha_bar_t) * x_t) / sp.sqrt(1 - alpha_bar_t),
                         "roles of alpha_bar_t and 1 - alpha_bar_t swapped"),
        ),
    )
