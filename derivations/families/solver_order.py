r"""solver_order.*: local truncation errors of the catalogue's ODE solvers, and RK4's stage times.

On Gaussian data the probability-flow ODE is linear in the state, eigenvalue by eigenvalue:
:math:`y' = r(t)\,y`. The catalogue's own rules (:mod:`derivations.catalogue.pieces`: ``euler``,
``heun``, ``rk4``) are run here on that test equation with SymPy values, the rate expanded at the
step's start,

.. math:: r(t + \tau) = \sum_{k=0}^{4} r_k \frac{\tau^k}{k!},

so that one step multiplies :math:`y` by a polynomial gain in :math:`h`. The exact gain is
:math:`\exp\int_0^h r(t + \tau)\,d\tau`. The local error is the difference of the two, expanded in
:math:`h`: its first non-vanishing power :math:`h^{p+1}` gives the global order :math:`p`.

A time-dependent rate matters: with :math:`r` constant any stage times give the same gain
(the stability function), and the condition that fixes RK4's middle stage times at
:math:`t + h/2` is the :math:`h^2` coefficient, proportional to :math:`r_1`.
"""

from __future__ import annotations

import sympy as sp

from derivations.catalogue import pieces
from derivations.core.notation import h_sde, rate_derivs_ode, stage_mid_ode
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation

HAIRER = "E. Hairer, S. P. Nørsett, G. Wanner, Solving Ordinary Differential Equations I, 2nd ed. (1993)"
BUTCHER = "J. C. Butcher, Numerical Methods for Ordinary Differential Equations, 3rd ed. (2016)"

# Each rule of the catalogue with the global order its local error is expected to show.
RULES = {"euler": pieces.euler, "heun": pieces.heun, "rk4": pieces.rk4}
_ORDER_SEARCH = 6  # powers of h examined for the first disagreement (RK4's is h^5)

_tau = sp.Symbol("tau", nonnegative=True)  # integration variable within the step


def rate(at: sp.Expr) -> sp.Expr:
    """The rate's Taylor polynomial :math:`\\sum_k r_k \\tau^k / k!` at ``at`` after the step's start."""
    return sum(r_k * at**k / sp.factorial(k) for k, r_k in enumerate(rate_derivs_ode))


class _Level:
    """The engine's view of one time level, for the test equation: drift :math:`r\\,x`, no noise."""

    def __init__(self, rate_value: sp.Expr):
        self.drift_coef = rate_value
        self.diffusion_sq = sp.Integer(0)

    def score(self, x: sp.Expr) -> sp.Expr:
        return sp.Integer(0)


class TestEquationStep:
    """The ``ops`` a rule reads (``h``, ``now``, ``mid``, ``next``) for :math:`y' = r(t) y`; the middle
    level sits at :math:`t + c\\,h` (:math:`c = 1/2` in the engine)."""

    def __init__(self, h: sp.Expr, mid_fraction: sp.Expr = sp.Rational(1, 2)):
        self.h = h
        self.now, self.mid, self.next = (_Level(rate(at)) for at in (sp.Integer(0), mid_fraction * h, h))


def rule_gain(name: str, mid_fraction: sp.Expr = sp.Rational(1, 2)) -> sp.Expr:
    """The factor one step of the catalogue's rule ``name`` multiplies :math:`y` by."""
    return RULES[name](TestEquationStep(h_sde, mid_fraction), sp.Integer(1))


def exact_gain_held() -> sp.Expr:
    """:math:`\\exp\\int_0^h r(t+\\tau)\\,d\\tau`, the integral held."""
    return sp.exp(sp.Integral(rate(_tau), (_tau, 0, h_sde)))


def taylor(expr: sp.Expr, through: int) -> sp.Expr:
    """``expr`` expanded in :math:`h` through :math:`h^{\\text{through}}`."""
    return sp.expand(sp.series(expr, h_sde, 0, through + 1).removeO())


def coefficient(expr: sp.Expr, power: int) -> sp.Expr:
    return sp.expand(expr).coeff(h_sde, power)


def local_error(gain: sp.Expr) -> tuple[int, sp.Expr]:
    """The global order :math:`p` and the leading local-error term :math:`e\\,h^{p+1}` of ``gain``."""
    difference = taylor(gain - exact_gain_held().doit(), _ORDER_SEARCH)
    for power in range(1, _ORDER_SEARCH + 1):
        leading = sp.factor(coefficient(difference, power))
        if leading != 0:
            return power - 1, leading * h_sde**power
    raise ValueError(f"no local error through h^{_ORDER_SEARCH}")


