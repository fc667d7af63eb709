r"""``ema.weights``: the exponential moving average of parameters as a weighted sum.

The average kept during training, :math:`\bar\theta_n = \beta\,\bar\theta_{n-1} + (1 - \beta)\,\theta_n`
(:math:`0 < \beta < 1`), is unrolled by following the weight of one update :math:`\theta_k` as it ages:
it enters with :math:`1 - \beta` and every later update multiplies it by :math:`\beta`, a first-order
recurrence in its age :math:`m = n - k` that ``rsolve`` solves. The initial value keeps :math:`\beta^n`.
The weights sum to one (a geometric sum); started from :math:`\bar\theta_0 = 0`, dividing by
:math:`1 - \beta^n` (Adam's bias correction) restores a unit total. The weights' mean age tends to
:math:`\beta/(1-\beta)`.
"""

from __future__ import annotations

import sympy as sp

from derivations.core.notation import age_ema, count_ema, decay_ema
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation

KINGMA_BA = "D. P. Kingma, J. Ba, Adam: a method for stochastic optimization, ICLR 2015, Algorithm 1 and §3"
POLYAK = "B. T. Polyak, A. B. Juditsky, Acceleration of stochastic approximation by averaging (1992)"

_k = sp.Symbol("k", integer=True, positive=True)  # index of an update, 1 <= k <= n
_rate = sp.Symbol("a", positive=True)  # beta = e^{-a}: makes 0 < beta < 1 known to the limit


def _generic(expr: sp.Expr) -> sp.Expr:
    r"""A geometric sum comes back with ``Piecewise`` factors whose first branch is the ratio-one case
    :math:`\beta = 1`, excluded here; the generic branches are kept."""
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[-1][0])


def _limit_in_n(expr: sp.Expr) -> sp.Expr:
    r""":math:`n \to \infty` with :math:`0 < \beta < 1` (written :math:`\beta = e^{-a}`, :math:`a > 0`)."""
    beta, n = decay_ema, count_ema
    return sp.simplify(sp.limit(expr.subs(beta, sp.exp(-_rate)), n, sp.oo).subs(_rate, -sp.log(beta)))


@derivation(
    id="ema.weights",
    title="Exponential moving average of parameters: the weights of the unrolled sum",
    statement=r"$\bar\theta_n = \beta^n\bar\theta_0 + \sum_{k=1}^n (1-\beta)\beta^{n-k}\theta_k$; the weights "
              r"sum to one; from $\bar\theta_0 = 0$ the bias-corrected weights are "
              r"$(1-\beta)\beta^{n-k}/(1-\beta^n)$; their mean age tends to $\beta/(1-\beta)$.",
    tier=Tier.EXACT,
    assumptions=(r"$0 < \beta < 1$; $n \ge 1$ updates",),
    references=(KINGMA_BA, POLYAK),
)
def _weights() -> Body:
    beta, n, m = decay_ema, count_ema, age_ema
    w = sp.Function("w")
    weight = sp.rsolve(w(m) - beta * w(m - 1), w(m), {w(0): 1 - beta})  # the weight of an update of age m
    init_weight = beta**n  # theta-bar_0 multiplied by beta at each of the n updates
    weight_of_k = weight.subs(m, n - _k)
    weights_sum = sp.simplify(_generic(sp.summation(weight_of_k, (_k, 1, n))))
    corrected = weight / (1 - beta**n)
    age_sum = sp.factor(_generic(sp.summation((n - _k) * weight_of_k, (_k, 1, n))))
    mean_age = _limit_in_n(age_sum)
    steps = (
        Relation(r"the weight of an update solves $w(m) = \beta\,w(m-1)$, $w(0) = 1-\beta$: the residual",
                 sp.Add(weight, -beta * weight.subs(m, m - 1), evaluate=False), 0),
        Relation(r"total weight: $\beta^n$ on $\bar\theta_0$ plus the geometric sum over $k = 1..n$",
                 sp.Add(init_weight, weights_sum, evaluate=False), 1),
        Relation(r"from $\bar\theta_0 = 0$ the weights sum to $1 - \beta^n$: divided by it, to one",
                 sp.Mul(weights_sum, 1 / (1 - beta**n), evaluate=False), 1),
        Relation(r"mean age after $n$ updates, $\sum_k (n-k)\,w(n-k)$ summed in closed form: its limit plus a "
                 r"term carrying $\beta^n$, which vanishes as $n \to \infty$",
                 age_sum, sp.Add(mean_age, sp.factor(age_sum - mean_age), evaluate=False)),
    )
    results = (
        Result("weight", weight, "weight of an update of age m in the moving average"),
        Result("init_weight", init_weight, "weight left on the initial value after n updates"),
        Result("total_weight", sp.simplify(init_weight + weights_sum), "sum of all weights"),
        Result("corrected_weight", corrected, "weight after the bias correction 1/(1 - beta^n) (from theta-bar_0 = 0)"),
        Result("mean_age_n", age_sum, "mean age of the weights after n updates"),
        Result("mean_age", mean_age, "limit of the weights' mean age (steps behind the last update)"),
    )
    claims = (
        Claim("corrected_weight", (1 - beta) * beta**m / (1 - beta**n),
              KINGMA_BA + r": $\hat m_t = m_t / (1 - \beta_1^t)$ with $m_t = (1-\beta_1)\sum_i \beta_1^{t-i} g_i$"),
    )
    wrong = (
        WrongVariant("weight", (1 - beta) * beta**(m + 1), "age counted from one (beta^(n-k+1))"),
        WrongVariant("weight", beta**m, "the factor 1 - beta on each update dropped"),
        WrongVariant("corrected_weight", (1 - beta) * beta**m / (1 - beta**(n + 1)), "bias correction 1 - beta^(n+1)"),
        WrongVariant("mean_age", 1 / (1 - beta), "the horizon 1/(1 - beta) quoted as the mean age"),
    )
    return Body(steps=steps, results=results, claims=claims, wrong_variants=wrong)
