r"""Exact W2 errors of diffusion samplers for Gaussian data (Pierret & Galerne, ICML 2025, Table 5).

Data :math:`\mathcal N(0, \Sigma)`; every sampler keeps the law centred Gaussian and
diagonal in the eigenbasis of :math:`\Sigma`, one step mapping the variance
:math:`c \mapsto a_k^2 c + b_k` (``gauss_exact.step_*``). After the last step

.. math::
    c_{\rm out} = c_0 \prod_{k} a_k^2 + \sum_k b_k \prod_{j > k} a_j^2,
    \qquad W_2 = \Big(\sum_i (\sqrt{c_{{\rm out}, i}} - \sqrt{\lambda_i})^2\Big)^{1/2}
    \quad (\texttt{gauss\_exact.w2}).

The columns are the catalogue's (:mod:`derivations.catalogue`, each scheme's ``table``);
their step maps are ``gauss_exact.step_<name>``, derived from the same rules the engine
runs, evaluated here in Pierret & Galerne's setting: :math:`f = -\beta`,
:math:`g^2 = 2\beta`, kernel :math:`m = e^{-B}`, :math:`v = 1 - e^{-2B}`, centred data. A column
on their DDPM chain uses :math:`a = \sqrt{1 - \beta^D_k}`, :math:`b = \beta^D_k = 2\Delta\beta_k`; their
recursions inject noise at every step (no level of the chain is noise-free), and a scheme
that tells its last step apart takes its last-step map there.

The evaluator lambdifies the derived maps once. Each gain :math:`a_k` is a
polynomial in the score precisions :math:`\Sigma_{u}^{-1}` at the times the rule
evaluates the score; its coefficients depend on the step only, so they are
evaluated on the grid alone, and the per-eigenvalue work is a few array
operations on a (steps x eigenvalues) block: the precisions (shared by every
scheme on the grid), the gains, a reversed cumulative product and one
matrix-vector product. Repeated eigenvalues are evaluated once and weighted.

Grid (the reference's): :math:`N` points :math:`t_k = (T - \varepsilon) k/(N-1)` in
reversed time, :math:`N - 1` steps, forward time :math:`u = T - t`. For most columns
:math:`N` is the NFE label. The published Heun and RK4 columns are reproduced with
:math:`N = \mathrm{NFE}` for Heun (so :math:`N - 1` steps and :math:`2(N-1)` score evaluations:
about twice the label) and :math:`N = \lfloor \mathrm{NFE}/4 \rfloor` for RK4 (:math:`4(N-1) \le` the
label); see :data:`ALTERNATIVE_POINTS` for the other readings.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import sympy as sp

import derivations
from derivations import catalogue
from derivations.families import gauss_exact
from derivations.core import notation

from checks.exact import kernel as w2_kernel

T_END = 1.0
BETA_MIN = 0.05
BETA_MAX = 10.0
NFES = (50, 100, 250, 500, 1000)
EPS_VALUES = (0.0, 1e-5, 1e-4, 1e-3)
INITS = ("p_T", "N0")
CONTINUOUS = "continuous"

# Elements of one (steps x eigenvalues) block: large enough to amortize the
# per-call overhead, small enough to stay in the last-level cache.
BLOCK_ELEMENTS = 1 << 16
_PRECISIONS = (notation.prec_k_pg, notation.prec_next_pg, notation.prec_mid_pg)


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
    def fixed(self) -> dict[str, float]:
        """The column's option values, by notation name."""
        return {o.symbol: float(self.column.options[o.name]) for o in self.scheme.options
                if o.symbol and o.name in self.column.options}

    def result(self, base: str, last: bool) -> str:
        """The step-map result for a step (the last one, or any other)."""
        kinds = catalogue.kinds(self.scheme, self.column.options)
        flags = frozenset({"last"}) if last and frozenset({"last"}) in kinds else frozenset()
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


