r"""LaTeX of the suite's expressions, and the markdown that carries it to a page.

**Printing.** :func:`latex` prints a SymPy expression with the notation's
glyphs (``alpha_bar_prev`` as :math:`\bar\alpha_{t-1}`). A glyph is
classified by :func:`glyph_kind`:

* an *atom* (one letter or Greek letter with accents, sub- and superscripts,
  primes and an argument list: ``x_{t-1}``, ``\bar\alpha_t``, ``B(t)``,
  ``\Delta\sigma_i^2``) never needs parentheses beyond SymPy's own;
* a *prefix* glyph (``\nabla\log p_t``) reaches over whatever follows it, so
  it is parenthesized when raised to a power or followed by another factor;
* a *sum* (``\sigma_i^2 - \sigma_{i-1}^2``, ``t - s``) is parenthesized as a
  factor, a base, after a minus sign and as a later term of a sum;
* a *product* (``\bar\alpha_{\tau_i}/\bar\alpha_{\tau_{i-1}}``) is
  parenthesized as a factor or a base.

So :math:`\sigma_{i-1}^2 \cdot \mathtt{var\_ve\_step}` prints as
``\sigma_{i-1}^2 \left(\sigma_i^2 - \sigma_{i-1}^2\right)``, never as the
different product ``\sigma_{i-1}^2 \sigma_i^2 - \sigma_{i-1}^2``. Exact
constants print exactly (``\log{\left(2 \pi \right)}``): numbers are folded to
floats for torch at compile time only
(:func:`derivations.core.registry.fold_constants`).

**Markdown.** GitHub applies markdown escapes before its math engine sees
``$...$``, which eats ``\,``, ``\|`` and ``\\``. Pages therefore carry display
math in a fenced ``math`` block (:func:`display`) and inline math as
``$`...`$`` (:func:`inline`), the two forms GitHub documents for math that
markdown must not touch; :func:`prose` and :func:`github_markdown` convert the
``$...$`` of hand-written text to them.
"""

from __future__ import annotations

import enum
import functools
import re

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from derivations.core import notation

GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi varpi rho "
    "varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi "
    "Psi Omega ell".split())
# Commands that take the next base as their argument: accents, fonts, and a difference
# operator written before its quantity (``\Delta\sigma_i^2`` is one glyph).
ACCENTS = frozenset(
    "bar hat tilde dot ddot vec check breve overline widehat widetilde mathbf mathrm mathcal mathit mathsf "
    "mathbb boldsymbol operatorname Delta delta".split())
# Operators a prefix glyph starts with: they apply to everything after them.
PREFIX_OPERATORS = frozenset("nabla log ln partial exp".split())


class GlyphKind(enum.Enum):
    ATOM = "atom"
    PREFIX = "prefix"
    PRODUCT = "product"
    SUM = "sum"


# --- glyph classification: a small scanner for one identifier -----------------------------------

