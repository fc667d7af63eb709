r"""sde.ddpm_limit: the DDPM chain with :math:`\beta_i = \beta(t_i)/N` tends to the VP SDE.

With :math:`N` steps per unit time, :math:`t_i = i/N` and
:math:`\beta_i = \beta(t_i)/N`, the chain's cumulative product at time
:math:`t` (step :math:`tN`) is

.. math::
    \log\bar\alpha = \sum_{i=1}^{tN}\log\Big(1 - \frac{\beta(t_i)}{N}\Big)
    = -\sum_{i=1}^{tN}\frac{\beta(t_i)}{N} + R_N,\qquad |R_N| \le \sum_{i=1}^{tN}\frac{\beta(t_i)^2}{N^2},

a Riemann sum of :math:`\beta` plus a remainder of order :math:`1/N`, so
:math:`\log\bar\alpha \to -B(t)`. The DDPM marginal of ``ddpm.marginal``,
:math:`\mathcal N(\sqrt{\bar\alpha}x_0, 1 - \bar\alpha)`, then tends to the
VP SDE's transition law of ``sde.vp``. Worked for the linear schedule
:math:`\beta(s) = \beta_{\min} + s(\beta_{\max} - \beta_{\min})`.
"""

from __future__ import annotations

import sympy as sp

from derivations.core.notation import B_linear, alpha_bar_t, beta_max, beta_min, beta_t, time

_small = beta_t  # one step's beta_i = beta(t_i)/N, small for large N
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation, get

SONG_2021 = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, App. B (eqs. (26)-(29))"

_n = sp.Symbol("N", positive=True)  # steps per unit time
_i = sp.Symbol("i", integer=True, positive=True)


def _schedule(at: sp.Expr) -> sp.Expr:
    return beta_min + at * (beta_max - beta_min)


def _sum_to_time(summand: sp.Expr) -> sp.Expr:
    r""":math:`\sum_{i=1}^{tN}` of ``summand`` in closed form (``summation`` with the upper index :math:`tN`)."""
    upper = sp.Symbol("M", integer=True, positive=True)
    return sp.summation(summand, (_i, 1, upper)).subs(upper, time * _n)


@derivation(
    id="sde.ddpm_limit",
    title="DDPM chain with beta_i = beta(t_i)/N converges to the VP SDE",
    statement=r"$\log\bar\alpha_{tN} = \sum_{i \le tN}\log(1 - \beta(i/N)/N) \to -B(t)$, so the DDPM "
    r"marginal $\mathcal N(\sqrt{\bar\alpha}x_0, 1 - \bar\alpha)$ tends to "
    r"$\mathcal N(e^{-B(t)/2}x_0, 1 - e^{-B(t)})$, the VP SDE's transition law (``sde.vp``).",
    tier=Tier.EXACT,
    assumptions=(r"linear schedule $\beta(s) = \beta_{\min} + s(\beta_{\max} - \beta_{\min})$; "
                 r"$tN$ an integer along the limit",
                 r"$N > 2\beta_{\max}$, so $\beta_i \le \tfrac12$ and $|\log(1-u) + u| \le u^2$"),
    references=(SONG_2021, "J. Ho et al., Denoising Diffusion Probabilistic Models, NeurIPS 2020"),
)
def ddpm_limit() -> Body:
    first_order = sp.series(sp.log(1 - _small), _small, 0, 2).removeO()
    # |log(1-u) + u| = sum_{k>=2} u^k/k <= (u^2/2) sum_{j>=0} u^j, and u^j <= 2^-j for u <= 1/2
    tail_bound = _small**2 / 2 * sp.summation(sp.Rational(1, 2) ** (_i - 1), (_i, 1, sp.oo))
    per_step = _schedule(_i / _n) / _n
    riemann = _sum_to_time(first_order.subs(_small, per_step))
    remainder_bound = _sum_to_time(per_step**2)
    log_alpha_bar = sp.expand(sp.limit(riemann, _n, sp.oo))
    constant = sp.limit((1 - beta_min / _n) ** (time * _n), _n, sp.oo)  # constant schedule, exact product
    marginal = get("ddpm.marginal")
    vp = get("sde.vp")
    at_limit = {alpha_bar_t: sp.exp(log_alpha_bar)}
    mean_coef = marginal.result("mean_coef").subs(at_limit)
    var = marginal.result("var").subs(at_limit)
    return Body(
        steps=(
            Relation(r"first-order term of $\log(1 - \beta_i)$ at $\beta_i = 0$ (series)", first_order, -_small),
            Relation(r"first-order expansion: $\log(1 - \beta_i) + \beta_i = O(\beta_i^2)$ (residual of the series)",
                     sp.limit((sp.log(1 - _small) - first_order) / _small, _small, 0), 0),
            Relation(r"tail bound for $\beta_i \le \tfrac12$: $\sum_{k\ge2}\beta_i^k/k \le \beta_i^2$",
                     tail_bound, _small**2),
            Relation(r"remainder: $\sum_{i\le tN}\beta_i^2 \to 0$ as $N \to \infty$",
                     sp.limit(remainder_bound, _n, sp.oo), 0),
            Relation(r"Riemann sum: $\sum_{i\le tN}\beta(t_i)/N \to B(t)$", -log_alpha_bar, B_linear),
            Relation(r"constant schedule: $(1 - \beta/N)^{tN} \to e^{-\beta t}$", constant,
                     sp.exp(-beta_min * time)),
        ),
        results=(
            Result("log_alpha_bar_limit", log_alpha_bar, "lim log alpha_bar at time t"),
            Result("mean_coef_limit", mean_coef, "lim sqrt(alpha_bar): the chain's mean coefficient"),
            Result("var_limit", var, "lim 1 - alpha_bar: the chain's variance"),
        ),
        claims=(
            Claim("mean_coef_limit", vp.result("mean_coef_linear"), "sde.vp, linear schedule (derived)"),
            Claim("var_limit", vp.result("var_linear"), "sde.vp, linear schedule (derived)"),
        ),
        wrong_variants=(
            WrongVariant("mean_coef_limit", sp.exp(-B_linear), "missing square root"),
            WrongVariant("mean_coef_limit", sp.exp(-(beta_min * time + (beta_max - beta_min) * time**2) / 2),
                         "schedule integrated without the 1/2 on t^2"),
            WrongVariant("log_alpha_bar_limit", -beta_max * time, "the endpoint beta_max in place of the integral"),
            WrongVariant("var_limit", 1 - sp.exp(-B_linear / 2), "variance with the mean's exponent"),
        ),
    )
