r"""ddim.*: the DDIM family of non-Markovian reverse kernels (Song, Meng, Ermon 2021).

Between two retained timesteps :math:`\tau_{i-1} < \tau_i` (steps may be skipped; the
symbols :math:`\bar\alpha_{\tau_{i-1}}` and :math:`r = \bar\alpha_{\tau_i}/\bar\alpha_{\tau_{i-1}}`
are free, so consecutive steps are the special case :math:`r = \alpha_t`), the kernel

.. math::

    x_{\tau_{i-1}} = \sqrt{\bar\alpha_{\tau_{i-1}}}\, x_0 + \sqrt{1 - \bar\alpha_{\tau_{i-1}} - \sigma^2}\,
    \frac{x_{\tau_i} - \sqrt{\bar\alpha_{\tau_i}}\, x_0}{\sqrt{1 - \bar\alpha_{\tau_i}}} + \sigma z

is pushed forward through :math:`q(x_{\tau_i} \mid x_0)`. An admissible :math:`\sigma^2 \le
1 - \bar\alpha_{\tau_{i-1}}` is written :math:`\sigma^2 = \rho\,(1 - \bar\alpha_{\tau_{i-1}})`,
:math:`0 < \rho < 1`. In the notation, ``x_tau`` and ``x_tau_prev`` name :math:`x_{\tau_i}` and
:math:`x_{\tau_{i-1}}`.

Which :math:`\tau_{i-1}` a scheduler uses is bookkeeping, not mathematics:
:func:`scheduler_timesteps` reproduces the rule of diffusers' ``DDIMScheduler``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

if TYPE_CHECKING:  # numpy is imported where a function needs it: proving a claim needs none
    import numpy as np

from derivations.families.ddpm import marginal_form
from derivations.families.gaussian import condition, push_forward, shown_push_forward
from derivations.core.notation import alpha_bar_prev, alpha_bar_t, alpha_bar_tau, alpha_bar_tau_prev, alpha_ratio_tau, alpha_t
from derivations.core.notation import beta_t
from derivations.core.notation import eps, eta_ddim, var_ddim, x_0, x_tau, x_tau_prev
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation
from derivations.core.work import at, held_power, held_product, held_sum

SONG_MENG_ERMON_2021 = "J. Song, C. Meng, S. Ermon, Denoising Diffusion Implicit Models, ICLR 2021, eqs. (7), (12), (16)"
DDIM = "Song, Meng, Ermon (2021)"
# DDIM writes alpha_t for the cumulative product (the suite's alpha_bar); between retained steps
# tau_{i-1} < tau_i its index t - 1, t reads tau_{i-1}, tau_i.
_A_PREV, _A_NOW, _SIGMA_SQ, _EPS_THETA = sp.symbols("alpha_t-1 alpha_t sigma_t^2 epsilon_theta")
TO_SUITE = {_A_PREV: alpha_bar_tau_prev, _A_NOW: alpha_bar_tau, _SIGMA_SQ: var_ddim, _EPS_THETA: eps}
LIN_2024 = ("S. Lin, B. Liu, J. Li, X. Yang, Common Diffusion Noise Schedules and Sample Steps are Flawed, "
            "WACV 2024, Table 2")
SPACINGS = ("linspace", "leading", "trailing")


def kernel(var: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""(mean, gain on :math:`x_{\tau_i}`, offset) of the DDIM kernel with variance ``var``."""
    gain = sp.sqrt(1 - alpha_bar_tau_prev - var) / sp.sqrt(1 - alpha_bar_tau)
    offset = sp.sqrt(alpha_bar_tau_prev) * x_0 - gain * sp.sqrt(alpha_bar_tau) * x_0
    return gain * x_tau + offset, gain, offset