def data_dir() -> Path:
    """``<repo>/../shared/data/pierret_galerne``, or ``$DIFFVERIFY_SHARED/data/pierret_galerne``."""
    shared = os.environ.get("DIFFVERIFY_SHARED")
    root = Path(shared) if shared else Path(__file__).resolve().parents[3] / "shared"
    return root / "data" / "pierret_galerne"


def load_eigenvalues(name: str) -> np.ndarray:
    """``cifar10`` or ``adsn`` eigenvalues as float64 (negative zeros made 0)."""
    return np.abs(np.load(data_dir() / f"{name}_eigenvalues.npy").astype(np.float64))


# --------------------------------------------------------------------------
# Compiled closed forms (built once per process)
# --------------------------------------------------------------------------

def _schedule_values(u: np.ndarray) -> dict[str, np.ndarray]:
    laws = _laws()
    values = {"u_pg": u, "beta_min_pg": BETA_MIN, "beta_span_pg": BETA_MAX - BETA_MIN}
    return {"beta": np.broadcast_to(laws["beta_lin"](**values), u.shape), "B": laws["B_lin"](**values)}


@functools.lru_cache(maxsize=None)
def _laws() -> dict[str, Any]:
    d = derivations.get("gauss_exact.backward")
    return {name: d.function(name, "numpy") for name in ("beta_lin", "B_lin", "var_t", "ode_var", "sde_var")}


@functools.lru_cache(maxsize=None)
def _w2_sq() -> Any:
    return derivations.get("gauss_exact.w2").function("w2_sq", "numpy")


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


def _hide_radicals(expr: sp.Expr) -> tuple[sp.Expr, dict[sp.Symbol, sp.Expr]]:
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
    shown, radicals = _hide_radicals(stable_form(d.result(spec.result("gain", last)), spec.fixed))
    gain = sp.Poly(sp.expand(shown), *_PRECISIONS)
    monomials = []
    names: set[str] = set()
    for powers, coeff in gain.terms():
        fn, coeff_names = _compile(sp.sympify(coeff).xreplace(radicals), {})
        names.update(coeff_names)
        monomials.append((powers, _bind(fn, coeff_names)))
    noise = d.result(spec.result("noise_var", last))
    if noise.free_symbols & set(_PRECISIONS):
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


# --------------------------------------------------------------------------
# Grids and the per-step inputs of the maps
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Grid:
    """N points in reversed time and everything a step needs that does not depend on the eigenvalue."""

    eps: float
    n_points: int
    sde_values: dict[str, np.ndarray]  # per step (length N - 1), in the step maps' vocabulary
    chain_values: dict[str, np.ndarray]  # the same on Pierret & Galerne's DDPM chain
    u_points: np.ndarray  # forward times u_k = T - t_k, from T down to eps
    B_points: np.ndarray  # B(u) at the N grid points
    B_mid: np.ndarray  # B(u) at the N - 1 midpoints

    def values(self, spec: SchemeSpec) -> dict[str, np.ndarray]:
        """What the column's step maps take on this grid, its fixed options included."""
        return (self.chain_values if spec.column.chain else self.sde_values) | spec.fixed


@functools.lru_cache(maxsize=64)
def grid(eps: float, n_points: int) -> Grid:
    if n_points < 2:
        raise ValueError(f"a grid needs at least 2 points, got {n_points}")
    t = np.linspace(0.0, T_END - eps, n_points)
    u = T_END - t
    dt = np.diff(t)
    at_points, at_mid = _schedule_values(u), _schedule_values(T_END - (t[:-1] + dt / 2))
    B, beta = at_points["B"], at_points["beta"]
    betas = (beta[:-1], beta[1:], at_mid["beta"])
    h = B[:-1] - B[1:]  # rate integrated over each step: m_t / m_t' = e^{-h}
    # The SDE: f = -beta, g^2 = 2 beta, m = e^{-B}, v = 1 - e^{-2B}.
    sde = gauss_exact.step_values(a=np.exp(-h), b=-np.expm1(-2 * h), m_next=np.exp(-B[1:]),
                                  v_next=-np.expm1(-2 * B[1:]), dt=dt, drift=tuple(-b for b in betas),
                                  diffusion_sq=tuple(2 * b for b in betas))
    # The DDPM chain: beta^D_k = Delta g^2(u_k), its last level the SDE's kernel at eps.
    # On coarse grids (RK4's) beta^D exceeds 1 and the chain does not exist: nan there, never read.
    beta_d = 2 * dt * betas[0]
    with np.errstate(invalid="ignore"):
        levels = np.exp(-2 * B[-1]) * np.concatenate([np.cumprod((1 - beta_d)[::-1])[::-1], [1.0]])
        chain = gauss_exact.step_values(a=np.sqrt(1 - beta_d), b=beta_d, m_next=np.sqrt(levels[1:]),
                                        v_next=1 - levels[1:], dt=dt)
    return Grid(eps, n_points, sde, chain, u, B, at_mid["B"])


