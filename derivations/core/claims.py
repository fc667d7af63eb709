r"""Check a formula typed in the suite's notation against a derived quantity.

``verify("ddpm.posterior", "var = (1 - alpha_bar_prev)/(1 - alpha_bar_t)*beta_t")``
parses the right-hand side, compares it with the result ``var`` of the
derivation by :func:`derivations.core.proof.prove` (exact, else numeric, else a
counterexample) and returns a :class:`Verdict`.

**What a claim may use.** Every symbol of the derivation's notation context
(:func:`context`): the symbols its results, steps, claims and wrong variants
use (definitions followed), the defined names that rest on those, and their
index variants (``alpha_bar_t`` / ``alpha_bar_prev``, ``mix_mean_1`` /
``mix_mean_2``). A claim that depends on a symbol the derived result does not
(an absolute time where only a lag appears, :math:`\theta` for
:math:`\sigma`) is therefore a wrong formula like any other, rejected with a
counterexample point. ``assume=("var_p = var_q",)`` states a specialisation:
each base symbol on the left is replaced by its formula on both sides.

**Hostile input.** The text comes from a user, so it is never evaluated as
Python: it is parsed with :mod:`ast`, the tree is walked against a whitelist
(numbers, the context's names, ``+ - * / **``, unary signs, calls of
:data:`FUNCTIONS` with one argument), and the SymPy expression is built from
the checked tree node by node, each node bounded (:data:`MAX_EXPONENT`,
:data:`MAX_NUMBER_DIGITS`) before the next is built. The whole formula is then
bounded in the size of its expansion over a common denominator
(:data:`MAX_TERMS`), which is what the exact proof tier may compute. LaTeX
(``latex=True``) is first translated to this plain syntax by
:mod:`derivations.core.latex_input` and then goes through the same whitelist. The whitelist itself
(:mod:`derivations.core.claim_syntax`) needs no SymPy: it runs on the text before anything is built,
with the names of the derivation's :func:`vocabulary`.
The limits are sized so that every closed form ``diffverify show`` prints is
accepted (a test pastes each one back).
"""

from __future__ import annotations

import ast
import math
import random
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

import sympy as sp

from derivations.core import notation
from derivations.core.claim_syntax import (MAX_LENGTH, MAX_NESTING, MAX_NUMBER_DIGITS, ClaimError, Formula, Outcome,
                                           Vocabulary, check_assumption, check_claim, check_formula)
from derivations.core.latex_input import Glyphs
from derivations.core.proof import Tier, prove
from derivations.core.registry import get

__all__ = ["CLAIM_EXACT_MAX_OPS", "CONSTANTS", "FUNCTIONS", "MAX_EXPONENT", "MAX_LENGTH", "MAX_NESTING",
           "MAX_NUMBER_DIGITS", "MAX_TERMS", "Assumption", "ClaimError", "Context", "Verdict", "allowed_names",
           "context", "describe_symbols", "expansion_size", "index_stem", "parse_assumption", "parse_claim",
           "parse_formula", "result_symbols", "specialise", "verdict_for", "verify", "vocabulary"]

# Numeric exponents (the suite's largest is 4); symbolic exponents such as (1 - kappa h)^((t-s)/h) are free.
MAX_EXPONENT = 16
# Terms of the formula expanded over a common denominator, an upper estimate (the suite's largest is about
# 22,000): bounds what the exact tier's expand/cancel may build.
MAX_TERMS = 100_000
# Operations of the difference claim - derived above which the exact tier is not attempted: SymPy's
# simplify can take minutes on a few hundred operations with exponentials (e.g. a mixture's score).
CLAIM_EXACT_MAX_OPS = 200

