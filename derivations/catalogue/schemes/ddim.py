"""DDIM (Song, Meng, Ermon 2021): the non-Markovian kernels that keep every marginal."""

from __future__ import annotations

from derivations.catalogue import SONG_DDIM, Column, Option, Scheme, register, variant
from derivations.catalogue import pieces
from derivations.core.registry import Claim, WrongVariant


def ddim(ops, x, eta):
    now, nxt = ops.now, ops.next
    eps = pieces.eps_hat(ops, now, x)
    x0_hat = (x - ops.sqrt(now.var) * eps) / now.mean_coef
    gain = now.mean_coef / nxt.mean_coef
    extra_var = eta**2 * (now.var - gain**2 * nxt.var) * nxt.var / now.var
    return nxt.mean_coef * x0_hat + ops.sqrt(nxt.var - extra_var) * eps + ops.noise(x, extra_var)


def _ddim_claims():
    s = pieces.vocabulary()
    noise = s.eta**2 * s.b * s.v_next / s.v_now
    return (Claim("noise_var", noise, "Song, Meng, Ermon (2021), eq. (16): eta^2 (1 - ab')/(1 - ab) (1 - ab/ab')"),
            Claim("gain", (1 - s.v_now * s.p_k) / s.a + s.sqrt(s.v_next - noise) * s.sqrt(s.v_now) * s.p_k,
                  "Song, Meng, Ermon (2021), eq. (12)"))


def _ddim_wrong():
    s = pieces.vocabulary()
    return (WrongVariant("noise_var", s.eta**2 * s.b, "sigma without (1 - ab')/(1 - ab)"),
            WrongVariant("gain", (1 - s.v_now * s.p_k) / s.a, "direction term sqrt(1 - ab' - sigma^2) eps dropped"))


register(Scheme(
    "ddim", "DDIM with stochasticity eta (0: deterministic, 1: ancestral)", ddim,
    r"\hat\varepsilon = -\sqrt{v_t}\,s_t(x),\ x' = m_{t'}\frac{x - \sqrt{v_t}\hat\varepsilon}{m_t} + "
    r"\sqrt{v_{t'} - \sigma^2}\,\hat\varepsilon + \sigma z,\ \sigma^2 = \eta^2 v_{t|t'}\,v_{t'}/v_t",
    SONG_DDIM, "the DDIM family, which keeps every marginal q(x_t | x_0)", "ddpm",
    variants=(variant({"eta": 0.0}, 1000, 5000), variant({"eta": 0.5}, 1000, 5000),
              variant({"eta": 1.0}, 1000, 3500)),
    claims=_ddim_claims, wrong_variants=_ddim_wrong,
    processes=("discrete", "continuous"), deterministic_when={"eta": 0.0},
    options=(Option("eta", 0.0, symbol="eta_ddim", low=0.0, high=1.0),),
    table=(Column("DDIM-eta0", {"eta": 0.0}), Column("DDIM-eta1", {"eta": 1.0})),
))
