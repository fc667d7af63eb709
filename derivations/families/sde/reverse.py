r"""sde.reverse_time_argument: the time arguments of the VP SDE's reverse drift in reverse time.

The reverse SDE of ``fp.reverse_sde`` runs in forward time :math:`t` (:math:`dt < 0`):
:math:`dX = [f(t, X) - g(t)^2\nabla\log p_t(X)]\,dt + g(t)\,d\bar W`. The time-reversed process
:math:`Y_s = X_{T-s}` runs forward in :math:`s = T - t`, so its drift is the negated drift at
:math:`t = T - s`: for the VP SDE (:math:`f = -\tfrac12\beta(t)x`, :math:`g = \sqrt{\beta(t)}`)

.. math::
    dY_s = \big[\tfrac12\beta(T - s)\,Y_s + \beta(T - s)\,\nabla\log p_{T-s}(Y_s)\big]\,ds + \sqrt{\beta(T - s)}\,dW_s,

and every schedule value and score is read at :math:`T - s`, not at :math:`s`. Worked for the
linear schedule and data :math:`\mathcal N(0, \sigma_0^2)`, where the marginal variance of
:math:`Y_s` must be :math:`V(T - s)`, :math:`V(t) = e^{-B(t)}\sigma_0^2 + 1 - e^{-B(t)}`
(``sde.vp``): its moment ODE in :math:`s` is checked with the derived drift.
"""

from __future__ import annotations

import sympy as sp


