r"""Fused CPU kernels for the exact W2 table, generated from the derived step maps (numba, or C: kernel_c).

:mod:`checks.exact.forms` writes each column's gain as a polynomial in the score precisions,
:math:`a_k = \sum_m \kappa_{m,k}\, P_k^{e_{m,0}} P_{k+1}^{e_{m,1}} \prod_{j} P_{u_{j,k}}^{e_{m,j+2}}`, with
:math:`P_u = 1/(1 + e^{-2B(u)}(\lambda - 1))`, :math:`u_{j,k}` the further points of step :math:`k` a group of
columns reads (its midpoint, the raised level of EDM's churn, the thirds of DPM-Solver-3's step), and
coefficients :math:`\kappa_{m,k}` evaluated on the grid from the lambdified SymPy forms. For one grid and a
group of schemes this module writes the source of one kernel from that structure (which monomials each
scheme has, and whether and where it injects noise), compiles it once per structure, and runs it over
blocks of eigenvalues, ranges of blocks on threads (:func:`over_threads`): per step, the precisions are computed once and every scheme's composed map

.. math:: A \leftarrow a_k^2 A, \qquad b \leftarrow a_k^2 b + n_k
    \quad (\text{noise before the gain, EDM's churn: } b \leftarrow a_k^2 b + a_k^2 n_k)

is updated in registers, so each (eigenvalue, step) is touched once instead of once per
array operation. The statements are written once (:func:`step_reads`, :func:`element_step`) and
wrapped as numba's Python (:func:`kernel_source`) or as C99 (:func:`c_source`, compiled by
:mod:`checks.exact.kernel_c`). The arithmetic is the numpy path's (the same polynomial, the same
float64 products); only the order of the products differs.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from derivations.core import config

Powers = tuple[int, ...]
# A scheme's structure: its monomials' powers of (P_k, P_{k+1}, P_{e_0}, P_{e_1}, ...), whether it injects
# noise, and (optionally, default False) whether that noise comes before the step's eigenvalue-dependent part.
Structure = tuple

BLOCK = 256  # eigenvalues per block: 2 x schemes x BLOCK float64 accumulators stay in L1/L2


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """numba importable, and not disabled (:func:`derivations.core.config.numba_disabled`)."""
    if config.numba_disabled():
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _factors(powers: Powers) -> list[str]:
    return [f"p{i}" for i, e in enumerate(powers) for _ in range(e)]


def _term(coef: str, powers: Powers) -> str:
    # the numpy path multiplies the coefficient by the finished monomial: the same order here
    factors = _factors(powers)
    if not factors:
        return coef
    return f"{coef} * " + (factors[0] if len(factors) == 1 else f"({'*'.join(factors)})")


def noise_before(structure: Structure) -> bool:
    """Whether the scheme's noise comes before the step's gain (EDM's churn)."""
    return bool(structure[2]) if len(structure) > 2 else False


def extra_rows(structures: Sequence[Structure]) -> list[int]:
    """The rows of ``e_extra`` some scheme reads (powers beyond the first two), in order."""
    return sorted({i - 2 for s in structures for p in s[0] for i, e in enumerate(p) if e and i >= 2})


def python_index(name: str, *index: str) -> str:
    """``name[i, j]``: an element of a numpy array in numba's source."""
    return f"{name}[{', '.join(map(str, index))}]"


def step_reads(structures: Sequence[Structure], at=python_index) -> list[str]:
    """The per-step scalars, ``name = value`` (Python and C alike): :math:`e^{-2B}` at the step's end and at the
    further points read, each scheme's coefficients and its noise; ``at(array, *index)`` writes an element."""
    lines = [f"e1 = {at('e_pts', 'k + 1')}", *[f"ex{r} = {at('e_extra', r, 'k')}" for r in extra_rows(structures)]]
    for s, structure in enumerate(structures):
        monomials, noisy = structure[0], structure[1]
        lines.extend(f"c{s}_{m} = {at('coefs', s, m, 'k')}" for m in range(len(monomials)))
        if noisy:
            lines.append(f"z{s} = {at('noises', s, 'k')}")
    return lines


FIRST_PRECISION = "pk[j] = 1.0 / (1.0 + e_pts[0] * x[j])"  # P at the grid's first point, per eigenvalue


def element_step(structures: Sequence[Structure]) -> list[str]:
    """One step for eigenvalue ``j`` (Python and C alike, one assignment a line): the precisions, then each
    scheme's gain, its square, and the composed map's update; the end's precision becomes the next start's."""
    lines = ["p0 = pk[j]", "p1 = 1.0 / (1.0 + e1 * x[j])"]  # p1 is also the next step's P_k
    lines.extend(f"p{r + 2} = 1.0 / (1.0 + ex{r} * x[j])" for r in extra_rows(structures))
    for s, structure in enumerate(structures):
        monomials, noisy = structure[0], structure[1]
        terms = [_term(f"c{s}_{m}", p) for m, p in enumerate(monomials)]
        lines.append(f"g = {' + '.join(terms)}")
        lines.append("g = g * g")
        lines.append(f"A{s}[j] *= g")
        if noisy and noise_before(structure):
            lines.append(f"B{s}[j] = B{s}[j] * g + g * z{s}")
        elif noisy:
            lines.append(f"B{s}[j] = B{s}[j] * g + z{s}")
    lines.append("pk[j] = p1")
    return lines


def kernel_source(structures: Sequence[Structure]) -> str:
    r"""Python source of the fused kernel for ``structures`` (one entry per scheme).

    Powers beyond the first two are of the precisions :math:`1/(1 + e_{j,k}(\lambda - 1))` at the rows
    :math:`e_j` of the kernel's ``e_extra`` (:math:`e^{-2B}` at a point of each step); only the rows
    some scheme reads are computed. A scheme whose noise comes before its gain composes
    :math:`b \leftarrow a_k^2 (b + n_k)`, written :math:`a_k^2 b + a_k^2 n_k` as the numpy path does.
    The statements are :func:`step_reads` and :func:`element_step`, shared with the C kernels
    (:func:`c_source`)."""
    lines = [
        "def kernel(start, stop, lm, e_pts, e_extra, coefs, noises, out_A, out_B):",
        "    n = e_pts.shape[0] - 1",
        f"    for i0 in range(start, stop, {BLOCK}):",
        f"        m = min({BLOCK}, stop - i0)",
        "        x = lm[i0:i0 + m].copy()",
        *[f"        A{s} = np.ones(m)" for s in range(len(structures))],
        *[f"        B{s} = np.zeros(m)" for s, st in enumerate(structures) if st[1]],
        "        pk = np.empty(m)",
        "        for j in range(m):",
        f"            {FIRST_PRECISION}",
        "        for k in range(n):",
        *[f"            {line}" for line in step_reads(structures)],
        "            for j in range(m):",
        *[f"                {line}" for line in element_step(structures)],
    ]
    for s, structure in enumerate(structures):
        lines.append(f"        out_A[{s}, i0:i0 + m] = A{s}")
        lines.append(f"        out_B[{s}, i0:i0 + m] = " + (f"B{s}" if structure[1] else "0.0"))
    return "\n".join(lines) + "\n"


# Row-major shapes of the C kernel's arrays beyond their first index (``rows``: the monomials per scheme).
C_SHAPES = {"e_pts": (), "e_extra": ("n",), "coefs": ("rows", "n"), "noises": ("n",)}
C_BLOCK = 64  # eigenvalues per block of the C kernels: a multiple of every vector width, A and b stay in L1


def c_index(name: str, *index: str) -> str:
    """An element of a row-major array of :data:`C_SHAPES` in the C source: ``coefs[(s * rows + m) * n + k]``."""
    flat = str(index[0])
    for size, i in zip(C_SHAPES[name], index[1:]):
        flat = f"({flat}) * {size} + {i}"
    return f"{name}[{flat}]"


def c_source(structures: Sequence[Structure], marker: str) -> str:
    r"""C source of the fused kernel for ``structures``: :func:`kernel_source`'s statements and order of
    products, over the eigenvalues ``[start, stop)`` in blocks of :data:`C_BLOCK` (the last padded with
    :math:`\lambda = 1`, whose results are dropped), so that the loop over a block has a fixed length and
    vectorises. ``marker`` is kept in the library as a string, which tells a stale file from this one."""
    schemes = range(len(structures))
    noisy = [s for s in schemes if structures[s][1]]
    arrays = ", ".join([f"A{s}[{C_BLOCK}]" for s in schemes] + [f"B{s}[{C_BLOCK}]" for s in noisy])
    per_step = ", ".join(line.split(" = ")[0] for line in step_reads(structures))
    temporaries = ", ".join(["g", "p0", "p1", *[f"p{r + 2}" for r in extra_rows(structures)]])
    lines = [
        "#include <stddef.h>",
        f'const char diffverify_marker[] = "{marker}";',
        "void w2_kernel(ptrdiff_t start, ptrdiff_t stop, ptrdiff_t size, ptrdiff_t n, ptrdiff_t rows,",
        "               const double *restrict lm, const double *restrict e_pts, const double *restrict e_extra,",
        "               const double *restrict coefs, const double *restrict noises,",
        "               double *restrict out_A, double *restrict out_B)",
        "{",
        f"    for (ptrdiff_t i0 = start; i0 < stop; i0 += {C_BLOCK}) {{",
        f"        const ptrdiff_t m = stop - i0 < {C_BLOCK} ? stop - i0 : {C_BLOCK};",
        f"        double x[{C_BLOCK}], pk[{C_BLOCK}], {arrays};",
        f"        for (ptrdiff_t j = 0; j < {C_BLOCK}; ++j) {{",
        "            x[j] = j < m ? lm[i0 + j] : 0.0;",
        *[f"            A{s}[j] = 1.0;" for s in schemes],
        *[f"            B{s}[j] = 0.0;" for s in noisy],
        f"            {FIRST_PRECISION};",
        "        }",
        "        for (ptrdiff_t k = 0; k < n; ++k) {",
        f"            double {per_step};",
        *[f"            {line};" for line in step_reads(structures, c_index)],
        f"            for (ptrdiff_t j = 0; j < {C_BLOCK}; ++j) {{",
        f"                double {temporaries};",
        *[f"                {line};" for line in element_step(structures)],
        "            }",
        "        }",
        "        for (ptrdiff_t j = 0; j < m; ++j) {",
        *[f"            out_A[{s} * size + i0 + j] = A{s}[j];" for s in schemes],
        *[f"            out_B[{s} * size + i0 + j] = " + (f"B{s}[j];" if structures[s][1] else "0.0;") for s in schemes],
        "        }",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def cache_dir() -> Path:
    """Where generated kernels and numba's compiled code live: under :func:`derivations.core.config.cache_dir`."""
    return config.cache_dir() / "w2_kernels"


@functools.lru_cache(maxsize=None)
def compiled(structures: tuple[Structure, ...]):
    """The kernel for ``structures``. Its source is written to a file named by its hash so that numba's
    on-disk cache applies: the first process compiles (seconds), later ones load the machine code."""
    # Serial (no prange): the blocks run on Python threads (:func:`over_threads`, the kernel releases the GIL).
    # numba's parallel compile takes half again as long, and its OpenMP layer would set the thread count
    # of the whole process, which torch shares.
    source = "import numpy as np\nfrom numba import njit\n\n\n" + \
        "@njit(error_model='numpy', fastmath=False, nogil=True, cache=True)\n" + kernel_source(structures)
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"w2_kernel_{hashlib.sha256(source.encode()).hexdigest()[:16]}.py"
    if not path.exists():
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(source)
        os.replace(temporary, path)  # atomic: concurrent workers never see half a file
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # numba's cache resolves the kernel's globals through its module
    spec.loader.exec_module(module)
    return module.kernel


@functools.lru_cache(maxsize=1)
def _pool(workers: int, pid: int) -> ThreadPoolExecutor:
    # keyed by the process: a forked child inherits the pool but not its threads, and would wait on it forever
    return ThreadPoolExecutor(workers, thread_name_prefix="w2-kernel")


def over_threads(call: Callable[[int, int], None], size: int, block: int) -> None:
    """``call(start, stop)`` over ``[0, size)`` in contiguous ranges of whole blocks, one range per thread
    (:func:`derivations.core.config.threads`). The kernels release the GIL, and every eigenvalue is computed
    alone, so the split changes no number."""
    blocks = -(-size // block)
    workers = max(1, min(config.threads(), blocks))
    per_worker = -(-blocks // workers) * block
    bounds = [(start, min(start + per_worker, size)) for start in range(0, size, per_worker)]
    if len(bounds) <= 1:
        call(0, size)
    else:
        list(_pool(workers, os.getpid()).map(lambda b: call(*b), bounds))


def run(structures: tuple[Structure, ...], coefs: np.ndarray, noises: np.ndarray, e_points: np.ndarray,
        e_extra: np.ndarray, lam_minus_one: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Composed maps (A, b), each (schemes, eigenvalues), for the grid given by :math:`e^{-2B}` at its
    points (``e_points``) and at the further points of each step the powers name (``e_extra``, one row per
    point, or one row as a vector); ``coefs`` is (schemes, monomials, steps)."""
    schemes, size = len(structures), lam_minus_one.shape[0]
    out_A, out_B = np.empty((schemes, size)), np.empty((schemes, size))
    kernel = compiled(structures)
    arrays = [np.ascontiguousarray(a, dtype=np.float64)
              for a in (lam_minus_one, e_points, np.atleast_2d(e_extra), coefs, noises)]
    over_threads(lambda start, stop: kernel(start, stop, *arrays, out_A, out_B), size, BLOCK)
    return out_A, out_B
