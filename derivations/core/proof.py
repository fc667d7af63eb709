r"""Proof tiers: how strongly an equality :math:`\mathrm{lhs} = \mathrm{rhs}` holds.

* ``exact``: after expanding notation definitions, SymPy simplifies
  :math:`\mathrm{lhs} - \mathrm{rhs}` to the literal ``0`` (attempted on
  differences of at most :data:`EXACT_MAX_OPS` operations).
* ``numeric``: SymPy could not, but the two sides agree to
  :data:`NUMERIC_DIGITS` significant digits (mpmath) at :data:`NUMERIC_POINTS`
  random admissible points (domains from :mod:`derivations.core.notation`).
* ``failed``: some admissible point separates the sides; the proof keeps that
  point and both values as the counterexample.

A numeric pass is evidence, not a proof: the report says which tier holds.

Both sides are first *evaluated*: notation definitions expanded, unevaluated
operations (``Derivative``, ``Integral``, ``Subs``, ``Limit``, expectations, named
intermediates) carried out by ``doit``. What remains of an undefined function
(:math:`p(t, x)`, :math:`\partial_x p(t, x)`, ...) is its *jet* at the point: each such
value becomes a free variable, sampled like a symbol, so a relation on undefined
functions holds for every function exactly when it holds for every jet.

Inequalities ``lhs <= rhs`` (:func:`prove_inequality`) have the same tiers:
``exact`` when SymPy finds :math:`\mathrm{rhs} - \mathrm{lhs}` nonnegative from the
symbols' signs (a variable of the unit interval written :math:`z/(1+z)`,
:math:`z > 0`), ``numeric`` when it is nonnegative at every sampled admissible point.
"""

from __future__ import annotations

import enum
import hashlib
import random
import sys
from dataclasses import dataclass, field
from typing import Callable

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from derivations.core import notation
from derivations.core.notation import POSITIVE, POSITIVE_UNIT, REAL

NUMERIC_POINTS = 24
NUMERIC_DIGITS = 50
# Agreement required at the numeric tier: far below any rounding of a
# wrong formula, far above the working precision's round-off.
NUMERIC_RELATIVE_TOLERANCE = mpmath.mpf(10) ** (-(NUMERIC_DIGITS - 15))


class Tier(str, enum.Enum):
    EXACT = "exact"
    NUMERIC = "numeric"
    FAILED = "failed"

    @property
    def rank(self) -> int:
        return {"exact": 2, "numeric": 1, "failed": 0}[self.value]

    @staticmethod
    def weakest(tiers: list["Tier"]) -> "Tier":
        return min(tiers, key=lambda t: t.rank, default=Tier.EXACT)


@dataclass(frozen=True)
class Proof:
    tier: Tier
    points_checked: int = 0
    counterexample: dict[str, float] = field(default_factory=dict)
    lhs_value: complex | float | None = None
    rhs_value: complex | float | None = None

    @property
    def holds(self) -> bool:
        return self.tier is not Tier.FAILED


PointSampler = Callable[[random.Random], dict[sp.Symbol, mpmath.mpf]]

def _unit_interval(expr: sp.Expr) -> sp.Expr:
    r"""``expr`` with every variable of the unit interval (notation domain (0, 1)) written :math:`z/(1+z)`,
    :math:`z > 0`: SymPy then knows that :math:`1 - \bar\alpha` is positive, so logarithms of products split."""
    unit = {s: sp.Symbol(f"{s.name}:z", positive=True) for s in expr.free_symbols
            if s.name in notation.names() and notation.lookup(s.name).domain == POSITIVE_UNIT}
    return expr.xreplace({s: z / (1 + z) for s, z in unit.items()})


def _zero_with_logs_split(difference: sp.Expr) -> bool:
    """The terms with logarithms cancel once logs of products and quotients are split where SymPy knows
    the factors' signs (no forcing), and the other terms simplify to 0."""
    terms = sp.Add.make_args(sp.expand(difference))
    logs = sp.Add(*[t for t in terms if t.has(sp.log)])
    rest = sp.Add(*[t for t in terms if not t.has(sp.log)])
    factored = _unit_interval(logs).replace(lambda e: isinstance(e, sp.log),
                                            lambda e: sp.log(sp.factor(sp.cancel(e.args[0]))))
    if sp.expand(sp.expand_log(factored, deep=True)) != 0:
        return False
    return any(simplify(rest) == 0 for simplify in _SIMPLIFIERS)