from derivations.core.notation import (
    T_rev, beta_max, beta_min, f_fp, g_fp, h_sde, s_rev, score_fp, time, var_data, x_sde,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation, get
from derivations.core.work import at, derivative, expectation, held_product, held_sum, named, variance
from derivations.families.gaussian import log_density, push_forward

SONG_2021 = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, eqs. (6), (11) and App. B"

_u = sp.Symbol("u", positive=True)  # integration variable, bound inside Integral


def linear_schedule(at_time: sp.Expr) -> sp.Expr:
    r""":math:`\beta(u) = \beta_{\min} + u(\beta_{\max} - \beta_{\min})` at ``at_time``."""
    return beta_min + at_time * (beta_max - beta_min)


@derivation(
    id="sde.reverse_time_argument",
    title="Reverse-time drift of the VP SDE and its Euler-Maruyama step: schedule and score read at T - s",
    statement=r"For the VP SDE $dX = -\tfrac12\beta(t)X\,dt + \sqrt{\beta(t)}\,dW$, the reverse SDE of "
    r"`fp.reverse_sde` written for $Y_s = X_{T-s}$ (substitute $t = T - s$, $ds = -dt$) is "
    r"$dY_s = [\tfrac12\beta(T-s)Y_s + \beta(T-s)\nabla\log p_{T-s}(Y_s)]\,ds + \sqrt{\beta(T-s)}\,dW_s$. "
    r"Linear schedule, data $\mathcal N(0, \sigma_0^2)$: $\nabla\log p_{T-s}(y) = -y/V(T-s)$ with "
    r"$V(t) = e^{-B(t)}\sigma_0^2 + 1 - e^{-B(t)}$, and $\mathrm{Var}\,Y_s = V(T-s)$ solves the moment ODE "
    r"$\tfrac{d}{ds}\mathrm{Var}\,Y_s = 2\,\partial_y b\,\mathrm{Var}\,Y_s + \beta(T-s)$ of the derived drift $b$; "
    r"the misprint $\beta(s)$ does not. One Euler-Maruyama step $s \to s + h$ has gain "
    r"$1 + h\,\partial_y b$ and noise variance $h\beta(T - s)$.",
    tier=Tier.EXACT,
    assumptions=(r"$0 \le s < T$; linear schedule $\beta(u) = \beta_{\min} + u(\beta_{\max} - \beta_{\min})$",
                 r"data $\mathcal N(0, \sigma_0^2)$, one dimension"),
    references=(SONG_2021,),
)
def reverse_time_argument() -> Body:
    from sympy import stats

    back = T_rev - s_rev  # the forward time that reverse time s reads
    schedule_integral = sp.integrate(linear_schedule(_u), (_u, 0, time))
    vp = get("sde.vp")
    B_sym = next(s for s in vp.result("var").free_symbols if s.name == "B_t")
    in_time = {B_sym: schedule_integral}
    mean_coef, noise_var = vp.result("mean_coef").xreplace(in_time), vp.result("var").xreplace(in_time)
    _, marginal_var = push_forward(0, var_data, mean_coef, 0, noise_var)  # data N(0, var_data) through the kernel
    var_now = named("V_fwd", "V(t)", marginal_var, description=r"variance of the marginal $p_t$ at forward time $t$")
    var_back = named("V_back", "V(T - s)", marginal_var.subs(time, back),
                     description=r"variance of the marginal $p_{T-s}$ that reverse time $s$ reads")
    score_now = sp.diff(log_density(x_sde, 0, var_now), x_sde)  # V does not depend on x
    # fp.reverse_sde's drift (forward-time convention) with the VP drift and diffusion substituted.
    vp_fields = {f_fp: -linear_schedule(time) * x_sde / 2, g_fp: sp.sqrt(linear_schedule(time)), score_fp: score_now}
    forward_time_drift = get("fp.reverse_sde").result("drift").xreplace(vp_fields)
    read_back = {var_now.subs(time, back): var_back}
    drift = (-forward_time_drift.subs(time, back)).xreplace(read_back)
    beta_back, score_back = linear_schedule(back), score_now.subs(time, back).xreplace(read_back)
    gain_back = sp.diff(drift, x_sde)
    # The misprints: schedule or score read at s instead of T - s.
    wrong_beta = linear_schedule(s_rev)
    wrong_score = -x_sde / named("V_s", "V(s)", marginal_var.subs(time, s_rev),
                                 description=r"variance of the marginal $p_s$ (the misprint's argument)")
    # One Euler-Maruyama step of Y from s to s + h: y + h b(s, y) + sqrt(h beta(T - s)) Z.
    em_step = x_sde + h_sde * drift + sp.sqrt(h_sde * beta_back) * stats.Normal("Z", 0, 1)
    em_gain, em_var = 1 + h_sde * gain_back, h_sde * beta_back  # read off the step; the relations integrate it
    return Body(
        steps=(
            Relation(r"integrate the linear schedule: $B(t) = \int_0^t\beta(u)\,du$",
                     sp.Integral(linear_schedule(_u), (_u, 0, time)), schedule_integral),
            Relation(r"the score of the marginal $\mathcal N(0, V(t))$ (data $\mathcal N(0, \sigma_0^2)$ through "
                     r"the kernel of `sde.vp`)", derivative(log_density(x_sde, 0, var_now), x_sde), score_now),
            Relation(r"reverse time: $Y_s = X_{T-s}$, $ds = -dt$; the drift in $s$ is minus the forward-time reverse "
                     r"drift $f - g^2\nabla\log p_t$ (`fp.reverse_sde`) held at $t = T - s$",
                     -at(forward_time_drift, {time: back}),
                     held_sum(held_product(beta_back, x_sde) / 2, held_product(beta_back, score_back))),
            Relation(r"the marginal variance $V(T - s)$ of $Y_s$ solves the moment ODE of the derived drift: "
                     r"$\frac{d}{ds}V(T-s) = 2\,\partial_y b\,V(T-s) + \beta(T-s)$",
                     derivative(var_back, s_rev), held_sum(held_product(2, gain_back, var_back), beta_back)),
            Relation(r"one Euler-Maruyama step of $Y$ from $s$ to $s + h$, $y + h\,b(s, y) + \sqrt{h\beta(T-s)}\,Z$: "
                     r"its mean (`sympy.stats`) reads the schedule and the score at $T - s$",
                     expectation(em_step), held_product(em_gain, x_sde)),
            Relation(r"and its variance $h\beta(T - s)$", variance(em_step), em_var),
        ),
        results=(
            Result("beta_rev", beta_back, "beta(T - s): the schedule value reverse time s reads"),
            Result("var_rev", var_back, "V(T - s): the marginal variance of Y_s"),
            Result("score_rev", score_back, "grad log p_{T-s}(y), the score reverse time s reads"),
            Result("drift", drift, "drift of Y_s = X_{T-s} in reverse time s"),
            Result("drift_forward_time", forward_time_drift, "f - g^2 score at forward time t"),
            Result("diffusion_sq", beta_back, "squared diffusion of Y_s"),
            Result("em_gain", em_gain, "gain of one Euler-Maruyama step of Y from s to s + h"),
            Result("em_noise_var", em_var, "noise variance of that step"),
        ),
        claims=(Claim.as_printed("drift", beta_back * x_sde / 2 + beta_back * score_back, "Song et al. (2021)",
                                 r"eq. (6) with the VP drift and diffusion of eq. (11), written for $Y_s = X_{T-s}$"),),
        wrong_variants=(
            WrongVariant("drift", wrong_beta * x_sde / 2 + wrong_beta * score_back,
                         "schedule read at s: beta(s) in place of beta(T - s)"),
            WrongVariant("drift", beta_back * x_sde / 2 + beta_back * wrong_score,
                         "score read at s: grad log p_s in place of grad log p_{T-s}"),
            WrongVariant("drift", -beta_back * x_sde / 2 - beta_back * score_back,
                         "forward-time sign kept after reversing time"),
            WrongVariant("beta_rev", wrong_beta, "beta(s) in place of beta(T - s)"),
            WrongVariant("em_gain", 1 + h_sde * (wrong_beta / 2 - wrong_beta / var_back),
                         "the step reads beta(s) in place of beta(T - s)"),
            WrongVariant("em_noise_var", h_sde * wrong_beta, "noise variance h beta(s)"),
        ),
    )
