r"""The work a page shows: named intermediates and operations held unevaluated.

A step displays the relation *before* simplification: an unevaluated
``Derivative``, ``Integral``, ``Subs``, ``Limit`` or expectation on one side, the
simplified form on the other. The proofs evaluate both sides (``doit``) before
comparing them (:func:`derivations.core.proof.prove`).

A long form is shown through *named intermediates* ("where
:math:`\mathcal N_1(t, x) = \dots`"): :func:`named` returns an applied function
that prints as its name and carries its definition. ``doit`` (hence every proof),
numeric evaluation and compilation (:func:`expand_named`) replace it by that
definition, so a named intermediate is notation for the reader, never a new
assumption.
"""

from __future__ import annotations

from typing import Iterable

import sympy as sp


class Named(sp.Function):
    """An applied function that stands for its definition (set by :func:`named`)."""

    _definition: sp.Lambda
    _tex: str = ""
    # A held operation prints as ``_template`` filled with its ``_parts`` (printed by the caller's printer).
    _template: str = ""
    _parts: tuple = ()
    description: str = ""

    def sort_key(self, order=None):
        # Two held operations of one name (log q(x_t | x_0), log q(x_{t-1} | x_0)) can have the same
        # arguments; their printed parts break the tie, so a sum of them prints in one order whatever
        # the process's hash seed.
        key = super().sort_key(order)
        return (*key, (self._template or self._tex, tuple(sp.sstr(p) for p in self._parts)))

    def doit(self, **hints):
        expanded = self.definition()
        return expanded.doit(**hints) if hints.get("deep", True) else expanded

    def definition(self) -> sp.Expr:
        """The definition at this application's arguments."""
        return self._definition(*self.args)

    def _latex(self, printer, exp=None):
        tex = self._tex
        if self._template:
            tex = self._template
            for i, part in enumerate(self._parts):
                tex = tex.replace(f"@{i}", printer._print(part))
        return f"{{{tex}}}^{{{exp}}}" if exp else tex

    def _sympystr(self, printer):
        if self._template:
            return f"{type(self).__name__}({', '.join(printer._print(p) for p in self._parts)})"
        return type(self).__name__

    def _eval_evalf(self, prec):
        return self.definition()._eval_evalf(prec)

    # The class is made at run time, so a pickle (the disk cache) records how to make it again.
    def __getnewargs__(self):
        return self.args

    def __reduce_ex__(self, protocol):
        return _restore, (type(self)._spec, self.args)


def _restore(spec: tuple, args: tuple) -> sp.Expr:
    """A named intermediate or held operation rebuilt from its pickled definition, at ``args``."""
    if spec[0] == "held":
        _, name, template, parts, value, arguments = spec
        cls = _held_class(name, template, parts, arguments, value)
    else:
        _, name, tex, definition, arguments, description = spec
        cls = _named_class(name, tex, definition, arguments, description)
    return cls(*args)


def named(name: str, latex: str, definition: sp.Expr, args: Iterable[sp.Symbol] | None = None,
          description: str = "") -> sp.Expr:
    r"""A name for ``definition`` as an applied function of ``args`` (by default every free symbol of the
    definition, so derivatives in any of them are carried to the definition by the chain rule).

    ``latex`` is how the page writes it, e.g. ``r"\mathcal N_1(t, x)"``; ``name`` must be unique within
    a derivation and is what plain-text output prints."""
    definition = sp.sympify(definition)
    arguments = tuple(args) if args is not None else tuple(sorted(definition.free_symbols, key=lambda s: s.name))
    return _named_class(name, latex, definition, arguments, description)(*arguments)


def _named_class(name: str, latex: str, definition: sp.Expr, arguments: tuple, description: str) -> type:
    # the description is part of the key: two derivations may name the same expression differently, and a
    # page must show its own description whichever derivation a process built first
    key = (name, latex, definition, tuple(arguments), description)
    if key not in _NAMED:  # one class per intermediate, so that SymPy sees repeated uses as the same function
        _NAMED[key] = type(name, (Named,), {"_definition": sp.Lambda(tuple(arguments), definition), "_tex": latex,
                                            "description": description, "__module__": __name__,
                                            "_spec": ("named", name, latex, definition, tuple(arguments), description)})
    return _NAMED[key]


_NAMED: dict[tuple, type] = {}


def held(name: str, template: str, parts: tuple, value: sp.Expr) -> sp.Expr:
    r"""An operation shown as written and standing for ``value``, its outcome computed by the caller
    (``template`` in LaTeX, ``@0``, ``@1``.. replaced by the printed ``parts``): an expectation
    :math:`E[\cdot]` by ``sympy.stats``, a solution by ``dsolve``. Not listed as an intermediate."""
    value = sp.sympify(value)
    arguments = tuple(sorted(value.free_symbols, key=lambda s: s.name))
    return _held_class(name, template, tuple(sp.sympify(p) for p in parts), arguments, value)(*arguments)


def _held_class(name: str, template: str, parts: tuple, arguments: tuple, value: sp.Expr) -> type:
    key = ("held", name, template, tuple(parts), tuple(arguments), value)
    if key not in _NAMED:
        _NAMED[key] = type(name, (Named,), {"_definition": sp.Lambda(tuple(arguments), value), "_template": template,
                                            "_parts": tuple(parts), "__module__": __name__,
                                            "_spec": ("held", name, template, tuple(parts), value, tuple(arguments))})
    return _NAMED[key]


