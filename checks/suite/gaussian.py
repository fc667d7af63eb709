r"""Monte Carlo checks of Gaussian KL divergences.

A KL divergence is an expectation, :math:`\mathrm{KL}(P\|Q) = E_P[\log p - \log q]`; the check
draws from :math:`P` and compares the sample mean of the log-ratio with the derived closed form,
for general pairs (``gaussian.kl``) and for a VAE encoder against the standard normal
(``elbo.vae_kl``).
"""

from __future__ import annotations

import math

import torch

from checks.core import stats
from checks.core.registry import CheckContext, check
from checks.suite.elbo import log_normal

# (mean_p, var_p, mean_q, var_q): separated means, variance ratios on both sides of 1.
GAUSSIAN_PAIRS = ((0.3, 0.5, -0.4, 1.7), (1.0, 2.0, 0.2, 0.6))
VAE_ENCODERS = ((0.8, 0.4), (-1.2, 1.5))  # (vae_mean, vae_std)


def simulate_gaussians(ctx: CheckContext) -> torch.Tensor:
    """Standard normal draws, one column per law P; each column is scaled to its law in compare."""
    count = len(GAUSSIAN_PAIRS) + len(VAE_ENCODERS)
    return ctx.normal(ctx.n_samples * count).reshape(ctx.n_samples, count)


@check(
    id="gaussian.kl.sampled",
    title="KL between Gaussians as the sampled mean log-ratio, and the VAE encoder KL",
    law=f"E_P[log p - log q] for (mean_p, var_p, mean_q, var_q) in {GAUSSIAN_PAIRS}, and for "
    f"P = N(mu, sigma^2), Q = N(0, 1) with (mu, sigma) in {VAE_ENCODERS}",
    tests=("gaussian.kl", "elbo.vae_kl"),
    uses=(("gaussian.kl", "kl"), ("elbo.vae_kl", "kl")),
    samples=100_000,
    simulate=simulate_gaussians,
)
def gaussian_kl(ctx: CheckContext, noise: torch.Tensor) -> list[stats.Estimate]:
    kl, vae_kl = ctx.quantity("gaussian.kl", "kl"), ctx.quantity("elbo.vae_kl", "kl")
    out = []
    for column, (m_p, v_p, m_q, v_q) in enumerate(GAUSSIAN_PAIRS):
        draws = m_p + math.sqrt(v_p) * noise[:, column]
        p, q = (ctx.tensor(v) for v in (v_p, v_q))
        log_ratio = log_normal(draws, ctx.tensor(m_p), p) - log_normal(draws, ctx.tensor(m_q), q)
        expected = kl(mean_p=ctx.tensor(m_p), var_p=p, mean_q=ctx.tensor(m_q), var_q=q)
        out.append(stats.mean(f"KL(N({m_p}, {v_p}) || N({m_q}, {v_q}))", log_ratio, float(expected),
                              kind=stats.SAMPLED_KL))
    for offset, (mu, sigma) in enumerate(VAE_ENCODERS):
        draws = mu + sigma * noise[:, len(GAUSSIAN_PAIRS) + offset]
        log_ratio = log_normal(draws, ctx.tensor(mu), ctx.tensor(sigma**2)) - log_normal(
            draws, ctx.tensor(0.0), ctx.tensor(1.0))
        expected = vae_kl(vae_mean=ctx.tensor(mu), vae_std=ctx.tensor(sigma))
        out.append(stats.mean(f"VAE KL(N({mu}, {sigma}^2) || N(0, 1))", log_ratio, float(expected), kind=stats.SAMPLED_KL))
    return out
