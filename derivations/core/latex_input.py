r"""Read a user's LaTeX formula into the plain notation of a claim, without SymPy.

**User input** (``verify --latex``): :func:`to_plain` is a translator, not an evaluator.
``to_plain(r"\frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\beta_t", glyphs)`` returns
``"(1 - alpha_bar_prev)/(1 - alpha_bar_t)*beta_t"`` when ``glyphs`` maps each
symbol's LaTeX (``\bar\alpha_{t-1}``) to its code name (``alpha_bar_prev``). The output is
plain text in the syntax of :mod:`derivations.core.claim_syntax`, which whitelists it before SymPy
sees it; nothing here builds or evaluates an expression from untrusted text (``2^{2^{99}}``
stays text until the whitelist's limits have seen it). Its grammar is the LaTeX that people and
SymPy's printer write for the suite's closed forms: numbers, the notation's symbols (matched as
whole token sequences, longest first, so ``\sigma_{i-1}^2`` is one symbol, not a square),
``+ - \cdot \times /``, implicit products, ``^``, ``\frac``/``\dfrac``/``\tfrac``,
``\sqrt`` (with an optional index), ``e^{...}``, ``\pi``, ``|...|`` and the
functions of :data:`FUNCTIONS`, with ``( ) [ ] \{ \}`` and ``\left``/``\right``
for grouping; spacing commands are ignored. ``{x}`` and ``x`` are the same
token group, so ``\bar{\alpha}_{t}`` reads as ``\bar\alpha_t``.

The displayed-formula reader (:mod:`derivations.core.latex_reader`) shares
:data:`FUNCTIONS` and :data:`NAMED_FUNCTIONS`. Nothing here imports SymPy: ``verify`` checks a
formula against its whitelist before SymPy is loaded (a verdict read from the cache needs none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

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

