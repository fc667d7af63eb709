r"""sde.ddpm_limit: the DDPM chain with :math:`\beta_i = \beta(t_i)/N` tends to the VP SDE.

With :math:`N` steps per unit time, :math:`t_i = i/N` and
:math:`\beta_i = \beta(t_i)/N`, the chain's cumulative product at time
:math:`t` (step :math:`tN`) is

.. math::
    \log\bar\alpha = \sum_{i=1}^{tN}\log\Big(1 - \frac{\beta(t_i)}{N}\Big)
    = -\sum_{i=1}^{tN}\frac{\beta(t_i)}{N} + R_N,\qquad |R_N| \le \sum_{i=1}^{tN}\frac{\beta(t_i)^2}{N^2},

a Riemann sum of :math:`\beta` plus a remainder of order :math:`1/N` (the bound on :math:`R_N` is
proved term by term as two inequalities on :math:`\log(1 - u)`), so
:math:`\log\bar\alpha \to -B(t)`. The DDPM marginal of ``ddpm.marginal``,
:math:`\mathcal N(\sqrt{\bar\alpha}x_0, 1 - \bar\alpha)`, then tends to the
VP SDE's transition law of ``sde.vp``. Worked for the linear schedule
:math:`\beta(s) = \beta_{\min} + s(\beta_{\max} - \beta_{\min})`.
"""

from __future__ import annotations

import sympy as sp

from derivations.core.notation import B_linear, alpha_bar_t, beta_max, beta_min, beta_t, time
from derivations.core.proof import Tier
from derivations.core.registry import AT_MOST, Body, Equivalent, Relation, Result, WrongVariant, derivation, get
from derivations.core.work import at, derivative, limit

SONG_2021 = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, App. B (eqs. (26)-(29))"

_n = sp.Symbol("N", positive=True)  # steps per unit time
_i = sp.Symbol("i", integer=True, positive=True)


def _schedule(at: sp.Expr) -> sp.Expr:
    return beta_min + at * (beta_max - beta_min)


def _sum_to_time(summand: sp.Expr) -> sp.Expr:
    r""":math:`\sum_{i=1}^{tN}` of ``summand``, held (its ``doit`` is ``summation`` with the upper index :math:`tN`)."""
    return sp.Sum(summand, (_i, 1, time * _n))


def _sign_steps(name: str, gap: sp.Expr, slope: sp.Expr, where: str) -> tuple[Relation, ...]:
    r"""``gap`` :math:`\ge 0` on its range: it vanishes at 0 and its derivative ``slope`` is nonnegative there."""
    return (
        Relation(rf"{name}: differentiate the gap $d(u)$", derivative(gap, beta_t), slope),
        Relation(rf"{name}: $d'(u) \ge 0$ for {where}, so $d$ is nondecreasing", sp.Integer(0), slope, kind=AT_MOST),
        Relation(rf"{name}: $d(0) = 0$; with the line above, $d \ge 0$", at(gap, {beta_t: 0}), 0),
    )