FUNCTIONS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "sqrt": sp.sqrt, "exp": sp.exp, "log": sp.log, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "tanh": sp.tanh,
    "sinh": sp.sinh, "cosh": sp.cosh, "atan": sp.atan, "abs": sp.Abs, "Abs": sp.Abs, "gamma": sp.gamma,
    "erf": sp.erf, "erfc": sp.erfc,
}
CONSTANTS = {"pi": sp.pi, "E": sp.E}
# Parts of a code name that index a quantity (time step, coordinate, component): names equal once those
# are removed are index variants of each other.
_INDEX_PARTS = {"t", "prev", "0", "1", "2", "k", "next", "mid", "tp", "u", "T", "i"}
_INDEXED_PART = re.compile(r"([A-Za-z]+)[0-9]+([A-Za-z]*)")


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing a typed formula with a derived quantity."""

    derivation_id: str
    name: str
    expr: sp.Expr
    derived: sp.Expr
    equivalent: bool
    tier: Tier
    counterexample: dict[str, float] = field(default_factory=dict)
    derived_value: complex | float | None = None
    claimed_value: complex | float | None = None
    assumptions: tuple[str, ...] = ()

    def outcome(self) -> Outcome:
        """The verdict as numbers and text (what ``verify`` prints and the cache keeps)."""
        return Outcome(self.derivation_id, self.name, self.equivalent, self.tier.value, dict(self.counterexample),
                       self.derived_value, self.claimed_value, self.assumptions)

    def point(self) -> str:
        return self.outcome().point()

    def report(self) -> str:
        """What ``diffverify verify`` prints."""
        return self.outcome().report()

    def difference(self) -> complex | float | None:
        return self.outcome().difference()


# ----------------------------------------------------------------------------------------------
# The notation context of a derivation
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    """The symbols a claim about one derivation may use, by code name, with where each comes from."""

    derivation_id: str
    origin: dict[str, str]  # code name -> "used", "defined" or "index variant"

    @property
    def names(self) -> list[str]:
        return sorted(self.origin)

    def symbols(self) -> dict[str, sp.Symbol]:
        return {n: notation.lookup(n).symbol for n in self.origin}

    def glyphs(self) -> Glyphs:
        """LaTeX -> code name for the LaTeX reader; a glyph shared by names of the same origin is ambiguous,
        otherwise the name the derivation uses wins over a defined name or an index variant."""
        rank = {"used": 0, "defined": 1, "index variant": 2}
        best: dict[str, tuple[int, list[str]]] = {}
        for name, origin in self.origin.items():
            latex = notation.lookup(name).latex
            level, names = best.get(latex, (99, []))
            if rank[origin] < level:
                best[latex] = (rank[origin], [name])
            elif rank[origin] == level:
                names.append(name)
        return Glyphs.from_latex({latex: names for latex, (_, names) in best.items()})


def index_stem(name: str) -> tuple[str, bool]:
    """A code name without its index parts, and whether it had any (``alpha_bar_prev`` -> ``alpha_bar``)."""
    parts, indexed = [], False
    for part in name.split("_"):
        if part in _INDEX_PARTS:
            indexed = True
            continue
        match = _INDEXED_PART.fullmatch(part)
        if match:
            indexed, part = True, match.group(1) + match.group(2)
        parts.append(part)
    return "_".join(parts), indexed


def context(derivation_id: str) -> Context:
    """Every symbol of the derivation's notation context (see the module docstring)."""
    body = get(derivation_id).body
    exprs = [r.expr for r in body.results] + [e for s in body.steps for e in (s.lhs, s.rhs)]
    exprs += [c.expr for c in body.claims] + [w.expr for w in body.wrong_variants]
    origin = {entry.name: "used" for entry in notation.entries_for(exprs)}
    entries = notation.names()
    bases = {n for n in origin if entries[n].is_base}
    for name, entry in entries.items():
        if name not in origin and entry.definition is not None:
            own = {s.name for s in notation.expand_definitions(entry.symbol).free_symbols}
            if own and own <= bases:
                origin[name] = "defined"
    stems: dict[str, list[str]] = {}
    indexed_stems = set()
    for name in entries:
        stem, indexed = index_stem(name)
        stems.setdefault(stem, []).append(name)
        if indexed:
            indexed_stems.add(stem)
    for name in list(origin):
        stem, _ = index_stem(name)
        if stem in indexed_stems:
            for variant in stems[stem]:
                origin.setdefault(variant, "index variant")
    return Context(derivation_id, origin)


def result_symbols(derivation_id: str) -> dict[str, list[str]]:
    """For each quantity, the base symbols its derived form depends on."""
    return {name: sorted(s.name for s in notation.expand_definitions(r.expr).free_symbols)
            for name, r in get(derivation_id).results.items()}


def allowed_names(derivation_id: str) -> dict[str, list[str]]:
    """For each quantity of the derivation, the names a claim about it may use: the whole context."""
    names = context(derivation_id).names
    return {name: names for name in get(derivation_id).results}


def _help(ctx: Context) -> str:
    quantities = [q for q in get(ctx.derivation_id).results if q not in ctx.origin]
    return (f"allowed in {ctx.derivation_id}: {', '.join(ctx.names) or '(numbers only)'}; "
            f"its other quantities by name: {', '.join(quantities)}; "
            f"functions: {', '.join(FUNCTIONS)}; constants: {', '.join(CONSTANTS)}; operators: + - * / **; "
            f"see diffverify verify --list-symbols {ctx.derivation_id}")