def scheduler_timesteps(spacing: str, train_steps: int, inference_steps: int, steps_offset: int = 0
                        ) -> tuple[np.ndarray, np.ndarray]:
    r"""The timesteps of diffusers' ``DDIMScheduler`` (0-based, decreasing) and the previous
    timestep its ``step`` uses at each, :math:`t - \lfloor T/n \rfloor` for every spacing
    (a negative value means :math:`\bar\alpha = 1` or :math:`\bar\alpha_0`, ``set_alpha_to_one``).

    * ``linspace``: :math:`\mathrm{round}(\mathrm{linspace}(0, T-1, n))`;
    * ``leading``: :math:`k \lfloor T/n \rfloor + \text{offset}`, :math:`k = 0..n-1`;
    * ``trailing``: :math:`\mathrm{round}(T - k T/n) - 1`, :math:`k = 0..n-1`.
    """
    import numpy as np

    if spacing == "linspace":
        timesteps = np.linspace(0, train_steps - 1, inference_steps).round()[::-1].astype(np.int64)
    elif spacing == "leading":
        timesteps = (np.arange(inference_steps) * (train_steps // inference_steps))[::-1].astype(np.int64)
        timesteps = timesteps + steps_offset
    elif spacing == "trailing":
        timesteps = np.round(np.arange(train_steps, 0, -train_steps / inference_steps)).astype(np.int64) - 1
    else:
        raise ValueError(f"unknown spacing {spacing!r}; known: {', '.join(SPACINGS)}")
    return timesteps, timesteps - train_steps // inference_steps


@derivation(
    id="ddim.family",
    title="DDIM kernels keep every forward marginal q(x_t | x_0), for any sigma and skipped steps",
    statement=r"For $\sigma^2 \le 1 - \bar\alpha_{\tau_{i-1}}$, the kernel "
    r"$\mathcal N\big(\sqrt{\bar\alpha_{\tau_{i-1}}} x_0 + \sqrt{1-\bar\alpha_{\tau_{i-1}}-\sigma^2}\,"
    r"\frac{x_{\tau_i} - \sqrt{\bar\alpha_{\tau_i}} x_0}{\sqrt{1-\bar\alpha_{\tau_i}}}, \sigma^2\big)$ maps "
    r"$q(x_{\tau_i}\mid x_0)$ to $q(x_{\tau_{i-1}}\mid x_0)$, so by induction from $\tau_S$ down every marginal is "
    r"kept. $\sigma^2(\eta) = \eta^2 \frac{1-\bar\alpha_{\tau_{i-1}}}{1-\bar\alpha_{\tau_i}}"
    r"\big(1 - \frac{\bar\alpha_{\tau_i}}{\bar\alpha_{\tau_{i-1}}}\big)$ is $\eta^2$ times the forward posterior "
    r"variance over the skipped steps: $\eta = 1$ is the posterior ($\tilde\beta_t$ for consecutive steps), "
    r"$\eta = 0$ the deterministic update $\sqrt{\bar\alpha_{\tau_{i-1}}}\hat x_0 + "
    r"\sqrt{1-\bar\alpha_{\tau_{i-1}}}\hat\varepsilon$. "
    r"Previous timestep in diffusers' `DDIMScheduler.step`: always $t - \lfloor T/n\rfloor$ ($T$ training "
    r"steps, $n$ inference steps), with timesteps `linspace` $= \mathrm{round}(\mathrm{linspace}(0, T-1, n))$, "
    r"`leading` $= k\lfloor T/n\rfloor$ + `steps_offset`, `trailing` $= \mathrm{round}(T - kT/n) - 1$; so "
    r"$t - \lfloor T/n \rfloor$ is the next retained timestep for `leading` and (when $n$ divides $T$) "
    r"`trailing`, but not always for `linspace` (e.g. $T = 1000$, $n = 50$: 999 is followed by 979, while "
    r"$t - 20 = 979$, and 979 by 958 while $t - 20 = 959$); a negative previous step uses "
    r"$\bar\alpha = 1$ (`set_alpha_to_one`) or $\bar\alpha_0$.",
    tier=Tier.EXACT,
    assumptions=(
        r"$0 < \bar\alpha_{\tau_i} < \bar\alpha_{\tau_{i-1}} < 1$; $\sigma^2 = \rho(1-\bar\alpha_{\tau_{i-1}})$, "
        r"$0 < \rho < 1$ ($\rho = 0, 1$ by continuity)",
        r"the forward chain over the skipped steps is $q(x_{\tau_i}\mid x_{\tau_{i-1}}) = "
        r"\mathcal N(\sqrt{r}\, x_{\tau_{i-1}}, 1 - r)$, $r = \bar\alpha_{\tau_i}/\bar\alpha_{\tau_{i-1}}$ "
        r"(composition as in `ddpm.marginal`)",
        r"$0 < \eta \le 1$ keeps $\sigma^2(\eta) < 1 - \bar\alpha_{\tau_{i-1}}$ (the ratio is "
        r"$\eta^2 (1-r)/(1-r\bar\alpha_{\tau_{i-1}})$)",
    ),
    references=(SONG_MENG_ERMON_2021, LIN_2024,
                "diffusers, schedulers/scheduling_ddim.py (DDIMScheduler.set_timesteps and step)"),
)
def family() -> Body:
    mean, gain, offset = kernel(var_ddim)
    start_mean, start_var = marginal_form(alpha_bar_tau)  # q(x_{tau_i} | x_0)
    pushed_mean, pushed_var = push_forward(start_mean, start_var, gain, offset, var_ddim)
    shown_mean, shown_var = shown_push_forward(start_mean, start_var, gain, offset, var_ddim)
    target_mean, target_var = marginal_form(alpha_bar_tau_prev)  # q(x_{tau_{i-1}} | x_0)

    # Forward posterior over the skipped steps: condition q(x_{tau_{i-1}} | x_0) on the skip kernel.
    skip_mean, skip_var = condition(target_mean, target_var, sp.sqrt(alpha_ratio_tau), 0, 1 - alpha_ratio_tau,
                                    x_tau, x_tau_prev)
    skip_var = sp.factor(skip_var)
    var_eta = eta_ddim**2 * skip_var
    skip_coef_xt, skip_coef_x0 = sp.factor(sp.diff(skip_mean, x_tau)), sp.factor(sp.diff(skip_mean, x_0))
    consecutive = {alpha_bar_tau_prev: alpha_bar_prev, alpha_ratio_tau: alpha_t}
    noised = {x_0: (x_tau - sp.sqrt(1 - alpha_bar_tau) * eps) / sp.sqrt(alpha_bar_tau)}
    mean_eps = sp.expand(sp.simplify(mean.subs(noised)))
    deterministic = mean_eps.subs(var_ddim, 0)
    printed_var = held_power(_EPS_ETA_FORM, 2)
    return Body(
        steps=(
            Relation(r"push $q(x_{\tau_i}\mid x_0) = \mathcal N(\sqrt{\bar\alpha_{\tau_i}}x_0, 1-\bar\alpha_{\tau_i})$ "
                     r"through the kernel: mean", shown_mean, target_mean),
            Relation(r"push-forward variance: $(1-\bar\alpha_{\tau_{i-1}}-\sigma^2) + \sigma^2$", shown_var, target_var),
            # Both gains are positive, so equal squares mean equal gains (SymPy does not take the root).
            Relation(r"$\eta = 1$: with $\sigma^2$ the posterior variance of the skipped steps, the kernel's gain on "
                     r"$x_{\tau_i}$, squared, is the posterior's coefficient of $x_{\tau_i}$, squared",
                     held_product(1 - alpha_bar_tau_prev - skip_var, held_power(1 - alpha_bar_tau, -1)),
                     held_power(skip_coef_xt, 2)),
            Relation(r"$\eta = 1$: with that gain, the kernel's coefficient of $x_0$ is the posterior's",
                     held_sum(sp.sqrt(alpha_bar_tau_prev), -held_product(skip_coef_xt, sp.sqrt(alpha_bar_tau))),
                     skip_coef_x0),
            Relation(r"admissible: $\sigma^2(\eta)/(1-\bar\alpha_{\tau_{i-1}}) = \eta^2(1-r)/(1-r\bar\alpha_{\tau_{i-1}})$",
                     held_product(var_eta, held_power(1 - alpha_bar_tau_prev, -1)),
                     eta_ddim**2 * (1 - alpha_ratio_tau) / (1 - alpha_ratio_tau * alpha_bar_tau_prev)),
            Relation(r"$\eta = 0$: the kernel's variance vanishes (a deterministic map)", at(var_eta, {eta_ddim: 0}), 0),
            Relation(r"$\varepsilon$ form: substitute $x_0 = (x_{\tau_i} - \sqrt{1-\bar\alpha_{\tau_i}}\varepsilon)"
                     r"/\sqrt{\bar\alpha_{\tau_i}}$", at(mean, noised), mean_eps),
        ),
        results=(
            Result("mean", mean, "kernel mean in x_0 and x_{tau_i}"),
            Result("pushed_mean", pushed_mean, "mean of x_{tau_{i-1}} given x_0 after the kernel"),
            Result("pushed_var", pushed_var, "variance of x_{tau_{i-1}} given x_0 after the kernel"),
            Result("var_eta", var_eta, "sigma^2(eta)"),
            Result("var_eta_one_consecutive", skip_var.subs(consecutive), "sigma^2(1) for consecutive steps"),
            Result("mean_eps", mean_eps, "kernel mean in x_{tau_i} and the noise eps"),
            Result("mean_deterministic", deterministic, "eta = 0: the deterministic update"),
        ),
        claims=(
            Claim.as_printed("pushed_var", 1 - _A_PREV, DDIM, r"Lemma 1 ($q_\sigma(x_t\mid x_0) = \mathcal N("
                             r"\sqrt{\alpha_t}x_0, (1-\alpha_t)I)$) at $t - 1$", TO_SUITE),
            Claim.as_printed("var_eta", printed_var, DDIM, r"eq. (16), $\sigma_{\tau_i}(\eta)$ squared", TO_SUITE),
            Claim.as_printed("var_eta_one_consecutive", (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta_t,
                             "Ho et al. (2020)", r"eq. (7), $\tilde\beta_t$"),
            Claim.as_printed("mean_eps", sp.sqrt(_A_PREV) * (x_tau - sp.sqrt(1 - _A_NOW) * _EPS_THETA) / sp.sqrt(_A_NOW)
                             + sp.sqrt(1 - _A_PREV - _SIGMA_SQ) * _EPS_THETA, DDIM,
                             r"eq. (12) without the noise term $\sigma_t\varepsilon_t$", TO_SUITE),
        ),
        wrong_variants=(
            WrongVariant("pushed_var", 1 - alpha_bar_tau_prev - var_ddim, "kernel noise forgotten"),
            WrongVariant("var_eta", eta_ddim * skip_var, "eta not squared"),
            WrongVariant("var_eta", eta_ddim**2 * (1 - alpha_bar_tau_prev) / (1 - alpha_bar_tau),
                         "missing the factor 1 - alpha_bar_{tau_i}/alpha_bar_{tau_{i-1}}"),
            WrongVariant("mean_eps", sp.sqrt(alpha_bar_tau_prev) * (x_tau - sp.sqrt(1 - alpha_bar_tau) * eps)
                         / sp.sqrt(alpha_bar_tau) + sp.sqrt(1 - alpha_bar_tau_prev) * eps,
                         "sigma^2 left out of the direction term"),
            WrongVariant("mean_deterministic", sp.sqrt(alpha_bar_tau_prev) * (x_tau - sp.sqrt(1 - alpha_bar_tau) * eps)
                         / sp.sqrt(alpha_bar_tau) + sp.sqrt(1 - alpha_bar_tau) * eps,
                         "index shifted: sqrt(1 - alpha_bar_{tau_i}) on the noise"),
        ),
    )


# DDIM eq. (16): sigma_{tau_i}(eta) = eta sqrt((1 - alpha_{tau_{i-1}})/(1 - alpha_{tau_i})) sqrt(1 - alpha_{tau_i}/alpha_{tau_{i-1}}).
_EPS_ETA_FORM = eta_ddim * sp.sqrt((1 - _A_PREV) / (1 - _A_NOW)) * sp.sqrt(1 - _A_NOW / _A_PREV)
