"""The derivation registry: one record per identity, keyed by a stable id.

A family module registers its derivations with :func:`derivation`; the
decorated builder runs SymPy only when a record's body is first needed, so
importing the package and listing ids stays fast. Bodies, verdicts and compiled
closed forms are kept on disk by :mod:`derivations.core.cache` (keyed by the
sources they depend on), so a process reads what an earlier one derived. The
tier a derivation declares is data that the tests assert against the tier its
proofs reach.
"""

from __future__ import annotations

import importlib

import functools
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

import sympy as sp

from derivations.core import cache, notation, work
from derivations.core.keyed import Registry, UnknownId, matches  # noqa: F401 - UnknownId is re-exported
from derivations.core.proof import Proof, Tier, prove, prove_inequality


EQUAL = "="
AT_MOST = "<="


@dataclass(frozen=True)
class Relation:
    """A verified relation ``lhs == rhs`` (or ``lhs <= rhs``, ``kind=AT_MOST``) with what it means.

    The sides are written as the page shows them: an operation held unevaluated
    (:mod:`derivations.core.work`) on one side, its simplified outcome on the other;
    the proof evaluates both. ``description`` names the operation.
    """

    description: str
    lhs: sp.Expr
    rhs: sp.Expr
    # False where SymPy's simplifiers are known not to finish: the relation is then
    # checked at the numeric tier only (the derivation declares that tier).
    attempt_exact: bool = True
    id: str = ""
    kind: str = EQUAL
    # Applied to both evaluated sides before they are compared (a rewrite the description states,
    # e.g. derivatives of the moments replaced by their ODEs); None: compare as evaluated.
    prepare: Callable[[sp.Expr], sp.Expr] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in (EQUAL, AT_MOST):
            raise ValueError(f"relation kind {self.kind!r}; known: {EQUAL!r}, {AT_MOST!r}")

    @property
    def latex_symbol(self) -> str:
        return "=" if self.kind == EQUAL else r"\le"

    def prove(self) -> Proof:
        if self.kind == AT_MOST:
            return prove_inequality(self.lhs, self.rhs, attempt_exact=self.attempt_exact, prepare=self.prepare)
        return prove(self.lhs, self.rhs, attempt_exact=self.attempt_exact, prepare=self.prepare)


@dataclass(frozen=True)
class Result:
    """A named closed form that checks and users consume (``expr`` may use named intermediates)."""

    name: str
    expr: sp.Expr
    description: str


@dataclass(frozen=True)
class WrongVariant:
    """A plausible misprint of a result, which the proofs and checks must reject."""

    result: str
    expr: sp.Expr
    description: str
    id: str = ""


@dataclass(frozen=True)
class Claim:
    """A form from the literature, compared against the derived result.

    ``printed`` is the form as the source prints it, in the source's symbols, and
    ``substitution`` the stated map from the source's symbols to the suite's
    notation; ``expr`` is then ``printed`` under that map (:meth:`as_printed`).
    ``source`` names the work, ``equation`` the place in it ("eq. (7)", "Algorithm 1").
    """

    result: str
    expr: sp.Expr
    source: str
    id: str = ""
    equation: str = ""
    printed: sp.Expr | None = None
    substitution: tuple[tuple[sp.Expr, sp.Expr], ...] = ()

    @classmethod
    def as_printed(cls, result: str, printed: sp.Expr, source: str, equation: str,
                   substitution: dict | None = None, id: str = "") -> "Claim":
        """The claim whose compared form is ``printed`` with ``substitution`` applied."""
        mapping = tuple((sp.sympify(k), sp.sympify(v)) for k, v in (substitution or {}).items())
        expr = sp.sympify(printed).xreplace(dict(mapping))
        return cls(result, expr, source, id=id, equation=equation, printed=sp.sympify(printed), substitution=mapping)

    @property
    def citation(self) -> str:
        return f"{self.source}, {self.equation}" if self.equation else self.source


@dataclass(frozen=True)
class Equivalent:
    """Another way of writing a derived result (a restatement, not a citation), proved equal to it."""

    result: str
    expr: sp.Expr
    description: str
    id: str = ""


