r"""gaussian.*: the shared Gaussian toolkit.

The rules here (push a Gaussian through a linear-Gaussian kernel; condition
on a linear-Gaussian observation by completing the square) are the two
operations every discrete family is derived with. ``gaussian.linear_bayes``
proves the rules themselves: moments by SymPy's probability integrals, the
conditional by Bayes' rule with all normalizing constants. ``gaussian.kl`` and
``gaussian.w2`` derive the two distances between Gaussians that the bound's
terms and the samplers' errors are measured in.

Scalar model: :math:`x \sim \mathcal N(\mu_x, \sigma_x^2)`,
:math:`y \mid x \sim \mathcal N(a x + b, s^2)`.
"""

from __future__ import annotations

import sympy as sp

from derivations.core.notation import coupling_corr, gain, mean_p, mean_p2, mean_q, mean_q2, mu_x, offset, var_noise, var_p, var_p2
from derivations.core.notation import dev_sq, dim_d, mean_dist_sq, var_q, var_q2, var_x, x, y
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Equivalent, Relation, Result, WrongVariant, derivation
from derivations.core.work import at, covariance, derivative, expectation, held_power, held_product, held_sum, variance


def log_density(value: sp.Expr, mean: sp.Expr, var: sp.Expr) -> sp.Expr:
    r""":math:`\log \mathcal N(\text{value}; \text{mean}, \text{var})`."""
    return -sp.log(2 * sp.pi * var) / 2 - (value - mean) ** 2 / (2 * var)


def push_forward(mean: sp.Expr, var: sp.Expr, gain_: sp.Expr, offset_: sp.Expr, noise_var: sp.Expr
                 ) -> tuple[sp.Expr, sp.Expr]:
    r"""Law of :math:`a z + b + \text{noise}` for :math:`z \sim \mathcal N(m, v)`:
    :math:`\mathcal N(a m + b, a^2 v + s^2)` (proved in ``gaussian.linear_bayes``)."""
    return gain_ * mean + offset_, gain_**2 * var + noise_var


def shown_push_forward(mean: sp.Expr, var: sp.Expr, gain_: sp.Expr, offset_: sp.Expr, noise_var: sp.Expr
                       ) -> tuple[sp.Expr, sp.Expr]:
    r"""The push-forward rule written out for a page: :math:`a m + b` and :math:`a^2 v + s^2`, held unevaluated."""
    return (held_sum(held_product(gain_, mean), offset_),
            held_sum(held_product(held_power(gain_, 2), var), noise_var))


def square_completion(log_kernel: sp.Expr, variable: sp.Symbol, mean: sp.Expr, var: sp.Expr, label: str
                      ) -> tuple[Relation, Relation]:
    r"""The two relations that complete the square of a Gaussian log-kernel in ``variable``
    (``label``: its LaTeX): the curvature :math:`\partial_z^2 \log k = -1/v` gives the variance, the
    stationary point :math:`\partial_z \log k |_{z = m} = 0` the mean."""
    return (
        Relation(rf"complete the square in ${label}$: the curvature of the log-kernel is $-1/\mathrm{{variance}}$",
                 derivative(log_kernel, (variable, 2)), -1 / var),
        Relation(rf"complete the square in ${label}$: the log-kernel is stationary at the mean",
                 at(derivative(log_kernel, variable), {variable: mean}), 0),
    )


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


