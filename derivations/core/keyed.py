"""The one registry mechanism of the suite, and the error for an unknown id.

Kept apart from :mod:`derivations.core.registry` and free of SymPy, so that the command line
can parse its arguments and report an unknown id without importing SymPy or torch.
"""

from __future__ import annotations

import difflib
from typing import Generic, Iterable, TypeVar


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


def matches(text: str, *fields: str) -> bool:
    """The registries' text search: ``text`` occurs in one of ``fields`` (case-insensitive)."""
    return text.lower() in " ".join(fields).lower()
