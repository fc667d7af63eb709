r"""ve.*: the discrete variance-exploding (SMLD/NCSN) forward process.

One step: :math:`x_i = x_{i-1} + \sqrt{\sigma_i^2 - \sigma_{i-1}^2}\, z_i`, :math:`\sigma_0 = 0`
(Song & Ermon 2019; the discretized VE SDE of Song et al. 2021, eq. (9)).
The base symbols are :math:`\sigma_{i-1}^2` and the increment
:math:`\sigma_i^2 - \sigma_{i-1}^2 > 0`, so :math:`\sigma_i > \sigma_{i-1}` at every point.
In the notation, ``x_ve_i`` and ``x_ve_prev`` name :math:`x_i` and :math:`x_{i-1}`.
"""

from __future__ import annotations

import sympy as sp

from derivations.families.gaussian import condition, log_density, push_forward, shown_push_forward, square_completion
from derivations.core.notation import var_ve_i, var_ve_prev, var_ve_step, x_0, x_ve_i, x_ve_prev
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation
from derivations.core.work import at, expectation, variance

SONG_ERMON_2019 = "Y. Song, S. Ermon, Generative Modeling by Estimating Gradients of the Data Distribution, NeurIPS 2019"
SONG_2021_VE = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, eq. (9) and App. B"
SONG_2021 = "Song et al. (2021)"


