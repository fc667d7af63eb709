r"""schedules.*: the cosine schedule, the zero-terminal-SNR rescaling, and loss weights as functions of SNR.

* Cosine schedule (Nichol & Dhariwal 2021): :math:`\bar\alpha(\tau) = f(\tau)/f(0)`,
  :math:`f(\tau) = \cos^2\big(\frac{\tau + s}{1 + s}\frac\pi2\big)`, :math:`\tau = t/T`; the step's
  :math:`\beta_t = 1 - \bar\alpha_t/\bar\alpha_{t-1}` from the cumulative product, and the continuous
  rate :math:`-\frac{d}{d\tau}\log\bar\alpha`.
* Zero terminal SNR (Lin et al. 2024): :math:`\sqrt{\bar\alpha}` shifted and scaled so that the last
  level is pure noise and the first is unchanged.
* Loss weights: for :math:`x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1 - \bar\alpha_t}\varepsilon` the errors of
  the three parameterizations of one network output are proportional, which turns a weight on one
  into a weight on another; min-SNR-:math:`\gamma` (Hang et al. 2023) caps the :math:`x_0`-weight SNR at :math:`\gamma`.
"""

from __future__ import annotations

import sympy as sp

from derivations.core import work
from derivations.core.notation import (
    alpha_bar_first,
    alpha_bar_last,
    alpha_bar_t,
    dtau_cos,
    eps,
    eps_hat,
    gamma_snr,
    offset_cos,
    snr_t,
    tau_cos,
    x_0,
    x_t,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation

NICHOL_DHARIWAL = "A. Nichol, P. Dhariwal, Improved Denoising Diffusion Probabilistic Models, ICML 2021, eq. (17)"
LIN_2024 = ("S. Lin, B. Liu, J. Li, X. Yang, Common Diffusion Noise Schedules and Sample Steps are Flawed, "
            "WACV 2024, section 3.1 and Algorithm 1")
HANG_2023 = ("T. Hang, S. Gu, C. Li, J. Bao, D. Chen, H. Hu, X. Geng, B. Guo, Efficient Diffusion Training via "
             "Min-SNR Weighting Strategy, ICCV 2023, section 3.4")
SALIMANS_HO = "T. Salimans, J. Ho, Progressive Distillation for Fast Sampling of Diffusion Models, ICLR 2022, section 4"


def cosine_alpha_bar(tau: sp.Expr) -> sp.Expr:
    r""":math:`f(\tau)/f(0)`, :math:`f(\tau) = \cos^2\big(\frac{\tau + s}{1 + s}\frac\pi2\big)`."""
    def f(x):
        return sp.cos((x + offset_cos) / (1 + offset_cos) * sp.pi / 2) ** 2

    return f(tau) / f(0)


@derivation(
    id="schedules.cosine",
    title="Cosine schedule: ᾱ(τ), its β_t from the cumulative product, and its continuous rate",
    statement=r"$\bar\alpha(\tau) = \cos^2\big(\frac{\tau + s}{1+s}\frac\pi2\big)/\cos^2\big(\frac{s}{1+s}\frac\pi2\big)$, "
    r"$\tau = t/T$, starts at 1 and ends at 0 ($\tau = 1$: zero terminal SNR before clipping); "
    r"$\beta_t = 1 - \bar\alpha(\tau)/\bar\alpha(\tau - \Delta\tau)$, and the continuous rate "
    r"$\beta(\tau) = -\frac{d}{d\tau}\log\bar\alpha = \frac{\pi}{1+s}\tan\big(\frac{\tau+s}{1+s}\frac\pi2\big)$, "
    r"which diverges at $\tau = 1$ (hence the clipping of $\beta_t$ at 0.999).",
    tier=Tier.EXACT,
    assumptions=(r"$0 < \tau - \Delta\tau < \tau < 1$, $s > 0$",),
    references=(NICHOL_DHARIWAL,),
)
def cosine() -> Body:
    alpha_bar = cosine_alpha_bar(tau_cos)
    # alpha_bar_t = prod_{s <= t} (1 - beta_s): one step divides consecutive cumulative products.
    beta_step = 1 - alpha_bar / cosine_alpha_bar(tau_cos - dtau_cos)
    rate = sp.simplify(-sp.diff(sp.log(alpha_bar), tau_cos))
    angle = (tau_cos + offset_cos) / (1 + offset_cos) * sp.pi / 2
    return Body(
        steps=(
            Relation(r"$\bar\alpha(0) = 1$", work.at(alpha_bar, {tau_cos: 0}), 1),
            Relation(r"$\bar\alpha(1) = 0$: the last level is pure noise", work.at(alpha_bar, {tau_cos: 1}), 0),
            Relation(r"the rate $-\frac{d}{d\tau}\log\bar\alpha$ is $\frac{\pi}{1+s}\tan$ of the angle",
                     -work.derivative(sp.log(alpha_bar), tau_cos), sp.pi / (1 + offset_cos) * sp.tan(angle)),
        ),
        results=(
            Result("alpha_bar", alpha_bar, "cumulative product at tau = t/T"),
            Result("beta_step", beta_step, "beta_t = 1 - alpha_bar_t / alpha_bar_{t-1}"),
            Result("rate", rate, "continuous rate -d log alpha_bar / d tau"),
        ),
        claims=(
            Claim("alpha_bar", sp.cos(angle) ** 2 / sp.cos(offset_cos / (1 + offset_cos) * sp.pi / 2) ** 2,
                  "Nichol & Dhariwal (2021), eq. (17)"),
            Claim("beta_step", 1 - sp.cos(angle) ** 2 / sp.cos(angle.subs(tau_cos, tau_cos - dtau_cos)) ** 2,
                  "Nichol & Dhariwal (2021), section 3.2: beta_t = 1 - alpha_bar_t / alpha_bar_{t-1}"),
        ),
        wrong_variants=(
            WrongVariant("alpha_bar", sp.cos(angle) / sp.cos(offset_cos / (1 + offset_cos) * sp.pi / 2),
                         "cos for cos^2"),
            WrongVariant("alpha_bar", sp.cos(angle) ** 2, "f(t) not divided by f(0)"),
            WrongVariant("beta_step", 1 - cosine_alpha_bar(tau_cos - dtau_cos) / cosine_alpha_bar(tau_cos),
                         "ratio of the cumulative products inverted"),
            WrongVariant("rate", sp.pi / (1 + offset_cos) * sp.tan(angle) / 2, "the chain-rule factor 2 of cos^2 lost"),
        ),
    )


@derivation(
    id="schedules.zero_terminal_snr",
    title="Zero terminal SNR: √ᾱ shifted and scaled so the last level is pure noise, the first unchanged",
    statement=r"The affine map $\sqrt{\bar\alpha} \mapsto a(\sqrt{\bar\alpha} - b)$ with $\sqrt{\bar\alpha_T} \mapsto 0$ and "
    r"$\sqrt{\bar\alpha_1} \mapsto \sqrt{\bar\alpha_1}$ is $b = \sqrt{\bar\alpha_T}$, "
    r"$a = \sqrt{\bar\alpha_1}/(\sqrt{\bar\alpha_1} - \sqrt{\bar\alpha_T})$: "
    r"$\sqrt{\bar\alpha'_t} = \sqrt{\bar\alpha_1}\frac{\sqrt{\bar\alpha_t} - \sqrt{\bar\alpha_T}}"
    r"{\sqrt{\bar\alpha_1} - \sqrt{\bar\alpha_T}}$; the terminal SNR is then 0.",
    tier=Tier.EXACT,
    assumptions=(r"$\bar\alpha_T < \bar\alpha_t \le \bar\alpha_1 < 1$; the rescaled $\bar\alpha'$ defines the new "
                 r"$\beta'_t = 1 - \bar\alpha'_t/\bar\alpha'_{t-1}$",),
    references=(LIN_2024,),
)
def zero_terminal_snr() -> Body:
    scale, shift = sp.symbols("a b", positive=True)
    mapped = scale * (sp.sqrt(alpha_bar_t) - shift)
    conditions = [mapped.subs(alpha_bar_t, alpha_bar_last), mapped.subs(alpha_bar_t, alpha_bar_first) - sp.sqrt(alpha_bar_first)]
    (solution,) = sp.solve(conditions, [scale, shift], dict=True)
    sqrt_rescaled = mapped.subs(solution)
    rescaled = sqrt_rescaled**2
    snr_rescaled = rescaled / (1 - rescaled)
    return Body(
        steps=(
            Relation("the last level maps to 0", work.at(sqrt_rescaled, {alpha_bar_t: alpha_bar_last}), 0),
            Relation("the first level is unchanged", work.at(sqrt_rescaled, {alpha_bar_t: alpha_bar_first}),
                     sp.sqrt(alpha_bar_first)),
            Relation("the terminal SNR is 0", work.at(snr_rescaled, {alpha_bar_t: alpha_bar_last}), 0),
        ),
        results=(
            Result("sqrt_alpha_bar_rescaled", sqrt_rescaled, "rescaled sqrt(alpha_bar_t)"),
            Result("alpha_bar_rescaled", rescaled, "rescaled alpha_bar_t"),
        ),
        claims=(
            Claim("sqrt_alpha_bar_rescaled", (sp.sqrt(alpha_bar_t) - sp.sqrt(alpha_bar_last)) * sp.sqrt(alpha_bar_first)
                  / (sp.sqrt(alpha_bar_first) - sp.sqrt(alpha_bar_last)),
                  "Lin et al. (2024), Algorithm 1: shift by sqrt(alpha_bar_T), scale by "
                  "sqrt(alpha_bar_1)/(sqrt(alpha_bar_1) - sqrt(alpha_bar_T))"),
        ),
        wrong_variants=(
            WrongVariant("alpha_bar_rescaled", (alpha_bar_t - alpha_bar_last) * alpha_bar_first
                         / (alpha_bar_first - alpha_bar_last), "alpha_bar rescaled instead of its square root"),
            WrongVariant("sqrt_alpha_bar_rescaled", sp.sqrt(alpha_bar_t) - sp.sqrt(alpha_bar_last),
                         "shift without the scale (the first level moves)"),
            WrongVariant("sqrt_alpha_bar_rescaled", (sp.sqrt(alpha_bar_t) - sp.sqrt(alpha_bar_last))
                         / (sp.sqrt(alpha_bar_first) - sp.sqrt(alpha_bar_last)),
                         "scaled to 1 at the first level (sqrt(alpha_bar_1) factor dropped)"),
        ),
    )


@derivation(
    id="schedules.loss_weights",
    title="Loss weights as functions of SNR: ε, x₀ and v errors, min-SNR-γ and the v-prediction weight",
    statement=r"For one network output read as $\hat\varepsilon$, $\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\hat\varepsilon)"
    r"/\sqrt{\bar\alpha_t}$ or $\hat v = \sqrt{\bar\alpha_t}\hat\varepsilon - \sqrt{1-\bar\alpha_t}\hat x_0$: "
    r"$\|\hat x_0 - x_0\|^2 = \|\hat\varepsilon - \varepsilon\|^2/\mathrm{SNR}_t$ and "
    r"$\|\hat v - v\|^2 = (1 + \mathrm{SNR}_t)\|\hat x_0 - x_0\|^2$. So the $v$-loss is the $x_0$-loss with weight "
    r"$\mathrm{SNR}_t + 1$, and min-SNR-$\gamma$ (weight $\min(\mathrm{SNR}_t, \gamma)$ on the $x_0$-loss) is "
    r"$\min(\mathrm{SNR}_t, \gamma)/\mathrm{SNR}_t$ on the $\varepsilon$-loss and "
    r"$\min(\mathrm{SNR}_t, \gamma)/(\mathrm{SNR}_t + 1)$ on the $v$-loss (each derived on both sides of the cap).",
    tier=Tier.EXACT,
    assumptions=(r"variance preserving: $x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\varepsilon$, "
                 r"$\mathrm{SNR}_t = \bar\alpha_t/(1-\bar\alpha_t)$",),
    references=(HANG_2023, SALIMANS_HO),
)
def loss_weights() -> Body:
    signal, noise = sp.sqrt(alpha_bar_t), sp.sqrt(1 - alpha_bar_t)
    x0_of = lambda e: (x_t - noise * e) / signal  # noqa: E731  the data x_0 that x_t and a noise imply
    v_of = lambda e: signal * e - noise * x0_of(e)  # noqa: E731
    eps_error = eps_hat - eps
    forward = signal * x_0 + noise * eps  # x_t at the true noise
    x0_per_eps = sp.factor(sp.simplify((x0_of(eps_hat) - x0_of(eps)) ** 2 / eps_error**2))
    v_per_eps = sp.factor(sp.simplify((v_of(eps_hat) - v_of(eps)) ** 2 / eps_error**2))
    v_per_x0 = sp.factor(sp.simplify(v_per_eps / x0_per_eps))
    # min(SNR, gamma) on the x_0-loss: SNR itself up to the cap (the plain epsilon-loss), gamma above it
    capped = gamma_snr
    return Body(
        steps=(
            Relation(r"$\|\hat x_0 - x_0\|^2/\|\hat\varepsilon - \varepsilon\|^2 = (1-\bar\alpha_t)/\bar\alpha_t = "
                     r"1/\mathrm{SNR}_t$", x0_per_eps, 1 / snr_t),
            Relation(r"$\|\hat v - v\|^2/\|\hat\varepsilon - \varepsilon\|^2 = 1/\bar\alpha_t = (1 + \mathrm{SNR}_t)/"
                     r"\mathrm{SNR}_t$", v_per_eps, (1 + snr_t) / snr_t),
            Relation(r"at the true noise, $x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\varepsilon$, the implied "
                     r"data is $x_0$", work.at(x0_of(eps), {x_t: forward}), x_0),
            Relation(r"and $v$ is its definition $\sqrt{\bar\alpha_t}\varepsilon - \sqrt{1-\bar\alpha_t}x_0$",
                     work.at(v_of(eps), {x_t: forward}), signal * eps - noise * x_0),
        ),
        results=(
            Result("x0_per_eps", x0_per_eps, "x_0 error^2 over epsilon error^2"),
            Result("v_per_x0", v_per_x0, "v error^2 over x_0 error^2: the v-loss's weight on the x_0-loss"),
            Result("min_snr_eps", capped * x0_per_eps, "min-SNR-gamma weight on the epsilon-loss where SNR > gamma "
                   "(1 below)"),
            Result("min_snr_v", capped / v_per_x0, "min-SNR-gamma weight on the v-loss where SNR > gamma"),
            Result("min_snr_v_below", snr_t / v_per_x0, "min-SNR-gamma weight on the v-loss where SNR <= gamma"),
        ),
        claims=(
            Claim("v_per_x0", snr_t + 1, "Salimans & Ho (2022), section 4: 'SNR+1' weighting of the x_0-loss"),
            Claim("min_snr_eps", gamma_snr / snr_t, "Hang et al. (2023), section 3.4: min(SNR, gamma)/SNR, SNR > gamma"),
            Claim("min_snr_v", gamma_snr / (snr_t + 1),
                  "Hang et al. (2023), section 3.4: min(SNR, gamma)/(SNR + 1), SNR > gamma"),
            Claim("min_snr_v_below", snr_t / (snr_t + 1),
                  "Hang et al. (2023), section 3.4: min(SNR, gamma)/(SNR + 1), SNR <= gamma"),
        ),
        wrong_variants=(
            WrongVariant("min_snr_v", gamma_snr / snr_t, "the epsilon weight used for v-prediction"),
            WrongVariant("min_snr_eps", gamma_snr * snr_t, "SNR multiplied instead of divided"),
            WrongVariant("min_snr_v_below", 1 / (snr_t + 1), "the cap's weight 1 (epsilon) read as the x_0 weight"),
            WrongVariant("v_per_x0", snr_t, "SNR for SNR + 1"),
            WrongVariant("x0_per_eps", snr_t, "SNR for 1/SNR"),
        ),
    )
