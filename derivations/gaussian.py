r"""gaussian.*: the shared Gaussian toolkit.

The rules here (push a Gaussian through a linear-Gaussian kernel; condition
on a linear-Gaussian observation by completing the square) are the two
operations every discrete family is derived with. ``gaussian.linear_bayes``
proves the rules themselves: moments by SymPy's probability integrals, the
conditional by Bayes' rule with all normalizing constants.

Scalar model: :math:`x \sim \mathcal N(\mu_x, \sigma_x^2)`,
:math:`y \mid x \sim \mathcal N(a x + b, s^2)`.
"""

from __future__ import annotations

import sympy as sp

from .notation import gain, mu_x, offset, var_noise, var_x, x, y
from .proof import Tier
from .registry import Body, Claim, Relation, Result, WrongVariant, derivation


def log_density(value: sp.Expr, mean: sp.Expr, var: sp.Expr) -> sp.Expr:
    r""":math:`\log \mathcal N(\text{value}; \text{mean}, \text{var})`."""
    return -sp.log(2 * sp.pi * var) / 2 - (value - mean) ** 2 / (2 * var)


def push_forward(mean: sp.Expr, var: sp.Expr, gain_: sp.Expr, offset_: sp.Expr, noise_var: sp.Expr
                 ) -> tuple[sp.Expr, sp.Expr]:
    r"""Law of :math:`a z + b + \text{noise}` for :math:`z \sim \mathcal N(m, v)`:
    :math:`\mathcal N(a m + b, a^2 v + s^2)` (proved in ``gaussian.linear_bayes``)."""
    return gain_ * mean + offset_, gain_**2 * var + noise_var


def complete_square(log_kernel: sp.Expr, variable: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    r"""Mean and variance of the Gaussian whose log-density in ``variable`` is
    ``log_kernel`` up to a constant: :math:`A z^2 + B z + C \Rightarrow
    \mathcal N(-B/(2A), -1/(2A))`."""
    poly = sp.Poly(sp.expand(log_kernel), variable)
    if poly.degree() != 2:
        raise ValueError("a Gaussian log-kernel is quadratic in its variable")
    quadratic, linear = poly.coeff_monomial(variable**2), poly.coeff_monomial(variable)
    var = sp.simplify(-1 / (2 * quadratic))
    return sp.simplify(linear * var), var


def condition(prior_mean: sp.Expr, prior_var: sp.Expr, gain_: sp.Expr, offset_: sp.Expr,
              noise_var: sp.Expr, observation: sp.Expr, variable: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    r"""Posterior of ``variable`` given ``observation`` by Bayes' rule,
    :math:`p(z \mid o) \propto p(z)\, p(o \mid z)`, the square completed in ``variable``."""
    log_joint = log_density(variable, prior_mean, prior_var) + log_density(
        observation, gain_ * variable + offset_, noise_var
    )
    return complete_square(log_joint, variable)


@derivation(
    id="gaussian.linear_bayes",
    title="Linear-Gaussian pair: marginal of y and conditional of x given y",
    statement=r"$x \sim \mathcal N(\mu_x, \sigma_x^2)$, $y \mid x \sim \mathcal N(a x + b, s^2)$ "
    r"$\Rightarrow y \sim \mathcal N(a\mu_x + b, s^2 + a^2\sigma_x^2)$ and $x \mid y$ Gaussian with "
    r"mean $\mu_x + \sigma_x^2 a (y - a\mu_x - b)/(s^2 + a^2\sigma_x^2)$ and variance "
    r"$\sigma_x^2 s^2/(s^2 + a^2\sigma_x^2)$.",
    tier=Tier.EXACT,
    assumptions=(r"$\sigma_x^2 > 0$, $s^2 > 0$; scalar case (the matrix case is coordinate-wise "
                 r"in an eigenbasis when the covariances commute)",),
    references=("C. M. Bishop, Pattern Recognition and Machine Learning (2006), §2.3.3",),
)
def linear_bayes() -> Body:
    from sympy import stats

    prior = stats.Normal("X", mu_x, sp.sqrt(var_x))
    observation = gain * prior + offset + sp.sqrt(var_noise) * stats.Normal("Z", 0, 1)
    integral_mean = sp.simplify(stats.E(observation))
    integral_var = sp.simplify(stats.variance(observation))
    integral_cov = sp.simplify(stats.covariance(prior, observation))
    marginal_mean, marginal_var = push_forward(mu_x, var_x, gain, offset, var_noise)

    posterior_mean, posterior_var = condition(mu_x, var_x, gain, offset, var_noise, y, x)
    bayes_lhs = log_density(x, mu_x, var_x) + log_density(y, gain * x + offset, var_noise)
    bayes_rhs = log_density(y, marginal_mean, marginal_var) + log_density(x, posterior_mean, posterior_var)
    # The joint-Gaussian (Schur complement) form of the conditional, compared below.
    schur_mean = mu_x + integral_cov / integral_var * (y - integral_mean)
    schur_var = var_x - integral_cov**2 / integral_var

    return Body(
        steps=(
            Relation(r"$E[y]$ by integration equals the push-forward rule", integral_mean, marginal_mean),
            Relation(r"$\mathrm{Var}[y]$ by integration equals the push-forward rule", integral_var, marginal_var),
            Relation(r"$\mathrm{Cov}[x, y] = a\sigma_x^2$ by integration", integral_cov, gain * var_x),
            Relation(r"Bayes: $\log p(x) + \log p(y\mid x) = \log p(y) + \log p(x \mid y)$, constants included",
                     sp.expand(bayes_lhs), sp.expand(bayes_rhs)),
            Relation("conditional mean from the joint (Schur complement) = completed square",
                     schur_mean, posterior_mean),
            Relation("conditional variance from the joint (Schur complement) = completed square",
                     schur_var, posterior_var),
        ),
        results=(
            Result("marginal_mean", marginal_mean, "mean of y"),
            Result("marginal_var", marginal_var, "variance of y"),
            Result("posterior_mean", posterior_mean, "E[x | y]"),
            Result("posterior_var", posterior_var, "Var[x | y]"),
        ),
        claims=(
            Claim("posterior_var", 1 / (1 / var_x + gain**2 / var_noise), "precision form: 1/var = 1/var_x + a^2/s^2"),
        ),
        wrong_variants=(
            WrongVariant("marginal_var", var_noise + gain * var_x, "gain not squared"),
            WrongVariant("posterior_var", var_x - gain * var_x**2 / (var_noise + gain**2 * var_x),
                         "gain not squared in the Schur complement"),
            WrongVariant("posterior_mean", mu_x + var_x * (y - gain * mu_x - offset) / (var_noise + gain**2 * var_x),
                         "gain missing from the Kalman gain"),
        ),
    )
