"""The columns of the exact W2 table: the catalogue's ``table`` entries, and how an NFE label maps to grid points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from derivations import catalogue


@dataclass(frozen=True)
class SchemeSpec:
    """A column of the table: a catalogue scheme with the column's options."""

    scheme: catalogue.Scheme
    column: catalogue.Column

    @property
    def label(self) -> str:
        return self.column.label

    @property
    def derivation_id(self) -> str:
        return self.scheme.derivation_id

    @property
    def order(self) -> float:
        return self.scheme.weak_order

    def points(self, nfe: int) -> int:
        return self.column.points(nfe)

    @property
    def chain(self) -> bool:
        """The column runs on Pierret & Galerne's DDPM chain instead of the SDE."""
        return self.column.chain

    @property
    def fixed(self) -> dict[str, float]:
        """The column's option values, by notation name."""
        return {o.symbol: float(self.column.options[o.name]) for o in self.scheme.options
                if o.symbol and o.name in self.column.options}

    @property
    def churn(self) -> tuple[float, float, float] | None:
        """(S_churn, S_tmin, S_tmax) of a scheme whose rule raises the level (EDM's churn), else None."""
        return self.scheme.churn(self.column.options)

    def result(self, base: str, last: bool, clean: bool = False) -> str:
        """The step-map result for a step (the last one, or any other; ``clean``: onto v = 0), among the
        step kinds the rule tells apart."""
        kinds = catalogue.kinds(self.scheme, self.column.options)
        read = frozenset().union(*kinds)
        flags = frozenset(f for f, holds in (("last", last), ("clean", clean)) if holds and f in read)
        return catalogue.result_name(base, self.scheme.choice(self.column.options), flags)


SCHEMES: tuple[SchemeSpec, ...] = tuple(SchemeSpec(s, c) for s, c in catalogue.columns())
SCHEME_BY_LABEL = {s.label: s for s in SCHEMES}


def _half_plus_one(nfe: int) -> int:
    return nfe // 2 + 1


def _same(nfe: int) -> int:
    return nfe


# The reading in which the label counts score evaluations exactly (Heun: 2(N-1) = NFE); and,
# for RK4, the reading in which the label counts grid points.
ALTERNATIVE_POINTS: dict[str, Callable[[int], int]] = {"Heun": _half_plus_one, "RK4": _same}
