r"""Check a formula typed in the suite's notation against a derived quantity.

``verify("ddpm.posterior", "var = (1 - alpha_bar_prev)/(1 - alpha_bar_t)*beta_t")``
parses the right-hand side, compares it with the result ``var`` of the
derivation by :func:`derivations.core.proof.prove` (exact, else numeric, else a
counterexample) and returns a :class:`Verdict`.

The text comes from a user, so it is never evaluated as Python: it is parsed
with :mod:`ast`, and the tree is walked against a whitelist (numbers, the
notation names the quantity may use, ``+ - * / **``, unary signs, calls of a
few functions with one argument) before SymPy sees it; SymPy then parses it
with a namespace holding only those names. Exponents must be numeric
constants and the polynomial degree is bounded, so no claim can make the
proof's expansion explode.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp
from sympy.parsing.sympy_parser import auto_number, parse_expr

from derivations.core import notation
from derivations.core.proof import Tier, prove
from derivations.core.registry import get

MAX_LENGTH = 500
MAX_EXPONENT = 16
MAX_DEGREE = 16
MAX_LITERAL_DIGITS = 20

FUNCTIONS = {"sqrt": sp.sqrt, "exp": sp.exp, "log": sp.log, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh,
             "abs": sp.Abs}
CONSTANTS = {"pi": sp.pi, "E": sp.E}
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
# What SymPy's parser needs to turn the (already validated) numbers into SymPy numbers; nothing else.
_PARSER_GLOBALS = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational}


class ClaimError(ValueError):
    """A claim that cannot be checked: malformed, unknown name, disallowed construct. One line."""


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

    def report(self) -> str:
        """What ``diffverify verify`` prints."""
        if self.equivalent:
            return f"EQUIVALENT (tier: {self.tier.value})"
        point = ", ".join(f"{k}={v:.6g}" for k, v in sorted(self.counterexample.items()))
        return "\n".join([
            "NOT EQUIVALENT",
            f"  at {point}",
            f"  derived {self.name} = {_show(self.derived_value)}",
            f"  claimed {self.name} = {_show(self.claimed_value)}",
        ])


def _show(value: complex | float | None) -> str:
    return "undefined" if value is None else f"{value:.12g}"


def _base_symbols(expr: sp.Expr) -> set[sp.Symbol]:
    return notation.expand_definitions(expr).free_symbols


def allowed_names(derivation_id: str) -> dict[str, list[str]]:
    """For each quantity of the derivation, the notation names a claim about it may use:
    every name whose definition rests only on the quantity's own base symbols."""
    derivation = get(derivation_id)
    entries = notation.names()
    bases = {name: _base_symbols(entry.symbol) for name, entry in entries.items()}
    out = {}
    for name, result in derivation.results.items():
        own = _base_symbols(result.expr)
        out[name] = sorted(n for n, b in bases.items() if b and b <= own)
    return out


def _help(derivation_id: str, name: str, symbols: list[str]) -> str:
    return (f"allowed in {derivation_id} {name}: {', '.join(symbols) or '(numbers only)'}; "
            f"functions: {', '.join(FUNCTIONS)}; constants: {', '.join(CONSTANTS)}; operators: + - * / **")