# ----------------------------------------------------------------------------------------------
# Whitelisted parsing
# ----------------------------------------------------------------------------------------------
class _Builder:
    """Builds the SymPy expression of a formula whose tree passed the whitelist
    (:func:`derivations.core.claim_syntax.check_formula`), node by node.

    Every node is bounded before the next is built from it, so no intermediate can be large:
    numeric exponents and the numbers the arithmetic produces are bounded.
    """

    def __init__(self, formula: Formula, symbols: dict[str, sp.Expr]):
        self.formula = formula
        self.symbols = symbols

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Expression):
            return self.build(node.body)
        if isinstance(node, ast.BinOp):
            left, right = self.build(node.left), self.build(node.right)
            if isinstance(node.op, ast.Pow):
                return self.checked(self.power(left, right))
            if isinstance(node.op, ast.Div):
                if right == 0:
                    raise ClaimError("the formula is undefined (division by zero)")
                return self.checked(left / right)
            return self.checked({ast.Add: sp.Add, ast.Sub: lambda a, b: a - b, ast.Mult: sp.Mul}[type(node.op)](left, right))
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.symbols[node.id] if node.id in self.symbols else CONSTANTS[node.id]
        if isinstance(node, ast.Call):
            return self.checked(FUNCTIONS[node.func.id](self.build(node.args[0])))
        raise TypeError(f"{type(node).__name__}: the whitelist lets no such node through")

    def number(self, node: ast.Constant) -> sp.Expr:
        if isinstance(node.value, int):
            return sp.Integer(node.value)
        text, digits = self.formula.literal(node)
        return sp.Float(text, max(15, digits))

    @staticmethod
    def power(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
        if exponent.is_Number:
            if abs(exponent) > MAX_EXPONENT:
                raise ClaimError(f"exponent {exponent} is too large (at most {MAX_EXPONENT} in size)")
            if base.is_Number and base != 0:
                size = abs(float(exponent)) * max(abs(math.log10(abs(float(sp.Abs(base).evalf(15))))), 1)
                if size > MAX_NUMBER_DIGITS:
                    raise ClaimError(f"numbers have at most {MAX_NUMBER_DIGITS} digits")
        return base**exponent

    @staticmethod
    def checked(expr: sp.Expr) -> sp.Expr:
        """Refuse a node whose numeric coefficient or constant exponent has grown past the limits."""
        for part in (expr, *_coefficients(expr)):
            if isinstance(part, sp.Rational) and max(abs(part.p), part.q).bit_length() > MAX_NUMBER_DIGITS * 3.33:
                raise ClaimError(f"numbers have at most {MAX_NUMBER_DIGITS} digits")
        if isinstance(expr, sp.Pow) and expr.exp.is_Number and abs(expr.exp) > MAX_EXPONENT:
            raise ClaimError(f"exponent {expr.exp} is too large (at most {MAX_EXPONENT} in size)")
        return expr


def _coefficients(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    if isinstance(expr, sp.Mul):
        return (expr.as_coeff_Mul()[0],)
    if isinstance(expr, sp.Add):
        return (expr.as_coeff_Add()[0],)
    if isinstance(expr, sp.Pow):
        return tuple(expr.exp.as_coeff_Add()[:1]) if expr.exp.is_Add else ()
    return ()


def _multichoose(n: int, k: int) -> int:
    return math.comb(n + k - 1, k)


def expansion_size(expr: sp.Expr) -> int:
    """An upper estimate of the number of terms of ``expr`` expanded over a common denominator.

    Sums add, products multiply, an integer power k of n terms has C(n+k-1, k); a sum of fractions
    takes the least common denominator of its terms' (distinct) denominators. Function arguments and
    non-integer powers are atoms of the outer expression and are estimated on their own.
    """

    def denominator(factors: dict[sp.Expr, tuple[int, int]]) -> int:
        return math.prod(_multichoose(terms, power) for terms, power in factors.values())

    def walk(e: sp.Expr) -> tuple[int, dict[sp.Expr, tuple[int, int]], int]:
        # (numerator terms, {denominator factor: (its terms, its power)}, largest inner estimate)
        if e.is_Atom:
            return 1, {}, 1
        if e.is_Add or e.is_Mul:
            parts = [walk(a) for a in e.args]
            inner = max(p[2] for p in parts)
            factors: dict[sp.Expr, tuple[int, int]] = {}
            for _, part_factors, _ in parts:
                for f, (terms, power) in part_factors.items():
                    old = factors.get(f, (terms, 0))[1]
                    factors[f] = (terms, old + power if e.is_Mul else max(old, power))
            if e.is_Mul:
                return math.prod(p[0] for p in parts), factors, inner
            total = denominator(factors)
            return sum(n * -(-total // denominator(f)) for n, f, _ in parts), factors, inner
        if e.is_Pow and e.exp.is_Integer:
            terms, factors, inner = walk(e.base)
            k = int(e.exp)
            if k > 0:
                return _multichoose(terms, k), {f: (t, k * p) for f, (t, p) in factors.items()}, inner
            return denominator({f: (t, -k * p) for f, (t, p) in factors.items()}), {e.base: (terms, -k)}, inner
        parts = [walk(a) for a in e.args]
        return 1, {}, max(max(n, denominator(f), inner) for n, f, inner in parts)

    numerator, factors, inner = walk(sp.sympify(expr))
    return max(numerator, denominator(factors), inner)


def parse_formula(text: str, symbols: dict[str, sp.Expr], max_length: int = MAX_LENGTH) -> sp.Expr:
    """Parse ``text`` into SymPy using only ``symbols``, :data:`FUNCTIONS` and :data:`CONSTANTS`.

    ``max_length`` is larger for text the LaTeX reader wrote (its code names are longer than glyphs)."""
    return build(check_formula(text, frozenset(symbols), max_length), symbols)


def build(formula: Formula, symbols: dict[str, sp.Expr]) -> sp.Expr:
    """The SymPy expression of a whitelisted formula, bounded node by node and in its expanded size."""
    try:
        expr = sp.sympify(_Builder(formula, symbols).build(formula.tree))
    except RecursionError:
        raise ClaimError("formula nested too deeply") from None
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ClaimError("the formula is undefined (division by zero)")
    size = expansion_size(expr)
    if size > MAX_TERMS:
        raise ClaimError(f"the formula expands to about {_about(size)} terms; at most {MAX_TERMS} are checked")
    return expr


def _about(count: int) -> str:
    """``count`` to three digits; a count beyond float's range (a product of many powers) as 10^n."""
    if count < 1e300:
        return f"{count:.3g}"
    return f"10^{int(count.bit_length() * math.log10(2))}"


def vocabulary(derivation_id: str, ctx: Context | None = None) -> Vocabulary:
    """What claims about the derivation may name, as text: the whitelist's input (no SymPy needed to use it).
    ``ctx``: the derivation's :func:`context`, when the caller has it."""
    ctx = ctx or context(derivation_id)
    quantities = tuple(get(derivation_id).results)
    definitions = {n: sp.sstr(notation.lookup(n).definition) for n in ctx.origin if not notation.lookup(n).is_base}
    return Vocabulary(derivation_id, quantities, frozenset(ctx.origin), tuple(q for q in quantities if q not in ctx.origin),
                      definitions, ctx.glyphs(), _help(ctx))


def _symbols(derivation_id: str, ctx: Context, nameable: Iterable[str] = ()) -> dict[str, sp.Expr]:
    """The SymPy value of each name a formula may use: the context's symbols over the quantities' forms."""
    results = get(derivation_id).results
    return {**{q: results[q].expr for q in nameable}, **ctx.symbols()}


def parse_claim(derivation_id: str, text: str, latex: bool = False) -> tuple[str, sp.Expr]:
    """Split ``'NAME = EXPR'`` and parse EXPR with the names of the derivation's context."""
    get(derivation_id)  # an unknown id before anything else
    ctx = context(derivation_id)
    words = vocabulary(derivation_id, ctx)
    name, formula = check_claim(words, text, latex)
    try:
        nameable = () if latex else (q for q in words.nameable if q != name)
        return name, build(formula, _symbols(derivation_id, ctx, nameable))
    except ClaimError as error:
        raise ClaimError(f"{error}; {words.help}") from None


@dataclass(frozen=True)
class Assumption:
    """A specialisation ``symbol = value``: a base symbol of the context replaced by a formula."""

    symbol: sp.Symbol
    value: sp.Expr
    text: str


_ASSUMPTION_POINTS = 8


def parse_assumption(derivation_id: str, text: str, latex: bool = False) -> Assumption:
    """``'var_p = var_q'``: the left side a base symbol of the context, the right a formula in it."""
    ctx = context(derivation_id)
    words = vocabulary(derivation_id, ctx)
    name, formula = check_assumption(words, text, latex)
    entry = notation.lookup(name)
    try:
        value = build(formula, _symbols(derivation_id, ctx))
    except ClaimError as error:
        raise ClaimError(f"--assume {name}: {error}; {words.help}") from None
    _check_domain(entry, value)
    return Assumption(entry.symbol, value, f"{name} = {sp.sstr(value)}")


def _check_domain(entry: notation.Name, value: sp.Expr) -> None:
    """The value must keep the symbol's sign assumptions at random admissible points."""
    full = notation.expand_definitions(value)
    symbols = sorted(full.free_symbols, key=lambda s: s.name)
    rng = random.Random(entry.name)
    for _ in range(_ASSUMPTION_POINTS):
        at = notation.random_point(symbols, rng)
        number = full.xreplace({s: sp.Float(v, 30) for s, v in at.items()}).evalf(30)
        if not number.is_number or number.has(sp.zoo, sp.nan) or abs(sp.im(number)) > 1e-20:
            raise ClaimError(f"--assume: {entry.name} = {sp.sstr(value)} is not a real number at every admissible point")
        real = sp.re(number)
        if (entry.symbol.is_positive and real <= 0) or (entry.symbol.is_nonnegative and real < 0):
            sign = "positive" if entry.symbol.is_positive else "nonnegative"
            raise ClaimError(f"--assume: {entry.name} is {sign}, but {sp.sstr(value)} is not at some admissible point")


def specialise(expr: sp.Expr, assumptions: Iterable[Assumption]) -> sp.Expr:
    """``expr`` with every assumption substituted (definitions expanded first, so a defined name that
    rests on an assumed symbol is specialised too)."""
    assumptions = tuple(assumptions)
    if not assumptions:
        return expr
    subs = {a.symbol: notation.expand_definitions(a.value) for a in assumptions}
    return notation.expand_definitions(expr).subs(subs, simultaneous=True)


def verify(derivation_id: str, text: str, assume: Iterable[str] = (), latex: bool = False) -> Verdict:
    """Compare the claim ``'NAME = EXPR'`` with the derived quantity NAME of ``derivation_id``."""
    name, expr = parse_claim(derivation_id, text, latex)
    assumptions = tuple(parse_assumption(derivation_id, a, latex) for a in assume)
    return verdict_for(derivation_id, name, expr, assumptions)


def verdict_for(derivation_id: str, name: str, expr: sp.Expr, assumptions: tuple[Assumption, ...] = ()) -> Verdict:
    """Prove a parsed claim against the derived quantity (under the assumptions)."""
    derived = specialise(get(derivation_id).result(name), assumptions)
    claimed = specialise(expr, assumptions)
    # SymPy's simplifiers are attempted on a short difference only: a claim's difference is not known in
    # advance to simplify quickly (a derivation marks its slow relations), so a longer one settles at the
    # numeric tier, which decides equivalence all the same.
    small = sp.count_ops(notation.expand_definitions(derived - claimed)) <= CLAIM_EXACT_MAX_OPS
    try:
        proof = prove(derived, claimed, attempt_exact=small)
    except ValueError:
        raise ClaimError(f"the formula for {name} has no finite value at any admissible point") from None
    return Verdict(derivation_id, name, expr, derived, proof.holds, proof.tier, dict(proof.counterexample),
                   proof.lhs_value, proof.rhs_value, tuple(a.text for a in assumptions))


def describe_symbols(derivation_id: str) -> str:
    """What ``diffverify verify --list-symbols ID`` prints: the quantities, the base symbols each depends
    on, and every symbol of the context with its LaTeX, meaning, definition or domain, and origin."""
    ctx = context(derivation_id)
    lines = [f"{derivation_id}: quantities (and the base symbols each depends on)"]
    lines += [f"  {name}: {', '.join(symbols) or '(a number)'}" for name, symbols in result_symbols(derivation_id).items()]
    lines += ["", "symbols a claim may use (code name, LaTeX, meaning, definition or domain, origin):"]
    for name in ctx.names:
        entry = notation.lookup(name)
        detail = (f":= {sp.sstr(entry.definition)}" if entry.definition is not None
                  else f"free in ({entry.domain.low:g}, {entry.domain.high:g})")
        lines.append(f"  {name}  {entry.latex}  {entry.meaning}  [{detail}; {ctx.origin[name]}]")
    lines += ["", f"functions: {', '.join(FUNCTIONS)}; constants: {', '.join(CONSTANTS)}; operators: + - * / **"]
    return "\n".join(lines)
