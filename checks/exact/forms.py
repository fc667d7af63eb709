"""The derived step maps of the table's columns, compiled once for numpy and kept on disk.

Each gain is split by powers of the score precisions (:data:`PRECISION_NAMES`): its
coefficients depend on the step only and are evaluated on the grid alone, the monomials
on the (steps x eigenvalues) block.

The compiled maps and the columns' layout are kept in the derivation cache
(:func:`derivations.core.cache.memo`), keyed by every source of ``derivations/`` (the step maps,
the catalogue's rules and columns, the notation) and of this module and :mod:`checks.exact.columns`;
each coefficient is a :class:`derivations.core.cache.Compiled`, stored as its generated source.
A warm cache loads them without SymPy, the catalogue or a family.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from derivations.core import cache

if TYPE_CHECKING:
    import sympy as sp

Powers = tuple[int, ...]
# At the step's start, end and midpoint, at its raised level (EDM's churn) and at a third and two thirds of its
# half-log-SNR increment (DPM-Solver-3); a power 0 where a column does not read the point.
PRECISION_NAMES = ("prec_k_pg", "prec_next_pg", "prec_mid_pg", "prec_hat_pg", "prec_s1_pg", "prec_s2_pg")


@dataclass(frozen=True)
class CompiledStep:
    """gain = sum_m coef_m(step) * prod(precision^e); noise_var(step) with no eigenvalue dependence, or
    (``noise_before``) the noise injected before the step's eigenvalue-dependent part: then the step's
    noise is gain^2 * noise_var(step) (EDM's churn: fresh noise, then a Heun step).
    Each function is called with keyword values by notation name (extra ones ignored)."""

    monomials: tuple[tuple[Powers, cache.Compiled], ...]
    noise_var: cache.Compiled | None
    arg_names: tuple[str, ...]
    noise_before: bool = False


@dataclass(frozen=True)
class Layout:
    """What the table needs of a column besides its step maps, without the catalogue: its label,
    whether it runs on the DDPM chain, its fixed option values (by notation name) and how its
    NFE label maps to grid points (the catalogue's :meth:`derivations.catalogue.Column.points`,
    which a test compares with this one)."""

    label: str
    chain: bool
    fixed: dict[str, float] = field(hash=False)
    nfe_per_point: int
    churn: tuple[float, float, float] | None = None  # (S_churn, S_tmin, S_tmax) of a column that raises its level

    def points(self, nfe: int) -> int:
        return nfe // self.nfe_per_point


def source_files() -> tuple[Path, ...]:
    """The sources the stored maps depend on: all of ``derivations/``, and the modules that compile them."""
    here = Path(__file__).resolve().parent
    return cache.tree_files(cache.ROOT) + (here / "columns.py", here / "forms.py")


def _memo_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", label)


@functools.lru_cache(maxsize=1)
def layouts() -> dict[str, Layout]:
    """Every column's :class:`Layout`, in catalogue order, by label."""
    return cache.memo("w2.layouts", _layouts, files=source_files())


def _layouts() -> dict[str, Layout]:
    from checks.exact.columns import SCHEMES

    return {s.label: Layout(s.label, s.column.chain, s.fixed, s.column.nfe_per_point, s.churn) for s in SCHEMES}


@functools.lru_cache(maxsize=None)
def compiled_step(label: str, last: bool = False, clean: bool = False) -> CompiledStep:
    """The step map of column ``label`` (at the last step, or any other) compiled once, split by
    powers of the precisions; from the cache when this state of the sources stored it."""
    if label not in layouts():
        raise KeyError(label)
    name = f"w2.step.{_memo_name(label)}" + (".last" if last else "") + (".clean" if clean else "")
    return cache.memo(name, lambda: derive_step(label, last, clean), files=source_files())


def derive_step(label: str, last: bool = False, clean: bool = False) -> CompiledStep:
    """:func:`compiled_step` computed afresh (SymPy)."""
    import sympy as sp

    import derivations
    from derivations.core import notation

    from checks.exact.columns import SCHEME_BY_LABEL

    spec = SCHEME_BY_LABEL[label]
    d = derivations.get(spec.derivation_id)
    precisions = tuple(notation.lookup(n).symbol for n in PRECISION_NAMES)
    form = stable_form(d.result(spec.result("gain", last, clean)), spec.fixed)
    if form.free_symbols & set(precisions[4:]):
        # DPM-Solver-3's weights (logarithms of ratios of e^lambda) make its gain too large to expand whole:
        # its parts free of the precisions stay atoms while the polynomial in the precisions is expanded
        shown, radicals = hide_constant_parts(form, set(precisions))
    else:
        shown, radicals = hide_radicals(form)
    gain = sp.Poly(sp.expand(shown), *precisions)
    monomials = []
    names: set[str] = set()
    for powers, coeff in gain.terms():
        compiled = _compile(sp.sympify(coeff).xreplace(radicals), {})
        names.update(compiled.arg_names)
        monomials.append((tuple(powers), compiled))
    noise = d.result(spec.result("noise_var", last, clean))
    noise_before = bool(noise.free_symbols & set(precisions))
    if noise_before:
        # noise injected before an eigenvalue-dependent map is that map's gain^2 times a step constant
        noise = sp.factor(sp.cancel(stable_form(noise, spec.fixed) / stable_form(d.result(spec.result("gain", last, clean)),
                                                                                    spec.fixed) ** 2))
        if noise.free_symbols & set(precisions):
            raise ValueError(f"{label}: the injected noise depends on the eigenvalue; not supported")
    noise_fn = None
    if sp.simplify(stable_form(noise, spec.fixed)) != 0:
        noise_fn = _compile(noise, spec.fixed)
        names.update(noise_fn.arg_names)
    return CompiledStep(tuple(monomials), noise_fn, tuple(sorted(names)), noise_before)


def stable_form(expr: sp.Expr, fixed: dict[str, float]) -> sp.Expr:
    """``expr`` in base symbols with ``fixed`` values substituted and every radicand factored.

    Factoring removes the cancellation in radicands such as DDIM's
    :math:`v_{t'} - \\sigma^2` (two terms of size :math:`2B(\\varepsilon)` whose difference
    is of its square), which float64 would otherwise lose near the data. Fixed values enter as
    rationals, so that the factoring cancels exactly.
    """
    import sympy as sp

    from derivations.core import notation

    fixed_values = {notation.lookup(k).symbol: sp.nsimplify(v) for k, v in fixed.items()}
    expr = notation.expand_definitions(expr).subs(fixed_values)
    return expr.replace(lambda e: e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer,
                        lambda e: sp.Pow(sp.factor(e.base), e.exp))


def hide_radicals(expr: sp.Expr) -> tuple[sp.Expr, dict[sp.Symbol, sp.Expr]]:
    """Radicals as placeholder symbols, so that expanding in the precisions leaves them whole."""
    import sympy as sp

    hidden: dict[sp.Expr, sp.Symbol] = {}

    def hide(e: sp.Expr) -> sp.Symbol:
        return hidden.setdefault(e, sp.Dummy(positive=True))

    shown = expr.replace(lambda e: e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer, hide)
    return shown, {v: k for k, v in hidden.items()}


def hide_constant_parts(expr: sp.Expr, variables: set) -> tuple[sp.Expr, dict[sp.Symbol, sp.Expr]]:
    """``expr`` with every largest subexpression free of ``variables`` as a placeholder symbol."""
    import sympy as sp

    hidden: dict[sp.Expr, sp.Symbol] = {}

    def hide(e: sp.Expr) -> sp.Expr:
        if not e.free_symbols & variables:
            return hidden.setdefault(e, sp.Dummy())
        if not e.args:
            return e
        return e.func(*(hide(a) for a in e.args))

    return hide(expr), {v: k for k, v in hidden.items()}


def _compile(expr: sp.Expr, fixed: dict[str, float]) -> cache.Compiled:
    import sympy as sp

    from derivations.core import notation

    expr = stable_form(expr, fixed)
    names = tuple(sorted(s.name for s in expr.free_symbols))
    fn = sp.lambdify([notation.lookup(n).symbol for n in names], expr, modules="numpy")
    return cache.Compiled(fn, names, "numpy")


@functools.lru_cache(maxsize=None)
def compiled_full(label: str, result: str, last: bool = False, clean: bool = False) -> Callable[..., Any]:
    """The result ``gain`` or ``noise_var`` of a column as one compiled function of named values."""
    import derivations

    from checks.exact.columns import SCHEME_BY_LABEL

    spec = SCHEME_BY_LABEL[label]
    return _compile(derivations.get(spec.derivation_id).result(spec.result(result, last, clean)), spec.fixed)
