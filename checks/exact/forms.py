"""The derived step maps of the table's columns, lambdified once for numpy.

Each gain is split by powers of the score precisions (:data:`PRECISIONS`): its
coefficients depend on the step only and are evaluated on the grid alone, the monomials
on the (steps x eigenvalues) block.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import sympy as sp

import derivations
from derivations.core import notation

from checks.exact.columns import SCHEME_BY_LABEL

PRECISIONS = (notation.prec_k_pg, notation.prec_next_pg, notation.prec_mid_pg)


@dataclass(frozen=True)
class CompiledStep:
    """gain = sum_m coef_m(step) * prod(precision^e); noise_var(step) with no eigenvalue dependence."""

    monomials: tuple[tuple[tuple[int, int, int], Callable[..., Any]], ...]
    noise_var: Callable[..., Any] | None
    arg_names: tuple[str, ...]


def stable_form(expr: sp.Expr, fixed: dict[str, float]) -> sp.Expr:
    """``expr`` in base symbols with ``fixed`` values substituted and every radicand factored.

    Factoring removes the cancellation in radicands such as DDIM's
    :math:`v_{t'} - \\sigma^2` (two terms of size :math:`2B(\\varepsilon)` whose difference
    is of its square), which float64 would otherwise lose near the data. Fixed values enter as
    rationals, so that the factoring cancels exactly.
    """
    fixed_values = {notation.lookup(k).symbol: sp.nsimplify(v) for k, v in fixed.items()}
    expr = notation.expand_definitions(expr).subs(fixed_values)
    return expr.replace(lambda e: e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer,
                        lambda e: sp.Pow(sp.factor(e.base), e.exp))


def hide_radicals(expr: sp.Expr) -> tuple[sp.Expr, dict[sp.Symbol, sp.Expr]]:
    """Radicals as placeholder symbols, so that expanding in the precisions leaves them whole."""
    hidden: dict[sp.Expr, sp.Symbol] = {}

    def hide(e: sp.Expr) -> sp.Symbol:
        return hidden.setdefault(e, sp.Dummy(positive=True))

    shown = expr.replace(lambda e: e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer, hide)
    return shown, {v: k for k, v in hidden.items()}


def _compile(expr: sp.Expr, fixed: dict[str, float]) -> tuple[Callable[..., Any], tuple[str, ...]]:
    expr = stable_form(expr, fixed)
    names = tuple(sorted(s.name for s in expr.free_symbols))
    fn = sp.lambdify([notation.lookup(n).symbol for n in names], expr, modules="numpy")
    return fn, names


@functools.lru_cache(maxsize=None)
def compiled_step(label: str, last: bool = False) -> CompiledStep:
    """The step map of column ``label`` (at the last step, or any other) lambdified once, split by
    powers of the precisions."""
    spec = SCHEME_BY_LABEL[label]
    d = derivations.get(spec.derivation_id)
    shown, radicals = hide_radicals(stable_form(d.result(spec.result("gain", last)), spec.fixed))
    gain = sp.Poly(sp.expand(shown), *PRECISIONS)
    monomials = []
    names: set[str] = set()
    for powers, coeff in gain.terms():
        fn, coeff_names = _compile(sp.sympify(coeff).xreplace(radicals), {})
        names.update(coeff_names)
        monomials.append((powers, _bind(fn, coeff_names)))
    noise = d.result(spec.result("noise_var", last))
    if noise.free_symbols & set(PRECISIONS):
        raise ValueError(f"{label}: the injected noise depends on the eigenvalue; not supported")
    noise_fn = None
    if sp.simplify(stable_form(noise, spec.fixed)) != 0:
        fn, noise_names = _compile(noise, spec.fixed)
        names.update(noise_names)
        noise_fn = _bind(fn, noise_names)
    return CompiledStep(tuple(monomials), noise_fn, tuple(sorted(names)))


@functools.lru_cache(maxsize=None)
def compiled_full(label: str, result: str, last: bool = False) -> Callable[..., Any]:
    """The result ``gain`` or ``noise_var`` of a column as one lambdified function of named values."""
    spec = SCHEME_BY_LABEL[label]
    fn, names = _compile(derivations.get(spec.derivation_id).result(spec.result(result, last)), spec.fixed)
    return lambda **values: fn(*(values[n] for n in names))


def _bind(fn: Callable[..., Any], names: tuple[str, ...]) -> Callable[..., Any]:
    def call(values: dict[str, Any]) -> Any:
        return fn(*(values[n] for n in names))

    return call
