r"""Display = proof: does a displayed formula read back as the expression it stands for?

A page is trusted only if every formula on it *reads* as the expression that was proved.
:func:`reads_as` parses the LaTeX with :func:`derivations.core.latex_reader.read` (the
conventions a person reads with, not the printer's) and proves the reading equal to the
expression, by structure when it is identical and by :func:`derivations.prove` otherwise.

Glyphs: a notation symbol whose glyph is an atom (``\bar\alpha_{t-1}``) is
read as that symbol. A glyph that is itself an expression
(``\sigma_i^2 - \sigma_{i-1}^2``) is *not* matched as a unit: its pieces are
read like any other atoms, and the expression it stands for is compared with
the glyph replaced by that reading. So
``\sigma_{i-1}^2 \sigma_i^2 - \sigma_{i-1}^2`` reads as a different quantity
from :math:`\sigma_{i-1}^2(\sigma_i^2 - \sigma_{i-1}^2)` and fails. A glyph shared by two
symbols is read as each in turn (:data:`MAX_ASSIGNMENTS` at most).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import sympy as sp

from derivations.core import notation
from derivations.core.latex_reader import Unreadable, read

from checks.app.latex import GlyphKind, NotationPrinter, glyphs, latex

__all__ = ["MAX_ASSIGNMENTS", "Reading", "Unreadable", "proves_equal", "read", "reads_as"]

MAX_ASSIGNMENTS = 64
EXACT_MAX_OPS = 200


@dataclass(frozen=True)
class Reading:
    """The outcome of reading one displayed formula."""

    ok: bool
    detail: str = ""
    collision: bool = False  # equal only once a glyph shared by two symbols is told apart


def _symbols_of(exprs: list[sp.Basic]) -> set[sp.Symbol]:
    # a Limit keeps its direction as a symbol ``+`` or ``-``: not a glyph
    return {s for e in exprs for s in sp.sympify(e).atoms(sp.Symbol) if s.name not in ("+", "-")}


def _functions_of(exprs: list[sp.Basic]) -> dict[str, Callable]:
    printer = NotationPrinter()
    found = {type(f) for e in exprs for f in sp.sympify(e).atoms(sp.core.function.AppliedUndef)}
    return {printer._hprint_Function(f.__name__): f for f in found}


def _context(targets: list[sp.Basic]) -> tuple[dict[str, list[sp.Expr]], frozenset[str], dict[sp.Symbol, sp.Expr]]:
    """Glyph table, prefix glyphs, and the reading of each compound glyph, for these targets."""
    table_all = glyphs()
    used = _symbols_of(targets)
    by_glyph: dict[str, list[sp.Symbol]] = {}
    for sym, (tex, kind) in table_all.items():
        if kind in (GlyphKind.ATOM, GlyphKind.PREFIX):
            by_glyph.setdefault(tex, []).append(sym)
    # the symbols the targets use claim their glyphs first; an unused notation symbol fills a glyph
    # that only the pieces of a compound glyph use
    table: dict[str, list[sp.Expr]] = {}
    for sym in sorted(used, key=lambda s: s.name):
        if sym in table_all and table_all[sym][1] not in (GlyphKind.ATOM, GlyphKind.PREFIX):
            continue
        table.setdefault(table_all[sym][0] if sym in table_all else latex(sym), []).append(sym)
    for tex, candidates in by_glyph.items():
        table.setdefault(tex, [min(candidates, key=lambda s: s.name)])
    prefix = frozenset(tex for sym, (tex, kind) in table_all.items() if kind is GlyphKind.PREFIX)
    unique = {tex: cands[0] for tex, cands in table.items()}
    readings = {}
    for sym in used:
        if sym in table_all and table_all[sym][1] in (GlyphKind.SUM, GlyphKind.PRODUCT):
            reading = read(table_all[sym][0], unique, prefix)
            readings[sym] = reading
    return table, prefix, readings


def _named_atoms(exprs: list[sp.Basic]) -> dict[sp.Basic, sp.Dummy]:
    """A placeholder for every named intermediate and held operation in ``exprs`` (outermost first)."""
    from derivations.core.work import Named

    found: dict[sp.Basic, sp.Dummy] = {}
    for expr in exprs:
        for atom in sp.sympify(expr).atoms(Named):
            found.setdefault(atom, sp.Dummy(f"named{len(found)}"))
    return found


def _random_symbols(exprs: list[sp.Basic]) -> dict[sp.Basic, sp.Symbol]:
    """A random variable of ``sympy.stats`` reads as the symbol it prints as."""
    from sympy.stats.rv import RandomSymbol

    return {rv: rv.symbol for e in exprs for rv in sp.sympify(e).atoms(RandomSymbol)}


def _rebuilt(expr: sp.Basic) -> sp.Basic:
    """``expr`` built again with SymPy's automatic evaluation, as reading it builds it (``2 (a + b)``
    becomes ``2 a + 2 b``)."""
    if not expr.args or isinstance(expr, sp.Symbol):
        return expr
    return expr.func(*(_rebuilt(a) for a in expr.args))


def proves_equal(parsed: sp.Expr, target: sp.Expr) -> bool:
    """``parsed`` equals ``target``: identical once rebuilt, else proved (:func:`derivations.prove`)."""
    import derivations

    parsed, target = sp.sympify(parsed), sp.sympify(target)
    if parsed == target or _rebuilt(parsed) == _rebuilt(target):
        return True
    difference = parsed - target
    if difference == 0 or (sp.count_ops(difference) < 400 and sp.expand(difference) == 0):
        return True
    if difference.has(sp.Integral, sp.Derivative, sp.Sum, sp.Subs):
        # unevaluated operators compare as written (evaluating them is what the steps prove)
        return False
    if not (notation.undeclared(parsed) == [] and notation.undeclared(target) == []):
        return sp.simplify(difference) == 0
    # SymPy's simplifiers may not finish on a long difference: past a few hundred operations the
    # 50-digit agreement at random points is the proof (as for a relation declared numeric)
    return derivations.prove(parsed, target, attempt_exact=sp.count_ops(difference) <= EXACT_MAX_OPS).holds


def reads_as(tex: str, target: sp.Basic | tuple[sp.Basic, sp.Basic], printed: sp.Basic | None = None) -> Reading:
    """Does the displayed ``tex`` read as ``target`` (an expression, or a pair for ``lhs = rhs``)?

    ``printed`` is the expression the LaTeX was printed from when it is a proved-equal form of the
    target (a tidied closed form): its symbols, too, decide which symbol a shared glyph names.
    """
    targets = list(target) if isinstance(target, tuple) else [target]
    # A named intermediate or held operation reads as itself: its printed glyph (``\mathcal N_1``,
    # ``E\left[x^2\right]``) is one atom, a placeholder on both sides.
    held = _named_atoms(targets + ([printed] if printed is not None else []))
    held |= _random_symbols(targets + ([printed] if printed is not None else []))
    if held:
        targets = [sp.sympify(t).xreplace(held) for t in targets]
        printed = sp.sympify(printed).xreplace(held) if printed is not None else None
    try:
        table, prefix, readings = _context(targets + ([printed] if printed is not None else []))
    except Unreadable as error:
        return Reading(False, f"a compound glyph is unreadable: {error}")
    shared = {tex: cands for tex, cands in table.items() if len(cands) > 1}
    placeholders = {tex: sp.Dummy(f"shared{i}") for i, tex in enumerate(shared)}
    unique = {tex: placeholders.get(tex, cands[0] if cands else sp.Dummy()) for tex, cands in table.items()}
    functions = _functions_of(targets)
    for atom, placeholder in held.items():
        if isinstance(placeholder, sp.Dummy):
            unique[latex(atom)] = placeholder
    try:
        parsed = read(tex, unique, prefix, functions)
    except Unreadable as error:
        return Reading(False, str(error))
    parsed_parts = list(parsed) if isinstance(parsed, tuple) else [parsed]
    if len(parsed_parts) != len(targets):
        return Reading(False, f"read {len(parsed_parts)} side(s), expected {len(targets)}")
    expected = [sp.sympify(t).xreplace(readings) for t in targets]
    options = [shared[tex] for tex in placeholders]
    assignments = itertools.islice(itertools.product(*options), MAX_ASSIGNMENTS)
    for n, assignment in enumerate(assignments):
        subs = dict(zip(placeholders.values(), assignment))
        if all(proves_equal(p.xreplace(subs), e) for p, e in zip(parsed_parts, expected)):
            if n > 0 or any(p.has(*placeholders.values()) for p in parsed_parts):
                return Reading(True, "one glyph stands for two symbols: " + ", ".join(shared), collision=True)
            return Reading(True)
    return Reading(False, "reads as a different expression: " + sp.sstr(parsed)[:300])