_SIMPLIFIERS: tuple[Callable[[sp.Expr], sp.Expr], ...] = (
    lambda e: e,
    sp.expand,
    lambda e: sp.cancel(sp.together(e)),
    lambda e: sp.simplify(sp.radsimp(e)),
)


# SymPy's simplifiers grow much faster than the expression: a difference of more
# operations than this is not attempted, and its relation settles at the numeric tier.
EXACT_MAX_OPS = 1500


def simplifies_to_zero(difference: sp.Expr) -> bool:
    """True when a chain of SymPy simplifications, cheapest first, yields 0."""
    if difference == 0:
        return True
    if sp.count_ops(difference) > EXACT_MAX_OPS:
        return False
    for simplify in _SIMPLIFIERS:
        if simplify(difference) == 0:
            return True
    return difference.has(sp.log) and _zero_with_logs_split(difference)


def _seed_for(difference: sp.Expr) -> int:
    # Points depend on the expression only, so a proof is reproducible.
    return int(hashlib.sha256(sp.srepr(difference).encode()).hexdigest()[:16], 16)


def _as_number(value: sp.Expr) -> mpmath.mpc | None:
    """``value`` as an mpmath number at working precision; None if not finite."""
    if not value.is_number or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    real, imag = (sp.Float(part, NUMERIC_DIGITS) for part in value.as_real_imag())
    return mpmath.mpc(real, imag)


def _in_defined_names(node: sp.Basic) -> bool:
    """A derivative or substitution whose variable is a defined name (such as ``beta_t``)."""
    if isinstance(node, sp.Derivative):
        variables = node.variables
    elif isinstance(node, sp.Subs):
        variables = node.variables
    else:
        return False
    return any(v.is_Symbol and v.name in notation.names() and not notation.lookup(v.name).is_base for v in variables)


def evaluate(expr: sp.Expr) -> sp.Expr:
    """``expr`` in base symbols with every held operation carried out (definitions, ``doit``).

    A derivative in (or substitution of) a defined name treats that name as the variable, the other
    symbols held fixed: it is carried out before the definitions are expanded."""
    expr = sp.sympify(expr)
    if expr.has(sp.Derivative, sp.Subs):
        expr = expr.replace(_in_defined_names, lambda e: e.doit())
    expr = notation.expand_definitions(expr)
    if not expr.is_Atom:
        expr = notation.expand_definitions(expr.doit())
    return expr


def _jets(*exprs: sp.Expr) -> dict[sp.Expr, sp.Symbol]:
    """Each value of an undefined function in ``exprs`` (itself, a derivative, an integral of it) as a
    free variable; positive where the value is (a positive function, or the integral of one). A random
    variable left after every expectation is evaluated is a value too: the relation then holds pathwise."""
    # A random symbol exists only once sympy.stats is imported: not imported here to look for one (0.02 s).
    stats = sys.modules.get("sympy.stats.rv")
    random_symbol = stats.RandomSymbol if stats is not None else ()
    values: set[sp.Expr] = set()
    for expr in exprs:
        nodes = sp.preorder_traversal(expr)
        for node in nodes:
            if (isinstance(node, (AppliedUndef, sp.Derivative, sp.Subs, sp.Integral)) and node.has(AppliedUndef)
                    or isinstance(node, random_symbol)):
                values.add(node)
                nodes.skip()

    def positive(value: sp.Expr) -> bool:
        return bool(value.is_positive) or (isinstance(value, sp.Integral) and bool(value.function.is_positive))

    return {value: sp.Symbol(f"jet:{sp.sstr(value)}", **({"positive": True} if positive(value) else {"real": True}))
            for value in values}


Preparation = Callable[[sp.Expr], sp.Expr]


