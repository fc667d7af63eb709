"""Solvers of the probability-flow ODE: Euler, Heun, classical RK4, and EDM's Heun."""

from __future__ import annotations

from derivations.catalogue import KARRAS, SONG_SDE, Column, Scheme, register, variant
from derivations.catalogue import pieces
from derivations.core.registry import Claim, WrongVariant


_PG_ODE = "Pierret & Galerne (2025), covariance recursion (f = -beta, g^2 = 2 beta)"


def _euler_claims():
    s = pieces.vocabulary()
    return (Claim("gain", 1 + s.dt * s.r_k, _PG_ODE),)


def _euler_wrong():
    s = pieces.vocabulary()
    return (WrongVariant("gain", 1 - s.dt * (s.f_k + s.g2_k * s.p_k), "SDE score weight 1 in the ODE"),
            WrongVariant("gain", 1 - s.dt * s.r_k, "sign of the drift flipped"))


register(Scheme(
    "pf_euler", "Euler on the probability-flow ODE", pieces.euler,
    r"x' = x + h\,(f_t x - \tfrac12 g_t^2 s_t(x))",
    SONG_SDE, "the probability-flow ODE", "vp",
    variants=(variant({}, 100),),
    claims=_euler_claims, wrong_variants=_euler_wrong,
    deterministic_when={}, table=(Column("Euler"),), reverse_family=True,
))


def _heun_claims():
    return (Claim("gain", pieces.heun_gain(pieces.vocabulary()), _PG_ODE),)


def _heun_wrong():
    s = pieces.vocabulary()
    return (WrongVariant("gain", pieces.heun_gain(s, predicted=False),
                         "second slope taken at y_k, not at the predictor"),
            WrongVariant("gain", pieces.heun_gain(s, weight=2), "slopes summed instead of averaged"))


register(Scheme(
    "pf_heun", "Heun (explicit trapezoid) on the probability-flow ODE", pieces.heun,
    r"\tilde x = x + h\,b_0(t, x),\ x' = x + \tfrac h2\,(b_0(t, x) + b_0(t', \tilde x)),\ "
    r"b_0 = f x - \tfrac12 g^2 s",
    "Heun's method (explicit trapezoidal rule) on Song et al. (2021), eq. (13), with the corrector on every "
    "step; not Karras et al. (2022), Algorithm 1, which skips it on the last step (`edm_heun`)",
    "the probability-flow ODE", "vp",
    variants=(variant({}, 64),),
    claims=_heun_claims, wrong_variants=_heun_wrong,
    weak_order=2.0, deterministic_when={}, table=(Column("Heun"),), reverse_family=True,
))


def _rk4_claims():
    return (Claim("gain", pieces.rk4_gain(pieces.vocabulary()), "classical RK4 on y' = r(s) y (Kutta 1901)"),)


def _rk4_wrong():
    s = pieces.vocabulary()
    return (WrongVariant("gain", pieces.rk4_gain(s, weights=(1, 1, 1, 1), scale=4), "equal stage weights"),
            WrongVariant("gain", pieces.rk4_gain(s, last_at_mid=True), "last stage at the midpoint"))


register(Scheme(
    "pf_rk4", "Classical Runge–Kutta 4 on the probability-flow ODE", pieces.rk4,
    r"k_1 = b_0(t, x),\ k_2 = b_0(t + \tfrac h2, x + \tfrac h2 k_1),\ k_3 = b_0(t + \tfrac h2, x + \tfrac h2 k_2),\ "
    r"k_4 = b_0(t', x + h k_3),\ x' = x + \tfrac h6(k_1 + 2k_2 + 2k_3 + k_4)",
    "classical Runge-Kutta on Song et al. (2021), eq. (13)", "the probability-flow ODE", "vp",
    variants=(variant({}, 20),),
    claims=_rk4_claims, wrong_variants=_rk4_wrong,
    weak_order=4.0, deterministic_when={}, table=(Column("RK4", nfe_per_point=4),), reverse_family=True,
))


def edm_heun(ops, x):
    """Heun, except on the last step (onto :math:`\\sigma = 0` in EDM), where the correction is skipped."""
    return pieces.euler(ops, x) if ops.last else pieces.heun(ops, x)


def _edm_claims():
    s = pieces.vocabulary()
    return (Claim("gain", pieces.heun_gain(s), _PG_ODE + ", Heun"),
            Claim("gain_last", 1 + s.dt * s.r_k, "Karras et al. (2022), Algorithm 1: Euler onto sigma = 0"))


def _edm_wrong():
    s = pieces.vocabulary()
    return (WrongVariant("gain", pieces.heun_gain(s, predicted=False),
                         "second slope taken at y_k, not at the predictor"),
            WrongVariant("gain_last", pieces.heun_gain(s), "the second-order correction kept on the last step"))


register(Scheme(
    "edm_heun", "EDM's Heun sampler: Heun steps, Euler on the last", edm_heun,
    r"\text{Heun's step (pf\_heun), except on the last step: } x' = x + h\,b_0(t, x)",
    KARRAS, "the probability-flow ODE", "vp",
    variants=(variant({}, 64),),
    claims=_edm_claims, wrong_variants=_edm_wrong,
    weak_order=2.0, deterministic_when={}, table=(Column("EDM-Heun"),), reverse_family=True,
))
