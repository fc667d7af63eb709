r"""``vae.elbo``: the evidence lower bound of a linear-Gaussian VAE, its gap, and its optimal encoder.

Prior :math:`x \sim \mathcal N(\mu_x, \sigma_x^2)`, decoder :math:`y \mid x \sim \mathcal N(a x + b, s^2)`,
encoder :math:`q(x \mid y) = \mathcal N(\mu, \sigma^2)`. The bound

.. math:: \mathrm{ELBO}(\mu, \sigma) = E_q \log p(y \mid x) - \mathrm{KL}(q(x\mid y)\,\|\,p(x))

is computed from its definition (the expectation under :math:`q` with ``sympy.stats``, the KL from
``gaussian.kl``); the evidence :math:`\log p(y)` from the marginal of the pair (``gaussian.linear_bayes``'
push-forward); the true posterior by completing the square. The gap is then proved to be
:math:`\mathrm{KL}(q \,\|\, p(x \mid y))`, and the bound's stationary point is the posterior: with a
Gaussian encoder the bound is tight. A diffusion model's ELBO (``elbo.decomposition``) is the same
bound with a fixed encoder, the forward chain.
"""

from __future__ import annotations

import sympy as sp
from sympy import stats

from derivations.core.notation import (
    gain, mu_x, offset, vae_mean, vae_post_mean, vae_post_var, vae_std, var_noise, var_x, x, y,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation
from derivations.families.gaussian import complete_square, kl, log_density, push_forward

KINGMA_WELLING = "D. P. Kingma, M. Welling, Auto-encoding variational Bayes, ICLR 2014"


def tidy_logs(expr: sp.Expr) -> sp.Expr:
    """Logarithms split (all arguments are positive here) and like terms collected: ``simplify`` would
    fold them into the log of a power."""
    terms = sp.Add.make_args(sp.expand(sp.expand_log(sp.expand(expr), force=True)))
    logs = sp.Add(*(t for t in terms if t.has(sp.log)))
    rest = sp.Add(*(t for t in terms if not t.has(sp.log)))
    return sp.factor(sp.cancel(rest)) + sp.collect(logs, sp.Rational(1, 2))


@derivation(
    id="vae.elbo",
    title="ELBO of a linear-Gaussian VAE: the gap is KL(q || posterior), tight at the posterior",
    statement=r"With prior $\mathcal N(\mu_x, \sigma_x^2)$, decoder $\mathcal N(a x + b, s^2)$ and encoder "
              r"$\mathcal N(\mu, \sigma^2)$: $\log p(y) - \mathrm{ELBO} = \mathrm{KL}(q(x\mid y)\,\|\,p(x\mid y))$, "
              r"and the ELBO is maximal, and equal to $\log p(y)$, at $q = p(x \mid y)$.",
    tier=Tier.EXACT,
    assumptions=(r"$\sigma_x^2, s^2, \sigma > 0$; scalar latent and observation (coordinate-wise for "
                 r"diagonal laws)",),
    references=(KINGMA_WELLING + ", eqs. (1)-(3) and Appendix B",
                "C. M. Bishop, Pattern Recognition and Machine Learning (2006), §10.1"),
)
def _elbo() -> Body:
    encoder_var = vae_std**2
    latent = stats.Normal("X", vae_mean, vae_std)  # x ~ q(x | y)
    expected_log_lik = tidy_logs(stats.E(log_density(y, gain * latent + offset, var_noise)))
    prior_kl = kl(vae_mean, encoder_var, mu_x, var_x)
    expected_shown = (log_density(y, gain * vae_mean + offset, var_noise) - gain**2 * encoder_var / (2 * var_noise))
    elbo = expected_shown - prior_kl
    evidence_mean, evidence_var = push_forward(mu_x, var_x, gain, offset, var_noise)
    log_evidence = log_density(y, evidence_mean, evidence_var)
    post_mean, post_var = complete_square(log_density(x, mu_x, var_x) + log_density(y, gain * x + offset, var_noise), x)
    # The posterior's moments by name (notation: vae_post_mean, vae_post_var), so the gap reads as a KL.
    steps_posterior = (
        Relation(r"posterior variance: the square of $\log p(x) + \log p(y \mid x)$ completed in $x$",
                 post_var, vae_post_var),
        Relation(r"posterior mean, from the same square", post_mean, vae_post_mean),
    )
    gap = kl(vae_mean, encoder_var, vae_post_mean, vae_post_var)
    steps = steps_posterior + (
        Relation(r"$E_q \log p(y\mid x)$: the decoder's square averaged over $q$, "
                 r"$E_q (y - a x - b)^2 = (y - a\mu - b)^2 + a^2\sigma^2$",
                 expected_log_lik, expected_shown),
        Relation(r"the gap $\log p(y) - \mathrm{ELBO}$ is $\mathrm{KL}(q\,\|\,p(x\mid y))$ "
                 r"(Bayes' rule: $\log p(y) = \log p(x, y) - \log p(x \mid y)$ under $E_q$)",
                 sp.Add(log_evidence, -elbo, evaluate=False), gap),
        Relation(r"$\partial_\mu \mathrm{ELBO}$ is the posterior's pull on the encoder mean",
                 sp.diff(elbo, vae_mean), (vae_post_mean - vae_mean) / vae_post_var),
        Relation(r"$\partial_\sigma \mathrm{ELBO}$ vanishes where $\sigma^2$ is the posterior variance",
                 sp.diff(elbo, vae_std), 1 / vae_std - vae_std / vae_post_var),
    )
    results = (
        Result("elbo", elbo, "ELBO(mu, sigma) of the encoder N(mu, sigma^2)"),
        Result("log_evidence", log_evidence, "log p(y)"),
        Result("gap", gap, "log p(y) - ELBO"),
        Result("opt_mean", post_mean, "encoder mean maximizing the ELBO (the posterior mean)"),
        Result("opt_var", post_var, "encoder variance maximizing the ELBO (the posterior variance)"),
        Result("elbo_at_optimum", tidy_logs(elbo.subs({vae_mean: post_mean, vae_std: sp.sqrt(post_var)})),
               "the ELBO at the optimal encoder"),
    )
    claims = (
        Claim("elbo_at_optimum", log_evidence, KINGMA_WELLING + r", eq. (1): the bound is tight when $q = p(x\mid y)$"),
        Claim("elbo", -sp.log(2 * sp.pi * var_noise) / 2
              - ((y - gain * vae_mean - offset)**2 + gain**2 * encoder_var) / (2 * var_noise)
              - (sp.log(var_x / encoder_var) + (encoder_var + (vae_mean - mu_x)**2) / var_x - 1) / 2,
              KINGMA_WELLING + r", eq. (10) with a Gaussian decoder: $-\mathrm{KL} + E_q\log p(y\mid x)$ "
              r"($J = 1$ latent, the prior's mean and variance kept)"),
    )
    wrong = (
        WrongVariant("elbo", log_density(y, gain * vae_mean + offset, var_noise) - prior_kl,
                     "decoder likelihood at the encoder mean (the a^2 sigma^2 / 2 s^2 term lost)"),
        WrongVariant("gap", kl(post_mean, post_var, vae_mean, encoder_var), "KL in the reverse direction"),
        WrongVariant("opt_var", var_x * var_noise / (var_noise + var_x), "posterior variance without the gain a^2"),
    )
    return Body(steps=steps, results=results, claims=claims, wrong_variants=wrong)
