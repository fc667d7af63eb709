r"""Read LaTeX back: a user's formula into the plain notation, a displayed formula into SymPy.

Two readers share the notation's glyphs and one table of functions (:data:`FUNCTIONS`,
:data:`NAMED_FUNCTIONS`):

**User input** (``verify --latex``): :func:`to_plain` is a translator, not an evaluator.
``to_plain(r"\frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\beta_t", glyphs)`` returns
``"(1 - alpha_bar_prev)/(1 - alpha_bar_t)*beta_t"`` when ``glyphs`` maps each
symbol's LaTeX (``\bar\alpha_{t-1}``) to its code name (``alpha_bar_prev``). The output is
plain text in the syntax of :mod:`derivations.core.claims`, which whitelists it before SymPy
sees it; nothing here builds or evaluates an expression from untrusted text (``2^{2^{99}}``
stays text until the whitelist's limits have seen it). Its grammar is the LaTeX that people and
SymPy's printer write for the suite's closed forms: numbers, the notation's symbols (matched as
whole token sequences, longest first, so ``\sigma_{i-1}^2`` is one symbol, not a square),
``+ - \cdot \times /``, implicit products, ``^``, ``\frac``/``\dfrac``/``\tfrac``,
``\sqrt`` (with an optional index), ``e^{...}``, ``\pi``, ``|...|`` and the
functions of :data:`FUNCTIONS`, with ``( ) [ ] \{ \}`` and ``\left``/``\right``
for grouping; spacing commands are ignored. ``{x}`` and ``x`` are the same
token group, so ``\bar{\alpha}_{t}`` reads as ``\bar\alpha_t``.

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

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[0-9]|[A-Za-z]|[^\sA-Za-z0-9]")
# Commands that only space or size: dropped before parsing.
_IGNORED = {r"\,", r"\;", r"\:", r"\!", r"\ ", r"\quad", r"\qquad", "~", r"\displaystyle", r"\textstyle",
            r"\left", r"\right", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\big", r"\Big"}
# LaTeX function -> its name in the plain notation (a SymPy function of that name).
FUNCTIONS = {r"\exp": "exp", r"\log": "log", r"\ln": "log", r"\sin": "sin", r"\cos": "cos", r"\tan": "tan",
             r"\tanh": "tanh", r"\sinh": "sinh", r"\cosh": "cosh", r"\arctan": "atan", r"\Gamma": "gamma",
             r"\max": "Max", r"\min": "Min"}
# Names written as \operatorname{erf} or \mathrm{erf}.
NAMED_FUNCTIONS = {"erf": "erf", "erfc": "erfc", "erfi": "erfi", "exp": "exp", "log": "log", "atan": "atan",
                   "Gamma": "gamma", "sign": "sign"}
_PRODUCT = {r"\cdot", r"\times", "*"}
_OPEN = {"(": ")", "[": "]", r"\{": r"\}", r"\lbrace": r"\rbrace", r"\lbrack": r"\rbrack"}
_BARS = {"|": "|", r"\lvert": r"\rvert", r"\vert": r"\vert"}
_FRACTIONS = {r"\frac", r"\dfrac", r"\tfrac", r"\cfrac"}
_STYLES = {r"\mathrm", r"\operatorname", r"\text", r"\textrm", r"\mathit"}

# Precedence of an emitted fragment: a fragment is wrapped in parentheses when it is
# used at a tighter level than its own.
_ADD, _MUL, _UNARY, _POW, _ATOM = range(5)


class LatexError(ValueError):
    """A formula that cannot be read. One line."""


def tokens(text: str) -> list[str]:
    """LaTeX tokens with spacing dropped and single-token groups ``{x}`` unwrapped."""
    raw = [t for t in _TOKEN.findall(text) if t not in _IGNORED]
    out: list[str] = []
    i = 0
    while i < len(raw):
        # {X} with X one token (or one command with a one-token group, e.g. {\bar\alpha}) is X
        if raw[i] == "{" and i + 2 < len(raw) and raw[i + 2] == "}" and raw[i + 1] not in "{}":
            out.append(raw[i + 1])
            i += 3
            continue
        out.append(raw[i])
        i += 1
    return out


@dataclass(frozen=True)
class Glyphs:
    """The symbols a formula may use: token sequence -> code name(s), longest first."""

    by_tokens: dict[tuple[str, ...], tuple[str, ...]]

    @classmethod
    def from_latex(cls, names: Mapping[str, Sequence[str]]) -> "Glyphs":
        """``names``: LaTeX -> the code names it may stand for (one unless ambiguous)."""
        by_tokens: dict[tuple[str, ...], tuple[str, ...]] = {}
        for latex, codes in names.items():
            key = tuple(tokens(latex))
            by_tokens[key] = tuple(sorted(set(by_tokens.get(key, ())) | set(codes)))
        ordered = sorted(by_tokens.items(), key=lambda kv: -len(kv[0]))
        return cls(dict(ordered))

    def match(self, toks: list[str], at: int) -> tuple[tuple[str, ...], int] | None:
        for key, codes in self.by_tokens.items():
            if tuple(toks[at:at + len(key)]) == key:
                return codes, at + len(key)
        return None


class _Reader:
    """Recursive descent over the tokens; every method returns (plain text, precedence)."""

    def __init__(self, toks: list[str], glyphs: Glyphs):
        self.toks = toks
        self.glyphs = glyphs
        self.at = 0

    # -- helpers -----------------------------------------------------------------
    def peek(self, offset: int = 0) -> str | None:
        i = self.at + offset
        return self.toks[i] if i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None:
            raise LatexError(f"the formula ends early{f'; expected {expected}' if expected else ''}")
        if expected is not None and token != expected:
            raise LatexError(f"expected {expected} at token {self.at + 1} ({token!r})")
        self.at += 1
        return token

    @staticmethod
    def wrap(fragment: tuple[str, int], level: int) -> str:
        text, own = fragment
        return text if own >= level else f"({text})"

    # -- grammar -----------------------------------------------------------------
    def read(self) -> str:
        text, _ = self.sum()
        if self.peek() is not None:
            raise LatexError(f"unexpected {self.peek()!r} at token {self.at + 1}")
        return text

    def sum(self) -> tuple[str, int]:
        sign = self.take() if self.peek() in ("+", "-") else "+"
        first = self.product()
        if sign == "-":
            text, level = "-" + self.wrap(first, _MUL), _UNARY
        else:
            text, level = first
        while self.peek() in ("+", "-"):
            sign = self.take()
            text, level = f"{self.wrap((text, level), _ADD)} {sign} {self.wrap(self.product(), _MUL)}", _ADD
        return text, level

    def product(self) -> tuple[str, int]:
        text, level = self.power()
        while True:
            token = self.peek()
            if token in _PRODUCT or token == "/":
                self.take()
                op = "/" if token == "/" else "*"
            elif self.starts_factor(token):
                op = "*"
            else:
                return text, level
            right = self.power()
            text, level = f"{self.wrap((text, level), _MUL)}{op}{self.wrap(right, _POW if op == '/' else _MUL)}", _MUL

    def starts_factor(self, token: str | None) -> bool:
        if token is None or token in ("+", "-", "/", "^", "_", "=", "}", ")", "]", r"\}", r"\rbrace", r"\rbrack",
                                      r"\rvert", ",") or token in _PRODUCT:
            return False
        if token in ("|", r"\vert"):
            return False  # a bar after a factor closes an absolute value; |a||b| needs \cdot
        return True

    def power(self) -> tuple[str, int]:
        base = self.atom()
        if self.peek() == "_":
            raise LatexError(f"subscript after {base[0]!r}: not a symbol of this derivation")
        if self.peek() == "^":
            self.take()
            exponent = self.argument()
            if base == ("E", _ATOM):
                return f"exp({exponent[0]})", _ATOM
            return f"{self.wrap(base, _ATOM)}**{self.wrap(exponent, _ATOM)}", _POW
        return base

    def argument(self) -> tuple[str, int]:
        """A braced group or a single token (the argument of ^, \\frac, \\sqrt)."""
        if self.peek() == "{":
            self.take()
            inner = self.sum()
            self.take("}")
            return inner
        token = self.peek()
        if token is not None and token.isdigit():
            return self.take(), _ATOM
        return self.atom()

    def atom(self) -> tuple[str, int]:
        token = self.peek()
        if token is None:
            raise LatexError("the formula ends early")
        matched = self.glyphs.match(self.toks, self.at)
        if matched is not None:
            codes, end = matched
            if len(codes) > 1:
                raise LatexError(f"the symbol {''.join(self.toks[self.at:end])!r} is ambiguous here: it stands for "
                                 f"{', '.join(codes)}; write the formula with code names")
            self.at = end
            return codes[0], _ATOM
        if token.isdigit() or token == ".":
            return self.number(), _ATOM
        if token == "{":
            self.take()
            inner = self.sum()
            self.take("}")
            return inner
        if token in _OPEN:
            self.take()
            inner = self.sum()
            self.take(_OPEN[token])
            return f"({inner[0]})", _ATOM
        if token in _BARS:
            self.take()
            inner = self.sum()
            self.take(_BARS[token])
            return f"abs({inner[0]})", _ATOM
        if token in _FRACTIONS:
            self.take()
            numerator, denominator = self.argument(), self.argument()
            return f"{self.wrap(numerator, _MUL)}/{self.wrap(denominator, _POW)}", _MUL
        if token == r"\sqrt":
            self.take()
            if self.peek() == "[":
                self.take()
                index = self.sum()
                self.take("]")
                return f"{self.wrap(self.argument(), _ATOM)}**(1/{self.wrap(index, _ATOM)})", _POW
            return f"sqrt({self.argument()[0]})", _ATOM
        if token in FUNCTIONS:
            self.take()
            return self.call(FUNCTIONS[token])
        if token in _STYLES:
            self.take()
            word = self.word()
            if word in NAMED_FUNCTIONS:
                return self.call(NAMED_FUNCTIONS[word])
            if word == "e":
                return "E", _ATOM
            raise LatexError(f"unknown {token}{{{word}}}")
        if token == "e":
            self.take()
            return "E", _ATOM
        if token == r"\pi":
            self.take()
            return "pi", _ATOM
        raise LatexError(f"unknown symbol {token!r} at token {self.at + 1}")

    def word(self) -> str:
        """The letters of a \\mathrm{...} / \\operatorname{...} group."""
        if self.peek() != "{":
            return self.take()
        self.take()
        letters = []
        while self.peek() not in ("}", None):
            letters.append(self.take())
        self.take("}")
        return "".join(letters)

    def call(self, function: str) -> tuple[str, int]:
        """A function and its argument: braced, parenthesized, or the next factor (``\\log x``)."""
        if self.peek() == "^":
            raise LatexError(f"write powers of {function} as ({function}(...))^n")
        argument = self.argument() if self.peek() == "{" else self.power()
        text = argument[0]
        if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
            text = text[1:-1]
        return f"{function}({text})", _ATOM

    def number(self) -> str:
        digits = []
        while self.peek() is not None and (self.peek().isdigit() or self.peek() == "."):
            digits.append(self.take())
        text = "".join(digits)
        if text.count(".") > 1 or text == ".":
            raise LatexError(f"malformed number {text!r}")
        return text


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def to_plain(text: str, glyphs: Glyphs) -> str:
    """The plain-notation form of the LaTeX formula ``text`` (raises :class:`LatexError`)."""
    toks = tokens(text)
    if not toks:
        raise LatexError("empty formula")
    try:
        return _Reader(toks, glyphs).read()
    except RecursionError:
        raise LatexError("formula nested too deeply") from None


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