def step_inputs(eps: float, n_points: int, lam: np.ndarray, chain: bool = False) -> dict[str, np.ndarray]:
    r"""Every value a step map takes, per step (rows) and eigenvalue (columns): the grid's
    values (of the SDE, or of the chain) and the precisions :math:`\Sigma_u^{-1}` at :math:`u_k`,
    :math:`u_{k+1}` and the midpoint."""
    g = grid(eps, n_points)
    values = {name: np.array(v, dtype=np.float64)[:, None]
              for name, v in (g.chain_values if chain else g.sde_values).items()}
    with np.errstate(divide="ignore"):
        prec_points = 1.0 / _laws()["var_t"](lam_eig=lam[None, :], B_u_pg=g.B_points[:, None])
        prec_mid = 1.0 / _laws()["var_t"](lam_eig=lam[None, :], B_u_pg=g.B_mid[:, None])
    return values | {"prec_k_pg": prec_points[:-1], "prec_next_pg": prec_points[1:], "prec_mid_pg": prec_mid}


def _as_column(value: Any, steps: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (steps,))[:, None]


# --------------------------------------------------------------------------
# Array back ends: numpy on the CPU, torch on a CUDA device
# --------------------------------------------------------------------------

class _NumpyOps:

    def asarray(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def reciprocal_variance(self, B_col: np.ndarray, lam_minus_one: np.ndarray) -> np.ndarray:
        # 1 / Sigma_u, Sigma_u = 1 + e^{-2B}(lam - 1) (gauss_exact.backward, result var_t)
        out = np.exp(-2 * B_col) * lam_minus_one
        out += 1.0
        return np.reciprocal(out, out=out)

    def prod(self, g: np.ndarray) -> np.ndarray:
        return np.prod(g, axis=0)

    def empty(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.empty(shape)

    def multiply(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.multiply(a, b, out=out)


class _TorchOps:

    def __init__(self, device: Any):
        import torch

        self.torch, self.device = torch, device

    def asarray(self, x: np.ndarray) -> Any:
        return self.torch.as_tensor(np.array(x, dtype=np.float64), device=self.device)

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.detach().cpu().numpy()

    def reciprocal_variance(self, B_col: Any, lam_minus_one: Any) -> Any:
        return 1.0 / (1.0 + self.torch.exp(-2 * B_col) * lam_minus_one)

    def prod(self, g: Any) -> Any:
        return self.torch.prod(g, 0)

    def empty(self, shape: tuple[int, ...]) -> Any:
        return self.torch.empty(shape, dtype=self.torch.float64, device=self.device)

    def multiply(self, a: Any, b: Any, out: Any) -> Any:
        out.copy_(a * b)
        return out


class _NumbaOps:
    """Marker for the fused kernels of :mod:`checks.exact.kernel` (CPU, numba)."""


def _ops(backend: str) -> _NumpyOps | _TorchOps | _NumbaOps:
    if backend == "numpy":
        return _NumpyOps()
    if backend == "numba":
        if not w2_kernel.available():
            raise ValueError("backend numba needs the numba package (pip install numba)")
        return _NumbaOps()
    import torch

    if backend == "auto":
        if torch.cuda.is_available():
            return _TorchOps(torch.device("cuda"))
        return _NumbaOps() if w2_kernel.available() else _NumpyOps()
    if backend in ("torch", "cuda"):
        return _TorchOps(torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    raise ValueError(f"unknown backend {backend!r}: use auto, numpy, numba or torch")


# --------------------------------------------------------------------------
# Output variances
# --------------------------------------------------------------------------

def threads() -> int:
    """Worker threads for the eigenvalue blocks (numpy releases the GIL): ``$DIFFVERIFY_THREADS`` or the cores."""
    if "DIFFVERIFY_THREADS" in os.environ:
        return max(1, int(os.environ["DIFFVERIFY_THREADS"]))
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _run_grid(specs: Iterable[SchemeSpec], g: Grid, lam: np.ndarray, ops: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each column on grid ``g``: (prod_k a_k^2, sum_k b_k prod_{j>k} a_j^2) per eigenvalue. The steps
    before the last run on the array back end; the last step, with the column's last-step map, in numpy."""
    specs = list(specs)
    with np.errstate(all="ignore"):  # divergent cells become inf/nan
        before = _run_fused(specs, g, lam) if isinstance(ops, _NumbaOps) else _run_arrays(specs, g, lam, ops)
        out = {}
        for spec in specs:
            gain_sq, tail = before[spec.label]
            last_sq, last_noise = _final_step(spec, g, lam)
            out[spec.label] = (last_sq * gain_sq, last_sq * tail + last_noise)
    return out


def _final_step(spec: SchemeSpec, g: Grid, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a^2, b) of the grid's last step for every eigenvalue."""
    step = compiled_step(spec.label, last=True)
    steps = g.n_points - 1
    values = {name: _as_column(v, steps)[-1, 0] for name, v in g.values(spec).items()}
    precisions = tuple(1.0 / (1.0 + np.exp(-2 * B) * (lam - 1.0)) for B in (g.B_points[-2], g.B_points[-1], g.B_mid[-1]))
    gain = sum(fn(values) * np.prod([p**e for p, e in zip(precisions, powers)], axis=0) for powers, fn in step.monomials)
    noise = np.zeros_like(lam) if step.noise_var is None else np.full_like(lam, step.noise_var(values))
    return gain * gain, noise


def _run_arrays(specs: list[SchemeSpec], g: Grid, lam: np.ndarray, ops: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The composed maps of every step but the last, on the numpy or torch back end."""
    steps = g.n_points - 2
    if steps == 0:
        return {s.label: (np.ones_like(lam), np.zeros_like(lam)) for s in specs}
    compiled = {s.label: compiled_step(s.label) for s in specs}
    coeffs = {}
    for s in specs:
        terms = [(powers, ops.asarray(_as_column(fn(g.values(s)), steps + 1)[:-1]))
                 for powers, fn in compiled[s.label].monomials]
        coeffs[s.label] = sorted(terms, key=lambda term: not any(term[0]))  # eigenvalue-dependent terms first
    noise = {
        s.label: (None if compiled[s.label].noise_var is None
                  else ops.asarray(_as_column(compiled[s.label].noise_var(g.values(s)), steps + 1)[:-1]))
        for s in specs
    }
    needs_mid = any(p[2] for c in compiled.values() for p, _ in c.monomials)
    B_points, B_mid = ops.asarray(g.B_points[:-1, None]), ops.asarray(g.B_mid[:-1, None])

    def run_block(start: int, stop: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        with np.errstate(all="ignore"):  # per thread; divergent cells become inf/nan
            return _block(start, stop)

    def _block(start: int, stop: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        lam_minus_one = ops.asarray(lam[None, start:stop] - 1.0)
        prec_points = ops.reciprocal_variance(B_points, lam_minus_one)
        precisions = (prec_points[:-1], prec_points[1:],
                      ops.reciprocal_variance(B_mid, lam_minus_one) if needs_mid else None)
        cache: dict[tuple[int, int, int], Any] = {}
        out = {}
        for s in specs:
            gain = None
            for powers, coef in coeffs[s.label]:
                if gain is None:
                    gain = coef * _monomial(powers, precisions, cache)
                elif any(powers):
                    gain += coef * _monomial(powers, precisions, cache)
                else:
                    gain += coef
            if noise[s.label] is None:
                total = ops.prod(gain)
                out[s.label] = (ops.to_numpy(total * total), np.zeros(stop - start))
            else:
                gain *= gain
                gain_sq, tail = compose_affine(gain, noise[s.label], ops)
                out[s.label] = (ops.to_numpy(gain_sq), ops.to_numpy(tail + 0 * gain_sq))
        return out

    block = max(1, BLOCK_ELEMENTS // g.n_points)
    bounds = [(i, min(i + block, lam.shape[0])) for i in range(0, lam.shape[0], block)]
    workers = min(threads(), len(bounds)) if isinstance(ops, _NumpyOps) else 1
    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda b: run_block(*b), bounds))
    else:
        parts = [run_block(*b) for b in bounds]
    return {s.label: (np.concatenate([p[s.label][0] for p in parts]), np.concatenate([p[s.label][1] for p in parts]))
            for s in specs}


@functools.lru_cache(maxsize=256)
def _fused_inputs(labels: tuple[str, ...], eps: float, n_points: int) -> tuple[tuple, np.ndarray, np.ndarray]:
    """What the fused kernel needs besides the eigenvalues, per (columns, grid), for every step but the last."""
    g, steps = grid(eps, n_points), n_points - 1
    structures, coef_rows, noise_rows = [], [], []
    for label in labels:
        step, values = compiled_step(label), g.values(SCHEME_BY_LABEL[label])
        structures.append((tuple(p for p, _ in step.monomials), step.noise_var is not None))
        coef_rows.append([_as_column(fn(values), steps)[:-1, 0] for _, fn in step.monomials])
        noise_rows.append(np.zeros(steps - 1) if step.noise_var is None
                          else _as_column(step.noise_var(values), steps)[:-1, 0])
    coefs = np.zeros((len(labels), max(len(r) for r in coef_rows), steps - 1))
    for i, rows in enumerate(coef_rows):
        coefs[i, :len(rows)] = rows
    return tuple(structures), coefs, np.array(noise_rows)


def _run_fused(specs: list[SchemeSpec], g: Grid, lam: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`_run_arrays` by one generated kernel per group structure (:mod:`checks.exact.kernel`)."""
    labels = tuple(s.label for s in specs)
    structures, coefs, noises = _fused_inputs(labels, g.eps, g.n_points)
    gain_sq, tail = w2_kernel.run(structures, coefs, noises, np.exp(-2 * g.B_points[:-1]), np.exp(-2 * g.B_mid[:-1]),
                                  lam - 1.0)
    return {label: (gain_sq[i], tail[i]) for i, label in enumerate(labels)}


def compose_affine(gain_sq: Any, noise_var: Any, ops: Any) -> tuple[Any, Any]:
    r"""Compose the steps :math:`c \mapsto A_k c + b_k`, k = 0..n-1 (rows), into one map :math:`(A, b)`.

    Pairwise, as a balanced tree: :math:`(A_{k+1}, b_{k+1}) \circ (A_k, b_k) = (A_{k+1}A_k,\ A_{k+1}b_k + b_{k+1})`.
    The first level allocates the halves (identity maps pad the front to a power of two); the
    later levels work in place on strided views: about three array operations per step and eigenvalue.
    """
    n = gain_sq.shape[0]
    if n == 1:
        return gain_sq[0], noise_var[0] + 0 * gain_sq[0]
    half = 1 << max(0, (n - 1).bit_length() - 1)  # pairs after padding n up to 2 * half
    pad = 2 * half - n
    # Rows 0..pad-1 are identities: pair (identity, row) composes to the row itself.
    A = ops.empty((half,) + tuple(gain_sq.shape[1:]))
    b = ops.empty((half,) + tuple(gain_sq.shape[1:]))
    if pad:
        A[:pad] = gain_sq[:pad]
        b[:pad] = noise_var[:pad]
    later, earlier = gain_sq[pad + 1::2], gain_sq[pad::2]
    ops.multiply(later, earlier, out=A[pad:])
    ops.multiply(later, noise_var[pad::2], out=b[pad:])
    b[pad:] += noise_var[pad + 1::2]
    while A.shape[0] > 1:
        A_later = A[1::2]
        b_later = b[1::2]
        b_earlier, A_earlier = b[0::2], A[0::2]
        b_earlier *= A_later
        b_earlier += b_later
        A_earlier *= A_later
        A, b = A_earlier, b_earlier
    return A[0], b[0]


def _monomial(powers: tuple[int, int, int], precisions: tuple[Any, Any, Any], cache: dict) -> Any:
    if powers not in cache:
        value = None
        for p, e in zip(precisions, powers):
            for _ in range(e):
                value = p if value is None else value * p
        cache[powers] = value
    return cache[powers]


def initial_variance(lam: np.ndarray, init: str) -> np.ndarray:
    """Variance the backward process starts from: p_T = N(0, Sigma_T) or N(0, I)."""
    if init == "N0":
        return np.ones_like(lam)
    if init == "p_T":
        B_T = _schedule_values(np.array([T_END]))["B"][0]
        return _laws()["var_t"](lam_eig=lam, B_u_pg=B_T)
    raise ValueError(f"unknown init {init!r}: use p_T or N0")


def continuous_variance(lam: np.ndarray, kind: str, eps: float, init: str) -> np.ndarray:
    """Output variance of the exact reverse SDE (``SDE``) or probability-flow ODE (``ODE``) at time eps."""
    name = {"SDE": "sde_var", "ODE": "ode_var"}[kind]
    B_eps, B_T = _schedule_values(np.array([eps, T_END]))["B"]
    return _laws()[name](lam_eig=lam, B_u_pg=B_eps, B_T_pg=B_T, var_init_pg=initial_variance(lam, init))


def output_variance(lam: np.ndarray, label: str, eps: float, n_points: int, init: str,
                    backend: str = "numpy") -> np.ndarray:
    """Variance per eigenvalue after the scheme ``label`` on the N-point grid (non-finite if it diverges)."""
    with np.errstate(all="ignore"):
        gain_sq, tail = _run_grid([SCHEME_BY_LABEL[label]], grid(eps, n_points), lam, _ops(backend))[label]
        return initial_variance(lam, init) * gain_sq + tail


def w2(variances: np.ndarray, lam: np.ndarray, weights: np.ndarray | None = None) -> float:
    """W2 between N(0, diag variances) and N(0, diag lam) (``gauss_exact.w2``); nan when not finite."""
    with np.errstate(all="ignore"):
        terms = _w2_sq()(var_c_pg=variances, lam_eig=lam)
        total = float(np.sum(terms if weights is None else weights * terms))
    return math.sqrt(total) if math.isfinite(total) and total >= 0 else math.nan


# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    scheme: str
    eps: float
    init: str
    nfe: int | str  # an int, or "continuous"
    w2: float
    n_points: int | None = None

    @property
    def divergent(self) -> bool:
        return not math.isfinite(self.w2)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.scheme, repr(float(self.eps)), self.init, str(self.nfe))


def validate_eigenvalues(values: Any) -> np.ndarray:
    """A 1-D array of finite non-negative numbers as float64; ValueError otherwise."""
    lam = np.asarray(values)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array, got shape {lam.shape}")
    if not (np.issubdtype(lam.dtype, np.floating) or np.issubdtype(lam.dtype, np.integer)):
        raise ValueError(f"eigenvalues must be real numbers, got dtype {lam.dtype}")
    lam = lam.astype(np.float64)
    if not np.all(np.isfinite(lam)):
        raise ValueError("eigenvalues must be finite")
    if np.any(lam < 0):
        raise ValueError(f"eigenvalues must be non-negative; smallest is {lam.min():g}")
    return np.abs(lam)  # -0.0 -> 0.0


def table(eigenvalues: np.ndarray, nfes: Iterable[int] = NFES, eps_values: Iterable[float] = EPS_VALUES,
          schemes: Iterable[str] | None = None, points: dict[str, Callable[[int], int]] | None = None,
          backend: str = "auto", continuous: bool = True) -> list[Cell]:
    """Every cell: continuous rows, then each scheme x eps x init x NFE (distinct eigenvalues computed once)."""
    lam_all = validate_eigenvalues(eigenvalues)
    lam, counts = np.unique(lam_all, return_counts=True)
    weights = counts.astype(np.float64)
    specs = [SCHEME_BY_LABEL[s] for s in schemes] if schemes is not None else list(SCHEMES)
    points = points or {}
    ops = _ops(backend)
    cells: list[Cell] = []
    eps_values, nfes = tuple(eps_values), tuple(nfes)
    starts = {init: initial_variance(lam, init) for init in INITS}
    with np.errstate(all="ignore"):
        if continuous:
            for kind in ("SDE", "ODE"):
                for eps in eps_values:
                    for init in INITS:
                        c = continuous_variance(lam, kind, eps, init)
                        cells.append(Cell(kind, eps, init, CONTINUOUS, w2(c, lam, weights)))
        by_grid: dict[tuple[float, int], list[SchemeSpec]] = {}
        for spec in specs:
            n_of = points.get(spec.label, spec.points)
            for eps in eps_values:
                for nfe in nfes:
                    by_grid.setdefault((eps, n_of(nfe)), []).append(spec)
        results = {}
        for (eps, n_points), group in by_grid.items():
            for label, value in _run_grid(group, grid(eps, n_points), lam, ops).items():
                results[(label, eps, n_points)] = value
        for spec in specs:
            n_of = points.get(spec.label, spec.points)
            for eps in eps_values:
                for init in INITS:
                    for nfe in nfes:
                        gain_sq, tail = results[(spec.label, eps, n_of(nfe))]
                        c = starts[init] * gain_sq + tail
                        cells.append(Cell(spec.label, eps, init, nfe, w2(c, lam, weights), n_of(nfe)))
    return cells


def baseline_table(eigenvalues: np.ndarray, nfes: Iterable[int] = NFES, eps_values: Iterable[float] = EPS_VALUES,
                   schemes: Iterable[str] | None = None) -> list[Cell]:
    """The straightforward evaluation: for every cell, a Python loop over the steps, each step applied
    to the whole eigenvalue vector through the lambdified ``gain`` and ``noise_var`` of the derivation."""
    lam = validate_eigenvalues(eigenvalues)
    specs = [SCHEME_BY_LABEL[s] for s in schemes] if schemes is not None else list(SCHEMES)
    cells = []
    with np.errstate(all="ignore"):
        for spec in specs:
            maps = {last: (compiled_full(spec.label, "gain", last), compiled_full(spec.label, "noise_var", last))
                    for last in (False, True)}
            for eps in eps_values:
                for init in INITS:
                    for nfe in nfes:
                        g = grid(eps, spec.points(nfe))
                        c = initial_variance(lam, init)
                        steps = g.n_points - 1
                        for k in range(steps):
                            values = {name: _as_column(v, steps)[k, 0] for name, v in g.values(spec).items()}
                            values |= {
                                "prec_k_pg": 1 / _laws()["var_t"](lam_eig=lam, B_u_pg=g.B_points[k]),
                                "prec_next_pg": 1 / _laws()["var_t"](lam_eig=lam, B_u_pg=g.B_points[k + 1]),
                                "prec_mid_pg": 1 / _laws()["var_t"](lam_eig=lam, B_u_pg=g.B_mid[k]),
                            }
                            gain_fn, noise_fn = maps[k == steps - 1]
                            c = gain_fn(**values) ** 2 * c + noise_fn(**values)
                        cells.append(Cell(spec.label, eps, init, nfe, w2(c, lam), g.n_points))
    return cells


def read_reference() -> list[dict[str, str]]:
    """Rows of ``table5_icml2025.csv``."""
    import csv

    with open(data_dir() / "table5_icml2025.csv", newline="") as f:
        return list(csv.DictReader(f))