BISHOP = "C. M. Bishop, Pattern Recognition and Machine Learning (2006), §2.3.3"


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
    marginal_mean, marginal_var = push_forward(mu_x, var_x, gain, offset, var_noise)

    posterior_mean, posterior_var = condition(mu_x, var_x, gain, offset, var_noise, y, x)
    log_joint = log_density(x, mu_x, var_x) + log_density(y, gain * x + offset, var_noise)
    bayes_rhs = held_sum(log_density(y, marginal_mean, marginal_var), log_density(x, posterior_mean, posterior_var))
    # The joint-Gaussian (Schur complement) form of the conditional, compared below.
    cov = gain * var_x
    schur_mean = mu_x + cov / marginal_var * (y - marginal_mean)
    schur_var = var_x - cov**2 / marginal_var
    # Bishop (2006), eqs. (2.113)-(2.117): p(x) = N(mu, Lambda^-1), p(y | x) = N(A x + b, L^-1).
    prec_prior, prec_noise, matrix, shift, prior_mean = sp.symbols("Lambda L A b mu")
    to_ours = {prec_prior: 1 / var_x, prec_noise: 1 / var_noise, matrix: gain, shift: offset, prior_mean: mu_x}
    bishop_var = 1 / (prec_prior + matrix * prec_noise * matrix)

    return Body(
        steps=(
            Relation(r"$E[y]$ by integration over $x$ and the noise (`sympy.stats`) equals the push-forward rule",
                     expectation(observation), marginal_mean),
            Relation(r"$\mathrm{Var}[y]$ by integration equals the push-forward rule", variance(observation),
                     marginal_var),
            Relation(r"$\mathrm{Cov}[x, y]$ by integration", covariance(prior, observation), cov),
            *square_completion(log_joint, x, posterior_mean, posterior_var, "x"),
            Relation(r"Bayes' rule with every normalizing constant: $\log p(x) + \log p(y\mid x) = "
                     r"\log p(y) + \log p(x \mid y)$", held_sum(*sp.Add.make_args(log_joint)), bayes_rhs),
            Relation("conditional mean from the joint law (Schur complement) = completed square",
                     schur_mean, posterior_mean),
            Relation("conditional variance from the joint law (Schur complement) = completed square",
                     schur_var, posterior_var),
        ),
        results=(
            Result("marginal_mean", marginal_mean, "mean of y"),
            Result("marginal_var", marginal_var, "variance of y"),
            Result("posterior_mean", posterior_mean, "E[x | y]"),
            Result("posterior_var", posterior_var, "Var[x | y]"),
        ),
        claims=(
            Claim.as_printed("marginal_var", 1 / prec_noise + matrix * (1 / prec_prior) * matrix, BISHOP,
                             "eq. (2.115), scalar case", to_ours),
            Claim.as_printed("posterior_var", bishop_var, BISHOP, "eq. (2.117), scalar case", to_ours),
            Claim.as_printed("posterior_mean", bishop_var * (matrix * prec_noise * (y - shift) + prec_prior * prior_mean),
                             BISHOP, "eq. (2.116), scalar case", to_ours),
        ),
        equivalents=(
            Equivalent("posterior_var", 1 / (1 / var_x + gain**2 / var_noise), "precision form: precisions add"),
        ),
        wrong_variants=(
            WrongVariant("marginal_var", var_noise + gain * var_x, "gain not squared"),
            WrongVariant("posterior_var", var_x - gain * var_x**2 / (var_noise + gain**2 * var_x),
                         "gain not squared in the Schur complement"),
            WrongVariant("posterior_mean", mu_x + var_x * (y - gain * mu_x - offset) / (var_noise + gain**2 * var_x),
                         "gain missing from the Kalman gain"),
        ),
    )


KL_REFERENCES = (
    "S. Kullback, Information Theory and Statistics (1959), ch. 9",
    "C. Rasmussen, C. Williams, Gaussian Processes for Machine Learning (2006), §A.5",
)


def kl(mean_1: sp.Expr, var_1: sp.Expr, mean_2: sp.Expr, var_2: sp.Expr) -> sp.Expr:
    r""":math:`\mathrm{KL}(\mathcal N(m_1, v_1) \,\|\, \mathcal N(m_2, v_2))`, the form derived in ``gaussian.kl``."""
    from derivations.core.registry import get

    derived = get("gaussian.kl").result("kl")
    return derived.xreplace({mean_p: mean_1, var_p: var_1, mean_q: mean_2, var_q: var_2})


def _log_ratio(coordinates: list[tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]], label: str = "X") -> sp.Expr:
    r""":math:`\log p(X) - \log q(X)` at :math:`X \sim P = \otimes_i \mathcal N(m_i, v_i)`, a random expression,
    :math:`Q = \otimes_i \mathcal N(m'_i, v'_i)` (product densities: the logs add)."""
    from sympy import stats

    log_ratio = sp.Integer(0)
    for i, (m_p, v_p, m_q, v_q) in enumerate(coordinates, 1):
        coordinate = stats.Normal(f"{label}_{i}" if len(coordinates) > 1 else label, m_p, sp.sqrt(v_p))
        log_ratio += log_density(coordinate, m_p, v_p) - log_density(coordinate, m_q, v_q)
    return log_ratio