def one_step(mean: sp.Expr, var: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    r"""Law of :math:`x_i` when :math:`x_{i-1} \sim \mathcal N(\text{mean}, \text{var})`."""
    return push_forward(mean, var, 1, 0, var_ve_step)


@derivation(
    id="ve.marginal",
    title="VE (SMLD) forward marginal q(x_i | x_0)",
    statement=r"Composing $x_i = x_{i-1} + \sqrt{\sigma_i^2 - \sigma_{i-1}^2}\, z_i$ from $\sigma_0 = 0$ gives "
    r"$q(x_i \mid x_0) = \mathcal N(x_0, \sigma_i^2 I)$.",
    tier=Tier.EXACT,
    assumptions=(r"$0 = \sigma_0 < \sigma_1 < \dots$; independent standard normal $z_i$; coordinate-wise in $d$ "
                 r"dimensions",),
    references=(SONG_ERMON_2019, SONG_2021_VE),
)
def marginal() -> Body:
    from sympy import stats

    step_mean, step_var = one_step(x_0, var_ve_prev)  # induction hypothesis N(x_0, sigma_{i-1}^2)
    first_step = {var_ve_prev: 0}  # i = 1: sigma_0 = 0, the increment is sigma_1^2
    base_var = shown_push_forward(x_0, 0, 1, 0, var_ve_step)[1]
    # x_i = x_{i-1} + sqrt(sigma_i^2 - sigma_{i-1}^2) z_i with x_{i-1} = x_0 + sigma_{i-1} z', independent normals.
    x_i = x_0 + sp.sqrt(var_ve_prev) * stats.Normal("z'", 0, 1) + sp.sqrt(var_ve_step) * stats.Normal("z_i", 0, 1)
    return Body(
        steps=(
            Relation(r"base case $i = 1$: push the point mass $x_0$ through one step; the variance "
                     r"$\sigma_1^2 - \sigma_0^2$ is $\sigma_1^2$ at $\sigma_0 = 0$", base_var,
                     at(var_ve_prev + var_ve_step, first_step)),
            Relation(r"induction: $x_i = x_{i-1} + \sqrt{\sigma_i^2 - \sigma_{i-1}^2}\,z_i$ with "
                     r"$x_{i-1} \sim \mathcal N(x_0, \sigma_{i-1}^2)$: the mean stays $x_0$", expectation(x_i), x_0),
            Relation(r"induction: the variances of independent terms add", variance(x_i), var_ve_i),
        ),
        results=(
            Result("mean", step_mean, "E[x_i | x_0]"),
            Result("var", step_var, "Var[x_i | x_0]"),
            Result("std", sp.sqrt(step_var), "standard deviation of x_i given x_0"),
        ),
        claims=(
            # Song et al. (2021), eq. (9) and App. B: p_{0t}(x(t) | x(0)) = N(x(t); x(0), [sigma^2(t) - sigma^2(0)] I),
            # with the discrete chain's sigma_0 = 0; Song & Ermon (2019) perturb data by N(0, sigma_i^2 I).
            Claim.as_printed("var", var_ve_i, SONG_2021,
                             r"§2.1, the perturbation kernel $p_{\sigma_i}(\tilde x\mid x) = \mathcal N(\tilde x; x, "
                             r"\sigma_i^2 I)$ (unnumbered)"),
        ),
        wrong_variants=(
            WrongVariant("var", var_ve_step, "only the last increment: sigma_i^2 - sigma_{i-1}^2"),
            WrongVariant("std", var_ve_i, "variance used as a standard deviation"),
            WrongVariant("var", var_ve_i - var_ve_prev**2, "increment written with sigma_{i-1} not squared"),
        ),
    )


@derivation(
    id="ve.posterior",
    title="VE (SMLD) forward posterior q(x_{i-1} | x_i, x_0)",
    statement=r"$q(x_{i-1} \mid x_i, x_0) = \mathcal N\big(\frac{\sigma_{i-1}^2 x_i + (\sigma_i^2 - \sigma_{i-1}^2)"
    r" x_0}{\sigma_i^2}, \frac{\sigma_{i-1}^2(\sigma_i^2 - \sigma_{i-1}^2)}{\sigma_i^2} I\big)$.",
    tier=Tier.EXACT,
    assumptions=(r"$i \ge 2$, so $\sigma_{i-1} > 0$; coordinate-wise in $d$ dimensions",),
    references=(SONG_ERMON_2019, SONG_2021_VE),
)
def posterior() -> Body:
    # Bayes: q(x_{i-1} | x_0) = N(x_0, sigma_{i-1}^2) observed through one step.
    mean, var = condition(x_0, var_ve_prev, 1, 0, var_ve_step, x_ve_i, x_ve_prev)
    coef_x0, coef_xt = sp.diff(mean, x_0), sp.diff(mean, x_ve_i)
    log_joint = log_density(x_ve_prev, x_0, var_ve_prev) + log_density(x_ve_i, x_ve_prev, var_ve_step)
    return Body(
        steps=(
            *square_completion(log_joint, x_ve_prev, (var_ve_prev * x_ve_i + var_ve_step * x_0) / var_ve_i,
                               var_ve_prev * var_ve_step / var_ve_i, "x_{i-1}"),
            Relation(r"the coefficients of $x_0$ and $x_i$ sum to one: the mean interpolates $x_0$ and $x_i$",
                     at(mean, {x_0: 1, x_ve_i: 1}), 1),
        ),
        results=(
            Result("mean", mean, "posterior mean in x_0 and x_i"),
            Result("coef_x0", coef_x0, "coefficient of x_0 in the posterior mean"),
            Result("coef_xt", coef_xt, "coefficient of x_i in the posterior mean"),
            Result("var", var, "posterior variance"),
        ),
        claims=(
            # Song et al. (2021), App. F: q(x_{i-1} | x_i, x_0) = N(sigma_{i-1}^2/sigma_i^2 x_i
            # + (1 - sigma_{i-1}^2/sigma_i^2) x_0, sigma_{i-1}^2 (sigma_i^2 - sigma_{i-1}^2)/sigma_i^2 I).
            Claim.as_printed("mean", var_ve_prev / var_ve_i * x_ve_i + (1 - var_ve_prev / var_ve_i) * x_0, SONG_2021,
                             "App. F (ancestral sampling for SMLD), the forward posterior"),
            Claim.as_printed("var", var_ve_prev * (var_ve_i - var_ve_prev) / var_ve_i, SONG_2021,
                             "App. F (ancestral sampling for SMLD), the forward posterior"),
        ),
        wrong_variants=(
            WrongVariant("var", var_ve_step, "the step variance in place of the posterior variance"),
            WrongVariant("var", var_ve_prev * var_ve_step / var_ve_i**2, "sigma_i^2 squared in the denominator"),
            WrongVariant("coef_x0", var_ve_prev / var_ve_i, "coefficients of x_0 and x_i swapped"),
            WrongVariant("mean", (var_ve_prev * x_ve_i + var_ve_step * x_0) / var_ve_prev, "divided by sigma_{i-1}^2"),
        ),
    )
