"""Langevin dynamics at the noise levels: a corrector after each predictor step, or annealed (NCSN)."""

from __future__ import annotations

from derivations.catalogue import SONG_ERMON, SONG_SDE, Option, Scheme, register, variant
from derivations.catalogue import pieces
from derivations.core.registry import Claim, WrongVariant


def predictor_corrector(ops, x, snr, corrector_steps):
    """Euler–Maruyama predictor, then Langevin corrector steps of size :math:`2 r^2 v_{t'}` (the value of
    Song et al.'s :math:`2(r\\|z\\|/\\|s\\|)^2` for Gaussian norms)."""
    x = pieces.lambda_em(ops, x, 1)
    for _ in range(corrector_steps):
        x = pieces.langevin(ops, ops.next, x, 2 * snr**2 * ops.next.var)
    return x


def annealed_langevin(ops, x, steps_per_level, step_ratio):
    """``steps_per_level`` Langevin steps of size :math:`\\epsilon v_{t'}` at the level :math:`t'`."""
    for _ in range(steps_per_level):
        x = pieces.langevin(ops, ops.next, x, step_ratio * ops.next.var)
    return x


def _corrector_claims():
    s = pieces.vocabulary()
    step = 2 * s.snr**2 * s.v_next
    damping = 1 - step * s.p_next
    return (Claim("gain", damping * (1 - s.dt * (s.f_k + s.g2_k * s.p_k)), "Song et al. (2021), Algorithm 4"),
            Claim("noise_var", damping**2 * s.g2_k * s.dt + 2 * step, "Song et al. (2021), Algorithm 4"))


def _corrector_wrong():
    s = pieces.vocabulary()
    step = 2 * s.snr**2 * s.v_next
    return (WrongVariant("noise_var", s.g2_k * s.dt + 2 * step, "predictor noise not damped by the corrector"),
            WrongVariant("gain", (1 - 2 * s.snr * s.v_next * s.p_next) * (1 - s.dt * (s.f_k + s.g2_k * s.p_k)),
                         "corrector step 2 r v (r not squared)"))


register(Scheme(
    "predictor_corrector", "Reverse-SDE predictor with a Langevin corrector", predictor_corrector,
    r"\tilde x = \text{EM step},\ x' = \tilde x + \epsilon\,s_{t'}(\tilde x) + \sqrt{2\epsilon}\,z',\ "
    r"\epsilon = 2r^2 v_{t'}",
    SONG_SDE, "the reverse SDE with Langevin correction at each level", "vp",
    variants=(variant({}, 800, 5000),),
    claims=_corrector_claims, wrong_variants=_corrector_wrong,
    weak_order=None,
    options=(Option("snr", 0.16, symbol="snr_st", low=0.0), Option("corrector_steps", 1, low=1)),
    # |bias| / SE of the mixture check, upper bound (estimate + 2 SE) from 40x its samples:
    # 0.30 +- 0.16 at 400 steps, falling with the steps from 50 to 400.
    measured_bias=0.6,
))

LANGEVIN_STEPS = 10


def _annealed_claims():
    s = pieces.vocabulary()
    step = s.ratio * s.v_next
    q = 1 - step * s.p_next
    return (Claim("gain", q**LANGEVIN_STEPS, "Song & Ermon (2019), Algorithm 1, on a Gaussian level"),
            Claim("noise_var", 2 * step * (1 - q ** (2 * LANGEVIN_STEPS)) / (1 - q**2),
                  "geometric sum of the damped Langevin noises"))


def _annealed_wrong():
    s = pieces.vocabulary()
    step = s.ratio * s.v_next
    return (WrongVariant("noise_var", 2 * step * LANGEVIN_STEPS, "noises added without the damping"),
            WrongVariant("gain", (1 - step * s.p_next) ** (LANGEVIN_STEPS - 1), "one Langevin step too few"))


register(Scheme(
    "annealed_langevin", "Annealed Langevin dynamics (NCSN)", annealed_langevin,
    r"x \leftarrow x + \epsilon v_{t'}\,s_{t'}(x) + \sqrt{2\epsilon v_{t'}}\,z \text{ (10 times per level)}",
    SONG_ERMON, "Langevin dynamics at each noise level, annealed down to the last", "ve",
    # With its default step (0.1 v_t) it lags behind p_t as the levels shrink (bias of several SE at
    # 100 levels); a step of v_t tracks it within the measured bias.
    variants=(variant({}, 100, 5000, step_ratio=1.0),),
    claims=_annealed_claims, wrong_variants=_annealed_wrong,
    weak_order=None,
    options=(Option("steps_per_level", LANGEVIN_STEPS, low=1), Option("step_ratio", 0.1, symbol="ratio_st", low=0.0)),
    measured_bias=0.6,  # 0.26 +- 0.16 at 100 levels, upper bound as above
))