@dataclass(frozen=True)
class Body:
    """What a builder derives: the steps, results, claims, equivalent forms and wrong variants."""

    steps: tuple[Relation, ...]
    results: tuple[Result, ...]
    claims: tuple[Claim, ...] = ()
    wrong_variants: tuple[WrongVariant, ...] = ()
    equivalents: tuple[Equivalent, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The outcome of proving one relation of a derivation."""

    kind: str  # "step", "claim", "equivalent" or "variant"
    description: str
    proof: Proof
    id: str = ""


@dataclass(eq=False)
class Derivation:
    """A registered identity. Metadata is immediate; ``body`` is derived on demand."""

    id: str
    title: str
    statement: str
    assumptions: tuple[str, ...]
    references: tuple[str, ...]
    declared_tier: Tier
    builder: Callable[[], Body] = field(repr=False)
    # The defining module keys the disk cache; a derivation built outside the registry has none.
    module: str = ""

    @functools.cached_property
    def body(self) -> Body:
        return cache.lookup(self, "body", self._build)

    def _build(self) -> Body:
        body = _with_ids(self.builder())
        _validate(self.id, body)
        return body

    @property
    def results(self) -> dict[str, Result]:
        return {r.name: r for r in self.body.results}

    def result(self, name: str) -> sp.Expr:
        """The closed form ``name``, named intermediates replaced by their definitions."""
        try:
            return work.expand_named(self.results[name].expr)
        except KeyError:
            raise KeyError(f"{self.id} has no result {name!r}; it has {', '.join(self.results)}") from None

    @functools.cached_property
    def verdicts(self) -> tuple[Verdict, ...]:
        """Every step, claim and equivalent form proved; cached per process and on disk."""
        return cache.lookup(self, "verdicts", self._prove)

    def _prove(self) -> tuple[Verdict, ...]:
        verdicts = [Verdict("step", s.description, s.prove(), s.id) for s in self.body.steps]
        for claim in self.body.claims:
            verdicts.append(Verdict("claim", claim.citation, prove(self.result(claim.result), claim.expr), claim.id))
        for form in self.body.equivalents:
            verdicts.append(Verdict("equivalent", form.description, prove(self.result(form.result), form.expr),
                                    form.id))
        return tuple(verdicts)

    @functools.cached_property
    def variant_verdicts(self) -> tuple[Verdict, ...]:
        """Every wrong variant compared with its result (each must fail); cached per process and on disk."""
        return cache.lookup(self, "variant_verdicts", self._prove_variants)

    def _prove_variants(self) -> tuple[Verdict, ...]:
        return tuple(Verdict("variant", w.description, prove(self.result(w.result), w.expr), w.id)
                     for w in self.body.wrong_variants)

    def verdict(self, item_id: str) -> Verdict:
        """The verdict of the step, claim, equivalent form or wrong variant with id ``item_id``."""
        for v in self.verdicts:
            if v.id == item_id:
                return v
        for v in self.variant_verdicts:
            if v.id == item_id:
                return v
        raise KeyError(f"{self.id} has no step, claim or variant with id {item_id!r}")

    @property
    def tier(self) -> Tier:
        """The tier actually reached: the weakest over steps, claims and equivalent forms."""
        return Tier.weakest([v.proof.tier for v in self.verdicts])

    def displayed(self) -> list[sp.Expr]:
        """Every expression the derivation displays (steps, results, claims, forms, variants)."""
        body = self.body
        exprs: list[sp.Expr] = [r.expr for r in body.results]
        exprs += [e for s in body.steps for e in (s.lhs, s.rhs)]
        exprs += [c.expr for c in body.claims] + [f.expr for f in body.equivalents]
        exprs += [w.expr for w in body.wrong_variants]
        return exprs

    def intermediates(self) -> list[work.Named]:
        """The named intermediates the page uses, each to be shown with its definition."""
        return work.intermediates(self.displayed())

    def symbols(self) -> list[notation.Name]:
        """Notation entries used anywhere in the derivation (inside named intermediates too)."""
        return notation.entries_for([work.expand_named(e) for e in self.displayed()])

    def function(self, name: str, backend: str = "numpy") -> cache.Compiled:
        """The result ``name`` compiled for ``backend`` ('numpy', 'torch' or 'mpmath'); built once."""
        return _lambdified(self.id, name, backend)


def fold_constants(expr: sp.Expr) -> sp.Expr:
    """Constant functions and radicals (``gamma(3/4)``, ``sqrt(2)``) as 30-digit floats: torch has no
    ``gamma`` and its ``sqrt`` refuses plain numbers."""
    return expr.replace(lambda e: (e.is_Function or e.is_Pow) and not e.free_symbols and not e.is_Number,
                        lambda e: sp.Float(e.evalf(30), 30))


class Lambdified(cache.Compiled):
    """A closed form compiled once by SymPy's ``lambdify``; called with keyword values by notation name."""

    def __init__(self, expr: sp.Expr, backend: str):
        expr = work.expand_named(expr)
        if expr.has(sp.Derivative, sp.Subs, sp.Integral, sp.Limit, sp.Sum):
            expr = expr.doit()  # a form written with held operations compiles as their outcome
        self.expr = expr
        arg_names = tuple(sorted(s.name for s in expr.free_symbols))
        by_name = {s.name: s for s in expr.free_symbols}
        args = [by_name[n] for n in arg_names]
        fn = sp.lambdify(args, fold_constants(expr) if backend == "torch" else expr, modules=backend)
        super().__init__(fn, arg_names, backend)


@functools.lru_cache(maxsize=None)
def _lambdified(derivation_id: str, name: str, backend: str) -> cache.Compiled:
    d = get(derivation_id)
    return cache.lookup(d, f"function.{name}.{backend}", lambda: Lambdified(d.result(name), backend))


def _with_ids(body: Body) -> Body:
    """Every step, claim, equivalent form and variant with an id: the given one, else a positional
    (steps ``step-1``.., variants ``variant-1``..) or result-named one (claims, equivalent forms)."""
    def numbered(items, prefix):
        return tuple(item if item.id else replace(item, id=f"{prefix}-{i}") for i, item in enumerate(items, 1))

    def by_result(items, prefix):
        counts: dict[str, int] = {}
        out = []
        for item in items:
            counts[item.result] = counts.get(item.result, 0) + 1
            suffix = "" if counts[item.result] == 1 else f"-{counts[item.result]}"
            out.append(item if item.id else replace(item, id=f"{prefix}{item.result}{suffix}"))
        return tuple(out)

    return replace(body, steps=numbered(body.steps, "step"), wrong_variants=numbered(body.wrong_variants, "variant"),
                   claims=by_result(body.claims, "claim:"), equivalents=by_result(body.equivalents, "form:"))


def _validate(derivation_id: str, body: Body) -> None:
    from sympy.stats.rv import RandomSymbol  # random variables inside held expectations are bound

    names = [r.name for r in body.results]
    if len(set(names)) != len(names):
        raise ValueError(f"{derivation_id}: duplicate result names")
    for item in (*body.claims, *body.wrong_variants, *body.equivalents):
        if item.result not in names:
            raise ValueError(f"{derivation_id}: {item!r} names an unknown result")
    ids = [item.id for item in (*body.steps, *body.claims, *body.equivalents, *body.wrong_variants)]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"{derivation_id}: ids used twice: {', '.join(duplicated)}")
    exprs = [r.expr for r in body.results] + [e for s in body.steps for e in (s.lhs, s.rhs)]
    exprs += [c.expr for c in body.claims] + [f.expr for f in body.equivalents]
    unknown = sorted({s.name for e in exprs for s in work.expand_named(e).free_symbols
                      if s.name not in notation.names() and not isinstance(s, RandomSymbol)})
    if unknown:
        raise ValueError(f"{derivation_id}: symbols outside the notation: {', '.join(unknown)}")


