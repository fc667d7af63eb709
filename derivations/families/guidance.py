r"""guidance.*: conditional scores, classifier guidance and classifier-free guidance (CFG).

Class :math:`c` is the first component of two-component Gaussian-mixture data (prior :math:`w`),
pushed through the kernel :math:`q(x_t \mid x_0) = \mathcal N(m_t x_0, v_t)` as in ``mixture.*``.
Bayes' rule on the noised densities gives the conditional score

.. math::
    \nabla\log p_t(x \mid c) = \nabla\log p_t(x) + \nabla\log p_t(c \mid x),

so classifier guidance :math:`s(x) + \gamma\nabla\log p_t(c\mid x)` is CFG
:math:`(1+\omega)\,s(x\mid c) - \omega\,s(x)` with :math:`\gamma = 1 + \omega`. At :math:`t = 0` the
CFG field is the score of the tilted density :math:`p(x\mid c)^{1+\omega}p(x)^{-\omega}`; for
:math:`t > 0` it is not the score of the noised tilted density: with Gaussian laws both are affine in
:math:`x` and their slopes differ by a derived non-zero expression. The guided probability-flow ODE
of the scaled VP SDE (Pierret & Galerne's setting, ``gauss_exact.backward``) has a closed-form output
variance, which stays below the tilted target's for every :math:`\omega > 0`.
"""

from __future__ import annotations

import sympy as sp

from derivations.core.notation import (
    B_T_pg,
    B_u_pg,
    cls_scale,
    guide_w,
    kernel_mean_coef,
    kernel_var,
    mean_cls,
    mean_unc,
    mix_mean_1,
    mix_mean_2,
    mix_var_1,
    mix_var_2,
    mix_weight,
    var_cls,
    var_data,
    var_init_pg,
    var_unc,
    x_t,
)
from derivations.core import work
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation, get
from derivations.core.work import named
from derivations.families.gauss_exact import PIERRET_GALERNE, variance_of_state
from derivations.families.gaussian import complete_square, log_density, push_forward

HO_SALIMANS = "J. Ho, T. Salimans, Classifier-Free Diffusion Guidance, NeurIPS Workshop 2021 (arXiv:2207.12598), eq. (6)"
DHARIWAL_NICHOL = ("P. Dhariwal, A. Nichol, Diffusion Models Beat GANs on Image Synthesis, NeurIPS 2021, "
                   "§4.1 and Algorithm 1 (gradient scale s)")
SONG_2021 = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, §5 and Appendix I (controllable generation)"
CHIDAMBARAM = ("M. Chidambaram et al., What does guidance do? A fine-grained analysis in a simple setting, "
               "2024 (arXiv:2409.13074)")


def cfg(conditional: sp.Expr, unconditional: sp.Expr, scale: sp.Expr = guide_w) -> sp.Expr:
    r"""The classifier-free guided field :math:`(1 + \omega)\,s(x\mid c) - \omega\,s(x)`."""
    return (1 + scale) * conditional - scale * unconditional


def noised_gaussian_score(mean: sp.Expr, var: sp.Expr) -> sp.Expr:
    r"""Score at :math:`x_t` of :math:`\mathcal N(\text{mean}, \text{var})` data under the kernel
    :math:`\mathcal N(m_t x_0, v_t)`: the derivative of the pushed-forward log-density."""
    noised_mean, noised_var = push_forward(mean, var, kernel_mean_coef, 0, kernel_var)
    return sp.diff(log_density(x_t, noised_mean, noised_var), x_t)


