"""DDPM and SMLD ancestral sampling: Tweedie's mean in the forward posterior, the forward or posterior variance."""

from __future__ import annotations

from derivations.catalogue import HO, SONG_SDE, Column, Option, Scheme, register, result_name, variant
from derivations.catalogue import pieces
from derivations.core.registry import Claim, WrongVariant


def ancestral(ops, x, variance):
    """Mean :math:`(x + b s)/a` (Tweedie's :math:`\\hat x_0` in the forward posterior), variance :math:`b`
    ("beta") or :math:`b v_{t'}/v_t` ("beta_tilde"); no noise onto a noise-free level (Ho et al.: z = 0 at t = 1)."""
    now, nxt = ops.now, ops.next
    gain = now.mean_coef / nxt.mean_coef
    step_var = now.var - gain**2 * nxt.var
    mean = (x + step_var * now.score(x)) / gain
    if ops.lands_clean:
        return mean
    return mean + ops.noise(x, step_var if variance == "beta" else step_var * nxt.var / now.var)


def _ancestral_claims():
    s = pieces.vocabulary()
    beta, tilde = ("beta",), ("beta_tilde",)
    return (Claim(result_name("gain", beta), (1 - s.b * s.p_k) / s.a,
                  "Ho et al. (2020), eq. (11): (x_t + beta_t s)/sqrt(alpha_t)"),
            Claim(result_name("noise_var", beta), s.b, "Ho et al. (2020), Algorithm 2: sigma_t^2 = beta_t"),
            Claim(result_name("noise_var", tilde), s.b * s.v_next / s.v_now,
                  "Ho et al. (2020), eq. (7): beta_tilde = (1 - alpha_bar_{t-1})/(1 - alpha_bar_t) beta_t"),
            Claim(result_name("noise_var", beta, frozenset({"clean"})), s.zero,
                  "Ho et al. (2020), Algorithm 2: z = 0 on the step onto x_0"))


def _ancestral_wrong():
    s = pieces.vocabulary()
    beta, tilde = ("beta",), ("beta_tilde",)
    return (WrongVariant(result_name("gain", beta), 1 - s.b * s.p_k, "without the 1/sqrt(alpha_t) factor"),
            WrongVariant(result_name("noise_var", beta), s.b**2, "noise beta z without square root"),
            WrongVariant(result_name("noise_var", tilde), s.b, "forward variance in place of the posterior's"),
            WrongVariant(result_name("noise_var", beta, frozenset({"clean"})), s.b, "noise kept on the step onto x_0"))


register(Scheme(
    "ddpm_ancestral", "DDPM ancestral sampling", ancestral,
    r"x' = \frac{m_{t'}}{m_t}(x + v_{t|t'}\,s_t(x)) + \sigma z,\ v_{t|t'} = v_t - \frac{m_t^2}{m_{t'}^2} v_{t'},\ "
    r"\sigma^2 = v_{t|t'} \text{ or } v_{t|t'}\,v_{t'}/v_t \text{ (0 onto } v_{t'} = 0)",
    HO, "the reverse chain p(x_{t-1} | x_t) of the forward process", "ddpm",
    # The chain's steps divide its 1000 steps, and 1000 is its finest grid; 3500 samples (the least the
    # proportions allow) where the bias at 5000 still neared its share.
    variants=(variant({"variance": "beta"}, 1000, 5000), variant({"variance": "beta_tilde"}, 1000, 3500)),
    claims=_ancestral_claims, wrong_variants=_ancestral_wrong,
    processes=("discrete", "continuous"),
    options=(Option("variance", "beta_tilde", choices=("beta", "beta_tilde")),),
    table=(Column("DDPM", {"variance": "beta"}, chain=True),),
))


def _ve_claims():
    s = pieces.vocabulary()
    return (Claim("gain", (1 - s.b * s.p_k) / s.a, "Song et al. (2021), eq. (47): x + (sigma_t^2 - sigma_t'^2) s"),
            Claim("noise_var", s.b * s.v_next / s.v_now,
                  "Song et al. (2021), eq. (47): sigma_t'^2 (sigma_t^2 - sigma_t'^2) / sigma_t^2"))


def _ve_wrong():
    s = pieces.vocabulary()
    return (WrongVariant("noise_var", s.b, "forward variance sigma_t^2 - sigma_t'^2 in place of the posterior's"),)


register(Scheme(
    "ve_ancestral", "SMLD ancestral sampling on the VE process", ancestral,
    r"x' = x + (\sigma_t^2 - \sigma_{t'}^2) s_t(x) + \sqrt{\sigma_{t'}^2(\sigma_t^2 - \sigma_{t'}^2)/\sigma_t^2}\,z",
    SONG_SDE, "the reverse SMLD chain of the VE process", "ve",
    variants=(variant({}, 1000, 3500),),
    claims=_ve_claims, wrong_variants=_ve_wrong,
    fixed={"variance": "beta_tilde"},
))