def _group_end(tex: str, i: int, opening: str, closing: str) -> int | None:
    """Index just after the group that opens at ``tex[i] == opening``; None if unbalanced."""
    depth = 0
    for j in range(i, len(tex)):
        if tex[j] == "\\" and j + 1 < len(tex) and tex[j + 1] in "{}":
            continue
        if tex[j] == opening and (j == 0 or tex[j - 1] != "\\"):
            depth += 1
        elif tex[j] == closing and (j == 0 or tex[j - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return j + 1
    return None


_COMMAND = re.compile(r"\\([A-Za-z]+)")


def _base_end(tex: str, i: int) -> int | None:
    if i >= len(tex):
        return None
    if tex[i].isalpha():
        return i + 1
    if tex[i] == "{":
        return _group_end(tex, i, "{", "}")
    m = _COMMAND.match(tex, i)
    if m and m.group(1) in GREEK:
        return m.end()
    return None


def _script_end(tex: str, i: int) -> int | None:
    """End of the argument of ``_`` or ``^`` starting at ``i``."""
    if i >= len(tex):
        return None
    if tex[i] == "{":
        return _group_end(tex, i, "{", "}")
    if tex[i].isalnum():
        return i + 1
    m = _COMMAND.match(tex, i)
    return m.end() if m else None


def atom_end(tex: str, i: int = 0) -> int | None:
    """End of the identifier that starts at ``i`` (accents, base, scripts, primes, argument list)."""
    j = i
    while True:
        m = _COMMAND.match(tex, j)
        if not (m and m.group(1) in ACCENTS):
            break
        after = m.end()
        while after < len(tex) and tex[after] == " ":
            after += 1
        if _base_end(tex, after) is None:
            break  # ``\Delta`` alone is a Greek letter, not an operator
        j = after
    k = _base_end(tex, j)
    if k is None:
        return None
    while k < len(tex):
        if tex[k] in "_^":
            k = _script_end(tex, k + 1)
            if k is None:
                return None
        elif tex[k] == "'":
            k += 1
        else:
            break
    if k < len(tex) and tex[k] == "(":
        k = _group_end(tex, k, "(", ")")
    return k


def _top_level(tex: str) -> str:
    """``tex`` without its braced, bracketed and parenthesized parts (scripts are braced or one token)."""
    out, depth = [], 0
    for ch in tex:
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def glyph_kind(tex: str) -> GlyphKind:
    """How a glyph behaves next to other terms (see the module docstring)."""
    tex = tex.strip()
    if atom_end(tex) == len(tex):
        return GlyphKind.ATOM
    m = re.match(r"(?:\\(?:%s)(?![A-Za-z])\s*)+" % "|".join(PREFIX_OPERATORS), tex)
    if m and atom_end(tex, m.end()) == len(tex):
        return GlyphKind.PREFIX
    top = _top_level(tex)
    # A sign inside a sub- or superscript without braces (``x_-``) does not occur in the notation.
    return GlyphKind.SUM if re.search(r"[+-]", top) else GlyphKind.PRODUCT


@functools.lru_cache(maxsize=8)
def _glyph_table(n_names: int) -> dict[sp.Symbol, tuple[str, GlyphKind]]:
    del n_names  # the cache key: the notation only grows while families are imported
    return {entry.symbol: (entry.latex, glyph_kind(entry.latex)) for entry in notation.names().values()}


def glyphs() -> dict[sp.Symbol, tuple[str, GlyphKind]]:
    """Every notation symbol's LaTeX and kind."""
    return _glyph_table(len(notation.names()))


# --- the printer -------------------------------------------------------------------------------------

_KIND_PRECEDENCE = {GlyphKind.SUM: PRECEDENCE["Add"], GlyphKind.PRODUCT: PRECEDENCE["Mul"],
                    GlyphKind.PREFIX: PRECEDENCE["Mul"]}


def _wrapped(tex: str) -> bool:
    """True when ``tex`` is one ``\\left( ... \\right)`` group."""
    if not (tex.startswith(r"\left(") and tex.endswith(r"\right)")):
        return False
    depth = 0
    for m in re.finditer(r"\\left[(\[.|]|\\right[)\].|]", tex):
        depth += 1 if m.group().startswith(r"\left") else -1
        if depth == 0 and m.end() != len(tex):
            return False
    return True


class NotationPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the notation's glyphs, each parenthesized by its kind."""

    def __init__(self, settings: dict | None = None,
                 glyph_table: dict[sp.Symbol, tuple[str, GlyphKind]] | None = None):
        super().__init__({"parenthesize_super": True, **(settings or {})})
        self._glyphs = glyphs() if glyph_table is None else glyph_table

    def _kind(self, expr: sp.Basic) -> GlyphKind | None:
        if isinstance(expr, sp.Symbol) and expr in self._glyphs:
            return self._glyphs[expr][1]
        return None

    def _compound(self, expr: sp.Basic) -> bool:
        return self._kind(expr) not in (None, GlyphKind.ATOM)

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        if expr in self._glyphs:
            return self._glyphs[expr][0]
        return super()._print_Symbol(expr, style)

    def parenthesize(self, item, level, is_neg=False, strict=False) -> str:
        if self._compound(item):
            prec = _KIND_PRECEDENCE[self._kind(item)]
            if prec < level or (not strict and prec <= level):
                return self._add_parens(self._print(item))
        return super().parenthesize(item, level, is_neg=is_neg, strict=strict)

    def parenthesize_super(self, s: str) -> str:
        return s if _wrapped(s) else super().parenthesize_super(s)

    def _needs_mul_brackets(self, expr, first=False, last=False) -> bool:
        kind = self._kind(expr)
        if kind in (GlyphKind.SUM, GlyphKind.PRODUCT):
            return True
        if kind is GlyphKind.PREFIX:
            return not last
        if isinstance(expr, sp.Derivative) and not last:
            return True  # like an integral, a derivative reaches over the factors after it
        return super()._needs_mul_brackets(expr, first=first, last=last)

    def _print_Add(self, expr, order=None) -> str:
        tex = ""
        for i, term in enumerate(self._as_ordered_terms(expr, order=order)):
            if i > 0:
                if term.could_extract_minus_sign():
                    tex += " - "
                    term = -term
                else:
                    tex += " + "
            term_tex = self._print(term)
            if self._needs_add_brackets(term) or (i > 0 and self._kind(term) is GlyphKind.SUM):
                term_tex = self._add_parens(term_tex)
            tex += term_tex
        return tex

    def _print_Pow(self, expr, *args, **kwargs) -> str:
        base, exponent = expr.base, expr.exp
        if isinstance(base, sp.Function) and exponent.is_Integer and exponent > 1:
            # SymPy's \cos^{2}{x} reads as cos applied to a power: the power of the value, written as one
            return r"\left(%s\right)^{%s}" % (self._print(base), self._print(exponent))
        return super()._print_Pow(expr, *args, **kwargs)

    def _print_Mul(self, expr) -> str:
        if expr.could_extract_minus_sign() and self._kind(-expr) is GlyphKind.SUM:
            return "- " + self._add_parens(self._print(-expr))
        return super()._print_Mul(expr)


def latex(expr: sp.Basic) -> str:
    """LaTeX of ``expr`` in the notation's glyphs, with the parentheses its precedence needs."""
    return NotationPrinter().doprint(sp.sympify(expr))


def relation(lhs: sp.Basic, rhs: sp.Basic, symbol: str = "=") -> str:
    """LaTeX of the relation ``lhs = rhs`` (``symbol`` ``\\le`` for an inequality)."""
    return f"{latex(lhs)} {symbol} {latex(rhs)}"


# --- markdown carriers ------------------------------------------------------------------------------

def display(tex: str) -> str:
    """A display formula as GitHub's fenced math block."""
    return f"```math\n{tex}\n```"


def inline(tex: str) -> str:
    """Inline math as ``$`...`$``: markdown leaves its content alone."""
    if "`" in tex:
        raise ValueError(f"a backtick cannot appear in inline math: {tex!r}")
    return f"$`{tex}`$"


_DOLLAR_MATH = re.compile(r"\$(?!`)([^$]+?)\$")


def prose(text: str) -> str:
    """Hand-written text with its ``$...$`` math as ``$`...`$`` (code spans and converted math kept)."""
    out, last = [], 0
    for m in re.finditer(r"\$`.*?`\$|(`+).+?\1", text, re.S):
        out.append(_DOLLAR_MATH.sub(lambda k: inline(k.group(1)), text[last:m.start()]))
        out.append(m.group())
        last = m.end()
    out.append(_DOLLAR_MATH.sub(lambda k: inline(k.group(1)), text[last:]))
    return "".join(out)


def github_markdown(markdown: str) -> str:
    """A page's ``$$...$$`` blocks as fenced math, its ``$...$`` as ``$`...`$``; code is left alone."""
    out: list[str] = []
    lines = markdown.split("\n")
    i, fence = 0, None
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if fence is not None:
            out.append(line)
            if stripped.startswith(fence):
                fence = None
        elif stripped.startswith("```") or stripped.startswith("~~~"):
            fence = stripped[:3]
            out.append(line)
        elif stripped.startswith("$$") and stripped.endswith("$$") and len(stripped) > 4:
            out.append(display(stripped[2:-2].strip()))
        elif stripped == "$$" and any(line.strip() == "$$" for line in lines[i + 1:]):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "$$")
            out.append(display("\n".join(lines[i + 1:end]).strip()))
            i = end
        else:
            out.append(prose(line))
        i += 1
    return "\n".join(out)


# --- reading math back out of markdown, by GitHub's rules ---------------------------------------------

_INLINE = re.compile(r"\$`(.+?)`\$")


def math_segments(markdown: str) -> list[tuple[str, bool]]:
    """Every formula GitHub typesets on a page, as ``(LaTeX, is_display)``.

    Fenced ``math`` blocks are display math; ``$`...`$`` is inline math. In a
    table row GitHub first turns ``\\|`` into ``|``, so the same is done here.
    """
    out: list[tuple[str, bool]] = []
    block: list[str] | None = None
    other_fence = False
    for line in markdown.split("\n"):
        stripped = line.strip()
        if block is not None:
            if stripped == "```":
                out.append(("\n".join(block), True))
                block = None
            else:
                block.append(line)
        elif other_fence:
            other_fence = not stripped.startswith("```")
        elif stripped == "```math":
            block = []
        elif stripped.startswith("```"):
            other_fence = True
        else:
            if stripped.startswith("|"):
                line = line.replace("\\|", "|")
            out += [(m.group(1), False) for m in _INLINE.finditer(line)]
    return out


def bare_dollar_math(markdown: str) -> list[str]:
    """``$...$`` or ``$$...$$`` outside code and outside ``$`...`$``: math GitHub's markdown may mangle."""
    found, fence = [], False
    for line in markdown.split("\n"):
        if line.strip().startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        rest = re.sub(r"\$`.+?`\$|(`+).+?\1", "", line)
        found += re.findall(r"\$\$?[^$]+\$?\$", rest)
    return found
