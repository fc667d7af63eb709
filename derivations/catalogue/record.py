"""The catalogue's record of a sampler, and the step kinds a rule tells apart.

:class:`Scheme` holds a rule and everything declared about it; :func:`kinds` finds, by
running the rule on plain floats (no SymPy), which flags of ``ops`` it reads, so that
the step maps and the checks know which kinds of step have maps of their own.
"""

from __future__ import annotations

import builtins
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from derivations.core.registry import Claim, WrongVariant

Rule = Callable[..., Any]
FLAGS = ("last", "clean")  # the step kinds a rule may tell apart: ops.last, ops.lands_clean


@dataclass(frozen=True)
class Option:
    """A sampler option: a number that the step maps keep as the notation ``symbol``, a choice
    among ``choices`` (one step map each), or a count fixed at its default in the step maps."""

    name: str
    default: Any
    symbol: str | None = None
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    def validate(self, value: Any) -> None:
        if self.choices and value not in self.choices:
            raise ValueError(f"{self.name} must be one of {self.choices}, got {value!r}")
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise ValueError(f"{self.name} must lie in [{self.low}, {self.high}], got {value}")


@dataclass(frozen=True)
class MixturePlan:
    """How the mixture check runs a variant: steps that keep the discretization bias below its
    share of the detectable error (coupled sweeps in the tests), the sample size, extra options."""

    steps: int
    samples: int = 10_000
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Variant:
    """Options the checks, the tests and the report run the sampler with."""

    options: Mapping[str, Any]
    mixture: MixturePlan


@dataclass(frozen=True)
class Column:
    """A column of the exact W2 table: its label, the options, and how the NFE label maps to
    grid points (:math:`N = \\mathrm{NFE}/\\text{nfe\\_per\\_point}`); ``chain``: the scheme runs on
    Pierret & Galerne's discrete chain :math:`\\beta^D_k = \\Delta g^2(u_k)` instead of the SDE."""

    label: str
    options: Mapping[str, Any] = field(default_factory=dict)
    nfe_per_point: int = 1
    chain: bool = False

    @property
    def key(self) -> str:
        """The label as an id part: ``DDIM-eta0`` -> ``ddim_eta0``."""
        return self.label.lower().replace("-", "_")

    def points(self, nfe: int) -> int:
        return nfe // self.nfe_per_point


