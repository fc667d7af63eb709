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
"""

from __future__ import annotations

import enum
import hashlib
import random
from dataclasses import dataclass, field
from typing import Callable

import mpmath
import sympy as sp

from derivations.core import notation

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
    return False


def _seed_for(difference: sp.Expr) -> int:
    # Points depend on the expression only, so a proof is reproducible.
    return int(hashlib.sha256(sp.srepr(difference).encode()).hexdigest()[:16], 16)


def _as_number(value: sp.Expr) -> mpmath.mpc | None:
    """``value`` as an mpmath number at working precision; None if not finite."""
    if not value.is_number or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    real, imag = (sp.Float(part, NUMERIC_DIGITS) for part in value.as_real_imag())
    return mpmath.mpc(real, imag)


def numeric_agreement(
    lhs: sp.Expr, rhs: sp.Expr, points: int = NUMERIC_POINTS, sampler: PointSampler | None = None
) -> Proof:
    """Compare ``lhs`` and ``rhs`` at random admissible points (after expanding definitions)."""
    lhs_full, rhs_full = notation.expand_definitions(lhs), notation.expand_definitions(rhs)
    symbols = sorted((lhs_full - rhs_full).free_symbols | lhs_full.free_symbols | rhs_full.free_symbols,
                     key=lambda s: s.name)
    rng = random.Random(_seed_for(lhs_full - rhs_full))
    draw = sampler or (lambda r: notation.random_point(symbols, r))
    checked = 0
    with mpmath.workdps(NUMERIC_DIGITS + 10):
        for _ in range(points * 4):
            if checked == points:
                break
            point = draw(rng)
            # Coordinates placed in the tree as working-precision Floats: the same values as
            # evalf(subs=point), many times faster on long expressions.
            at = {s: sp.Float(v, NUMERIC_DIGITS + 10) for s, v in point.items()}
            lhs_value = _as_number(lhs_full.xreplace(at).evalf(NUMERIC_DIGITS))
            rhs_value = _as_number(rhs_full.xreplace(at).evalf(NUMERIC_DIGITS))
            if lhs_value is None or rhs_value is None:
                continue  # a point where either form is singular says nothing
            scale = max(mpmath.mpf(1), abs(lhs_value), abs(rhs_value))
            if abs(lhs_value - rhs_value) > NUMERIC_RELATIVE_TOLERANCE * scale:
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


def _plain(value: mpmath.mpc) -> complex | float:
    value = complex(value)
    return value.real if value.imag == 0 else value


def prove(lhs: sp.Expr, rhs: sp.Expr, sampler: PointSampler | None = None, attempt_exact: bool = True) -> Proof:
    """The strongest tier at which ``lhs == rhs`` holds, or a counterexample.

    The numeric comparison always runs, so a difference that SymPy
    "simplifies" to zero under a wrong assumption is still caught.
    ``attempt_exact=False`` stops at the numeric tier: for differences whose
    simplification is known not to finish in reasonable time.
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    numeric = numeric_agreement(lhs, rhs, sampler=sampler)
    if not numeric.holds or not attempt_exact:
        return numeric
    difference = notation.expand_definitions(lhs - rhs)
    if simplifies_to_zero(difference):
        return Proof(Tier.EXACT, numeric.points_checked)
    return numeric
