r"""``vae.elbo``: the evidence lower bound of a linear-Gaussian VAE, its gap, and its optimal encoder;
``vae.hierarchical``: the same for a two-level Markov hierarchy, with one KL term per level.

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

from derivations.core.notation import (
    gain, hvae_gain_2, hvae_mean_1, hvae_mean_2, hvae_prior_gain, hvae_prior_var, hvae_var_1, hvae_var_2, mu_x, offset,
    vae_mean, vae_post_mean, vae_post_var, vae_std, var_noise, var_x, x, y,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation
from derivations.core.work import Abbreviations, at, held, held_sum, named
from derivations.families.elbo import canonical_logs
from derivations.families.gaussian import complete_square, condition, kl, log_density, push_forward

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
    from sympy import stats

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


SONDERBY_2016 = "C. K. Sønderby et al., Ladder Variational Autoencoders, NeurIPS 2016, eqs. (1)-(5)"
LUO_2022 = "C. Luo, Understanding Diffusion Models: A Unified Perspective, arXiv:2208.11970 (2022), eqs. (19)-(24)"


@derivation(
    id="vae.hierarchical",
    title="Two-level Markov hierarchical VAE: the ELBO as per-level KL terms, its gap, tight at the posterior",
    statement=r"Model $p(y\mid z_1)p(z_1\mid z_2)p(z_2)$, encoder $q(z_1\mid y)q(z_2\mid z_1)$. Bayes' rule on the "
    r"encoder, $q(z_1\mid y)q(z_2\mid z_1) = q(z_2\mid y)q(z_1\mid z_2, y)$, gives $\mathrm{ELBO} = "
    r"E_q\log p(y\mid z_1) - \mathrm{KL}(q(z_2\mid y)\,\|\,p(z_2)) - E_{q(z_2\mid y)}\mathrm{KL}(q(z_1\mid z_2,y)\,\|\,"
    r"p(z_1\mid z_2))$, and $\log p(y) - \mathrm{ELBO} = \mathrm{KL}(q(z_1, z_2\mid y)\,\|\,p(z_1, z_2\mid y)) \ge 0$, "
    r"zero at the posterior encoder. Proved exactly for the linear-Gaussian model $p(z_2) = \mathcal N(0, 1)$, "
    r"$p(z_1\mid z_2) = \mathcal N(c z_2, u)$, $p(y\mid z_1) = \mathcal N(a z_1 + b, s^2)$, "
    r"$q(z_1\mid y) = \mathcal N(m_1, w_1)$, $q(z_2\mid z_1) = \mathcal N(k z_1 + m_2, w_2)$ (the bound by SymPy's "
    r"probability integrals). With $L$ levels the same Bayes step, repeated, gives one KL per level: it is the "
    r"diffusion bound's induction (`elbo.generic_t`), whose encoder is fixed.",
    tier=Tier.EXACT,
    assumptions=(r"positive variances; scalar latents and observation (coordinate-wise for diagonal laws)",
                 r"Markov model and encoder: $y$ depends on $z_2$ only through $z_1$"),
    references=(SONDERBY_2016, LUO_2022, KINGMA_WELLING + ", eq. (3)"),
)
def hierarchical() -> Body:
    from sympy import stats

    c, u, m_1, w_1, k, m_2, w_2 = (hvae_prior_gain, hvae_prior_var, hvae_mean_1, hvae_var_1, hvae_gain_2, hvae_mean_2,
                                   hvae_var_2)
    z_1, z_2 = sp.symbols("z_1 z_2", real=True)  # integrated out: no displayed form keeps them free
    # Bayes' rule on the encoder: q(z_2 | y) and q(z_1 | z_2, y).
    top_mean, top_var = push_forward(m_1, w_1, k, m_2, w_2)
    back_mean, back_var = condition(m_1, w_1, k, m_2, w_2, z_2, z_1)
    z_1_rv = stats.Normal("Z1", m_1, sp.sqrt(w_1))
    z_2_top = stats.Normal("Z2", top_mean, sp.sqrt(top_var))
    reconstruction = named("R", r"\mathcal R", tidy_logs(stats.E(log_density(y, gain * z_1_rv + offset, var_noise))),
                           description=r"reconstruction $E_{q(z_1\mid y)}\log p(y\mid z_1)$")
    top_kl = named("K_2", r"K_2", kl(top_mean, top_var, 0, 1),
                   description=r"top level $\mathrm{KL}(q(z_2\mid y)\,\|\,p(z_2))$")
    level_kl_value = sp.expand(stats.E(sp.expand(kl(back_mean, back_var, c * z_2, u).xreplace({z_2: z_2_top}))))
    short = Abbreviations()  # the first level's KL is long: its common parts named
    level_kl = named("K_1", r"K_1", short(level_kl_value, r"part of $K_1$"), description=r"first level $E_{q(z_2\mid y)}\mathrm{KL}(q(z_1\mid "
                     r"z_2,y)\,\|\,p(z_1\mid z_2))$")
    # The KL of the other pair: the encoder's top conditional against the prior, averaged over q(z_1 | y).
    z_1_pair = stats.Normal("Z1", m_1, sp.sqrt(w_1))
    encoder_top = sp.expand(stats.E(sp.expand(kl(k * z_1 + m_2, w_2, 0, 1).xreplace({z_1: z_1_pair}))))
    elbo = held_sum(reconstruction, -top_kl, -level_kl)

    # The bound from its definition, E_q[log p(y, z_1, z_2) - log q(z_1, z_2 | y)], by sympy.stats.
    z_2_rv = k * z_1_rv + m_2 + sp.sqrt(w_2) * stats.Normal("E2", 0, 1)
    log_ratio = (log_density(y, gain * z_1_rv + offset, var_noise) + log_density(z_1_rv, c * z_2_rv, u)
                 + log_density(z_2_rv, 0, 1) - log_density(z_1_rv, m_1, w_1) - log_density(z_2_rv, k * z_1_rv + m_2, w_2))
    integral = held("E_q", r"E_q\left[\log p(y, z_1, z_2) - \log q(z_1, z_2\mid y)\right]", (),
                    stats.E(sp.expand(log_ratio)))

    # The evidence and the model's posterior p(z_1 | y), p(z_2 | z_1) (Markov: p(z_2 | z_1, y) = p(z_2 | z_1)).
    z_1_mean, z_1_var = push_forward(0, 1, c, 0, u)
    y_mean, y_var = push_forward(z_1_mean, z_1_var, gain, offset, var_noise)
    evidence = named("log_p_y", r"\log p(y)", log_density(y, y_mean, y_var), description="log-evidence of the model")
    post_1_mean, post_1_var = condition(z_1_mean, z_1_var, gain, offset, var_noise, y, z_1)
    post_2_mean, post_2_var = condition(0, 1, c, 0, u, z_1, z_2)
    kl_1 = kl(m_1, w_1, post_1_mean, post_1_var)
    kl_2 = sp.expand(stats.E(sp.expand(kl(k * z_1 + m_2, w_2, post_2_mean, post_2_var).xreplace({z_1: z_1_pair}))))
    joint_kl = held_sum(named("J_1", r"J_1", kl_1, description=r"$\mathrm{KL}(q(z_1\mid y)\,\|\,p(z_1\mid y))$"),
                        named("J_2", r"J_2", kl_2, description=r"$E_{q(z_1\mid y)}\mathrm{KL}(q(z_2\mid z_1)\,\|\,"
                              r"p(z_2\mid z_1))$"))
    # The posterior encoder: q(z_1 | y) = p(z_1 | y), q(z_2 | z_1) = p(z_2 | z_1).
    post_gain = sp.diff(post_2_mean, z_1)
    posterior_encoder = {m_1: post_1_mean, w_1: post_1_var, k: post_gain,
                         m_2: sp.simplify(post_2_mean - post_gain * z_1), w_2: post_2_var}
    return Body(
        steps=(
            Relation(r"integrate the log-ratio over the encoder (`sympy.stats`): reconstruction $-$ top KL $-$ the "
                     r"first level's expected KL (Bayes' rule on the encoder)", integral, elbo, prepare=canonical_logs),
            Relation(r"the gap is the KL from the encoder to the model's posterior, by the chain rule through "
                     r"$p(z_1\mid y)$ and $p(z_2\mid z_1)$", held_sum(evidence, -elbo), joint_kl, prepare=canonical_logs),
            Relation(r"at the posterior encoder the gap vanishes: the bound is tight",
                     at(joint_kl, posterior_encoder), 0),
        ),
        results=(
            Result("elbo", elbo, "the bound, per level"),
            Result("reconstruction", reconstruction, "E_q log p(y | z_1)"),
            Result("top_kl", top_kl, "KL(q(z_2 | y) || p(z_2))"),
            Result("level_kl", level_kl, "E_q(z_2|y) KL(q(z_1 | z_2, y) || p(z_1 | z_2))"),
            Result("encoder_top_kl", encoder_top, "E_q(z_1|y) KL(q(z_2 | z_1) || p(z_2)), the other pair"),
            Result("log_evidence", evidence, "log p(y)"),
            Result("gap", held_sum(evidence, -elbo), "log p(y) - ELBO"),
            Result("joint_kl", joint_kl, "KL(q(z_1, z_2 | y) || p(z_1, z_2 | y))"),
        ),
        wrong_variants=(
            WrongVariant("elbo", held_sum(reconstruction, -named("K_2q", r"\tilde K_2", encoder_top,
                                                                  description=r"the other pair's KL"), -level_kl),
                         "top KL of the wrong pair: KL(q(z_2 | z_1) || p(z_2)) for KL(q(z_2 | y) || p(z_2))"),
            WrongVariant("elbo", held_sum(reconstruction, -top_kl, level_kl), "level KL added instead of subtracted"),
            WrongVariant("top_kl", kl(0, 1, top_mean, top_var), "KL arguments swapped"),
            WrongVariant("gap", held_sum(top_kl, level_kl), "gap taken as the bound's own KL terms"),
        ),
    )