def _expected_log_ratio(coordinates: list[tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]]) -> sp.Expr:
    r""":math:`E_P[\log p(X) - \log q(X)]` by SymPy's integrals."""
    from sympy import stats

    return sp.expand(stats.E(sp.expand(_log_ratio(coordinates))))


RASMUSSEN_WILLIAMS = "C. Rasmussen, C. Williams, Gaussian Processes for Machine Learning (2006), §A.5"


@derivation(
    id="gaussian.kl",
    title="Kullback-Leibler divergence between two Gaussians",
    statement=r"$\mathrm{KL}(\mathcal N(\mu_1,\Sigma_1)\,\|\,\mathcal N(\mu_2,\Sigma_2)) = \tfrac12\big[\log"
    r"\frac{|\Sigma_2|}{|\Sigma_1|} + \mathrm{tr}(\Sigma_2^{-1}\Sigma_1) + (\mu_2-\mu_1)^\top\Sigma_2^{-1}"
    r"(\mu_2-\mu_1) - d\big]$, derived as $E_P[\log p - \log q]$ by integration: scalar, and "
    r"$d = 2$ with diagonal covariances, where it is the sum of the coordinates' divergences.",
    tier=Tier.EXACT,
    assumptions=(r"positive variances; diagonal (or commuting, in a common eigenbasis) covariances for $d > 1$",),
    references=KL_REFERENCES,
)
def kl_divergence() -> Body:
    first = [(mean_p, var_p, mean_q, var_q)]
    second = [(mean_p2, var_p2, mean_q2, var_q2)]
    scalar, other = _expected_log_ratio(first), _expected_log_ratio(second)
    diagonal = _expected_log_ratio(first + second)
    cov_p, cov_q = sp.diag(var_p, var_p2), sp.diag(var_q, var_q2)
    shift = sp.Matrix([mean_q - mean_p, mean_q2 - mean_p2])
    # Rasmussen & Williams (A.23): KL(N0 || N1) = 1/2 log|S1 S0^-1| + 1/2 tr S1^-1((m0 - m1)(m0 - m1)^T + S0 - S1).
    cov_0, cov_1, m_0, m_1 = sp.symbols("Sigma_0 Sigma_1 mu_0 mu_1")
    printed = sp.log(cov_1 / cov_0) / 2 + ((m_0 - m_1) ** 2 + cov_0 - cov_1) / (2 * cov_1)
    matrix_form = (sp.log((cov_q * cov_p.inv()).det()) + (cov_q.inv() * (shift * shift.T + cov_p - cov_q)).trace()) / 2
    return Body(
        steps=(
            Relation(r"integrate: $\mathrm{KL} = E_P[\log p(X) - \log q(X)]$ for $X \sim \mathcal N(\mu_P, \sigma_P^2)$ "
                     r"(`sympy.stats`)", expectation(_log_ratio(first)), scalar),
            Relation(r"$d = 2$, diagonal: the log-density of a product is a sum, so the divergence is the sum over "
                     r"coordinates", expectation(_log_ratio(first + second)), held_sum(scalar, other)),
        ),
        results=(
            Result("kl", scalar, "KL(N(mean_p, var_p) || N(mean_q, var_q))"),
            Result("kl_diag2", diagonal, "KL between two-dimensional Gaussians with diagonal covariances"),
        ),
        claims=(
            Claim.as_printed("kl", printed, RASMUSSEN_WILLIAMS, "eq. (A.23), one dimension",
                             {cov_0: var_p, cov_1: var_q, m_0: mean_p, m_1: mean_q}),
            Claim("kl_diag2", matrix_form, RASMUSSEN_WILLIAMS, equation=r"eq. (A.23) with $\Sigma_0 = "
                  r"\mathrm{diag}(\sigma_P^2, \sigma_{P,2}^2)$, $\Sigma_1 = \mathrm{diag}(\sigma_Q^2, \sigma_{Q,2}^2)$"),
        ),
        equivalents=(
            Equivalent("kl", (sp.log(var_q / var_p) + var_p / var_q + (mean_q - mean_p) ** 2 / var_q - 1) / 2,
                       "log ratio, variance ratio and scaled mean shift"),
        ),
        wrong_variants=(
            WrongVariant("kl", (sp.log(var_p / var_q) + var_p / var_q + (mean_q - mean_p) ** 2 / var_q - 1) / 2,
                         "log ratio of the variances inverted"),
            WrongVariant("kl", (sp.log(var_q / var_p) + var_p / var_q + (mean_q - mean_p) ** 2 / var_q) / 2,
                         "missing the - d term"),
            WrongVariant("kl", (sp.log(var_q / var_p) + var_p / var_q + (mean_q - mean_p) ** 2 / var_p - 1) / 2,
                         "mean difference weighted by the first law's variance"),
            WrongVariant("kl", sp.log(var_q / var_p) + var_p / var_q + (mean_q - mean_p) ** 2 / var_q - 1,
                         "missing the factor 1/2"),
        ),
    )