@derivation(
    id="guidance.bayes_score",
    title="Conditional score by Bayes; classifier guidance with scale γ is classifier-free guidance with ω = γ − 1",
    statement=r"For class $c$ = the first component of $w\mathcal N(\mu_1, v_1) + (1-w)\mathcal N(\mu_2, v_2)$ "
    r"noised by $\mathcal N(m_t x_0, v_t)$: $\nabla\log p_t(x\mid c) = \nabla\log p_t(x) + \nabla\log p_t(c\mid x)$ "
    r"with the classifier $p_t(c\mid x) = w\,p_t(x\mid c)/p_t(x)$; hence $s(x) + \gamma\nabla\log p_t(c\mid x) = "
    r"(1+\omega)\,s(x\mid c) - \omega\,s(x)$ at $\gamma = 1 + \omega$, and the noise-prediction form "
    r"$\hat\varepsilon_\omega = (1+\omega)\hat\varepsilon(x, c) - \omega\hat\varepsilon(x)$ with "
    r"$\hat\varepsilon = -\sqrt{v_t}\,s$ is the same field.",
    tier=Tier.EXACT,
    assumptions=(r"$v_t > 0$, $m_t > 0$, $0 < w < 1$; one coordinate",),
    references=(DHARIWAL_NICHOL, HO_SALIMANS, SONG_2021),
)
def bayes_score() -> Body:
    noised = get("mixture.noised_score")
    # mixture.noised_score's named intermediates: r_1 = w N_1 / p_t, the components N_k and the density p_t.
    responsibility = noised.results["responsibility"].expr
    parts = {type(a).__name__: a for a in responsibility.definition().atoms(work.Named)}
    component_1, density = parts["N_1"], parts["p_t"]
    log_conditional = noised.result("component_log_density")
    second = log_conditional.xreplace({mix_mean_1: mix_mean_2, mix_var_1: mix_var_2})
    # Bayes: p(c | x) = p(c) p(x | c) / p(x), in logarithms.
    log_classifier = work.held_sum(sp.log(mix_weight), sp.log(component_1), -sp.log(density))
    conditional_score = named("s_c", r"s_c(x)", sp.diff(log_conditional, x_t),
                              description=r"score of the noised class component, $\partial_x\log\mathcal N_1$")
    other_score = named("s_cbar", r"s_{\bar c}(x)", sp.diff(second, x_t),
                        description=r"score of the other noised component, $\partial_x\log\mathcal N_2$")
    # The compiled forms read the responsibility r = w N_1 / (w N_1 + (1 - w) N_2) (no logarithm of a sum).
    marginal_score = named("s", r"s(x)", responsibility * conditional_score + (1 - responsibility) * other_score,
                           description=r"the marginal score, ``mixture.noised_score``'s")
    classifier_grad = work.held_product(1 - responsibility, work.held_sum(conditional_score, -other_score))
    classifier_guided = marginal_score + cls_scale * classifier_grad
    guided = cfg(conditional_score, marginal_score)
    eps_conditional, eps_marginal = (-sp.sqrt(kernel_var) * s for s in (conditional_score, marginal_score))
    guided_eps = cfg(eps_conditional, eps_marginal)
    return Body(
        steps=(
            Relation(r"Bayes: the classifier $p_t(c\mid x) = w\,\mathcal N_1/p_t$ is the responsibility of "
                     r"``mixture.noised_score``", sp.exp(log_classifier, evaluate=False), responsibility),
            Relation(r"Bayes on the noised densities: $\nabla\log p_t(c\mid x) = \nabla\log p_t(x\mid c) - "
                     r"\nabla\log p_t(x)$", work.derivative(log_classifier, x_t),
                     work.held_sum(conditional_score, -marginal_score)),
            Relation(r"$\nabla\log p_t(c\mid x) = (1 - r)(s_c - s_{\bar c})$", work.derivative(log_classifier, x_t),
                     classifier_grad),
            Relation(r"the marginal score is ``mixture.noised_score``'s, $r s_c + (1 - r)s_{\bar c}$",
                     work.derivative(sp.log(density), x_t), marginal_score),
            Relation(r"classifier guidance at $\gamma = 1 + \omega$ is classifier-free guidance",
                     classifier_guided.xreplace({cls_scale: 1 + guide_w}), guided),
            Relation(r"guidance in $\hat\varepsilon$ and in the score agree: $s_\omega = -\hat\varepsilon_\omega/\sqrt{v_t}$",
                     -guided_eps / sp.sqrt(kernel_var), guided),
        ),
        results=(
            Result("conditional_score", conditional_score, "score of p_t(x | c)"),
            Result("classifier_grad", classifier_grad, "gradient of log p_t(c | x)"),
            Result("classifier_guided", classifier_guided, "classifier guidance s(x) + gamma grad log p_t(c | x)"),
            Result("guided_score", guided, "classifier-free guided field (1 + w) s(x | c) - w s(x)"),
            Result("guided_eps", guided_eps, "the guided noise prediction (1 + w) eps(x, c) - w eps(x)"),
        ),
        claims=(
            Claim("guided_eps", (1 + guide_w) * eps_conditional - guide_w * eps_marginal, HO_SALIMANS),
            Claim("classifier_guided", marginal_score + cls_scale * (conditional_score - marginal_score),
                  DHARIWAL_NICHOL + r": $\nabla\log p(x) + s\,\nabla\log p(y\mid x)$"),
        ),
        wrong_variants=(
            WrongVariant("guided_score", cfg(conditional_score, marginal_score, -guide_w),
                         "(1 - w) s(x | c) + w s(x): the sign of the scale flipped"),
            WrongVariant("guided_score", cfg(marginal_score, conditional_score),
                         "conditional and unconditional scores swapped"),
            WrongVariant("guided_eps", -guided_eps, r"guided $\hat\varepsilon$ with the wrong sign (the score's sign)"),
            WrongVariant("guided_eps", (1 + guide_w) * eps_conditional + guide_w * eps_marginal,
                         r"unconditional $\hat\varepsilon$ added instead of subtracted"),
            WrongVariant("classifier_guided", marginal_score + cls_scale * conditional_score,
                         "classifier gradient taken as the conditional score (marginal not subtracted)"),
            WrongVariant("classifier_grad", conditional_score,
                         "classifier gradient taken as the conditional score (marginal not subtracted)"),
        ),
    )


