r"""ddpm.*: the discrete VP forward process of Ho et al. (2020).

One step: :math:`x_t = \sqrt{\alpha_t}\, x_{t-1} + \sqrt{\beta_t}\, \varepsilon_t`,
:math:`\beta_t = 1 - \alpha_t`, :math:`\bar\alpha_t = \prod_{s \le t} \alpha_s`.
The marginal is derived by composing steps (base case and induction step),
the posterior by conditioning the composed prior on the last step.
"""

from __future__ import annotations

import sympy as sp

from derivations.families.gaussian import condition, log_density, push_forward, shown_push_forward, square_completion
from derivations.families.gaussian import log_density as gaussian_log_density
from derivations.core.notation import alpha_bar_prev, alpha_bar_t, alpha_t, beta_t, beta_tilde_t, eps, x_0, x_prev, x_t
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation
from derivations.core import work
from derivations.core.work import at

HO_2020 = "J. Ho, A. Jain, P. Abbeel, Denoising Diffusion Probabilistic Models, NeurIPS 2020, eqs. (4), (6), (7)"
HO = "Ho et al. (2020)"


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
    hypothesis_mean, hypothesis_var = marginal_form(alpha_bar_prev)
    mean, var = marginal_form(alpha_bar_t)
    first_step = {alpha_bar_prev: 1}  # t = 1: alpha_bar_0 = 1, the empty product
    return Body(
        steps=(
            Relation(r"base case $t = 1$: push the point mass $x_0$ through one step; the mean is "
                     r"$\sqrt{\bar\alpha_t}\,x_0$ at $\bar\alpha_{t-1} = 1$",
                     shown_push_forward(x_0, 0, sp.sqrt(alpha_t), 0, beta_t)[0], at(sp.sqrt(alpha_t * alpha_bar_prev) * x_0, first_step)),
            Relation(r"base case $t = 1$: the variance $\beta_1$ is $1 - \bar\alpha_t$ at $\bar\alpha_{t-1} = 1$",
                     shown_push_forward(x_0, 0, sp.sqrt(alpha_t), 0, beta_t)[1], at(1 - alpha_t * alpha_bar_prev, first_step)),
            Relation(r"induction: push $\mathcal N(\sqrt{\bar\alpha_{t-1}}\,x_0, 1 - \bar\alpha_{t-1})$ through one "
                     r"step; mean", shown_push_forward(hypothesis_mean, hypothesis_var, sp.sqrt(alpha_t), 0, beta_t)[0], mean),
            Relation(r"induction: variance", shown_push_forward(hypothesis_mean, hypothesis_var, sp.sqrt(alpha_t), 0,
                                                                 beta_t)[1], var),
        ),
        results=(
            Result("mean", mean, "E[x_t | x_0]"),
            Result("mean_coef", sp.diff(mean, x_0), "coefficient of x_0 in the mean"),
            Result("var", var, "Var[x_t | x_0]"),
            Result("std", sp.sqrt(var), "standard deviation of x_t given x_0"),
        ),
        claims=(
            # Ho et al. print q(x_t | x_0) = N(x_t; sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I), in the suite's symbols.
            Claim.as_printed("mean_coef", sp.sqrt(alpha_bar_t), HO, "eq. (4)"),
            Claim.as_printed("var", 1 - alpha_bar_t, HO, "eq. (4)"),
        ),
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
    log_joint = log_density(x_prev, prior_mean, prior_var) + log_density(x_t, sp.sqrt(alpha_t) * x_prev, beta_t)
    noised = {x_0: (x_t - sp.sqrt(1 - alpha_bar_t) * eps) / sp.sqrt(alpha_bar_t)}
    mean_eps = sp.simplify(mean.subs(noised))
    # Ho et al. (2020), eq. (11): mu_theta = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta) / sqrt(alpha_t).
    eps_theta = sp.Symbol("epsilon_theta")
    return Body(
        steps=(
            *square_completion(log_joint, x_prev, coef_x0 * x_0 + coef_xt * x_t, beta_tilde_t, "x_{t-1}"),
            Relation(r"$\varepsilon$ form: substitute $x_0 = (x_t - \sqrt{1-\bar\alpha_t}\varepsilon)/\sqrt{\bar\alpha_t}$",
                     at(coef_x0 * x_0 + coef_xt * x_t, noised), mean_eps),
        ),
        results=(
            Result("mean", mean, "posterior mean in x_0 and x_t"),
            Result("coef_x0", coef_x0, "coefficient of x_0 in the posterior mean"),
            Result("coef_xt", coef_xt, "coefficient of x_t in the posterior mean"),
            Result("mean_eps", mean_eps, "posterior mean in x_t and the noise eps"),
            Result("var", var, "posterior variance beta_tilde_t"),
        ),
        claims=(
            Claim.as_printed("mean", sp.sqrt(alpha_bar_prev) * beta_t / (1 - alpha_bar_t) * x_0
                             + sp.sqrt(alpha_t) * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * x_t, HO, "eq. (7)"),
            Claim.as_printed("var", (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta_t, HO, "eq. (7)"),
            Claim.as_printed("mean_eps", (x_t - beta_t / sp.sqrt(1 - alpha_bar_t) * eps_theta) / sp.sqrt(alpha_t), HO,
                             r"eq. (11), the model's mean at a perfect prediction", {eps_theta: eps}),
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


@derivation(
    id="ddpm.one_step",
    title="DDPM one-step kernel q(x_t | x_{t-1})",
    statement=r"The update $x_t = \sqrt{\alpha_t}\, x_{t-1} + \sqrt{\beta_t}\,\varepsilon_t$ gives "
    r"$q(x_t \mid x_{t-1}) = \mathcal N(\sqrt{\alpha_t}\, x_{t-1}, \beta_t I)$, with log-density "
    r"$-\tfrac12\log(2\pi\beta_t) - (x_t - \sqrt{\alpha_t}x_{t-1})^2/(2\beta_t)$ per coordinate.",
    tier=Tier.EXACT,
    assumptions=(r"$0 < \alpha_t < 1$; $\varepsilon_t$ standard normal, independent of $x_{t-1}$; "
                 r"coordinate-wise in $d$ dimensions",),
    references=(HO_2020.replace("eqs. (4), (6), (7)", "eq. (2)"),),
)
def one_step_kernel() -> Body:
    from sympy import stats

    update = sp.sqrt(alpha_t) * x_prev + sp.sqrt(beta_t) * stats.Normal("Z", 0, 1)
    mean, var = sp.simplify(stats.E(update)), sp.simplify(stats.variance(update))
    rule_mean, rule_var = one_step(x_prev, 0)  # the push-forward rule from a point mass at x_{t-1}
    log_density = gaussian_log_density(x_t, mean, var)
    return Body(
        steps=(
            Relation(r"$E[x_t \mid x_{t-1}]$ by integrating over $\varepsilon_t$ (`sympy.stats`) equals the "
                     r"push-forward rule", work.expectation(update), rule_mean),
            Relation(r"$\mathrm{Var}[x_t \mid x_{t-1}]$ by integrating over $\varepsilon_t$ (`sympy.stats`) equals the "
                     r"rule", work.variance(update), rule_var),
            Relation(r"the log-density is maximal at the mean: $\partial_{x_t}\log q = 0$ at $x_t = \sqrt{\alpha_t}x_{t-1}$",
                     at(work.derivative(log_density, x_t), {x_t: mean}), 0),
        ),
        results=(
            Result("mean", mean, "E[x_t | x_{t-1}]"),
            Result("var", var, "Var[x_t | x_{t-1}]"),
            Result("log_density", log_density, "log q(x_t | x_{t-1})"),
        ),
        claims=(Claim("mean", sp.sqrt(1 - beta_t) * x_prev, "Ho et al. (2020), eq. (2)"),),
        wrong_variants=(
            WrongVariant("mean", alpha_t * x_prev, "missing square root on alpha_t"),
            WrongVariant("mean", sp.sqrt(alpha_bar_t) * x_prev, "cumulative alpha_bar_t in place of alpha_t"),
            WrongVariant("var", 1 - alpha_bar_t, "marginal variance 1 - alpha_bar_t in place of beta_t"),
            WrongVariant("log_density", -sp.log(2 * sp.pi * beta_t) / 2 - (x_t - sp.sqrt(alpha_t) * x_prev) ** 2 / beta_t,
                         "missing factor 1/2 in the quadratic term"),
        ),
    )


@derivation(
    id="ddpm.log_densities",
    title="DDPM log-densities and Bayes' rule at the density level",
    statement=r"$\log q(x_{t-1} \mid x_t, x_0) = \log q(x_t \mid x_{t-1}) + \log q(x_{t-1} \mid x_0) "
    r"- \log q(x_t \mid x_0)$ for every $x_{t-1}, x_t, x_0$: the three Gaussian log-densities of the forward "
    r"process (one step, the marginals at $t-1$ and $t$) give the posterior's log-density exactly, "
    r"normalizing constants included.",
    tier=Tier.EXACT,
    assumptions=(r"$t \ge 2$; $0 < \alpha_s < 1$; per coordinate in $d$ dimensions",),
    references=(HO_2020,),
)
def log_densities() -> Body:
    one_mean, one_var = one_step(x_prev, 0)
    log_one_step = gaussian_log_density(x_t, one_mean, one_var)
    log_prev_marginal = gaussian_log_density(x_prev, *marginal_form(alpha_bar_prev))
    log_marginal = gaussian_log_density(x_t, *marginal_form(alpha_bar_t))
    post_mean, post_var = condition(*marginal_form(alpha_bar_prev), sp.sqrt(alpha_t), 0, beta_t, x_t, x_prev)
    log_posterior = gaussian_log_density(x_prev, post_mean, post_var)
    # Bayes' rule, checked in two parts that SymPy proves exactly: the difference of the two sides
    # does not depend on the variables, and its value (a sum of logarithms) is 0.
    difference = log_posterior - (log_one_step + log_prev_marginal - log_marginal)
    at_zero = difference.subs({x_prev: 0, x_t: 0, x_0: 0})
    return Body(
        steps=(
            Relation(r"Bayes' rule, the terms in $x_{t-1}, x_t, x_0$: $\log q(x_{t-1}\mid x_t,x_0) - [\log q(x_t\mid "
                     r"x_{t-1}) + \log q(x_{t-1}\mid x_0) - \log q(x_t\mid x_0)]$ is constant", difference - at_zero, 0),
            Relation(r"Bayes' rule, the normalizing constants: $e^{2c} = 1$ for that constant $c$, "
                     r"i.e. $2\pi\tilde\beta_t = 2\pi\beta_t (1-\bar\alpha_{t-1})/(1-\bar\alpha_t)$",
                     sp.exp(2 * at_zero), 1),
            Relation(r"the posterior's variance is $\tilde\beta_t$", post_var, beta_tilde_t),
        ),
        results=(
            Result("log_one_step", log_one_step, "log q(x_t | x_{t-1})"),
            Result("log_prev_marginal", log_prev_marginal, "log q(x_{t-1} | x_0)"),
            Result("log_marginal", log_marginal, "log q(x_t | x_0)"),
            Result("log_posterior", log_posterior, "log q(x_{t-1} | x_t, x_0)"),
        ),
        wrong_variants=(
            WrongVariant("log_posterior", gaussian_log_density(x_prev, post_mean, beta_t),
                         "beta_t in place of beta_tilde_t"),
            WrongVariant("log_marginal", gaussian_log_density(x_t, sp.sqrt(alpha_t) * x_0, 1 - alpha_bar_t),
                         "alpha_t in place of alpha_bar_t in the mean"),
            WrongVariant("log_posterior", log_one_step + log_marginal - log_prev_marginal,
                         "Bayes' rule with the two marginals exchanged"),
        ),
    )