_j = sp.Symbol("j", integer=True, positive=True)  # coordinate index, bound inside the sums


@derivation(
    id="gaussian.isotropic",
    title="KL divergence and log-density of isotropic Gaussians in D dimensions",
    statement=r"For $P = \mathcal N(\mu_P, \sigma_P^2 I_D)$ and $Q = \mathcal N(\mu_Q, \sigma_Q^2 I_D)$: "
    r"$\mathrm{KL}(P\,\|\,Q) = \tfrac12\big[D\log\frac{\sigma_Q^2}{\sigma_P^2} + D\frac{\sigma_P^2}{\sigma_Q^2} + "
    r"\frac{\Delta_\mu^2}{\sigma_Q^2} - D\big]$ with $\Delta_\mu^2 = \|\mu_Q - \mu_P\|^2$, and "
    r"$\log p(x) = -\frac D2\log(2\pi\sigma_P^2) - \frac{r^2}{2\sigma_P^2}$ with $r^2 = \|x - \mu_P\|^2$: the "
    r"coordinates are independent, so the scalar forms (`gaussian.kl`, the normal log-density) add over "
    r"$j = 1..D$; the mean-free parts add up $D$ times, the squared coordinates to the squared distances. "
    r"Checked again as $E_P[\log p - \log q]$ with $E_P r_P^2 = D\sigma_P^2$, $E_P r_Q^2 = D\sigma_P^2 + \Delta_\mu^2$, "
    r"and at $D = 1$ against `gaussian.kl`.",
    tier=Tier.EXACT,
    assumptions=(r"isotropic covariances $\sigma^2 I_D$, $D \ge 1$ an integer",),
    references=(*KL_REFERENCES, RASMUSSEN_WILLIAMS),
)
def isotropic() -> Body:
    scalar = kl(mean_p, var_p, mean_q, var_q)
    mean_free = sp.simplify(scalar.subs(mean_q, mean_p))  # the scalar KL at equal means
    shift = sp.factor(sp.simplify(scalar - mean_free))  # what the mean shift adds: (mu_Q - mu_P)^2 / (2 sigma_Q^2)
    per_distance = sp.simplify(shift / (mean_q - mean_p) ** 2)  # 1 / (2 sigma_Q^2)
    kl_iso = sp.summation(mean_free, (_j, 1, dim_d)) + per_distance * mean_dist_sq
    constant = sp.log(2 * sp.pi * var_p) / 2  # minus the scalar log-density's part free of the point
    log_p = -sp.summation(constant, (_j, 1, dim_d)) - dev_sq / (2 * var_p)

    def log_density_iso(sq_distance: sp.Expr, var: sp.Expr) -> sp.Expr:
        return log_p.xreplace({dev_sq: sq_distance, var_p: var})

    second_route = held_sum(log_density_iso(dim_d * var_p, var_p), -log_density_iso(dim_d * var_p + mean_dist_sq, var_q))
    # Rasmussen & Williams (A.23) with Sigma_0 = sigma_P^2 I_D, Sigma_1 = sigma_Q^2 I_D: |Sigma| = sigma^(2d), tr = d ratio.
    printed = (sp.log(var_q**dim_d / var_p**dim_d) + dim_d * var_p / var_q + mean_dist_sq / var_q - dim_d) / 2
    return Body(
        steps=(
            Relation(r"split the scalar KL of `gaussian.kl` into its value at equal means and the mean shift's "
                     r"part", scalar, held_sum(mean_free, held_product(per_distance, (mean_q - mean_p) ** 2))),
            Relation(r"add the $D$ independent coordinates: the mean-free parts add up $D$ times (the shifts add to "
                     r"$\Delta_\mu^2$)", sp.Sum(mean_free, (_j, 1, dim_d)), dim_d * mean_free),
            Relation(r"the log-density: the normalizing constants of the $D$ coordinates add up "
                     r"(the squared coordinates add to $r^2$)", -sp.Sum(constant, (_j, 1, dim_d)), -dim_d * constant),
            Relation(r"second route: $E_P[\log p(X) - \log q(X)]$ with $E_P\|X - \mu_P\|^2 = D\sigma_P^2$ and "
                     r"$E_P\|X - \mu_Q\|^2 = D\sigma_P^2 + \Delta_\mu^2$", second_route, kl_iso),
            Relation(r"at $D = 1$, $\Delta_\mu^2 = (\mu_Q - \mu_P)^2$ it is the scalar KL of `gaussian.kl`",
                     at(kl_iso, {dim_d: 1, mean_dist_sq: (mean_q - mean_p) ** 2}), scalar),
        ),
        results=(
            Result("kl_iso", kl_iso, "KL(N(mu_P, sigma_P^2 I_D) || N(mu_Q, sigma_Q^2 I_D))"),
            Result("log_density_iso", log_p, "log N(x; mu_P, sigma_P^2 I_D) at squared distance r^2"),
        ),
        claims=(Claim("kl_iso", printed, RASMUSSEN_WILLIAMS,
                      equation=r"eq. (A.23) with $\Sigma_0 = \sigma_P^2 I_D$, $\Sigma_1 = \sigma_Q^2 I_D$"),),
        wrong_variants=(
            WrongVariant("kl_iso", (sp.log(var_q / var_p) + dim_d * var_p / var_q + mean_dist_sq / var_q - dim_d) / 2,
                         "log-determinant ratio without the factor D"),
            WrongVariant("kl_iso", (sp.log(var_q / var_p) + var_p / var_q + mean_dist_sq / var_q - 1) / 2,
                         "the scalar form: D missing throughout"),
            WrongVariant("kl_iso", dim_d * (sp.log(var_q / var_p) + var_p / var_q + mean_dist_sq / var_q - 1) / 2,
                         "the squared distance counted D times"),
            WrongVariant("log_density_iso", -sp.log(2 * sp.pi * var_p) / 2 - dev_sq / (2 * var_p),
                         "normalizing constant without the factor D"),
        ),
    )