def expectation(expr: sp.Expr, value: sp.Expr | None = None) -> sp.Expr:
    r""":math:`E[\text{expr}]` over the random symbols of ``expr``, shown unevaluated; computed by ``sympy.stats``
    unless the caller passes the ``value`` it integrated by another route (Gaussian moments)."""
    from sympy import stats

    return held("E", r"E\left[@0\right]", (expr,), stats.E(sp.expand(expr)) if value is None else value)


def variance(expr: sp.Expr, value: sp.Expr | None = None) -> sp.Expr:
    r""":math:`\mathrm{Var}[\text{expr}]`, shown unevaluated (``sympy.stats`` unless ``value`` is given)."""
    from sympy import stats

    return held("Var", r"\mathrm{Var}\left[@0\right]", (expr,), stats.variance(expr) if value is None else value)


def covariance(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    r""":math:`\mathrm{Cov}[a, b]` (``sympy.stats``), shown unevaluated."""
    from sympy import stats

    return held("Cov", r"\mathrm{Cov}\left[@0, @1\right]", (a, b), stats.covariance(a, b))


def intermediates(exprs: Iterable[sp.Expr]) -> list[Named]:
    """The named intermediates ``exprs`` use, those their definitions use included; each listed once,
    an intermediate after the ones its definition uses (the order a "where" block reads in)."""
    ordered: list[Named] = []
    seen: set[type] = set()

    def visit(expr: sp.Expr) -> None:
        for atom in sorted(sp.sympify(expr).atoms(Named), key=lambda a: type(a).__name__):
            if type(atom) in seen:
                continue
            seen.add(type(atom))
            if atom._template:  # a held operation: its parts may name intermediates, its value is not shown
                for part in atom._parts:
                    visit(part)
                continue
            visit(atom.definition())
            ordered.append(atom)

    for expr in exprs:
        visit(expr)
    return ordered


def expand_named(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every named intermediate replaced by its definition (nothing else evaluated)."""
    expr = sp.sympify(expr)
    for _ in range(64):
        if not expr.has(Named):
            return expr
        expr = expr.replace(lambda e: isinstance(e, Named), lambda e: e.definition())
    raise RecursionError("named intermediates define each other in a cycle")


def held_sum(*terms: sp.Expr) -> sp.Expr:
    """A sum kept as written (zero terms dropped), so the page shows its parts."""
    kept = [sp.sympify(t) for t in terms if sp.sympify(t) != 0]
    if not kept:
        return sp.Integer(0)
    return kept[0] if len(kept) == 1 else sp.Add(*kept, evaluate=False)


def held_product(*factors: sp.Expr) -> sp.Expr:
    """A product kept as written (factors of one dropped), so the page shows its parts."""
    kept = [sp.sympify(f) for f in factors if sp.sympify(f) != 1]
    if not kept:
        return sp.Integer(1)
    return kept[0] if len(kept) == 1 else sp.Mul(*kept, evaluate=False)


def held_power(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    return sp.Pow(base, exponent, evaluate=False)


def at(expr: sp.Expr, substitution: dict) -> sp.Expr:
    r"""``expr`` evaluated at ``substitution``, shown as :math:`(\cdot)\big|_{x = a}` (a ``Subs``)."""
    variables, values = zip(*substitution.items())
    return sp.Subs(expr, variables, values)


def derivative(expr: sp.Expr, *variables) -> sp.Derivative:
    """An unevaluated derivative."""
    return sp.Derivative(expr, *variables)


def limit(expr: sp.Expr, variable: sp.Symbol, point: sp.Expr, direction: str = "+") -> sp.Limit:
    """An unevaluated limit."""
    return sp.Limit(expr, variable, point, direction)


class Abbreviations:
    r"""Names for the common subexpressions of long forms (:func:`sympy.cse`), so that a page shows
    :math:`\omega_1, \omega_2, \dots` with their short definitions instead of a wall. One instance per
    derivation numbers its intermediates uniquely on that page."""

    # a form whose plain text is longer than this is abbreviated; a subexpression shorter than
    # ``inline_below`` is written out where it is used rather than named
    def __init__(self, name: str = "omega", latex: str = r"\omega", max_chars: int = 400, inline_below: int = 40):
        self.name, self.latex, self.max_chars, self.inline_below = name, latex, max_chars, inline_below
        self.count = 0

    def __call__(self, expr: sp.Expr, description: str = "") -> sp.Expr:
        expr = sp.sympify(expr)
        if len(sp.sstr(expr)) <= self.max_chars:
            return expr
        replacements, (reduced,) = sp.cse(expr, optimizations=None)
        mapping: dict[sp.Symbol, sp.Expr] = {}
        for symbol, sub in replacements:
            sub = sub.xreplace(mapping)
            if len(sp.sstr(sub)) < self.inline_below:
                mapping[symbol] = sub
                continue
            self.count += 1
            mapping[symbol] = self._name(sub, description)
        reduced = reduced.xreplace(mapping)
        if isinstance(reduced, sp.Add) and len(sp.sstr(reduced)) > self.max_chars:
            # still long: a sum of many distinct terms, named in runs that each fit on a line
            runs: list[list[sp.Expr]] = [[]]
            for term in reduced.args:
                if runs[-1] and len(sp.sstr(sp.Add(*runs[-1], term))) > self.max_chars:
                    runs.append([])
                runs[-1].append(term)
            reduced = held_sum(*(self._name(sp.Add(*run), description)
                                 if len(sp.sstr(sp.Add(*run))) > self.inline_below else sp.Add(*run) for run in runs))
        return reduced

    def _name(self, definition: sp.Expr, description: str) -> sp.Expr:
        self.count += 1
        return named(f"{self.name}{self.count}", rf"{self.latex}_{{{self.count}}}", definition,
                     description=description)
