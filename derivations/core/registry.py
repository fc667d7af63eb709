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

import functools
from dataclasses import dataclass, field
from typing import Callable, Iterable

import sympy as sp

from derivations.core import cache, notation
from derivations.core.keyed import Registry, UnknownId, matches  # noqa: F401 - UnknownId is re-exported
from derivations.core.proof import Proof, Tier, prove


@dataclass(frozen=True)
class Relation:
    """A verified equality ``lhs == rhs`` with what it means."""

    description: str
    lhs: sp.Expr
    rhs: sp.Expr
    # False where SymPy's simplifiers are known not to finish: the relation is then
    # checked at the numeric tier only (the derivation declares that tier).
    attempt_exact: bool = True

    def prove(self) -> Proof:
        return prove(self.lhs, self.rhs, attempt_exact=self.attempt_exact)


@dataclass(frozen=True)
class Result:
    """A named closed form that checks and users consume."""

    name: str
    expr: sp.Expr
    description: str


@dataclass(frozen=True)
class WrongVariant:
    """A plausible misprint of a result, which the proofs and checks must reject."""

    result: str
    expr: sp.Expr
    description: str


@dataclass(frozen=True)
class Claim:
    """A form from the literature, compared against the derived result."""

    result: str
    expr: sp.Expr
    source: str


@dataclass(frozen=True)
class Body:
    """What a builder derives: the steps, results, claims and wrong variants."""

    steps: tuple[Relation, ...]
    results: tuple[Result, ...]
    claims: tuple[Claim, ...] = ()
    wrong_variants: tuple[WrongVariant, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The outcome of proving one relation of a derivation."""

    kind: str  # "step" or "claim"
    description: str
    proof: Proof


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
        body = self.builder()
        _validate(self.id, body)
        return body

    @property
    def results(self) -> dict[str, Result]:
        return {r.name: r for r in self.body.results}

    def result(self, name: str) -> sp.Expr:
        try:
            return self.results[name].expr
        except KeyError:
            raise KeyError(f"{self.id} has no result {name!r}; it has {', '.join(self.results)}") from None

    @functools.cached_property
    def verdicts(self) -> tuple[Verdict, ...]:
        """Every step and claim proved; cached per process and on disk."""
        return cache.lookup(self, "verdicts", self._prove)

    def _prove(self) -> tuple[Verdict, ...]:
        verdicts = [Verdict("step", s.description, s.prove()) for s in self.body.steps]
        for claim in self.body.claims:
            verdicts.append(Verdict("claim", claim.source, prove(self.result(claim.result), claim.expr)))
        return tuple(verdicts)

    @property
    def tier(self) -> Tier:
        """The tier actually reached: the weakest over steps and claims."""
        return Tier.weakest([v.proof.tier for v in self.verdicts])

    def symbols(self) -> list[notation.Name]:
        """Notation entries used anywhere in the derivation."""
        exprs: list[sp.Expr] = [r.expr for r in self.body.results]
        exprs += [e for s in self.body.steps for e in (s.lhs, s.rhs)]
        exprs += [c.expr for c in self.body.claims]
        return notation.entries_for(exprs)

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


def _validate(derivation_id: str, body: Body) -> None:
    names = [r.name for r in body.results]
    if len(set(names)) != len(names):
        raise ValueError(f"{derivation_id}: duplicate result names")
    for item in (*body.claims, *body.wrong_variants):
        if item.result not in names:
            raise ValueError(f"{derivation_id}: {item!r} names an unknown result")
    exprs = [r.expr for r in body.results] + [e for s in body.steps for e in (s.lhs, s.rhs)]
    unknown = sorted({n for e in exprs for n in notation.undeclared(e)})
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
        _register_families()
    return _REGISTRY.get(id)


def all() -> list[Derivation]:  # noqa: A001 - the registry's documented interface
    """Every registered derivation, sorted by id."""
    _register_families()
    return _REGISTRY.all()


def _register_families() -> None:
    import derivations  # the package imports its families on first use, not on import

    derivations.load()


def search(text: str) -> list[Derivation]:
    """Derivations whose id, title or statement contains ``text`` (case-insensitive)."""
    return [d for d in all() if matches(text, d.id, d.title, d.statement)]