GIVENS_SHORTT = ("C. R. Givens, R. M. Shortt, A class of Wasserstein metrics for probability distributions, "
                 "Michigan Math. J. 31 (1984)")


@derivation(
    id="gaussian.w2",
    title="Wasserstein-2 distance between Gaussians (scalar and commuting covariances)",
    statement=r"$W_2^2(\mathcal N(\mu_1,\sigma_1^2), \mathcal N(\mu_2,\sigma_2^2)) = (\mu_1-\mu_2)^2 + "
    r"(\sigma_1-\sigma_2)^2$, attained by the monotone map $T(x) = \mu_2 + \frac{\sigma_2}{\sigma_1}(x-\mu_1)$. "
    r"With commuting covariances (eigenvalues $\lambda_i$, $\mu_i$) the Bures form "
    r"$\|m_1-m_2\|^2 + \mathrm{tr}(\Sigma_1 + \Sigma_2 - 2(\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2})^{1/2})$ "
    r"is $\|m_1-m_2\|^2 + \sum_i(\sqrt{\lambda_i}-\sqrt{\mu_i})^2$.",
    tier=Tier.EXACT,
    assumptions=(
        r"positive variances",
        r"the cost $E(X-Y)^2 = (\mu_1-\mu_2)^2 + \sigma_1^2 + \sigma_2^2 - 2\,\mathrm{Cov}(X,Y)$ of any coupling "
        r"depends on it only through $\mathrm{Cov}(X,Y) \le \sigma_1\sigma_2$ (Cauchy-Schwarz), so Gaussian "
        r"couplings with correlation $\rho \in [-1, 1]$ cover every attainable cost",
    ),
    references=(GIVENS_SHORTT, "C. Villani, Optimal Transport: Old and New (2009), ch. 2"),
)
def wasserstein_2() -> Body:
    from sympy import stats

    first, other = stats.Normal("Z_1", 0, 1), stats.Normal("Z_2", 0, 1)
    x_p = mean_p + sp.sqrt(var_p) * first
    x_q = mean_q + sp.sqrt(var_q) * (coupling_corr * first + sp.sqrt(1 - coupling_corr**2) * other)
    cost = sp.expand(stats.E(sp.expand((x_p - x_q) ** 2)))
    monotone_map = mean_q + sp.sqrt(var_q / var_p) * (x_p - mean_p)
    w2_sq = cost.subs(coupling_corr, 1)
    cov_p, cov_q = sp.diag(var_p, var_p2), sp.diag(var_q, var_q2)
    root_p = cov_p.applyfunc(sp.sqrt)  # a diagonal matrix's square root acts on its eigenvalues
    cross = (root_p * cov_q * root_p).applyfunc(sp.sqrt)
    bures = (mean_p - mean_q) ** 2 + (mean_p2 - mean_q2) ** 2 + (cov_p + cov_q - 2 * cross).trace()
    second = w2_sq.xreplace({mean_p: mean_p2, var_p: var_p2, mean_q: mean_q2, var_q: var_q2})
    # Givens & Shortt: d^2 = |m_1 - m_2|^2 + tr(S_1 + S_2 - 2 (S_1^{1/2} S_2 S_1^{1/2})^{1/2}), here d = 1.
    cov_1, cov_2, m_1, m_2 = sp.symbols("Sigma_1 Sigma_2 m_1 m_2", positive=True)
    printed = (m_1 - m_2) ** 2 + cov_1 + cov_2 - 2 * sp.sqrt(sp.sqrt(cov_1) * cov_2 * sp.sqrt(cov_1))
    return Body(
        steps=(
            Relation(r"integrate the cost of the Gaussian coupling with correlation $\rho$ (`sympy.stats`)",
                     expectation((x_p - x_q) ** 2), cost),
            Relation(r"differentiate in $\rho$: the cost decreases, so its minimum over $\rho \in [-1, 1]$ is at "
                     r"$\rho = 1$", derivative(cost, coupling_corr), -2 * sp.sqrt(var_p * var_q)),
            Relation(r"the monotone map $T$ attains the cost at $\rho = 1$", expectation((x_p - monotone_map) ** 2),
                     at(cost, {coupling_corr: 1})),
            Relation(r"commuting covariances: the Bures form is the sum over eigen-directions", bures,
                     held_sum(w2_sq, second)),
        ),
        results=(
            Result("w2_sq", w2_sq, "W2^2 between N(mean_p, var_p) and N(mean_q, var_q)"),
            Result("coupling_cost", cost, "E(X - Y)^2 under the Gaussian coupling with correlation rho"),
            Result("w2_sq_diag2", bures, "W2^2 between two-dimensional Gaussians with diagonal covariances"),
        ),
        claims=(
            Claim.as_printed("w2_sq", printed, GIVENS_SHORTT, "Proposition 7, one dimension",
                             {cov_1: var_p, cov_2: var_q, m_1: mean_p, m_2: mean_q}),
        ),
        equivalents=(
            Equivalent("w2_sq", (mean_p - mean_q) ** 2 + (sp.sqrt(var_p) - sp.sqrt(var_q)) ** 2,
                       "mean shift plus the squared difference of the standard deviations"),
        ),
        wrong_variants=(
            WrongVariant("w2_sq", (mean_p - mean_q) ** 2 + (var_p - var_q) ** 2, "variances in place of standard deviations"),
            WrongVariant("w2_sq", (mean_p - mean_q) ** 2 + var_p + var_q, "independent coupling (rho = 0)"),
            WrongVariant("w2_sq", (mean_p - mean_q) ** 2 + (sp.sqrt(var_p) + sp.sqrt(var_q)) ** 2,
                         "antitone coupling (rho = -1)"),
        ),
    )
