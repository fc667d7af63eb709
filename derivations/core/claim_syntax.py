r"""What a claim may say, checked on its text alone, and how its verdict reads: no SymPy here.

A claim ``'NAME = EXPR'`` (and each assumption ``'SYMBOL = EXPR'``) comes from a user. Before
anything is built from it, its text is parsed with :mod:`ast` and the tree is walked against the
whitelist: numbers (at most :data:`MAX_NUMBER_DIGITS` digits, finite), the names of the
derivation's :class:`Vocabulary`, :data:`CONSTANT_NAMES`, ``+ - * / **``, unary signs, and calls of
:data:`FUNCTION_NAMES` with one argument, nested at most :data:`MAX_NESTING` deep. LaTeX is first
translated to this syntax by :mod:`derivations.core.latex_input`. The checked tree is what
:mod:`derivations.core.claims` builds its SymPy expression from, node by node, adding the bounds
that need values (exponents, the size of numbers it computes, the expanded size of the formula).

Nothing here imports SymPy, so the whole syntax check runs on a verdict read from the cache
(:mod:`derivations.core.claim_cache`) as on one computed afresh, with the same messages: a
derivation's :class:`Vocabulary` is computed once from its notation context and stored.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field

from derivations.core.latex_input import Glyphs, LatexError, to_plain

# The longest closed form the suite prints has about 51,000 characters.
MAX_LENGTH = 120_000
# Digits of any number a formula contains or its arithmetic produces (the suite prints 60-digit constants).
MAX_NUMBER_DIGITS = 200
# Function calls nested in function calls (the suite's deepest is 2).
MAX_NESTING = 6
# The functions a formula may call, one argument each (SymPy's, in derivations.core.claims.FUNCTIONS).
FUNCTION_NAMES = ("sqrt", "exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan", "abs", "Abs", "gamma",
                  "erf", "erfc")
CONSTANT_NAMES = ("pi", "E")
OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


class ClaimError(ValueError):
    """A claim that cannot be checked: malformed, unknown name, disallowed construct. One line."""


@dataclass(frozen=True)
class Vocabulary:
    """What claims about one derivation may name, as text (built by :func:`derivations.core.claims.vocabulary`).

    ``names``: the notation context (every symbol a formula may use); ``nameable``: quantities a plain
    formula may name (those no symbol of the context spells); ``definitions``: the printed definition
    of each defined name of the context (an assumption may not assign one); ``help``: the list of what
    is allowed, appended to a usage error."""

    derivation_id: str
    quantities: tuple[str, ...]
    names: frozenset[str]
    nameable: tuple[str, ...]
    definitions: dict[str, str]
    glyphs: Glyphs
    help: str


@dataclass(frozen=True)
class Formula:
    """A formula whose syntax tree passed the whitelist: its source (as parsed) and the tree."""

    source: str
    tree: ast.Expression
    _lines: list[bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # ast's offsets count UTF-8 bytes
        object.__setattr__(self, "_lines", [line.encode() for line in self.source.splitlines()])

    def literal(self, node: ast.Constant) -> tuple[str, int]:
        """A number as typed (Python's float would keep 17 digits of a 60-digit constant) and its digits."""
        line = self._lines[node.lineno - 1]
        text = line[node.col_offset:node.end_col_offset].decode().replace("_", "")
        return text, len(re.sub(r"[^0-9]", "", text.split("e")[0].split("E")[0]))


class _Whitelist:
    """Walks a parsed formula; raises :class:`ClaimError` at the first construct not allowed."""

    def __init__(self, formula: Formula, names: frozenset[str]):
        self.formula, self.names = formula, names

    def walk(self, node: ast.AST, nesting: int = 0) -> None:
        if isinstance(node, ast.Expression):
            return self.walk(node.body, nesting)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.BitXor):
                raise ClaimError("'^' is not a power here; write ** for powers")
            if type(node.op) not in OPERATORS:
                raise ClaimError(f"operator {type(node.op).__name__} is not allowed")
            self.walk(node.left, nesting)
            return self.walk(node.right, nesting)
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise ClaimError(f"operator {type(node.op).__name__} is not allowed")
            return self.walk(node.operand, nesting)
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            if node.id not in self.names and node.id not in CONSTANT_NAMES:
                raise ClaimError(f"unknown name {node.id!r}")
            return None
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTION_NAMES):
                raise ClaimError("only calls of the listed functions are allowed")
            if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
                raise ClaimError(f"{node.func.id} takes exactly one argument")
            if nesting >= MAX_NESTING:
                raise ClaimError(f"functions nested more than {MAX_NESTING} deep")
            return self.walk(node.args[0], nesting + 1)
        raise ClaimError(f"{type(node).__name__} is not allowed in a formula")

    def number(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ClaimError(f"only real numbers are allowed, not {type(value).__name__}")
        text, digits = self.formula.literal(node)
        if digits > MAX_NUMBER_DIGITS:
            raise ClaimError(f"numbers have at most {MAX_NUMBER_DIGITS} digits")
        if isinstance(value, int):
            return
        if not math.isfinite(value):
            raise ClaimError("numbers must be finite")
        exponent = re.search(r"[eE]([-+]?[0-9]+)$", text)
        if exponent and abs(int(exponent.group(1))) > MAX_NUMBER_DIGITS:
            raise ClaimError(f"numbers have at most {MAX_NUMBER_DIGITS} digits")


def check_formula(text: str, names: frozenset[str], max_length: int = MAX_LENGTH) -> Formula:
    """``text`` parsed and walked against the whitelist with ``names`` (raises :class:`ClaimError`).

    ``max_length`` is larger for text the LaTeX reader wrote (its code names are longer than glyphs)."""
    if len(text) > max_length:
        raise ClaimError(f"formula longer than {max_length} characters")
    source = text.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise ClaimError(f"cannot parse the formula ({type(error).__name__})") from None
    formula = Formula(source, tree)
    try:
        _Whitelist(formula, names).walk(tree)
    except RecursionError:
        raise ClaimError("formula nested too deeply") from None
    return formula


def read_formula(text: str, vocabulary: Vocabulary, latex: bool, nameable: tuple[str, ...] = ()) -> Formula:
    """A formula in the vocabulary's names (and, in plain text, the quantities ``nameable``)."""
    if latex:
        if len(text) > MAX_LENGTH:
            raise ClaimError(f"formula longer than {MAX_LENGTH} characters")
        try:
            text = to_plain(text, vocabulary.glyphs)
        except LatexError as error:
            raise ClaimError(f"LaTeX: {error}") from None
        return check_formula(text, vocabulary.names, max_length=2 * MAX_LENGTH)
    return check_formula(text, vocabulary.names | frozenset(nameable))


def split(text: str, what: str) -> tuple[str, str]:
    """``'NAME = EXPR'`` -> (NAME, EXPR); ``what`` names the left side in the message."""
    name, sep, formula = text.partition("=")
    if not sep or formula.startswith("="):
        raise ClaimError(f"expected '{what} = EXPR'")
    return name.strip(), formula


def check_claim(vocabulary: Vocabulary, text: str, latex: bool = False) -> tuple[str, Formula]:
    """The quantity a claim is about and its checked formula."""
    name, formula = split(text, "NAME")
    if name not in vocabulary.quantities:
        raise ClaimError(f"{vocabulary.derivation_id} has no quantity {name!r}; "
                         f"quantities: {', '.join(vocabulary.quantities)}")
    nameable = tuple(q for q in vocabulary.nameable if q != name)
    try:
        return name, read_formula(formula, vocabulary, latex, nameable)
    except ClaimError as error:
        raise ClaimError(f"{error}; {vocabulary.help}") from None


def check_assumption(vocabulary: Vocabulary, text: str, latex: bool = False) -> tuple[str, Formula]:
    """The base symbol an assumption assigns and its checked formula."""
    name, formula = split(text, "SYMBOL")
    if name not in vocabulary.names:
        raise ClaimError(f"--assume: {name!r} is not a symbol of {vocabulary.derivation_id}; {vocabulary.help}")
    if name in vocabulary.definitions:
        raise ClaimError(f"--assume: {name} is defined as {vocabulary.definitions[name]}; "
                         f"assume a value for a free symbol it rests on")
    try:
        return name, read_formula(formula, vocabulary, latex)
    except ClaimError as error:
        raise ClaimError(f"--assume {name}: {error}; {vocabulary.help}") from None


# ----------------------------------------------------------------------------------------------
# A verdict as printed
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """The outcome of comparing a typed formula with a derived quantity, as numbers and text: what
    ``verify`` prints, and what the cache keeps (:class:`derivations.core.claims.Verdict` adds the
    SymPy expressions)."""

    derivation_id: str
    name: str
    equivalent: bool
    tier: str  # a derivations.core.proof.Tier's value: exact, numeric or failed
    counterexample: dict[str, float] = field(default_factory=dict)
    derived_value: complex | float | None = None
    claimed_value: complex | float | None = None
    assumptions: tuple[str, ...] = ()

    def point(self) -> str:
        return ", ".join(f"{k}={v:.6g}" for k, v in sorted(self.counterexample.items()))

    def report(self) -> str:
        """What ``diffverify verify`` prints."""
        under = f" under {'; '.join(self.assumptions)}" if self.assumptions else ""
        if self.equivalent:
            return f"EQUIVALENT (tier: {self.tier}){under}"
        lines = [f"NOT EQUIVALENT{under}", f"  at {self.point()}",
                 f"  derived {self.name} = {_show(self.derived_value)}",
                 f"  claimed {self.name} = {_show(self.claimed_value)}"]
        difference = self.difference()
        if difference is not None and _show(self.derived_value) == _show(self.claimed_value):
            lines.append(f"  derived - claimed = {difference:.6g}")  # the two values print alike
        return "\n".join(lines)

    def difference(self) -> complex | float | None:
        if self.derived_value is None or self.claimed_value is None:
            return None
        return self.derived_value - self.claimed_value


def _show(value: complex | float | None) -> str:
    return "undefined" if value is None else f"{value:.12g}"
