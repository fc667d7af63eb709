"""The sampler registry: every reverse sampler by name, with its theory declared as data.

A sampler is ``fn(model, grid, x_init, generator, **options) -> Tensor``:
``model(x, t)`` is the score, ``grid`` the times it steps through (from
:math:`T` down), ``x_init`` the starting batch (its device and dtype are the
run's), ``generator`` the one source of noise. The record declares what the
sampler approximates, its weak order, when it is deterministic, and the
option sets (variants) that the tests, the checks and the report loop over.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch

from derivations.core.registry import Registry

from checks.sim.processes import Process

SamplerFn = Callable[..., torch.Tensor]


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
    name: str
    fn: SamplerFn = field(repr=False)
    approximates: str  # the continuous or discrete law it targets
    reference: str
    processes: tuple[str, ...]  # names of the processes it applies to ("discrete" chains or "continuous")
    weak_order: float | None  # None: the scheme keeps an O(1) bias as the step shrinks (tested by law only)
    variants: tuple[dict[str, Any], ...] = ({},)
    deterministic_when: dict[str, Any] | None = None  # options that make it noise-free; {} = always

    def __call__(self, model, grid: Grid, x_init: torch.Tensor, generator, **options) -> torch.Tensor:
        return self.fn(model, grid, x_init, generator, **options)

    def is_deterministic(self, options: dict[str, Any]) -> bool:
        if self.deterministic_when is None:
            return False
        return builtins.all(options.get(k) == v for k, v in self.deterministic_when.items())

    def applies_to(self, process: Process) -> bool:
        return ("continuous" if process.continuous else "discrete") in self.processes


_REGISTRY: Registry[Sampler] = Registry("sampler")


def sampler(name: str, approximates: str, reference: str, processes: tuple[str, ...] = ("continuous",),
            weak_order: float | None = 1.0, variants: tuple[dict[str, Any], ...] = ({},),
            deterministic_when: dict[str, Any] | None = None) -> Callable[[SamplerFn], SamplerFn]:
    """Register the decorated sampler under ``name``; a duplicate name raises."""

    def register(fn: SamplerFn) -> SamplerFn:
        _REGISTRY.add(name, Sampler(name, fn, approximates, reference, tuple(processes), weak_order,
                                    tuple(variants), deterministic_when))
        return fn

    return register


def get(name: str) -> Sampler:
    return _REGISTRY.get(name)


def all() -> list[Sampler]:  # noqa: A001 - the registry's documented interface
    return _REGISTRY.all()


def variants() -> list[tuple[Sampler, dict[str, Any]]]:
    """Every (sampler, options) pair that is checked."""
    return [(s, dict(v)) for s in all() for v in s.variants]


def variant_label(s: Sampler, options: dict[str, Any]) -> str:
    return s.name + "".join(f"[{k}={v}]" for k, v in sorted(options.items()))
