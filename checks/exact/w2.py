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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from derivations.core import cache
from derivations.core.step_vocabulary import RAISED, churn_gamma, step_values

from checks.exact import backends
from checks.exact.backends import compose_affine, monomial, threads  # noqa: F401  threads: the table's workers
from checks.exact.forms import PRECISION_NAMES, Layout, compiled_full, compiled_step, layouts, source_files
from checks.exact.data import validate_eigenvalues

# The catalogue's columns load on first use, not with this module: the table runs from the
# columns' layouts and compiled maps (:mod:`checks.exact.forms`), which a warm cache holds.
_COLUMNS = ("ALTERNATIVE_POINTS", "SCHEME_BY_LABEL", "SCHEMES", "SchemeSpec")


def __getattr__(name: str) -> Any:
    if name in _COLUMNS:
        from checks.exact import columns

        return getattr(columns, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


# --------------------------------------------------------------------------
# The derived laws in Pierret & Galerne's setting (built once per process)
# --------------------------------------------------------------------------

def _schedule_values(u: np.ndarray) -> dict[str, np.ndarray]:
    laws = _laws()
    values = {"u_pg": u, "beta_min_pg": BETA_MIN, "beta_span_pg": BETA_MAX - BETA_MIN}
    return {"beta": np.broadcast_to(laws["beta_lin"](**values), u.shape), "B": laws["B_lin"](**values)}


@functools.lru_cache(maxsize=None)
def _laws() -> dict[str, Any]:
    return {name: cache.function("gauss_exact.backward", name, "numpy")
            for name in ("beta_lin", "B_lin", "var_t", "ode_var", "sde_var")}


@functools.lru_cache(maxsize=None)
def _w2_sq() -> Any:
    return cache.function("gauss_exact.w2", "w2_sq", "numpy")


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
    B_thirds: tuple[np.ndarray, np.ndarray]  # B(u) a third and two thirds of each step's half-log-SNR increment in
    spacing: str = "time"  # uniform in reversed time (the reference's grid), or in half-log-SNR ("lambda")

    def values(self, column: Layout) -> dict[str, np.ndarray]:
        """What the column's step maps take on this grid, its fixed options (and raised level) included."""
        raised = self.raised(column.churn)[0] if column.churn else {}
        return (self.chain_values if column.chain else self.sde_values) | raised | column.fixed

    def raised(self, churn: tuple[float, float, float]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The raised level of EDM's churn at each step (:func:`raised_level`)."""
        return raised_level(self.eps, self.n_points, self.spacing, churn)


@functools.lru_cache(maxsize=64)
def grid(eps: float, n_points: int) -> Grid:
    """The reference's grid: ``n_points`` uniform in reversed time from 0 to T - eps."""
    if n_points < 2:
        raise ValueError(f"a grid needs at least 2 points, got {n_points}")
    return grid_at(eps, np.linspace(0.0, T_END - eps, n_points))


@functools.lru_cache(maxsize=64)
def lambda_grid(eps: float, n_points: int) -> Grid:
    r"""``n_points`` uniform in the half-log-SNR :math:`\lambda = \log(m/\sqrt v) = -B - \tfrac12\log(1 - e^{-2B})`
    from :math:`u = T` to :math:`u = \varepsilon > 0` (the grid DPM-Solver is designed for); on the linear
    schedule :math:`B = \tfrac12\log(1 + e^{-2\lambda})` and :math:`u` is the positive root of
    :math:`\beta_{\min}u + \tfrac12(\beta_{\max} - \beta_{\min})u^2 = B`."""
    if n_points < 2 or eps <= 0:
        raise ValueError(f"a lambda grid needs at least 2 points and eps > 0, got {n_points}, {eps}")
    B_ends = _schedule_values(np.array([T_END, eps]))["B"]
    lam = np.linspace(*(-B - 0.5 * np.log(-np.expm1(-2 * B)) for B in B_ends), n_points)
    u = time_of(0.5 * np.log1p(np.exp(-2 * lam)))
    u[0], u[-1] = T_END, eps
    return grid_at(eps, T_END - u, "lambda")


def lambda_fraction(B: np.ndarray, fraction: float) -> np.ndarray:
    r"""Per step of the points with integrated rates ``B``, :math:`B` where the half-log-SNR
    :math:`\lambda = -B - \tfrac12\log(1 - e^{-2B})` is ``fraction`` of the way from the step's start to its end:
    :math:`B = \tfrac12\log(1 + e^{-2\lambda})`. (A step onto :math:`B = 0` has no such point: nan.)"""
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = -B - 0.5 * np.log(-np.expm1(-2 * B))
        target = lam[:-1] + fraction * (lam[1:] - lam[:-1])
        return 0.5 * np.log1p(np.exp(-2 * target))


def time_of(B: np.ndarray) -> np.ndarray:
    r"""The forward time :math:`u` at which the linear schedule has integrated :math:`B`: the positive root of
    :math:`\beta_{\min}u + \tfrac12(\beta_{\max} - \beta_{\min})u^2 = B`, written without cancellation."""
    return 2 * B / (BETA_MIN + np.sqrt(BETA_MIN**2 + 2 * (BETA_MAX - BETA_MIN) * B))


@functools.lru_cache(maxsize=256)
def raised_level(eps: float, n_points: int, spacing: str, churn: tuple[float, float, float]
                 ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    r"""Per step, the values of :data:`RAISED` at the time :math:`\hat u_k` EDM's churn raises the step's
    start :math:`u_k` to, and :math:`B(\hat u_k)` (for the precision there): with :math:`m = e^{-B}`,
    :math:`v = 1 - e^{-2B}` the noise level is :math:`\sigma^2 = e^{2B} - 1`, so :math:`\sigma(\hat u) =
    (1 + \gamma_k)\sigma(u_k)` (:func:`churn_gamma`, :math:`N` the grid's steps) is
    :math:`B(\hat u) = \tfrac12\log(1 + (1 + \gamma_k)^2(e^{2B(u_k)} - 1))`, and :math:`\hat u` its time."""
    g = {"time": grid, "lambda": lambda_grid}[spacing](eps, n_points)
    u, B_now = g.u_points[:-1], g.B_points[:-1]
    gamma = np.array([churn_gamma(float(np.sqrt(np.expm1(2 * B))), n_points - 1, *churn) for B in B_now])
    B_raised = np.where(gamma > 0, 0.5 * np.log1p((1 + gamma) ** 2 * np.expm1(2 * B_now)), B_now)
    rise = np.where(gamma > 0, time_of(B_raised) - u, 0.0)
    at = _schedule_values(u + rise)
    B, beta = np.where(gamma > 0, B_raised, B_now), at["beta"]
    rate = B - B_now  # the kernel from u_k to u_hat: N(e^{-rate} x, 1 - e^{-2 rate}), exactly (1, 0) where gamma = 0
    values = (np.exp(-rate), -np.expm1(-2 * rate), -beta, 2 * beta, np.zeros_like(u), rise)
    return dict(zip(RAISED, values)), B


def grid_at(eps: float, t: np.ndarray, spacing: str = "time") -> Grid:
    """The grid on the reversed times ``t`` (increasing, from 0 to T - eps)."""
    n_points = len(t)
    u = T_END - t
    dt = np.diff(t)
    at_points, at_mid = _schedule_values(u), _schedule_values(T_END - (t[:-1] + dt / 2))
    B, beta = at_points["B"], at_points["beta"]
    betas = (beta[:-1], beta[1:], at_mid["beta"])
    h = B[:-1] - B[1:]  # rate integrated over each step: m_t / m_t' = e^{-h}
    B_thirds = tuple(lambda_fraction(B, r) for r in (1 / 3, 2 / 3))
    # The SDE: f = -beta, g^2 = 2 beta, m = e^{-B}, v = 1 - e^{-2B}.
    sde = step_values(a=np.exp(-h), b=-np.expm1(-2 * h), m_next=np.exp(-B[1:]),
                                  v_next=-np.expm1(-2 * B[1:]), dt=dt, drift=tuple(-b for b in betas),
                                  diffusion_sq=tuple(2 * b for b in betas),
                                  kernel_mid=(np.exp(-at_mid["B"]), -np.expm1(-2 * at_mid["B"])),
                                  thirds=tuple((np.exp(-b), -np.expm1(-2 * b), np.zeros_like(b)) for b in B_thirds))
    # The DDPM chain: beta^D_k = Delta g^2(u_k), its last level the SDE's kernel at eps.
    # On coarse grids (RK4's) beta^D exceeds 1 and the chain does not exist: nan there, never read.
    beta_d = 2 * dt * betas[0]
    with np.errstate(invalid="ignore"):
        levels = np.exp(-2 * B[-1]) * np.concatenate([np.cumprod((1 - beta_d)[::-1])[::-1], [1.0]])
        chain = step_values(a=np.sqrt(1 - beta_d), b=beta_d, m_next=np.sqrt(levels[1:]),
                                        v_next=1 - levels[1:], dt=dt)
    return Grid(eps, n_points, sde, chain, u, B, at_mid["B"], B_thirds, spacing)


def step_inputs(eps: float, n_points: int, lam: np.ndarray, chain: bool = False,
                churn: tuple[float, float, float] | None = None) -> dict[str, np.ndarray]:
    r"""Every value a step map takes, per step (rows) and eigenvalue (columns): the grid's
    values (of the SDE, or of the chain) and the precisions :math:`\Sigma_u^{-1}` at :math:`u_k`,
    :math:`u_{k+1}` and the midpoint (and at the raised level of EDM's churn, for ``churn``)."""
    g = grid(eps, n_points)
    values = {name: np.array(v, dtype=np.float64)[:, None]
              for name, v in (g.chain_values if chain else g.sde_values).items()}
    with np.errstate(divide="ignore"):
        prec_points = 1.0 / _laws()["var_t"](var_data=lam[None, :], B_u_pg=g.B_points[:, None])
        prec_mid = 1.0 / _laws()["var_t"](var_data=lam[None, :], B_u_pg=g.B_mid[:, None])
        for name, B_third in zip(("prec_s1_pg", "prec_s2_pg"), g.B_thirds):
            values[name] = 1.0 / _laws()["var_t"](var_data=lam[None, :], B_u_pg=B_third[:, None])
        if churn:
            raised, B_hat = g.raised(churn)
            values |= {name: np.array(v, dtype=np.float64)[:, None] for name, v in raised.items()}
            values["prec_hat_pg"] = 1.0 / _laws()["var_t"](var_data=lam[None, :], B_u_pg=B_hat[:, None])
    return values | {"prec_k_pg": prec_points[:-1], "prec_next_pg": prec_points[1:], "prec_mid_pg": prec_mid}


def _as_column(value: Any, steps: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (steps,))[:, None]


# --------------------------------------------------------------------------
# Output variances
# --------------------------------------------------------------------------

def _run_grid(specs: Iterable[Layout], g: Grid, lam: np.ndarray, ops: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each column on grid ``g``: (prod_k a_k^2, sum_k b_k prod_{j>k} a_j^2) per eigenvalue. The steps
    before the last run on the array back end; the last step, with the column's last-step map, in numpy."""
    specs = list(specs)
    if isinstance(ops, backends.FusedOps):
        return _run_planned(grid_plan(tuple(s.label for s in specs), g.eps, g.n_points, g.spacing), lam, ops)
    with np.errstate(all="ignore"):  # divergent cells become inf/nan
        before = _run_arrays(specs, g, lam, ops)
        out = {}
        for spec in specs:
            gain_sq, tail = before[spec.label]
            last_sq, last_noise = _apply_last(_last_step(spec, g), lam)
            out[spec.label] = (last_sq * gain_sq, last_sq * tail + last_noise)
    return out


@dataclass(frozen=True)
class LastStep:
    """A column's last step on a grid, free of the eigenvalues: its gain's monomials (powers, coefficient), B at
    the points whose precisions they read, and the injected noise (None: none; added before or after the gain)."""

    monomials: tuple[tuple[tuple[int, ...], Any], ...]
    B_at: tuple[Any, ...]
    noise: Any
    noise_before: bool


def _last_step(spec: Layout, g: Grid) -> LastStep:
    # onto v = 0 at eps = 0 on the SDE (no level of the reference's chain is noise-free)
    step = compiled_step(spec.label, last=True, clean=bool(g.B_points[-1] == 0) and not spec.chain)
    values = {name: np.asarray(v, dtype=np.float64).reshape(-1)[-1] for name, v in g.values(spec).items()}
    B_hat = g.raised(spec.churn)[1][-1] if spec.churn else np.inf  # no raised level: its precision is never read
    B_at = (g.B_points[-2], g.B_points[-1], g.B_mid[-1], B_hat, *(b[-1] for b in g.B_thirds))
    return LastStep(tuple((powers, fn(**values)) for powers, fn in step.monomials), B_at,
                    None if step.noise_var is None else step.noise_var(**values), step.noise_before)


def _apply_last(step: LastStep, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a^2, b) of the grid's last step for every eigenvalue."""
    used = sorted({i for powers, _ in step.monomials for i, e in enumerate(powers) if e})
    precisions = {i: 1.0 / (1.0 + np.exp(-2 * step.B_at[i]) * (lam - 1.0)) for i in used}  # only the points read
    gain = np.zeros_like(lam)
    for powers, coef in step.monomials:
        factor = np.ones_like(lam)
        for i, e in enumerate(powers):
            if e:
                factor = factor * precisions[i] ** e
        gain = gain + coef * factor
    noise = np.zeros_like(lam) if step.noise is None else np.full_like(lam, step.noise)
    return gain * gain, noise * gain * gain if step.noise_before else noise


@dataclass(frozen=True)
class GridPlan:
    """What the fused kernels need for a group of columns on one grid, free of the eigenvalues: the kernel's
    inputs for the steps before the last (:func:`_fused_inputs`; None when there are none) and for the last
    step of each column (:func:`_last_inputs`), and those last steps themselves. Numbers only: a stored plan
    loads without the step maps."""

    labels: tuple[str, ...]
    fused: tuple | None
    last: tuple
    last_steps: tuple[LastStep, ...]


@functools.lru_cache(maxsize=256)
def grid_plan(labels: tuple[str, ...], eps: float, n_points: int, spacing: str = "time") -> GridPlan:
    """The :class:`GridPlan` of the columns ``labels`` on the ``n_points`` grid to ``eps``."""
    g = {"time": grid, "lambda": lambda_grid}[spacing](eps, n_points)
    fused = _fused_inputs(labels, eps, n_points, spacing) if n_points > 2 else None
    last_steps = tuple(_last_step(layouts()[label], g) for label in labels)
    return GridPlan(labels, fused, _last_inputs(last_steps), last_steps)


def _last_inputs(steps: tuple[LastStep, ...]) -> tuple:
    """The last steps of a group's columns as the fused kernel's inputs on a grid of one step: its ends'
    :math:`e^{-2B}`, a row of ``e_extra`` for each further point some column reads (told apart by its B: the
    raised level is each column's own), the structures, coefficients and noises. The kernel's composed map of
    that one step is (:math:`a^2`, b) of :func:`_apply_last`."""
    rows: dict[tuple[int, str], float] = {}
    for step in steps:
        for powers, _ in step.monomials:
            rows.update({(i, repr(float(step.B_at[i]))): float(step.B_at[i]) for i, e in enumerate(powers) if e and i >= 2})
    keys = sorted(rows)
    structures = tuple(
        (tuple(p[:2] + tuple(p[i] if repr(float(step.B_at[i])) == b else 0 for i, b in keys) for p, _ in step.monomials),
         step.noise is not None, step.noise_before) for step in steps)
    coefs = np.zeros((len(steps), max(len(step.monomials) for step in steps), 1))
    for s, step in enumerate(steps):
        coefs[s, :len(step.monomials), 0] = [coef for _, coef in step.monomials]
    noises = np.array([[0.0 if step.noise is None else step.noise] for step in steps], dtype=np.float64)
    ends = np.exp(-2 * np.array([steps[0].B_at[0], steps[0].B_at[1]], dtype=np.float64))
    e_extra = np.array([np.exp(-2 * rows[key]) for key in keys], dtype=np.float64).reshape(len(keys), 1)
    return structures, coefs, noises, ends, e_extra


def _table_plans(groups: tuple[tuple[float, int, tuple[str, ...]], ...]) -> dict[tuple[float, int], GridPlan]:
    """The plans of a whole table's groups (eps, points, labels), stored on disk as one entry: a warm process reads
    it instead of loading every step map and evaluating their coefficients on every grid."""
    import hashlib

    name = "w2.plans." + hashlib.sha256(repr(groups).encode()).hexdigest()[:16]
    compute = lambda: {(eps, n): grid_plan(labels, eps, n) for eps, n, labels in groups}  # noqa: E731
    return cache.memo(name, compute, files=source_files() + (Path(__file__).resolve(),))


def _run_planned(plan: GridPlan, lam: np.ndarray, ops: backends.FusedOps) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`_run_grid` by the fused kernel of ``ops``: one generated kernel per group structure."""
    with np.errstate(all="ignore"):  # divergent cells become inf/nan
        if plan.fused is None:  # no step before the last
            gain_sq, tail = np.ones((len(plan.labels), lam.size)), np.zeros((len(plan.labels), lam.size))
        else:
            gain_sq, tail = ops.run(*plan.fused, lam - 1.0)
        if ops.fuse_last_step:
            last_sq, last_noise = ops.run(*plan.last, lam - 1.0)
        else:
            last_sq, last_noise = (np.array(part) for part in zip(*(_apply_last(step, lam) for step in plan.last_steps)))
        return {label: (last_sq[i] * gain_sq[i], last_sq[i] * tail[i] + last_noise[i]) for i, label in enumerate(plan.labels)}


def _run_arrays(specs: list[Layout], g: Grid, lam: np.ndarray, ops: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The composed maps of every step but the last, on the numpy or torch back end."""
    steps = g.n_points - 2
    if steps == 0:
        return {s.label: (np.ones_like(lam), np.zeros_like(lam)) for s in specs}
    compiled = {s.label: compiled_step(s.label) for s in specs}
    coeffs = {}
    for s in specs:
        terms = [(powers, ops.asarray(_as_column(fn(**g.values(s)), steps + 1)[:-1]))
                 for powers, fn in compiled[s.label].monomials]
        coeffs[s.label] = sorted(terms, key=lambda term: not any(term[0]))  # eigenvalue-dependent terms first
    noise = {
        s.label: (None if compiled[s.label].noise_var is None
                  else ops.asarray(_as_column(compiled[s.label].noise_var(**g.values(s)), steps + 1)[:-1]))
        for s in specs
    }
    needs_mid = any(p[2] for c in compiled.values() for p, _ in c.monomials)
    B_points, B_mid = ops.asarray(g.B_points[:-1, None]), ops.asarray(g.B_mid[:-1, None])
    B_hat = {s.label: ops.asarray(g.raised(s.churn)[1][:-1, None]) for s in specs if s.churn}
    needs_thirds = any(any(p[4:]) for c in compiled.values() for p, _ in c.monomials)
    B_thirds = tuple(ops.asarray(b[:-1, None]) for b in g.B_thirds)

    def run_block(start: int, stop: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        with np.errstate(all="ignore"):  # per thread; divergent cells become inf/nan
            return _block(start, stop)

    def _block(start: int, stop: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        lam_minus_one = ops.asarray(lam[None, start:stop] - 1.0)
        prec_points = ops.reciprocal_variance(B_points, lam_minus_one)
        precisions = (prec_points[:-1], prec_points[1:],
                      ops.reciprocal_variance(B_mid, lam_minus_one) if needs_mid else None)
        thirds = tuple(ops.reciprocal_variance(b, lam_minus_one) if needs_thirds else None for b in B_thirds)
        shared: dict[tuple[int, ...], Any] = {}
        out = {}
        for s in specs:
            # the raised level is the column's own: its monomials are cached per column
            these, cache = ((*precisions, ops.reciprocal_variance(B_hat[s.label], lam_minus_one), *thirds), {}) \
                if s.churn else ((*precisions, None, *thirds), shared)
            gain = None
            for powers, coef in coeffs[s.label]:
                if gain is None:
                    gain = coef * monomial(powers, these, cache)
                elif any(powers):
                    gain += coef * monomial(powers, these, cache)
                else:
                    gain += coef
            if noise[s.label] is None:
                total = ops.prod(gain)
                out[s.label] = (ops.to_numpy(total * total), np.zeros(stop - start))
            else:
                gain *= gain
                injected = gain * noise[s.label] if compiled[s.label].noise_before else noise[s.label]
                gain_sq, tail = compose_affine(gain, injected, ops)
                out[s.label] = (ops.to_numpy(gain_sq), ops.to_numpy(tail + 0 * gain_sq))
        return out

    block = max(1, BLOCK_ELEMENTS // g.n_points)
    bounds = [(i, min(i + block, lam.shape[0])) for i in range(0, lam.shape[0], block)]
    workers = min(threads(), len(bounds)) if isinstance(ops, backends.NumpyOps) else 1
    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda b: run_block(*b), bounds))
    else:
        parts = [run_block(*b) for b in bounds]
    return {s.label: (np.concatenate([p[s.label][0] for p in parts]), np.concatenate([p[s.label][1] for p in parts]))
            for s in specs}


RAISED_INDEX = PRECISION_NAMES.index("prec_hat_pg")


def _point_key(index: int, spec: Layout) -> tuple:
    """The per-step point the precision ``PRECISION_NAMES[index]`` is at; the raised level is the column's own
    (its churn), the others are shared by every column on the grid."""
    return (index, spec.churn) if index == RAISED_INDEX else (index,)


def _point_B(key: tuple, g: Grid) -> np.ndarray:
    """B at the point ``key`` (:func:`_point_key`) of every step of ``g``."""
    if key[0] == RAISED_INDEX:
        return g.raised(key[1])[1]
    return {"prec_mid_pg": g.B_mid, "prec_s1_pg": g.B_thirds[0], "prec_s2_pg": g.B_thirds[1]}[PRECISION_NAMES[key[0]]]


@functools.lru_cache(maxsize=256)
def _fused_inputs(labels: tuple[str, ...], eps: float, n_points: int, spacing: str
                  ) -> tuple[tuple, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What the fused kernel needs besides the eigenvalues, per (columns, grid), for every step but the last:
    the structures, coefficients, noises, and e^{-2B} at the grid points and at the further points the columns
    read (each once, in the order of the precisions, so that the monomials multiply as in the numpy path)."""
    g, steps = {"time": grid, "lambda": lambda_grid}[spacing](eps, n_points), n_points - 1
    specs = [layouts()[label] for label in labels]
    maps = [compiled_step(label) for label in labels]
    points = sorted({_point_key(i, spec) for spec, step in zip(specs, maps) for p, _ in step.monomials
                     for i, e in enumerate(p) if e and i >= 2}, key=lambda key: (key[0], repr(key[1:])))
    structures, coef_rows, noise_rows = [], [], []
    for spec, step in zip(specs, maps):
        values = g.values(spec)
        slot = {_point_key(i, spec): i for i in range(2, len(step.monomials[0][0]))}
        structures.append((tuple(p[:2] + tuple(p[slot[key]] if key in slot else 0 for key in points)
                                 for p, _ in step.monomials),
                           step.noise_var is not None, step.noise_before))
        coef_rows.append([_as_column(fn(**values), steps)[:-1, 0] for _, fn in step.monomials])
        noise_rows.append(np.zeros(steps - 1) if step.noise_var is None
                          else _as_column(step.noise_var(**values), steps)[:-1, 0])
    coefs = np.zeros((len(labels), max(len(r) for r in coef_rows), steps - 1))
    for i, rows in enumerate(coef_rows):
        coefs[i, :len(rows)] = rows
    e_extra = np.array([np.exp(-2 * _point_B(key, g)[:-1]) for key in points]).reshape(len(points), steps - 1)
    return tuple(structures), coefs, np.array(noise_rows), np.exp(-2 * g.B_points[:-1]), e_extra


def initial_variance(lam: np.ndarray, init: str) -> np.ndarray:
    """Variance the backward process starts from: p_T = N(0, Sigma_T) or N(0, I)."""
    if init == "N0":
        return np.ones_like(lam)
    if init == "p_T":
        B_T = _schedule_values(np.array([T_END]))["B"][0]
        return _laws()["var_t"](var_data=lam, B_u_pg=B_T)
    raise ValueError(f"unknown init {init!r}: use p_T or N0")


def continuous_variance(lam: np.ndarray, kind: str, eps: float, init: str) -> np.ndarray:
    """Output variance of the exact reverse SDE (``SDE``) or probability-flow ODE (``ODE``) at time eps."""
    name = {"SDE": "sde_var", "ODE": "ode_var"}[kind]
    B_eps, B_T = _schedule_values(np.array([eps, T_END]))["B"]
    return _laws()[name](var_data=lam, B_u_pg=B_eps, B_T_pg=B_T, var_init_pg=initial_variance(lam, init))


def output_variance(lam: np.ndarray, label: str, eps: float, n_points: int, init: str,
                    backend: str = "numpy", spacing: str = "time") -> np.ndarray:
    """Variance per eigenvalue after the scheme ``label`` on the N-point grid (non-finite if it diverges),
    uniform in reversed time (``spacing="time"``, the reference's) or in half-log-SNR (``"lambda"``)."""
    g = {"time": grid, "lambda": lambda_grid}[spacing](eps, n_points)
    with np.errstate(all="ignore"):
        gain_sq, tail = _run_grid([layouts()[label]], g, lam, backends.choose(backend, lam.size))[label]
        return initial_variance(lam, init) * gain_sq + tail


def w2(variances: np.ndarray, lam: np.ndarray, weights: np.ndarray | None = None) -> float:
    """W2 between N(0, diag variances) and N(0, diag lam) (``gauss_exact.w2``); nan when not finite."""
    with np.errstate(all="ignore"):
        terms = _w2_sq()(var_c_pg=variances, var_data=lam)
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


def table(eigenvalues: np.ndarray, nfes: Iterable[int] = NFES, eps_values: Iterable[float] = EPS_VALUES,
          schemes: Iterable[str] | None = None, points: dict[str, Callable[[int], int]] | None = None,
          backend: str = "auto", continuous: bool = True) -> list[Cell]:
    """Every cell: continuous rows, then each scheme x eps x init x NFE (distinct eigenvalues computed once)."""
    lam_all = validate_eigenvalues(eigenvalues)
    lam, counts = np.unique(lam_all, return_counts=True)
    weights = counts.astype(np.float64)
    columns = layouts()
    specs = [columns[s] for s in schemes] if schemes is not None else list(columns.values())
    points = points or {}
    ops = backends.choose(backend, lam.size)
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
        by_grid: dict[tuple[float, int], list[Layout]] = {}
        for spec in specs:
            n_of = points.get(spec.label, spec.points)
            for eps in eps_values:
                for nfe in nfes:
                    by_grid.setdefault((eps, n_of(nfe)), []).append(spec)
        results = {}
        plans = _table_plans(tuple((eps, n, tuple(s.label for s in group)) for (eps, n), group in by_grid.items())) \
            if isinstance(ops, backends.FusedOps) else None
        if plans:
            ops.prepare([p.fused[0] for p in plans.values() if p.fused] + [p.last[0] for p in plans.values()])
        for (eps, n_points), group in by_grid.items():
            run = _run_planned(plans[(eps, n_points)], lam, ops) if plans else _run_grid(group, grid(eps, n_points), lam, ops)
            for label, value in run.items():
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
    columns = layouts()
    specs = [columns[s] for s in schemes] if schemes is not None else list(columns.values())
    cells = []
    with np.errstate(all="ignore"):
        for spec in specs:
            maps = {last: (compiled_full(spec.label, "gain", last), compiled_full(spec.label, "noise_var", last))
                    for last in (False, True)}
            clean_last = (compiled_full(spec.label, "gain", True, True), compiled_full(spec.label, "noise_var", True, True))
            for eps in eps_values:
                for init in INITS:
                    for nfe in nfes:
                        g = grid(eps, spec.points(nfe))
                        c = initial_variance(lam, init)
                        steps = g.n_points - 1
                        for k in range(steps):
                            values = {name: _as_column(v, steps)[k, 0] for name, v in g.values(spec).items()}
                            values |= {
                                "prec_k_pg": 1 / _laws()["var_t"](var_data=lam, B_u_pg=g.B_points[k]),
                                "prec_next_pg": 1 / _laws()["var_t"](var_data=lam, B_u_pg=g.B_points[k + 1]),
                                "prec_mid_pg": 1 / _laws()["var_t"](var_data=lam, B_u_pg=g.B_mid[k]),
                            }
                            values |= {name: 1 / _laws()["var_t"](var_data=lam, B_u_pg=b[k])
                                       for name, b in zip(("prec_s1_pg", "prec_s2_pg"), g.B_thirds)}
                            if spec.churn:
                                B_hat = g.raised(spec.churn)[1][k]
                                values["prec_hat_pg"] = 1 / _laws()["var_t"](var_data=lam, B_u_pg=B_hat)
                            gain_fn, noise_fn = clean_last if k == steps - 1 and g.B_points[-1] == 0 and not spec.chain \
                                else maps[k == steps - 1]
                            c = gain_fn(**values) ** 2 * c + noise_fn(**values)
                        cells.append(Cell(spec.label, eps, init, nfe, w2(c, lam), g.n_points))
    return cells