class _Whitelist:
    """Walks a parsed formula; raises ClaimError at the first disallowed construct.

    ``degree`` returns an upper bound of the polynomial degree, which bounds the
    size of the expansion the proof may perform.
    """

    def __init__(self, symbols: set[str]):
        self.symbols = symbols

    def degree(self, node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return self.degree(node.body)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.BitXor):
                raise ClaimError("'^' is not a power here; write ** for powers")
            if type(node.op) not in _OPERATORS:
                raise ClaimError(f"operator {type(node.op).__name__} is not allowed")
            if isinstance(node.op, ast.Pow):
                exponent = self.constant(node.right)
                if abs(exponent) > MAX_EXPONENT:
                    raise ClaimError(f"exponent {exponent} is too large (at most {MAX_EXPONENT} in size)")
                return self.degree(node.left) * max(1, math.ceil(abs(exponent)))
            left, right = self.degree(node.left), self.degree(node.right)
            return max(left, right) if isinstance(node.op, (ast.Add, ast.Sub)) else left + right
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise ClaimError(f"operator {type(node.op).__name__} is not allowed")
            return self.degree(node.operand)
        if isinstance(node, ast.Constant):
            self.number(node)
            return 0
        if isinstance(node, ast.Name):
            if node.id in self.symbols:
                return 1
            if node.id in CONSTANTS:
                return 0
            raise ClaimError(f"unknown name {node.id!r}")
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
                raise ClaimError("only calls of the listed functions are allowed")
            if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
                raise ClaimError(f"{node.func.id} takes exactly one argument")
            return max(1, self.degree(node.args[0]))
        raise ClaimError(f"{type(node).__name__} is not allowed in a formula")

    def number(self, node: ast.Constant) -> Fraction:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ClaimError(f"only real numbers are allowed, not {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ClaimError("numbers must be finite")
        if isinstance(value, int) and len(str(abs(value))) > MAX_LITERAL_DIGITS:
            raise ClaimError(f"integer literals have at most {MAX_LITERAL_DIGITS} digits")
        return Fraction(value)

    def constant(self, node: ast.AST) -> Fraction:
        """The value of a numeric exponent (numbers and + - * / only)."""
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.constant(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            left, right = self.constant(node.left), self.constant(node.right)
            if isinstance(node.op, ast.Div):
                if right == 0:
                    raise ClaimError("division by zero in an exponent")
                return left / right
            return {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}[type(node.op)]
        raise ClaimError("exponents must be numeric constants such as 2 or 1/2")


def parse_formula(text: str, symbols: dict[str, sp.Symbol]) -> sp.Expr:
    """Parse ``text`` into SymPy using only ``symbols``, :data:`FUNCTIONS` and :data:`CONSTANTS`."""
    if len(text) > MAX_LENGTH:
        raise ClaimError(f"formula longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise ClaimError(f"cannot parse the formula ({type(error).__name__})") from None
    try:
        degree = _Whitelist(set(symbols)).degree(tree)
    except RecursionError:
        raise ClaimError("formula nested too deeply") from None
    if degree > MAX_DEGREE:
        raise ClaimError(f"formula of degree up to {degree}; at most {MAX_DEGREE} is checked")
    namespace = {**symbols, **FUNCTIONS, **CONSTANTS}
    try:
        expr = parse_expr(ast.unparse(tree), local_dict=namespace, global_dict={"__builtins__": {}, **_PARSER_GLOBALS},
                          transformations=(auto_number,))
    except Exception as error:  # the whitelist admits only arithmetic; any failure is a malformed formula
        raise ClaimError(f"cannot read the formula ({type(error).__name__})") from None
    expr = sp.sympify(expr)
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ClaimError("the formula is undefined (division by zero)")
    return expr


def parse_claim(derivation_id: str, text: str) -> tuple[str, sp.Expr]:
    """Split ``'NAME = EXPR'`` and parse EXPR with the names quantity NAME may use."""
    allowed = allowed_names(derivation_id)
    quantities = ", ".join(allowed)
    name, sep, formula = text.partition("=")
    name = name.strip()
    if not sep or formula.startswith("="):
        raise ClaimError(f"expected 'NAME = EXPR' with NAME one of: {quantities}")
    if name not in allowed:
        raise ClaimError(f"{derivation_id} has no quantity {name!r}; quantities: {quantities}")
    symbols = {n: notation.lookup(n).symbol for n in allowed[name]}
    try:
        return name, parse_formula(formula, symbols)
    except ClaimError as error:
        raise ClaimError(f"{error}; {_help(derivation_id, name, allowed[name])}") from None


def verify(derivation_id: str, text: str) -> Verdict:
    """Compare the claim ``'NAME = EXPR'`` with the derived quantity NAME of ``derivation_id``."""
    name, expr = parse_claim(derivation_id, text)
    derived = get(derivation_id).result(name)
    try:
        proof = prove(derived, expr)
    except ValueError:
        raise ClaimError(f"the formula for {name} has no finite value at any admissible point") from None
    return Verdict(derivation_id, name, expr, derived, proof.holds, proof.tier, dict(proof.counterexample),
                   proof.lhs_value, proof.rhs_value)
