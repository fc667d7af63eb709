"""The derivation registry: one record per identity, keyed by a stable id.

A family module registers its derivations with :func:`derivation`; the
decorated builder runs SymPy only when a record's body is first needed, so
importing the package and listing ids stays fast. The tier a derivation
declares is data that the tests assert against the tier its proofs reach.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterable, TypeVar

import sympy as sp

from derivations.core import notation
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

    @functools.cached_property
    def body(self) -> Body:
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
        """Every step and claim proved; cached per process."""
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

    def function(self, name: str, backend: str = "numpy") -> "Lambdified":
        """The result ``name`` compiled for ``backend`` ('numpy', 'torch' or 'mpmath'); built once."""
        return _lambdified(self.id, name, backend)


def fold_constants(expr: sp.Expr) -> sp.Expr:
    """Constant functions and radicals (``gamma(3/4)``, ``sqrt(2)``) as 30-digit floats: torch has no
    ``gamma`` and its ``sqrt`` refuses plain numbers."""
    return expr.replace(lambda e: (e.is_Function or e.is_Pow) and not e.free_symbols and not e.is_Number,
                        lambda e: sp.Float(e.evalf(30), 30))


class Lambdified:
    """A closed form compiled once; called with keyword values by notation name.

    Extra keywords are ignored, so a caller can pass every schedule quantity
    it has and each closed form takes the ones it needs.
    """

    def __init__(self, expr: sp.Expr, backend: str):
        self.expr = expr
        self.arg_names = tuple(sorted(s.name for s in expr.free_symbols))
        by_name = {s.name: s for s in expr.free_symbols}
        args = [by_name[n] for n in self.arg_names]
        self._fn = sp.lambdify(args, fold_constants(expr) if backend == "torch" else expr, modules=backend)
        self.backend = backend

    def __call__(self, **values: Any) -> Any:
        missing = [n for n in self.arg_names if n not in values]
        if missing:
            raise TypeError(f"closed form needs {', '.join(missing)}")
        return self._fn(*(values[n] for n in self.arg_names))


@functools.lru_cache(maxsize=None)
def _lambdified(derivation_id: str, name: str, backend: str) -> Lambdified:
    return Lambdified(get(derivation_id).result(name), backend)


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


class UnknownId(KeyError):
    """An id that is not registered; carries the closest registered ids."""

    def __init__(self, kind: str, unknown: str, known: Iterable[str]):
        self.unknown = unknown
        self.closest = difflib.get_close_matches(unknown, list(known), n=3, cutoff=0.4)
        hint = f"; closest: {', '.join(self.closest)}" if self.closest else ""
        super().__init__(f"unknown {kind} id {unknown!r}{hint}")

    def __str__(self) -> str:
        return self.args[0]


T = TypeVar("T")


class Registry(Generic[T]):
    """Items keyed by a stable id, listed sorted by id.

    The one registry mechanism of the suite (derivations, checks, samplers,
    commands, studies): a duplicate id raises; an unknown id raises
    :class:`UnknownId` naming the closest ids.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, key: str, item: T) -> None:
        if key in self._items:
            raise ValueError(f"{self.kind} id {key!r} is registered twice")
        self._items[key] = item

    def get(self, key: str) -> T:
        try:
            return self._items[key]
        except KeyError:
            raise UnknownId(self.kind, key, self._items) from None

    def all(self) -> list[T]:
        return [self._items[k] for k in sorted(self._items)]

    def __contains__(self, key: object) -> bool:
        return key in self._items


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
            builder=builder,
        ))
        return builder

    return register


def get(id: str) -> Derivation:
    return _REGISTRY.get(id)


def all() -> list[Derivation]:  # noqa: A001 - the registry's documented interface
    """Every registered derivation, sorted by id."""
    return _REGISTRY.all()


def search(text: str) -> list[Derivation]:
    """Derivations whose id, title or statement contains ``text`` (case-insensitive)."""
    needle = text.lower()
    return [d for d in all() if needle in f"{d.id} {d.title} {d.statement}".lower()]
