"""The check registry: Monte Carlo checks keyed by stable ids.

A check names the derivations it tests and the closed forms it uses
(``uses``). It has two phases: ``simulate(ctx)`` draws samples with a
generator seeded from the check's own id, and ``compare(ctx, samples)`` turns
them into :class:`~checks.core.stats.Estimate` records using the closed forms;
:func:`run` applies the one statistical rule of :mod:`checks.core.stats` and
returns a :class:`CheckResult`. Because the phases are separate,
:func:`run_variants` simulates once and compares against several sets of
closed forms: a test feeds wrong variants in place of derived forms
(``overrides``) and watches the check reject them.
"""

from __future__ import annotations

import builtins
import hashlib
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, Iterable

import sympy as sp
import torch

import derivations
from derivations.core.registry import Lambdified, Registry

from checks.core import stats
from checks.core.device import resolve_device
from checks.core import memory

Quantity = tuple[str, str]  # (derivation id, result name)


def seed_for(check_id: str, offset: int = 0, shard: int | None = None) -> int:
    """A 63-bit seed from the check's id (and a user offset, and a shard's index), never from import order."""
    key = f"{check_id}#{offset}" + ("" if shard is None else f"/{shard}")
    digest = hashlib.sha256(key.encode()).hexdigest()
    return int(digest[:15], 16)


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    title: str
    derivation_ids: tuple[str, ...]
    law: str
    statistics: tuple[stats.Statistic, ...]
    n_samples: int
    seed: int
    device: str
    dtype: str
    false_alarm: float
    wall_time_s: float

    @property
    def passed(self) -> bool:
        return builtins.all(s.passed for s in self.statistics)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "FAIL"

    def as_dict(self) -> dict:
        out = asdict(self)
        out["statistics"] = [s.as_dict() for s in self.statistics]
        out["passed"] = self.passed
        return out

    @classmethod
    def from_dict(cls, values: dict) -> "CheckResult":
        """The inverse of :meth:`as_dict` (which adds the derived ``passed``)."""
        known = {f.name: values[f.name] for f in fields(cls)}
        return cls(**known | {"derivation_ids": tuple(known["derivation_ids"]),
                              "statistics": tuple(stats.Statistic.from_dict(s) for s in known["statistics"])})


@dataclass
class CheckContext:
    """What a check function receives: sizes, device, a seeded generator, closed forms."""

    check: "Check"
    n_samples: int
    seed: int
    device: torch.device
    dtype: torch.dtype
    overrides: dict[Quantity, sp.Expr] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._generator = torch.Generator(device=self.device).manual_seed(self.seed)

    def generator(self) -> torch.Generator:
        """The check's one random stream: every draw continues it, none restarts it."""
        return self._generator

    def normal(self, *shape: int) -> torch.Tensor:
        """Standard normal draws of ``shape`` from the check's stream, on its device and dtype."""
        return torch.randn(shape, generator=self._generator, dtype=self.dtype, device=self.device)

    def quantity(self, derivation_id: str, name: str) -> Callable[..., torch.Tensor]:
        """The torch closed form of a declared quantity, or its override."""
        key = (derivation_id, name)
        if key not in self.check.uses:
            raise KeyError(f"check {self.check.id} uses {key} without declaring it")
        if key in self.overrides:
            return Lambdified(self.overrides[key], "torch")
        return derivations.get(derivation_id).function(name, "torch")

    def tensor(self, values) -> torch.Tensor:
        return torch.as_tensor(values, dtype=self.dtype, device=self.device)


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    law: str
    tests: tuple[str, ...]
    uses: tuple[Quantity, ...]
    default_samples: int
    simulate: Callable[[CheckContext], Any] = field(repr=False)
    compare: Callable[[CheckContext, Any], list[stats.Estimate]] = field(repr=False)
    false_alarm: float = stats.FALSE_ALARM_PER_CHECK


_REGISTRY: Registry[Check] = Registry("check")


def check(
    id: str, title: str, law: str, tests: Iterable[str], uses: Iterable[Quantity], samples: int,
    simulate: Callable[[CheckContext], Any], false_alarm: float = stats.FALSE_ALARM_PER_CHECK,
) -> Callable:
    """Register ``compare(ctx, simulate(ctx)) -> list[Estimate]`` under ``id``."""

    def register(compare: Callable[[CheckContext, Any], list[stats.Estimate]]) -> Callable:
        uses_ = tuple(uses)
        tested = tuple(tests)
        for derivation_id, _ in uses_:
            if derivation_id not in tested:
                raise ValueError(f"check {id} uses {derivation_id} but does not list it in tests")
        _REGISTRY.add(id, Check(id, title, law, tested, uses_, samples, simulate, compare, false_alarm))
        return compare

    return register


def get(id: str) -> Check:
    return _REGISTRY.get(id)


def all() -> list[Check]:  # noqa: A001 - the registry's documented interface
    return _REGISTRY.all()


def for_derivation(derivation_id: str) -> list[Check]:
    """The checks that test ``derivation_id``."""
    return [c for c in all() if derivation_id in c.tests]


def run(
    check_id: str,
    device: str = "auto",
    samples: int | None = None,
    seed_offset: int = 0,
    dtype: torch.dtype = torch.float64,
    overrides: dict[Quantity, sp.Expr] | None = None,
) -> CheckResult:
    """Run one check and test its estimates."""
    return run_variants(check_id, [overrides or {}], device, samples, seed_offset, dtype)[0]


def run_variants(
    check_id: str,
    variants: list[dict[Quantity, sp.Expr]],
    device: str = "auto",
    samples: int | None = None,
    seed_offset: int = 0,
    dtype: torch.dtype = torch.float64,
) -> list[CheckResult]:
    """Simulate once; compare the samples with each set of closed forms (``{}``: the derived ones)."""
    chk = get(check_id)
    n = samples or chk.default_samples
    if n < stats.MIN_SAMPLES:
        raise ValueError(f"{check_id}: at least {stats.MIN_SAMPLES} samples are needed for the normal approximation, "
                         f"got {n}")
    seed = seed_for(chk.id, seed_offset)
    ctx = CheckContext(chk, n, seed, resolve_device(device), dtype)
    memory.keep_freed_memory()  # a simulation's step tensors reuse the last step's memory (same numbers, less time)
    start = time.perf_counter()
    simulated = chk.simulate(ctx)
    if ctx.device.type == "cuda":
        torch.cuda.synchronize(ctx.device)
    wall = time.perf_counter() - start
    results = []
    for overrides in variants:
        ctx.overrides = dict(overrides)
        results.append(CheckResult(
            check_id=chk.id,
            title=chk.title,
            derivation_ids=chk.tests,
            law=chk.law,
            statistics=tuple(stats.test(chk.compare(ctx, simulated), chk.false_alarm)),
            n_samples=n,
            seed=seed,
            device=str(ctx.device),
            dtype=str(dtype).removeprefix("torch."),
            false_alarm=chk.false_alarm,
            wall_time_s=wall,
        ))
    return results