def tilted_gaussian() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""Log-density (up to a constant), mean and variance of :math:`p(x\mid c)^{1+\omega}p(x)^{-\omega}`
    for :math:`\mathcal N(\mu_c, \sigma_c^2)` and :math:`\mathcal N(\mu_u, \sigma_u^2)`: the square completed."""
    log_tilted = (1 + guide_w) * log_density(x_t, mean_cls, var_cls) - guide_w * log_density(x_t, mean_unc, var_unc)
    mean, var = complete_square(log_tilted, x_t)
    return log_tilted, mean, var


@derivation(
    id="guidance.tilted",
    title="CFG is the score of the tilted density at t = 0, and not of the noised tilted density for t > 0",
    statement=r"At $t = 0$, $(1+\omega)\nabla\log p(x\mid c) - \omega\nabla\log p(x) = \nabla\log\big(p(x\mid c)^{1+\omega}"
    r"p(x)^{-\omega}\big)$; for $\mathcal N(\mu_c, \sigma_c^2)$ and $\mathcal N(\mu_u, \sigma_u^2)$ the tilted law is "
    r"Gaussian with precision $(1+\omega)/\sigma_c^2 - \omega/\sigma_u^2$. Under the kernel $\mathcal N(m_t x_0, v_t)$ "
    r"the guided field and the score of the noised tilted law are both affine in $x$; their slopes differ by "
    r"$\omega(1+\omega)m_t^2 v_t(\sigma_c^2-\sigma_u^2)^2/(\dots)$, zero only at $\omega = 0$, $v_t = 0$ or "
    r"$\sigma_c^2 = \sigma_u^2$.",
    tier=Tier.EXACT,
    assumptions=(r"$(1+\omega)/\sigma_c^2 > \omega/\sigma_u^2$ (the tilted law is normalizable); $v_t > 0$, $m_t > 0$",),
    references=(HO_SALIMANS, CHIDAMBARAM),
)
def tilted() -> Body:
    log_tilted, tilt_mean, tilt_var = tilted_gaussian()
    guided_at_0 = cfg(sp.diff(log_density(x_t, mean_cls, var_cls), x_t), sp.diff(log_density(x_t, mean_unc, var_unc), x_t))
    guided = cfg(noised_gaussian_score(mean_cls, var_cls), noised_gaussian_score(mean_unc, var_unc))
    noised_tilted = noised_gaussian_score(tilt_mean, tilt_var)
    gap = guided - noised_tilted
    slope_gap = sp.factor(sp.diff(gap, x_t))
    intercept_gap = sp.factor(sp.cancel(gap.subs(x_t, 0)))
    clean = {kernel_mean_coef: 1, kernel_var: 0}
    m2 = kernel_mean_coef**2
    slope_named = named("gap_slope", r"\Delta_{\mathrm{slope}}", slope_gap, description="the slope of the gap")
    intercept_named = named("gap_intercept", r"\Delta_{\mathrm{int}}", intercept_gap, description="the gap at $x = 0$")
    return Body(
        steps=(
            Relation(r"$t = 0$: the score of the completed square is the CFG field $(1+\omega)s(x\mid c) - \omega s(x)$",
                     sp.diff(log_density(x_t, tilt_mean, tilt_var), x_t), guided_at_0),
            Relation(r"the guided field at $m_t = 1$, $v_t = 0$ is the derivative of "
                     r"$\log p(x\mid c)^{1+\omega}p(x)^{-\omega}$", guided.subs(clean), sp.diff(sp.expand(log_tilted), x_t)),
            Relation(r"the field's gap to the noised tilted score is affine: $\text{gap} = \text{slope}\cdot x + "
                     r"\text{intercept}$", gap,
                     work.held_sum(work.held_product(slope_named, x_t), intercept_named)),
            Relation(r"the slope gap $\partial_x(\text{guided field}) - \partial_x(\text{noised tilted score})$, "
                     r"factored: $V = m_t^2\sigma^2 + v_t$ per law",
                     sp.Add(sp.factor(sp.diff(guided, x_t)), -sp.factor(sp.diff(noised_tilted, x_t)), evaluate=False),
                     guide_w * (1 + guide_w) * m2 * kernel_var * (var_cls - var_unc) ** 2
                     / ((m2 * var_cls + kernel_var) * (m2 * var_unc + kernel_var)
                        * (guide_w * kernel_var * (var_cls - var_unc) - m2 * var_cls * var_unc - kernel_var * var_unc))),
            Relation(r"the gap vanishes when $\sigma_c^2 = \sigma_u^2$", gap.subs(var_unc, var_cls), 0),
        ),
        results=(
            Result("tilted_mean", tilt_mean, "mean of the tilted law p(x | c)^(1 + w) p(x)^(-w)"),
            Result("tilted_var", tilt_var, "variance of the tilted law"),
            Result("guided_score", guided, "CFG field on the noised Gaussian laws"),
            Result("noised_tilted_score", noised_tilted, "score of the tilted law noised by N(m_t x_0, v_t)"),
            Result("slope_gap", slope_gap, "slope of the guided field minus slope of the noised tilted score"),
            Result("intercept_gap", intercept_gap, "their difference at x = 0"),
        ),
        claims=(
            Claim("tilted_var", 1 / ((1 + guide_w) / var_cls - guide_w / var_unc),
                  "precisions combine with the exponents: (1 + w)/sigma_c^2 - w/sigma_u^2"),
        ),
        wrong_variants=(
            WrongVariant("tilted_var", 1 / ((1 - guide_w) / var_cls + guide_w / var_unc), "(1 - w) for (1 + w)"),
            WrongVariant("tilted_var", (1 + guide_w) * var_cls - guide_w * var_unc,
                         "variances combined in place of precisions"),
            WrongVariant("slope_gap", sp.Integer(0), "the guided field taken as the noised tilted score"),
            WrongVariant("guided_score", cfg(noised_gaussian_score(mean_cls, var_cls), noised_gaussian_score(mean_unc, var_unc),
                                             -guide_w), "(1 - w) s(x | c) + w s(x): the sign of the scale flipped"),
            WrongVariant("guided_score", -guided, r"guidance applied to $\hat\varepsilon$ read back with the wrong sign"),
            WrongVariant("tilted_mean", (1 + guide_w) * mean_cls - guide_w * mean_unc,
                         "means combined without the precision weights"),
        ),
    )


def guided_precision(at: sp.Expr) -> sp.Expr:
    r"""Slope (minus) of the CFG field of the scaled VP SDE at :math:`B(u) = \text{at}`:
    :math:`(1+\omega)/\Sigma_c(u) - \omega/\Sigma_u(u)`, :math:`\Sigma(u) = 1 + e^{-2B(u)}(\sigma^2 - 1)`."""
    return (1 + guide_w) / variance_of_state(at).xreplace({var_data: var_cls}) - \
        guide_w / variance_of_state(at).xreplace({var_data: var_unc})


@derivation(
    id="guidance.flow_variance",
    title="Guided probability-flow ODE on Gaussian class data: exact output variance, below the tilted target's",
    statement=r"For the scaled VP SDE ($f = -\beta$, $g^2 = 2\beta$) and the CFG field of $\mathcal N(\mu_c, \sigma_c^2)$ "
    r"and $\mathcal N(\mu_u, \sigma_u^2)$ data, the probability-flow ODE started from variance $C_T$ at $B(T)$ has "
    r"variance $C_T e^{2(B_T - B)}\big(\tfrac{e^{2B}+\sigma_c^2-1}{e^{2B_T}+\sigma_c^2-1}\big)^{1+\omega}"
    r"\big(\tfrac{e^{2B_T}+\sigma_u^2-1}{e^{2B}+\sigma_u^2-1}\big)^{\omega}$; from $\mathcal N(0, 1)$ as "
    r"$B(T) \to \infty$ its output variance is $\sigma_c^{2(1+\omega)}\sigma_u^{-2\omega}$, and "
    r"$\sigma_c^{2(1+\omega)}\sigma_u^{-2\omega}\big((1+\omega)/\sigma_c^2 - \omega/\sigma_u^2\big) = r^\omega(1+\omega-\omega r) \le 1$ "
    r"($r = \sigma_c^2/\sigma_u^2$): the guided ODE's output is narrower than the tilted target unless "
    r"$\sigma_c^2 = \sigma_u^2$ or $\omega = 0$.",
    tier=Tier.EXACT,
    assumptions=(r"the guided precision stays positive on $[0, T]$ (e.g. $\sigma_c^2 \le \sigma_u^2$)",
                 r"the variance ODE is solved in the time $B = B(u)$ ($dB = \beta\,du$)",
                 r"the output mean solves a linear ODE with a non-elementary forcing; it is computed through the "
                 r"catalogue's step maps (study page), not here"),
    references=(PIERRET_GALERNE, HO_SALIMANS, CHIDAMBARAM),
)
def flow_variance() -> Body:
    b, growth = sp.Symbol("b", positive=True), sp.Symbol("E", positive=True)  # growth = e^{2b}
    precision = guided_precision(b)
    # Antiderivative of the precision in b, found in the variable E = e^{2b} (db = dE / (2E)).
    antiderivative = sp.integrate(sp.cancel(precision.subs(b, sp.log(growth) / 2) / (2 * growth)), growth)
    antiderivative = sp.expand_log(antiderivative.subs(growth, sp.exp(2 * b)), force=True)
    # The antiderivative A(b) of the precision, shown by its name (its definition in the "where" block).
    at_end, at_now = (named(f"A_{tag}", rf"\mathcal A({tex})", antiderivative.subs(b, at),
                            description=rf"an antiderivative of the guided precision $P_\omega$, at ${tex}$")
                      for tag, tex, at in (("T", "B_T", B_T_pg), ("B", "B", B_u_pg)))
    # PF ODE in reversed time: dy/ds = beta (y - P y) => dc/dB = -2 (1 - P) c, run from B_T down to B.
    exponent = 2 * (B_T_pg - B_u_pg) - 2 * (at_end - at_now)
    ode_var = var_init_pg * sp.exp(exponent)
    solved = named("c_B", r"c(B)", ode_var,
                   description=r"the variance at $B$, $C_T e^{2(B_T - B) - 2(\mathcal A(B_T) - \mathcal A(B))}$")
    ode_var_closed = var_init_pg * sp.exp(2 * (B_T_pg - B_u_pg)) * (
        (sp.exp(2 * B_u_pg) + var_cls - 1) / (sp.exp(2 * B_T_pg) + var_cls - 1)) ** (1 + guide_w) * (
        (sp.exp(2 * B_T_pg) + var_unc - 1) / (sp.exp(2 * B_u_pg) + var_unc - 1)) ** guide_w
    out_var = ode_var_closed.subs(B_u_pg, 0)
    # From N(0, 1) as B_T -> oo: the two ratios tend to 1 (continuity of the powers), the rest to the limit.
    big = sp.Symbol("G", positive=True)  # e^{2 B_T}
    ratio_c = sp.limit(big / (big + var_cls - 1), big, sp.oo)
    ratio_u = sp.limit((big + var_unc - 1) / big, big, sp.oo)
    limit_var = var_cls ** (1 + guide_w) * var_unc ** (-guide_w) * ratio_c ** (1 + guide_w) * ratio_u ** guide_w
    from_unit = out_var.subs(var_init_pg, 1)
    factored = var_cls ** (1 + guide_w) * var_unc ** (-guide_w) * (big / (big + var_cls - 1)) ** (1 + guide_w) * (
        (big + var_unc - 1) / big) ** guide_w
    tilt_var = get("guidance.tilted").result("tilted_var")
    ratio = sp.powsimp(sp.expand_power_base(limit_var / tilt_var, force=True), force=True)
    r = sp.Symbol("r", positive=True)  # sigma_c^2 / sigma_u^2
    ratio_r = sp.simplify(sp.powsimp(sp.expand_power_base(ratio.subs(var_cls, r * var_unc), force=True), force=True))
    log_ratio_slope = sp.factor(sp.diff(sp.log(ratio_r), r))
    w2_sq = (sp.sqrt(limit_var) - sp.sqrt(tilt_var)) ** 2

    closed = named("c_closed", r"\bar c(B)", ode_var_closed, description="the closed form of the variance at $B$")

    def residual(expr: sp.Expr) -> sp.Expr:
        r""":math:`dc/dB + 2(1 - P_\omega(B))\,c`, the derivative held."""
        return work.held_sum(work.derivative(expr, B_u_pg), work.held_product(2, 1 - guided_precision(B_u_pg), expr))

    return Body(
        steps=(
            Relation(r"antiderivative: $\partial_B \int P = (1+\omega)/\Sigma_c - \omega/\Sigma_u$",
                     work.derivative(at_now, B_u_pg), precision.subs(b, B_u_pg)),
            Relation(r"the variance solves $dc/dB = -2(1 - P_\omega(B))\,c$", residual(solved), 0),
            Relation(r"the closed form: equal logarithms (both sides positive)",
                     sp.expand_log(sp.log(ode_var_closed), force=True), sp.expand_log(sp.log(ode_var), force=True)),
            Relation(r"the closed form solves the variance ODE", residual(closed), 0),
            Relation(r"$\omega = 0$ from $p_T$ ($C_T = \Sigma_c(B_T)$): the class variance is recovered",
                     out_var.subs(guide_w, 0).subs(var_init_pg, variance_of_state(B_T_pg).xreplace({var_data: var_cls})),
                     var_cls),
            Relation(r"from $\mathcal N(0, 1)$: output variance $= \sigma_c^{2(1+\omega)}\sigma_u^{-2\omega}$ times "
                     r"two ratios tending to 1", from_unit, factored.subs(big, sp.exp(2 * B_T_pg))),
            Relation(r"$\frac{d}{dr}\log\big(r^\omega(1+\omega-\omega r)\big) = \omega(1+\omega)(1-r)/(r(1+\omega-\omega r))$: "
                     r"the ratio peaks at $r = 1$, where it is 1",
                     log_ratio_slope.subs(r, var_cls / var_unc),
                     (guide_w * (1 + guide_w) * (1 - r) / (r * (1 + guide_w - guide_w * r))).subs(r, var_cls / var_unc)),
            Relation(r"the ratio at $r = 1$ ($\sigma_c^2 = \sigma_u^2$)", ratio.subs(var_cls, var_unc), 1),
            Relation("the ratio in r", ratio_r.subs(r, var_cls / var_unc), sp.simplify(ratio)),
        ),
        results=(
            Result("ode_var", ode_var_closed, "variance at B(u) of the guided PF ODE started from N(., C_T) at B(T)"),
            Result("out_var", out_var, "its output variance (u = 0)"),
            Result("limit_var", limit_var, "output variance from N(0, 1) as B(T) -> infinity"),
            Result("variance_ratio", ratio, "limit output variance over the tilted target's variance"),
            Result("w2_sq_variance_part", w2_sq,
                   "(sqrt(limit_var) - sqrt(tilted_var))^2: the part of W2^2 to the tilted target that the means do not affect"),
        ),
        claims=(
            Claim("variance_ratio", (var_cls / var_unc) ** guide_w * (1 + guide_w - guide_w * var_cls / var_unc),
                  r"$r^\omega(1 + \omega - \omega r)$, $r = \sigma_c^2/\sigma_u^2$ (cf. Chidambaram et al. 2024)"),
        ),
        wrong_variants=(
            WrongVariant("limit_var", tilt_var, "the guided ODE taken to sample the tilted law"),
            WrongVariant("limit_var", var_cls ** (1 - guide_w) * var_unc ** guide_w, "(1 - w) for (1 + w)"),
            WrongVariant("ode_var", var_init_pg * sp.exp(2 * (B_T_pg - B_u_pg)) * (
                (sp.exp(2 * B_u_pg) + var_cls - 1) / (sp.exp(2 * B_T_pg) + var_cls - 1)) ** (1 + guide_w),
                "unconditional factor dropped"),
        ),
    )
