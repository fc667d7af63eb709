r"""ddpm.*: the discrete VP forward process of Ho et al. (2020).

One step: :math:`x_t = \sqrt{\alpha_t}\, x_{t-1} + \sqrt{\beta_t}\, \varepsilon_t`,
:math:`\beta_t = 1 - \alpha_t`, :math:`\bar\alpha_t = \prod_{s \le t} \alpha_s`.
The marginal is derived by composing steps (base case and induction step),
the posterior by conditioning the composed prior on the last step.
"""

from __future__ import annotations

import sympy as sp

from derivations.families.gaussian import condition, push_forward
from derivations.core.notation import expand_definitions
from derivations.core.notation import alpha_bar_prev, alpha_bar_t, alpha_t, beta_t, beta_tilde_t, eps, x_0, x_prev, x_t
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation

HO_2020 = "J. Ho, A. Jain, P. Abbeel, Denoising Diffusion Probabilistic Models, NeurIPS 2020, eqs. (4), (6), (7)"


def one_step(mean: sp.Expr, var: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    r"""Law of :math:`x_t` when :math:`x_{t-1} \sim \mathcal N(\text{mean}, \text{var})`."""
    return push_forward(mean, var, sp.sqrt(alpha_t), 0, beta_t)


def marginal_form(alpha_bar: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    r"""The induction hypothesis :math:`\mathcal N(\sqrt{\bar\alpha}\, x_0, 1 - \bar\alpha)`."""
    return sp.sqrt(alpha_bar) * x_0, 1 - alpha_bar


@derivation(
    id="ddpm.marginal",
    title="DDPM forward marginal q(x_t | x_0)",
    statement=r"Composing $x_t = \sqrt{\alpha_t} x_{t-1} + \sqrt{\beta_t}\varepsilon_t$ gives "
    r"$q(x_t \mid x_0) = \mathcal N(\sqrt{\bar\alpha_t}\, x_0, (1 - \bar\alpha_t) I)$.",
    tier=Tier.EXACT,
    assumptions=(r"$0 < \alpha_s < 1$; independent standard normal $\varepsilon_s$; coordinate-wise in $d$ dimensions",),
    references=(HO_2020,),
)
def marginal() -> Body:
    base_mean, base_var = one_step(x_0, 0)  # x_0 is given: a point mass
    hypothesis_mean, hypothesis_var = marginal_form(alpha_bar_prev)
    step_mean, step_var = one_step(hypothesis_mean, hypothesis_var)
    mean, var = marginal_form(alpha_bar_t)
    def at_first_step(expr: sp.Expr) -> sp.Expr:
        return expand_definitions(expr).subs(alpha_bar_prev, 1)  # t = 1: the empty product
    return Body(
        steps=(
            Relation(r"base case $t = 1$: mean $\sqrt{\alpha_1} x_0 = \sqrt{\bar\alpha_1} x_0$",
                     base_mean, at_first_step(mean)),
            Relation(r"base case $t = 1$: variance $\beta_1 = 1 - \bar\alpha_1$", base_var, at_first_step(var)),
            Relation(r"induction: $\sqrt{\alpha_t}\sqrt{\bar\alpha_{t-1}}\, x_0 = \sqrt{\bar\alpha_t}\, x_0$",
                     step_mean, mean),
            Relation(r"induction: $\alpha_t (1 - \bar\alpha_{t-1}) + \beta_t = 1 - \bar\alpha_t$", step_var, var),
        ),
        results=(
            Result("mean", mean, "E[x_t | x_0]"),
            Result("mean_coef", sp.diff(mean, x_0), "coefficient of x_0 in the mean"),
            Result("var", var, "Var[x_t | x_0]"),
            Result("std", sp.sqrt(var), "standard deviation of x_t given x_0"),
        ),
        claims=(Claim("var", 1 - alpha_t * alpha_bar_prev, "Ho et al. (2020), eq. (4)"),),
        wrong_variants=(
            WrongVariant("mean_coef", alpha_bar_t, "missing square root on alpha_bar_t"),
            WrongVariant("mean_coef", sp.sqrt(alpha_t), "alpha_t in place of alpha_bar_t"),
            WrongVariant("var", 1 - alpha_t, "one-step variance beta_t in place of 1 - alpha_bar_t"),
            WrongVariant("std", 1 - alpha_bar_t, "variance used as a standard deviation"),
        ),
    )


@derivation(
    id="ddpm.posterior",
    title="DDPM forward posterior q(x_{t-1} | x_t, x_0)",
    statement=r"$q(x_{t-1} \mid x_t, x_0) = \mathcal N(\tilde\mu_t, \tilde\beta_t I)$ with "
    r"$\tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\beta_t}{1-\bar\alpha_t} x_0 + "
    r"\frac{\sqrt{\alpha_t}(1-\bar\alpha_{t-1})}{1-\bar\alpha_t} x_t "
    r"= \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\varepsilon\big)$ and "
    r"$\tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\beta_t$.",
    tier=Tier.EXACT,
    assumptions=(r"$t \ge 2$ (for $t = 1$ the posterior is the point mass at $x_0$)",
                 r"$0 < \alpha_s < 1$; coordinate-wise in $d$ dimensions"),
    references=(HO_2020,),
)
def posterior() -> Body:
    prior_mean, prior_var = marginal_form(alpha_bar_prev)  # q(x_{t-1} | x_0)
    mean, var = condition(prior_mean, prior_var, sp.sqrt(alpha_t), 0, beta_t, x_t, x_prev)
    coef_x0, coef_xt = sp.diff(mean, x_0), sp.diff(mean, x_t)
    noised = {x_0: (x_t - sp.sqrt(1 - alpha_bar_t) * eps) / sp.sqrt(alpha_bar_t)}
    mean_eps = sp.simplify(mean.subs(noised))
    return Body(
        steps=(
            Relation(r"Bayes: $q(x_{t-1}\mid x_t, x_0) \propto q(x_{t-1}\mid x_0)\, q(x_t \mid x_{t-1})$; "
                     r"the mean is linear in $(x_0, x_t)$", mean, coef_x0 * x_0 + coef_xt * x_t),
            Relation(r"the variance does not depend on $x_0$, $x_t$", sp.diff(var, x_0) + sp.diff(var, x_t), 0),
            Relation(r"$\varepsilon$ form: substitute $x_0 = (x_t - \sqrt{1-\bar\alpha_t}\varepsilon)/\sqrt{\bar\alpha_t}$",
                     mean.subs(noised), mean_eps),
        ),
        results=(
            Result("mean", mean, "posterior mean in x_0 and x_t"),
            Result("coef_x0", coef_x0, "coefficient of x_0 in the posterior mean"),
            Result("coef_xt", coef_xt, "coefficient of x_t in the posterior mean"),
            Result("mean_eps", mean_eps, "posterior mean in x_t and the noise eps"),
            Result("var", var, "posterior variance beta_tilde_t"),
        ),
        claims=(
            Claim("coef_x0", sp.sqrt(alpha_bar_prev) * beta_t / (1 - alpha_bar_t), "Ho et al. (2020), eq. (7)"),
            Claim("coef_xt", sp.sqrt(alpha_t) * (1 - alpha_bar_prev) / (1 - alpha_bar_t), "Ho et al. (2020), eq. (7)"),
            Claim("var", beta_tilde_t, "Ho et al. (2020), eq. (7)"),
            Claim("mean_eps", (x_t - beta_t / sp.sqrt(1 - alpha_bar_t) * eps) / sp.sqrt(alpha_t),
                  "Ho et al. (2020), eq. (11)"),
        ),
        wrong_variants=(
            WrongVariant("var", beta_t, "beta_t in place of beta_tilde_t"),
            WrongVariant("coef_x0", sp.sqrt(alpha_t) * beta_t / (1 - alpha_bar_t), "alpha_t in place of alpha_bar_{t-1}"),
            WrongVariant("coef_xt", alpha_t * (1 - alpha_bar_prev) / (1 - alpha_bar_t), "missing square root on alpha_t"),
            WrongVariant("coef_x0", sp.sqrt(alpha_bar_t) * beta_t / (1 - alpha_bar_t), "index shifted: alpha_bar_t"),
            WrongVariant("mean_eps", (x_t - beta_t / (1 - alpha_bar_t) * eps) / sp.sqrt(alpha_t),
                         "missing square root on 1 - alpha_bar_t"),
        ),
    )