@dataclass(frozen=True)
class Scheme:
    """One sampler: its rule and everything declared about it."""

    name: str
    title: str
    rule: Rule = field(repr=False)
    rule_tex: str
    reference: str
    approximates: str
    process: str  # the process its checks run on (checks.sim.processes.named)
    variants: tuple[Variant, ...]
    claims: Callable[[], tuple[Claim, ...]] = field(repr=False)
    wrong_variants: Callable[[], tuple[WrongVariant, ...]] = field(repr=False)
    processes: tuple[str, ...] = ("continuous",)  # "continuous" SDEs and/or "discrete" chains
    weak_order: float | None = 1.0  # None: an O(1) bias remains as the step shrinks
    deterministic_when: Mapping[str, Any] | None = None  # options that make it noise-free; {}: always
    options: tuple[Option, ...] = ()
    fixed: Mapping[str, Any] = field(default_factory=dict)  # options of a shared rule that this scheme fixes
    table: tuple[Column, ...] = ()
    measured_bias: float | None = None  # |bias| / SE of its mixture check, for a scheme with no order
    # The end time of the weak-order sweep when not the process's: a solver in the half-log-SNR lambda
    # reaches its order only once the lambda-steps shrink with the time steps, which near t = 0 needs
    # steps well below t_end.
    order_t_end: float | None = None
    reverse_family: bool = False  # discretizes a member of the reverse lambda-family of the SDE
    assumptions: tuple[str, ...] = ()

    @property
    def derivation_id(self) -> str:
        return f"gauss_exact.step_{self.name}"

    def option(self, name: str) -> Option:
        return next(o for o in self.options if o.name == name)

    def resolve(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The rule's keyword arguments: defaults, then ``options`` (validated), then the fixed ones."""
        known = {o.name: o for o in self.options}
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ValueError(f"{self.name} has no option {', '.join(unknown)}; options: {', '.join(known) or 'none'}")
        for name, value in options.items():
            known[name].validate(value)
        return {o.name: o.default for o in self.options} | dict(options) | dict(self.fixed)

    def churn(self, options: Mapping[str, Any]) -> tuple[float, float, float] | None:
        """(S_churn, S_tmin, S_tmax) of a rule that raises its level (EDM's churn, ``ops.raised``), else None."""
        names = ("churn", "churn_t_min", "churn_t_max")
        if not builtins.all(any(o.name == n for o in self.options) for n in names):
            return None
        resolved = self.resolve(options)
        return tuple(float(resolved[n]) for n in names)

    def is_deterministic(self, options: Mapping[str, Any]) -> bool:
        if self.deterministic_when is None:
            return False
        return builtins.all(options.get(k) == v for k, v in self.deterministic_when.items())

    def choice(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The values of the choice options: which family of step maps the options select."""
        resolved = self.resolve(options)
        return tuple(str(resolved[o.name]) for o in self.options if o.choices)

    def choices(self) -> list[dict[str, Any]]:
        """Every assignment of the choice options (one set of step maps each)."""
        chosen = [o for o in self.options if o.choices]
        return [dict(zip((o.name for o in chosen), values))
                for values in itertools.product(*(o.choices for o in chosen))]


def result_name(base: str, choice: tuple[str, ...] = (), flags: frozenset[str] = frozenset()) -> str:
    """``gain``, ``noise_var_beta``, ``gain_last``: a step-map result for a choice and a step kind."""
    return "_".join((base, *choice, *sorted(flags)))


# --------------------------------------------------------------------------
# Step kinds: which flags a rule reads (traced on plain floats, no SymPy)
# --------------------------------------------------------------------------

class _TraceAt:
    def __init__(self, mean_coef: float, var: float, rise: float = 0.0):
        self.mean_coef, self.var, self.drift_coef, self.diffusion_sq = mean_coef, var, -0.5, 1.0
        self.rise = rise

    def score(self, x: float) -> float:
        return -x / (self.mean_coef**2 + self.var)


class _TraceOps:
    def __init__(self, flags: frozenset[str]):
        self.flags, self.read = flags, set()
        self.now, self.next, self.mid = _TraceAt(0.6, 0.64), _TraceAt(0.8, 0.36), _TraceAt(0.7, 0.51)
        self.h = -0.01

    @staticmethod
    def sqrt(value: float) -> float:
        return value**0.5

    @staticmethod
    def log(value: float) -> float:
        import math

        return math.log(value)

    def noise(self, x: float, var: float) -> float:
        return 0.0

    def at_lambda(self, fraction: float) -> _TraceAt:
        return _TraceAt(0.6 + 0.2 * fraction, 0.64 - 0.28 * fraction)

    def raised(self, churn: float, t_min: float, t_max: float) -> _TraceAt:
        return _TraceAt(0.55, 0.7, 0.005)

    @property
    def last(self) -> bool:
        self.read.add("last")
        return "last" in self.flags

    @property
    def lands_clean(self) -> bool:
        self.read.add("clean")
        return "clean" in self.flags


def kinds(scheme: Scheme, options: Mapping[str, Any]) -> tuple[frozenset[str], ...]:
    """The step kinds (sets of true flags) whose maps differ for these options: every subset of
    the flags the rule reads (none read: the one kind ``frozenset()``)."""
    resolved = scheme.resolve(options)
    read: set[str] = set()
    pending = [frozenset()]
    seen: set[frozenset[str]] = set()
    while pending:
        flags = pending.pop()
        if flags in seen:
            continue
        seen.add(flags)
        ops = _TraceOps(flags)
        scheme.rule(ops, 1.0, **resolved)
        read |= ops.read
        pending += [frozenset(s) for r in range(len(read) + 1) for s in itertools.combinations(sorted(read), r)]
    return tuple(frozenset(s) for r in range(len(read) + 1) for s in itertools.combinations(sorted(read), r))
