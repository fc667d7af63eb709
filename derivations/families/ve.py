r"""ve.*: the discrete variance-exploding (SMLD/NCSN) forward process.

One step: :math:`x_i = x_{i-1} + \sqrt{\sigma_i^2 - \sigma_{i-1}^2}\, z_i`, :math:`\sigma_0 = 0`
(Song & Ermon 2019; the discretized VE SDE of Song et al. 2021, eq. (9)).
The base symbols are :math:`\sigma_{i-1}^2` and the increment
:math:`\sigma_i^2 - \sigma_{i-1}^2 > 0`, so :math:`\sigma_i > \sigma_{i-1}` at every point.
In the notation, ``x_ve_i`` and ``x_ve_prev`` name :math:`x_i` and :math:`x_{i-1}`.
"""

from __future__ import annotations

import sympy as sp

from derivations.families.gaussian import condition, push_forward
from derivations.core.notation import expand_definitions, var_ve_i, var_ve_prev, var_ve_step, x_0, x_ve_i, x_ve_prev
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation

SONG_ERMON_2019 = "Y. Song, S. Ermon, Generative Modeling by Estimating Gradients of the Data Distribution, NeurIPS 2019"
SONG_2021_VE = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, eq. (9) and App. B"


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
    base_mean, base_var = one_step(x_0, 0)  # x_0 is given: a point mass
    step_mean, step_var = one_step(x_0, var_ve_prev)  # induction hypothesis N(x_0, sigma_{i-1}^2)
    first_step = {var_ve_prev: 0}  # i = 1: sigma_0 = 0, the increment is sigma_1^2
    return Body(
        steps=(
            Relation(r"base case $i = 1$: mean $x_0$", base_mean, x_0),
            Relation(r"base case $i = 1$: variance $\sigma_1^2 - \sigma_0^2 = \sigma_1^2$", base_var,
                     expand_definitions(var_ve_i).subs(first_step)),
            Relation(r"induction: the mean stays $x_0$", step_mean, x_0),
            Relation(r"induction: $\sigma_{i-1}^2 + (\sigma_i^2 - \sigma_{i-1}^2) = \sigma_i^2$", step_var, var_ve_i),
        ),
        results=(
            Result("mean", step_mean, "E[x_i | x_0]"),
            Result("var", step_var, "Var[x_i | x_0]"),
            Result("std", sp.sqrt(step_var), "standard deviation of x_i given x_0"),
        ),
        claims=(Claim("var", var_ve_i, "Song & Ermon (2019); Song et al. (2021), eq. (9)"),),
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
    return Body(
        steps=(
            Relation(r"Bayes: the posterior mean is linear in $(x_0, x_i)$", mean, coef_x0 * x_0 + coef_xt * x_ve_i),
            Relation(r"the coefficients sum to one (the mean interpolates $x_0$ and $x_i$)", coef_x0 + coef_xt, 1),
            Relation(r"the variance does not depend on $x_0$, $x_i$", sp.diff(var, x_0) + sp.diff(var, x_ve_i), 0),
        ),
        results=(
            Result("mean", mean, "posterior mean in x_0 and x_i"),
            Result("coef_x0", coef_x0, "coefficient of x_0 in the posterior mean"),
            Result("coef_xt", coef_xt, "coefficient of x_i in the posterior mean"),
            Result("var", var, "posterior variance"),
        ),
        claims=(
            Claim("mean", (var_ve_prev * x_ve_i + var_ve_step * x_0) / var_ve_i, "Song & Ermon (2019); MATH.md ve.*"),
            Claim("var", var_ve_prev * var_ve_step / var_ve_i, "Song & Ermon (2019); MATH.md ve.*"),
        ),
        wrong_variants=(
            WrongVariant("var", var_ve_step, "the step variance in place of the posterior variance"),
            WrongVariant("var", var_ve_prev * var_ve_step / var_ve_i**2, "sigma_i^2 squared in the denominator"),
            WrongVariant("coef_x0", var_ve_prev / var_ve_i, "coefficients of x_0 and x_i swapped"),
            WrongVariant("mean", (var_ve_prev * x_ve_i + var_ve_step * x_0) / var_ve_prev, "divided by sigma_{i-1}^2"),
        ),
    )
