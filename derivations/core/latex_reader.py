r"""Read LaTeX back: a user's formula into the plain notation, a displayed formula into SymPy.

Two readers share the notation's glyphs and one table of functions (:data:`FUNCTIONS`,
:data:`NAMED_FUNCTIONS`):

**User input** (``verify --latex``): :func:`to_plain`, in :mod:`derivations.core.latex_input`
(SymPy-free, so that the whitelist of a claim runs before SymPy is imported), re-exported here.

**Displayed formulas** (the pages' round trip, :mod:`checks.app.readback`): :func:`read` parses
the LaTeX the suite's printer emits, trusted input, straight into SymPy, with the conventions a
reader uses (juxtaposition binds tighter than ``+`` and ``-``, a power binds to the preceding
atom, a derivative or integral sign reaches over the product after it), and the operators the
pages show (derivatives, integrals, sums, substitutions, ``lhs = rhs``). A glyph maps to any
expression; a *prefix* glyph (``\nabla\log p_t``) followed by a power or by another factor is
ambiguous and fails. SymPy's own LaTeX parser (the ``lark`` back end of SymPy 1.14) is not
used: it rejects products of powers such as ``a^{2} b^{2}``, which every page prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import sympy as sp
from sympy.core.parameters import distribute

from derivations.core.latex_input import FUNCTIONS, NAMED_FUNCTIONS, Glyphs, LatexError, to_plain, tokens

__all__ = ["FUNCTIONS", "NAMED_FUNCTIONS", "Glyphs", "LatexError", "Unreadable", "read", "to_plain", "tokens"]


# --------------------------------------------------------------------------
# Displayed formulas, into SymPy
# --------------------------------------------------------------------------

class Unreadable(ValueError):
    """A displayed formula that the reader cannot parse, or that reads ambiguously."""


def _sympy_functions() -> dict[str, Callable]:
    """LaTeX of a function, as the printer writes it -> the SymPy function (:data:`FUNCTIONS`,
    :data:`NAMED_FUNCTIONS` as ``\\operatorname{...}``, and the dilogarithm)."""
    out: dict[str, Callable] = {latex: getattr(sp, name) for latex, name in FUNCTIONS.items()}
    out |= {rf"\operatorname{{{word}}}": getattr(sp, name) for word, name in NAMED_FUNCTIONS.items()}
    out[r"\operatorname{Li}_{2}"] = lambda x: sp.polylog(2, x)
    return out


_SYMPY_FUNCTIONS = _sympy_functions()


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SPACES = re.compile(r"(?:\s+|\\[;!:]|\\quad|\\qquad|\\ )+")
_THIN = re.compile(r"\\,")
_DIFFERENTIAL = re.compile(r"\s*d")
_THIN_DIFFERENTIAL = re.compile(r"\\,\s*d")
_TERM_END = re.compile(r"[+\-=)\]}&,<>|]|\\\\|\\(right|end|leq|geq|le|ge|neq|in|mid|quad)(?![a-zA-Z])")
_DERIVATIVE = re.compile(r"\\frac\{(d|\\partial)(\^\{\d+\})?\}")
_FUNCTION_ARGUMENT = re.compile(r"\s*(\^\{[^{}]*\}\s*)?(\{\\left\(|\\left\(|\{)")


@dataclass
class _Glyph:
    expr: sp.Expr
    prefix: bool


class _Parser:
    """Recursive descent over the LaTeX that the pages' printer (``checks.app.latex``) emits."""

    def __init__(self, tex: str, table: Mapping[str, _Glyph], functions: Mapping[str, Callable]):
        self.s = tex
        self.i = 0
        self.table = table
        self.glyphs_by_first: dict[str, list[str]] = {}
        for g in sorted(table, key=len, reverse=True):  # longest first
            self.glyphs_by_first.setdefault(g[:1], []).append(g)
        self.functions = {**_SYMPY_FUNCTIONS, **functions}
        self.function_order = sorted(self.functions, key=len, reverse=True)
        self.in_integral = 0

    # -- scanning --------------------------------------------------------------------------------
    def fail(self, why: str) -> Unreadable:
        before, after = self.s[max(0, self.i - 30):self.i], self.s[self.i:self.i + 30]
        return Unreadable(f"{why} at {self.i}: ...{before}<HERE>{after}...")

    def skip(self) -> None:
        while True:
            m = _SPACES.match(self.s, self.i)
            if m:
                self.i = m.end()
                continue
            m = _THIN.match(self.s, self.i)
            if m and not (self.in_integral and _DIFFERENTIAL.match(self.s, m.end())):
                self.i = m.end()
                continue
            return

    def peek(self, token: str) -> bool:
        self.skip()
        if not self.s.startswith(token, self.i):
            return False
        # a command is not the prefix of a longer command (\left vs \leftarrow)
        end = self.i + len(token)
        return not (token[-1].isalpha() and token.startswith("\\") and end < len(self.s) and self.s[end].isalpha())

    def accept(self, token: str) -> bool:
        if self.peek(token):
            self.i += len(token)
            return True
        return False

    def expect(self, token: str) -> None:
        if not self.accept(token):
            raise self.fail(f"expected {token!r}")

    def at_end(self) -> bool:
        self.skip()
        return self.i >= len(self.s)

    # -- grammar ---------------------------------------------------------------------------------
    def relation(self) -> sp.Expr | tuple[sp.Expr, sp.Expr]:
        lhs = self.expression()
        if self.accept("=") or self.accept(r"\le"):
            rhs = self.expression()
            result: sp.Expr | tuple = (lhs, rhs)
        else:
            result = lhs
        if not self.at_end():
            raise self.fail("unexpected text")
        return result

    def expression(self) -> sp.Expr:
        if self.accept("-"):
            terms = [-self.term()]
        else:
            self.accept("+")
            terms = [self.term()]
        while True:
            if self.accept("+"):
                # a held sum prints a negative term as ``+ -t``
                terms.append(-self.term() if self.accept("-") else self.term())
            elif self.accept("-"):
                terms.append(-self.term())
            else:
                return sp.Add(*terms)

    def term_ends(self) -> bool:
        self.skip()
        if self.i >= len(self.s):
            return True
        if self.in_integral and _THIN_DIFFERENTIAL.match(self.s, self.i):
            return True
        if any(self.s.startswith(g, self.i) for g in self.glyphs_by_first.get(self.s[self.i], ())):
            return False  # a glyph that opens with a delimiter (``|\Sigma|``) is a factor
        return bool(_TERM_END.match(self.s, self.i))

    def term(self) -> sp.Expr:
        factor, prefix = self.factor()
        factors = [factor]
        while not self.term_ends():
            if self.accept(r"\cdot") or self.accept(r"\times"):
                factor, prefix = self.factor()
                factors.append(factor)
                continue
            if self.accept("/"):
                factor, prefix = self.factor()
                factors.append(1 / factor)
                continue
            if prefix:
                raise self.fail("a prefix glyph reaches over the factor after it")
            if self.derivative_ahead() or self.peek(r"\int") or self.peek(r"\sum"):
                # an operator reaches over the rest of the product
                factors.append(self.term())
                break
            factor, prefix = self.factor()
            factors.append(factor)
        return sp.Mul(*factors)

    def factor(self) -> tuple[sp.Expr, bool]:
        base, prefix = self.primary()
        while self.accept("^"):
            if prefix:
                raise self.fail("a prefix glyph raised to a power")
            base = sp.Pow(base, self.script())
        return base, prefix

    def script(self) -> sp.Expr:
        self.skip()
        if self.accept("{"):
            value = self.expression()
            self.expect("}")
            return value
        m = re.compile(r"\d").match(self.s, self.i)
        if m:
            self.i = m.end()
            return sp.Integer(m.group())
        return self.primary()[0]

    def group(self) -> sp.Expr:
        self.expect("{")
        value = self.expression()
        self.expect("}")
        return value

    def arguments(self) -> list[sp.Expr]:
        """``{\\left(a, b \\right)}``, ``\\left(a\\right)`` or ``{a}``."""
        braced = self.accept("{")
        if self.accept(r"\left("):
            args = [self.expression()]
            while self.accept(","):
                args.append(self.expression())
            self.expect(r"\right)")
        elif braced:
            args = [self.expression()]
        else:
            raise self.fail("expected a function argument")
        if braced:
            self.expect("}")
        return args

    def glyph(self) -> _Glyph | None:
        self.skip()
        for g in self.glyphs_by_first.get(self.s[self.i:self.i + 1], ()):
            if self.s.startswith(g, self.i):
                end = self.i + len(g)
                nxt = self.s[end:end + 1]
                if nxt in ("_", "'") or (nxt.isalpha() and re.search(r"\\[A-Za-z]+$", g)) or nxt == "(":
                    continue
                self.i = end
                return self.table[g]
        return None

    def function(self) -> Callable | None:
        self.skip()
        for name in self.function_order:
            if not self.s.startswith(name, self.i):
                continue
            end = self.i + len(name)
            if end < len(self.s) and self.s[end].isalpha() and name[-1].isalpha():
                continue
            if _FUNCTION_ARGUMENT.match(self.s, end):
                self.i = end
                return self.functions[name]
        return None

    def derivative_ahead(self) -> bool:
        self.skip()
        return bool(_DERIVATIVE.match(self.s, self.i))

    def derivative(self) -> sp.Expr:
        self.expect(r"\frac")
        self.expect("{")
        self.accept("d") or self.expect(r"\partial")
        if self.accept("^"):
            self.script()
        self.expect("}")
        self.expect("{")
        variables = []
        while not self.accept("}"):
            self.accept("d") or self.expect(r"\partial")
            var = self.primary()[0]
            count = self.script() if self.accept("^") else 1
            variables.append((var, count))
        body = self.term()
        return sp.Derivative(body, *reversed(variables))

    def integral(self) -> sp.Expr:
        limits = []
        while self.accept(r"\int"):
            self.accept(r"\limits")
            low = high = None
            if self.accept("_"):
                low = self.script()
            if self.accept("^"):
                high = self.script()
            limits.append((low, high))
        self.in_integral += 1
        try:
            body = self.term()
            variables = []
            for _ in limits:
                m = re.compile(r"\s*\\,\s*d").match(self.s, self.i)
                if not m:
                    raise self.fail("expected the differential of an integral")
                self.i = m.end()
                variables.append(self.primary()[0])
        finally:
            self.in_integral -= 1
        # the first sign printed is the outermost integral; the first differential the innermost
        spec = [(v, lo, hi) if lo is not None else ((v, hi) if hi is not None else (v,))
                for v, (lo, hi) in zip(variables, reversed(limits))]
        return sp.Integral(body, *spec)

    def summation(self) -> sp.Expr:
        self.expect(r"\sum")
        self.expect("_")
        self.expect("{")
        index = self.primary()[0]
        self.expect("=")
        low = self.expression()
        self.expect("}")
        self.expect("^")
        high = self.script()
        return sp.Sum(self.term(), (index, low, high))

    def limit(self) -> sp.Expr:
        """``\\lim_{h \\to 0^+} body`` (after ``\\lim_{``): the limit reaches over the product after it."""
        variable = self.primary()[0]
        self.expect(r"\to")
        sign = -1 if self.accept("-") else 1
        point = sign * self.primary()[0]
        direction = "-" if self.accept("^-") else "+"
        self.accept("^+")
        self.expect("}")
        return sp.Limit(self.term(), variable, point, direction)

    def primary(self) -> tuple[sp.Expr, bool]:
        self.skip()
        if self.i >= len(self.s):
            raise self.fail("formula ends early")
        m = _NUMBER.match(self.s, self.i)
        if m:
            self.i = m.end()
            text = m.group()
            return (sp.Float(text, max(15, len(text))) if "." in text else sp.Integer(text)), False
        if self.derivative_ahead():
            return self.derivative(), False
        if self.peek(r"\int"):
            return self.integral(), False
        if self.peek(r"\sum"):
            return self.summation(), False
        if self.accept(r"\lim_{"):
            return self.limit(), False
        func = self.function()
        if func is not None:
            power = self.script() if self.accept("^") else None
            value = func(*self.arguments())
            return (value if power is None else value ** power), False
        found = self.glyph()
        if found is not None:
            return found.expr, found.prefix
        if self.accept(r"\frac"):
            numerator = self.group()
            return numerator / self.group(), False
        if self.accept(r"\sqrt"):
            degree = 2
            if self.accept("["):
                degree = self.expression()
                self.expect("]")
            return sp.Pow(self.group(), 1 / sp.sympify(degree)), False
        if self.accept(r"\left("):
            value = self.expression()
            self.expect(r"\right)")
            return value, False
        if self.accept(r"\left["):
            value = self.expression()
            self.expect(r"\right]")
            return value, False
        if self.accept(r"\left|"):
            value = self.group() if self.peek("{") else self.expression()
            self.expect(r"\right|")
            return sp.Abs(value), False
        if self.accept(r"\left."):
            value = self.expression()
            self.expect(r"\right|_{\substack{")
            old, new = [], []
            while True:
                old.append(self.primary()[0])
                self.expect("=")
                new.append(self.expression())
                if not self.accept("\\\\"):
                    break
            self.expect("}")
            self.expect("}")
            return sp.Subs(value, old, new), False
        if self.accept("("):
            value = self.expression()
            self.expect(")")
            return value, False
        if self.peek("{"):
            return self.group(), False
        if self.accept(r"\pi"):
            return sp.pi, False
        if self.accept(r"\infty"):
            return sp.oo, False
        if self.s.startswith("e", self.i) and not self.s[self.i + 1:self.i + 2].isalpha():
            self.i += 1
            if self.accept("^"):
                return sp.exp(self.script()), False
            return sp.E, False
        raise self.fail("unknown symbol")


def read(tex: str, table: Mapping[str, sp.Expr], prefix: frozenset[str] = frozenset(),
         functions: Mapping[str, Callable] | None = None) -> sp.Expr | tuple[sp.Expr, sp.Expr]:
    """Parse ``tex``; ``table`` maps each glyph to what it reads as. ``a = b`` gives a pair.

    A product is kept as written (``2 (a + b)`` is not distributed), as the printer received it.
    """
    glyph_table = {g: _Glyph(sp.sympify(e), g in prefix) for g, e in table.items()}
    with distribute(False):
        return _Parser(tex, glyph_table, functions or {}).relation()