_REGISTRY: Registry[Derivation] = Registry("derivation")


def derivation(
    id: str,
    title: str,
    statement: str,
    tier: Tier,
    assumptions: Iterable[str] = (),
    references: Iterable[str] = (),
) -> Callable[[Callable[[], Body]], Callable[[], Body]]:
    """Register the decorated builder under ``id``; a duplicate id raises."""

    def register(builder: Callable[[], Body]) -> Callable[[], Body]:
        _REGISTRY.add(id, Derivation(
            id=id,
            title=title,
            statement=statement,
            assumptions=tuple(assumptions),
            references=tuple(references),
            declared_tier=Tier(tier),
            module=builder.__module__,
            builder=builder,
        ))
        return builder

    return register


def get(id: str) -> Derivation:
    cache.note_access(id)  # a build in progress depends on it
    if id not in _REGISTRY:
        _register_family_of(id)
    if id not in _REGISTRY:
        _register_families()
    return _REGISTRY.get(id)


def all() -> list[Derivation]:  # noqa: A001 - the registry's documented interface
    """Every registered derivation, sorted by id."""
    _register_families()
    return _REGISTRY.all()


def _register_family_of(id: str) -> None:
    """Import only the module that registers ``id``, as the cached catalog names it: a command about
    one derivation (``verify``) then imports one family, not all of them."""
    import derivations

    if derivations.loading() or derivations.loaded():
        return
    stored = cache.stored_catalog()
    if stored is not None and id in stored.summaries:
        importlib.import_module(stored.summaries[id].module)


def _register_families() -> None:
    import derivations  # the package imports its families on first use, not on import

    derivations.load()


def search(text: str) -> list[Derivation]:
    """Derivations whose id, title or statement contains ``text`` (case-insensitive)."""
    return [d for d in all() if matches(text, d.id, d.title, d.statement)]