@derivation(
    id="sde.ddpm_limit",
    title="DDPM chain with beta_i = beta(t_i)/N converges to the VP SDE",
    statement=r"$\log\bar\alpha_{tN} = \sum_{i \le tN}\log(1 - \beta(i/N)/N) = -\sum_{i\le tN}\beta(i/N)/N + R_N$ with "
    r"$-\sum_{i\le tN}\beta(i/N)^2/N^2 \le R_N \le 0$ (from $-u - u^2 \le \log(1-u) \le -u$ on $0 \le u \le \tfrac12$, "
    r"proved below as sign checks), so $\log\bar\alpha_{tN} \to -B(t)$ and the DDPM "
    r"marginal $\mathcal N(\sqrt{\bar\alpha}x_0, 1 - \bar\alpha)$ tends to "
    r"$\mathcal N(e^{-B(t)/2}x_0, 1 - e^{-B(t)})$, the VP SDE's transition law (``sde.vp``).",
    tier=Tier.EXACT,
    assumptions=(r"linear schedule $\beta(s) = \beta_{\min} + s(\beta_{\max} - \beta_{\min})$; "
                 r"$tN$ an integer along the limit",
                 r"$N \ge 2\beta_{\max}$, so every $\beta_i = \beta(t_i)/N \le \tfrac12$"),
    references=(SONG_2021, "J. Ho et al., Denoising Diffusion Probabilistic Models, NeurIPS 2020"),
)
def ddpm_limit() -> Body:
    # One step's u = beta_i. The upper bound holds for 0 < u < 1 (u = beta_t); the lower bound needs u <= 1/2,
    # covered by u = beta_t / 2 with 0 < beta_t < 1.
    u = beta_t
    upper_gap = -u - sp.log(1 - u)  # log(1 - u) <= -u
    half = u / 2
    lower_gap = sp.log(1 - half) + half + half**2  # log(1 - u) >= -u - u^2
    per_step = _schedule(_i / _n) / _n
    riemann = sp.summation(per_step, (_i, 1, sp.Symbol("M", integer=True, positive=True)))
    riemann = riemann.subs(sp.Symbol("M", integer=True, positive=True), time * _n)
    log_alpha_bar = sp.expand(-sp.limit(riemann, _n, sp.oo))
    marginal = get("ddpm.marginal")
    vp = get("sde.vp")
    at_limit = {alpha_bar_t: sp.exp(log_alpha_bar)}
    mean_coef = marginal.result("mean_coef").subs(at_limit)
    var = marginal.result("var").subs(at_limit)
    return Body(
        steps=(
            *_sign_steps(r"upper bound $\log(1-u) \le -u$, $d(u) = -u - \log(1-u)$", upper_gap,
                         sp.factor(sp.diff(upper_gap, u)), r"$0 \le u < 1$ ($u = \beta_t$)"),
            *_sign_steps(r"lower bound $\log(1-u) \ge -u - u^2$, $d(u) = \log(1-u) + u + u^2$", lower_gap,
                         sp.factor(sp.diff(lower_gap, u)),
                         r"$0 \le u \le \tfrac12$ ($u = \beta_t/2$, $0 < \beta_t < 1$)"),
            Relation(r"sum the two bounds over $i \le tN$: $|R_N| \le \sum_{i\le tN}\beta(t_i)^2/N^2$, which tends to 0",
                     limit(_sum_to_time(per_step**2), _n, sp.oo), 0),
            Relation(r"Riemann sum: $\sum_{i\le tN}\beta(t_i)/N \to B(t)$", limit(_sum_to_time(per_step), _n, sp.oo),
                     B_linear),
            Relation(r"constant schedule, as a check of the limit: $(1 - \beta/N)^{tN} \to e^{-\beta t}$",
                     limit((1 - beta_min / _n) ** (time * _n), _n, sp.oo), sp.exp(-beta_min * time)),
        ),
        results=(
            Result("log_alpha_bar_limit", log_alpha_bar, "lim log alpha_bar at time t"),
            Result("mean_coef_limit", mean_coef, "lim sqrt(alpha_bar): the chain's mean coefficient"),
            Result("var_limit", var, "lim 1 - alpha_bar: the chain's variance"),
        ),
        equivalents=(
            Equivalent("mean_coef_limit", vp.result("mean_coef_linear"), "sde.vp, linear schedule (derived there)"),
            Equivalent("var_limit", vp.result("var_linear"), "sde.vp, linear schedule (derived there)"),
        ),
        wrong_variants=(
            WrongVariant("mean_coef_limit", sp.exp(-B_linear), "missing square root"),
            WrongVariant("mean_coef_limit", sp.exp(-(beta_min * time + (beta_max - beta_min) * time**2) / 2),
                         "schedule integrated without the 1/2 on t^2"),
            WrongVariant("log_alpha_bar_limit", -beta_max * time, "the endpoint beta_max in place of the integral"),
            WrongVariant("var_limit", 1 - sp.exp(-B_linear / 2), "variance with the mean's exponent"),
        ),
    )