@derivation(
    id="solver_order.local_error",
    title="Local truncation errors of Euler, Heun and RK4 on the linear test equation",
    statement=r"One step of Euler, Heun and classical RK4 (the catalogue's rules) on $y' = r(t)\,y$ "
              r"multiplies $y$ by a polynomial in $h$ that agrees with $\exp\int_0^h r$ through $h^p$, "
              r"$p = 1, 2, 4$; the first disagreement, at $h^{p+1}$, is the local error.",
    tier=Tier.EXACT,
    assumptions=(r"$r$ smooth, expanded at the step's start through its fourth derivative",
                 "the probability-flow ODE on Gaussian data is this equation per eigenvalue"),
    references=(HAIRER + ", §II.1-II.3 and §IV.2", BUTCHER + ", §23"),
)
def _local_error() -> Body:
    r0, r1 = rate_derivs_ode[:2]
    exact = exact_gain_held()
    steps = [Relation(r"exact one-step gain $\exp\int_0^h r(t+\tau)\,d\tau$: the integral term by term",
                      exact.args[0], sp.expand(exact.args[0].doit()))]
    results, orders = [], {}
    for name in RULES:
        gain = rule_gain(name)
        order, leading = local_error(gain)
        orders[name] = order
        steps.append(Relation(
            f"{name}: its gain minus the exact gain, both expanded through $h^{{{order + 1}}}$: "
            f"every power below $h^{{{order + 1}}}$ cancels",
            sp.Add(taylor(gain, order + 1), -taylor(exact, order + 1), evaluate=False), leading))
        results += [Result(f"gain_{name}", gain, f"one {name} step's factor on y' = r(t) y"),
                    Result(f"local_error_{name}", leading, f"leading local error of {name}, order h^{order + 1}"),
                    Result(f"order_{name}", sp.Integer(order), f"global order of {name}")]
    stability = sp.expand(rule_gain("rk4").subs({r_k: 0 for r_k in rate_derivs_ode[1:]}))
    results.append(Result("stability_rk4", stability, "RK4's gain at constant rate r_0 (stability function)"))
    z = h_sde * r0
    claims = (
        Claim("local_error_euler", -h_sde**2 / 2 * (r1 + r0**2),
              HAIRER + r", §II.3: error $-\frac{h^2}{2} y''$, with $y'' = (r' + r^2)\,y$"),
        Claim("stability_rk4", 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24,
              HAIRER + r", §IV.2: $R(z) = 1 + z + z^2/2 + z^3/6 + z^4/24$, $z = h r_0$"),
        Claim("order_heun", sp.Integer(2), BUTCHER + ", §23: Heun's method has order 2"),
        Claim("order_rk4", sp.Integer(4), BUTCHER + ", §23: the classical method has order 4"),
    )
    wrong = (
        WrongVariant("local_error_euler", -h_sde**2 * r0**2 / 2, "rate taken constant (r' dropped)"),
        WrongVariant("local_error_rk4", -z**5 / 120, "the constant-rate error, without the rate's derivatives"),
        WrongVariant("local_error_heun", -z**3 / 6, "the constant-rate error, without the rate's derivatives"),
        WrongVariant("stability_rk4", 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 6, "last Taylor weight 1/3! for 1/4!"),
    )
    return Body(steps=tuple(steps), results=tuple(results), claims=claims, wrong_variants=wrong)


@derivation(
    id="solver_order.rk4_stage_times",
    title="RK4's middle stage times from its order conditions",
    statement=r"With RK4's weights $(1, 2, 2, 1)/6$, last stage at $t + h$ and both middle stages at "
              r"$t + c\,h$, the $h^2$ term of the local error on $y' = r(t)\,y$ is $\frac{2c - 1}{3} r_1 h^2$; "
              r"it vanishes only for $c = 1/2$, and then the error is $O(h^5)$.",
    tier=Tier.EXACT,
    assumptions=(r"$r$ smooth with $r_1 = r'(t) \neq 0$ (at constant rate every $c$ gives the same gain)",),
    references=(BUTCHER + ", §23 (order conditions)", "W. Kutta, Z. Math. Phys. 46 (1901) 435-453"),
)
def _rk4_stage_times() -> Body:
    c, r1 = stage_mid_ode, rate_derivs_ode[1]
    exact = exact_gain_held()
    gain = rule_gain("rk4", c)
    h2_term = coefficient(taylor(gain, 2) - taylor(exact.doit(), 2), 2)
    solved = sp.solve(h2_term, c)
    if len(solved) != 1:
        raise ValueError(f"RK4's order condition should fix one stage time, got {solved}")
    at_mid = gain.subs(c, solved[0])
    steps = (
        Relation(r"$h^2$ coefficient of the gain minus the exact gain, middle stages at $t + c\,h$",
                 sp.Add(coefficient(taylor(gain, 2), 2), -coefficient(taylor(exact.doit(), 2), 2),
                        evaluate=False),
                 (2 * c - 1) * r1 / 3),
        Relation(r"with $c = 1/2$ every power of $h$ through $h^4$ cancels (the error is $O(h^5)$)",
                 sp.Add(taylor(at_mid, 4), -taylor(exact.doit(), 4), evaluate=False), sp.Integer(0)),
    )
    results = (
        Result("h2_coefficient", sp.factor(h2_term), "h^2 coefficient of RK4's local error, stages at t + c h"),
        Result("stage_mid", solved[0], "the one stage time that makes the h^2 term vanish"),
    )
    claims = (Claim("stage_mid", sp.Rational(1, 2), BUTCHER + r", classical RK4 tableau: $c = (0, \frac12, \frac12, 1)$"),)
    # A constant has no counterexample point; the misplaced stage shows in the coefficient instead.
    wrong = (WrongVariant("h2_coefficient", (3 * c - 1) * r1 / 3, "c from the 3/8 rule's weights (zero at c = 1/3)"),
             WrongVariant("h2_coefficient", (4 * c - 1) * r1 / 6, "the half of the weights on the middle stages lost"))
    return Body(steps=steps, results=results, claims=claims, wrong_variants=wrong)