def _prepared(lhs: sp.Expr, rhs: sp.Expr, prepare: Preparation | None = None
              ) -> tuple[sp.Expr, sp.Expr, dict[sp.Symbol, notation.Domain]]:
    """Both sides evaluated (then ``prepare``d), jets named; the domains of the jets' variables."""
    lhs, rhs = evaluate(lhs), evaluate(rhs)
    if prepare is not None:
        lhs, rhs = prepare(lhs), prepare(rhs)
    jets = _jets(lhs, rhs)
    if not jets:
        return lhs, rhs, {}
    domains = {symbol: POSITIVE if symbol.is_positive else REAL for symbol in jets.values()}
    return lhs.xreplace(jets), rhs.xreplace(jets), domains


def _draw(symbols: list[sp.Symbol], jet_domains: dict[sp.Symbol, notation.Domain], rng: random.Random
          ) -> dict[sp.Symbol, mpmath.mpf]:
    point = notation.random_point([s for s in symbols if s not in jet_domains], rng)
    point.update({s: jet_domains[s].sample(rng) for s in symbols if s in jet_domains})
    return point


def _mpmath_function(expr: sp.Expr, symbols: list[sp.Symbol]) -> Callable[..., mpmath.mpc] | None:
    """``expr`` as an mpmath function of ``symbols`` (lambdified), or None where it cannot be written so."""
    try:
        return sp.lambdify(symbols, expr, modules="mpmath")
    except Exception:  # a node mpmath has no name for: every point goes through evalf
        return None


def _fast_values(functions: tuple, point: dict[sp.Symbol, mpmath.mpf], symbols: list[sp.Symbol]
                 ) -> tuple[mpmath.mpc, mpmath.mpc] | None:
    """Both sides at ``point`` by their mpmath functions, or None where either is missing, raises or is not finite."""
    if None in functions:
        return None
    arguments = [point[s] for s in symbols]
    try:
        values = tuple(mpmath.mpc(f(*arguments)) for f in functions)
    except Exception:  # a pole, a domain error, a name mpmath lacks: evalf decides
        return None
    return values if all(mpmath.isfinite(v) for v in values) else None


def _compare(lhs: sp.Expr, rhs: sp.Expr, points: int, sampler: PointSampler | None,
             jet_domains: dict[sp.Symbol, notation.Domain], holds: Callable[[mpmath.mpc, mpmath.mpc], bool]
             ) -> Proof:
    """Evaluate both (prepared) sides at random admissible points; FAILED at the first point where
    ``holds(lhs_value, rhs_value)`` is false.

    Each point is first evaluated by the sides' lambdified mpmath functions at the working precision (fast);
    where they satisfy ``holds`` the point is counted, and otherwise (or where they raise or are not
    finite) it is evaluated again by SymPy's ``evalf``, which tracks its own accuracy and decides. So a
    counterexample and its values always come from ``evalf``; the fast path only confirms agreement,
    which a wrong formula, off by far more than the tolerance, cannot reach by round-off."""
    symbols = sorted(lhs.free_symbols | rhs.free_symbols, key=lambda s: s.name)
    rng = random.Random(_seed_for(lhs - rhs))
    draw = sampler or (lambda r: _draw(symbols, jet_domains, r))
    functions = (_mpmath_function(lhs, symbols), _mpmath_function(rhs, symbols))
    checked = 0
    with mpmath.workdps(NUMERIC_DIGITS + 10):
        for _ in range(points * 4):
            if checked == points:
                break
            point = draw(rng)
            fast = _fast_values(functions, point, symbols) if set(point) >= set(symbols) else None
            if fast is not None and holds(*fast):
                checked += 1
                continue
            # Coordinates placed in the tree as working-precision Floats: the same values as
            # evalf(subs=point), many times faster on long expressions.
            at = {s: sp.Float(v, NUMERIC_DIGITS + 10) for s, v in point.items()}
            lhs_value = _as_number(lhs.xreplace(at).evalf(NUMERIC_DIGITS))
            rhs_value = _as_number(rhs.xreplace(at).evalf(NUMERIC_DIGITS))
            if lhs_value is None or rhs_value is None:
                continue  # a point where either form is singular says nothing
            if not holds(lhs_value, rhs_value):
                return Proof(
                    Tier.FAILED,
                    checked + 1,
                    {s.name: float(v) for s, v in point.items()},
                    _plain(lhs_value),
                    _plain(rhs_value),
                )
            checked += 1
    if checked == 0:
        raise ValueError("no admissible point gave finite values on both sides")
    return Proof(Tier.NUMERIC, checked)


