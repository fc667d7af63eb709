"""The engine's samplers: each scheme of the catalogue (:mod:`derivations.catalogue`), run by torch.

A sampler is called as ``sampler(model, grid, x_init, generator, **options)``:
``model(x, t)`` is the score, ``grid`` the times it steps through (from
:math:`T` down), ``x_init`` the starting batch (its device and dtype are the
run's), ``generator`` the one source of noise. Its record (name, process,
weak order, noise, options, variants, table columns) is the catalogue's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import torch

from derivations import catalogue

from checks.sim import steps
from checks.sim.processes import Process


@dataclass(frozen=True)
class Grid:
    """The decreasing times a sampler visits, with their process."""

    process: Process
    times: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.times) < 2 or any(b >= a for a, b in zip(self.times, self.times[1:])):
            raise ValueError("a grid needs at least two strictly decreasing times")

    @staticmethod
    def uniform(process: Process, steps: int) -> "Grid":
        return Grid(process, process.uniform_times(steps))

    @property
    def steps(self) -> int:
        return len(self.times) - 1

    def pairs(self) -> Iterator[tuple[float, float]]:
        """(current time, next time) for each step."""
        return zip(self.times[:-1], self.times[1:])


@dataclass(frozen=True)
class Sampler:
    """The torch run of the catalogue scheme ``name`` (its record is read at each call)."""

    name: str

    @property
    def scheme(self) -> catalogue.Scheme:
        return catalogue.get(self.name)

    def __call__(self, model, grid: Grid, x_init: torch.Tensor, generator, callback=None,
                 block_rows: int | None = None, **options: Any) -> torch.Tensor:
        """``block_rows``: see :func:`checks.sim.steps.walk` (row-wise models only)."""
        scheme = self.scheme
        return steps.walk(scheme.rule, scheme.resolve(options), model, grid, x_init, generator, callback,
                          block_rows)

    @property
    def approximates(self) -> str:
        return self.scheme.approximates

    @property
    def reference(self) -> str:
        return self.scheme.reference

    @property
    def processes(self) -> tuple[str, ...]:
        return self.scheme.processes

    @property
    def weak_order(self) -> float | None:
        return self.scheme.weak_order

    @property
    def variants(self) -> tuple[dict[str, Any], ...]:
        return tuple(dict(v.options) for v in self.scheme.variants)

    def is_deterministic(self, options: dict[str, Any]) -> bool:
        return self.scheme.is_deterministic(options)


def get(name: str) -> Sampler:
    catalogue.get(name)  # an unknown name raises, naming the closest
    return Sampler(name)


def all() -> list[Sampler]:  # noqa: A001 - the registry's documented interface
    return [Sampler(s.name) for s in catalogue.all()]


def variants() -> list[tuple[Sampler, dict[str, Any]]]:
    """Every (sampler, options) pair that is checked."""
    return [(s, dict(v)) for s in all() for v in s.variants]


def variant_label(s: Sampler, options: dict[str, Any]) -> str:
    return s.name + "".join(f"[{k}={v}]" for k, v in sorted(options.items()))
