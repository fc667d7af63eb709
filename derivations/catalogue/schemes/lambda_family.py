"""Euler–Maruyama on the reverse lambda-family (Song et al. 2021, eq. (13) generalized)."""

from __future__ import annotations

from derivations.catalogue import SONG_SDE, Column, Scheme, register, variant
from derivations.catalogue import pieces
from derivations.core.registry import Claim, WrongVariant


def _lambda_claims(lam):
    def claims():
        s = pieces.vocabulary()
        weight = 1 + (s.lam if lam is None else lam) ** 2
        return (Claim("gain", 1 - s.dt * (s.f_k + weight * s.g2_k * s.p_k / 2),
                      "Song et al. (2021), eq. (6) / Pierret & Galerne (2025), EM recursion (f = -beta, g^2 = 2 beta)"),
                Claim("noise_var", (weight - 1) * s.g2_k * s.dt, "Euler-Maruyama: lambda^2 g^2 Delta"))

    return claims


def _lambda_wrong(lam):
    def wrong():
        s = pieces.vocabulary()
        lam_ = s.lam if lam is None else lam
        wrong = (WrongVariant("noise_var", (lam_**2 * s.g2_k * s.dt) ** 2,
                              "noise lambda g sqrt(Delta) z without square root"),
                 WrongVariant("gain", 1 - s.dt * (s.f_k + (1 + lam_**2) * s.g2_k * s.p_k), "the factor 1/2 of the score weight dropped"))
        if lam is None:
            return wrong + (WrongVariant("gain", 1 - s.dt * (s.f_k + (1 + lam_) * s.g2_k * s.p_k / 2),
                                         "score weight (1 + lambda)/2 for (1 + lambda^2)/2"),)
        return wrong + (WrongVariant("gain", 1 - s.dt * (s.f_k + s.g2_k * s.p_k / 2),
                                     "score weight 1/2 (ODE drift) in the SDE"),)

    return wrong


register(Scheme(
    "reverse_sde_em", "Euler–Maruyama on the reverse SDE", pieces.lambda_em,
    r"x' = x + h\,(f_t x - g_t^2 s_t(x)) + \sqrt{g_t^2 |h|}\,z",
    SONG_SDE, "the reverse SDE", "vp",
    variants=(variant({}, 400, 5000),),
    claims=_lambda_claims(1), wrong_variants=_lambda_wrong(1),
    fixed={"lam": 1}, table=(Column("EM"),), reverse_family=True,
))

register(Scheme(
    "lambda_family", "Euler–Maruyama on the reverse lambda-family", pieces.lambda_em,
    r"x' = x + h\,(f_t x - \tfrac12(1+\lambda^2) g_t^2 s_t(x)) + \lambda\sqrt{g_t^2 |h|}\,z",
    SONG_SDE, "the reverse lambda-family (lambda = 0: PF ODE, 1: reverse SDE)", "vp",
    variants=(variant({"lam": 0.0}, 100), variant({"lam": 0.5}, 400, 5000), variant({"lam": 1.0}, 400, 5000),
              variant({"lam": 2.0}, 800, 5000)),
    claims=_lambda_claims(None), wrong_variants=_lambda_wrong(None),
    deterministic_when={"lam": 0.0}, options=(pieces.LAM,), reverse_family=True,
))