def _agree(lhs_value: mpmath.mpc, rhs_value: mpmath.mpc) -> bool:
    scale = max(mpmath.mpf(1), abs(lhs_value), abs(rhs_value))
    return abs(lhs_value - rhs_value) <= NUMERIC_RELATIVE_TOLERANCE * scale


def _at_most(lhs_value: mpmath.mpc, rhs_value: mpmath.mpc) -> bool:
    scale = max(mpmath.mpf(1), abs(lhs_value), abs(rhs_value))
    tolerance = NUMERIC_RELATIVE_TOLERANCE * scale
    return (abs(lhs_value.imag) <= tolerance and abs(rhs_value.imag) <= tolerance
            and lhs_value.real <= rhs_value.real + tolerance)


def numeric_agreement(
    lhs: sp.Expr, rhs: sp.Expr, points: int = NUMERIC_POINTS, sampler: PointSampler | None = None
) -> Proof:
    """Compare ``lhs`` and ``rhs`` at random admissible points (after evaluating both)."""
    lhs_full, rhs_full, jet_domains = _prepared(lhs, rhs)
    return _compare(lhs_full, rhs_full, points, sampler, jet_domains, _agree)


def _plain(value: mpmath.mpc) -> complex | float:
    value = complex(value)
    return value.real if value.imag == 0 else value


def prove(lhs: sp.Expr, rhs: sp.Expr, sampler: PointSampler | None = None, attempt_exact: bool = True,
          prepare: Preparation | None = None) -> Proof:
    """The strongest tier at which ``lhs == rhs`` holds, or a counterexample.

    The numeric comparison always runs, so a difference that SymPy
    "simplifies" to zero under a wrong assumption is still caught.
    ``attempt_exact=False`` stops at the numeric tier: for differences whose
    simplification is known not to finish in reasonable time. ``prepare`` is
    applied to both evaluated sides first (an equivalence-preserving rewrite
    that the relation states, such as replacing derivatives by their ODEs).
    """
    lhs_full, rhs_full, jet_domains = _prepared(lhs, rhs, prepare)
    numeric = _compare(lhs_full, rhs_full, NUMERIC_POINTS, sampler, jet_domains, _agree)
    if not numeric.holds or not attempt_exact:
        return numeric
    if simplifies_to_zero(lhs_full - rhs_full):
        return Proof(Tier.EXACT, numeric.points_checked)
    return numeric


def provably_nonnegative(expr: sp.Expr) -> bool:
    """True when SymPy's sign rules show ``expr >= 0``: as it stands, as one factored fraction, and with
    every variable of the unit interval written :math:`z/(1+z)`, :math:`z > 0`."""
    for candidate in (expr, sp.factor(sp.together(expr)), sp.factor(sp.together(_unit_interval(expr)))):
        if candidate.is_nonnegative:
            return True
    return False


def prove_inequality(lhs: sp.Expr, rhs: sp.Expr, sampler: PointSampler | None = None,
                     attempt_exact: bool = True, prepare: Preparation | None = None) -> Proof:
    """The strongest tier at which ``lhs <= rhs`` holds on the admissible domain, or a counterexample."""
    lhs_full, rhs_full, jet_domains = _prepared(lhs, rhs, prepare)
    numeric = _compare(lhs_full, rhs_full, NUMERIC_POINTS * 4, sampler, jet_domains, _at_most)
    if not numeric.holds or not attempt_exact:
        return numeric
    difference = rhs_full - lhs_full
    if sp.count_ops(difference) <= EXACT_MAX_OPS and provably_nonnegative(difference):
        return Proof(Tier.EXACT, numeric.points_checked)
    return numeric
