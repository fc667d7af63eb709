r"""Fused CPU kernels for the exact W2 table, generated from the derived step maps (numba).

:mod:`checks.exact.forms` writes each column's gain as a polynomial in the score precisions,
:math:`a_k = \sum_m \kappa_{m,k}\, P_k^{e_{m,0}} P_{k+1}^{e_{m,1}} P_{k+1/2}^{e_{m,2}}`, with
:math:`P_u = 1/(1 + e^{-2B(u)}(\lambda - 1))` and coefficients :math:`\kappa_{m,k}` evaluated on
the grid from the lambdified SymPy forms. For one grid and a group of schemes this module
writes the source of one kernel from that structure (which monomials each scheme has, and
whether it injects noise), compiles it once per structure, and runs it over blocks of
eigenvalues: per step, the precisions are computed once and every scheme's composed map

.. math:: A \leftarrow a_k^2 A, \qquad b \leftarrow a_k^2 b + n_k

is updated in registers, so each (eigenvalue, step) is touched once instead of once per
array operation. The arithmetic is the numpy path's (the same polynomial, the same
float64 products); only the order of the products differs.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from derivations.core import config

Powers = tuple[int, ...]
# A scheme's structure: its monomials' powers of (P_k, P_{k+1}, P_{k+1/2}[, P_hat = 0]) and whether it injects noise.
Structure = tuple[tuple[Powers, ...], bool]

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


def _monomial_source(powers: Powers) -> str:
    factors = [name for name, e in zip(("p0", "p1", "p2"), powers) for _ in range(e)]
    return "*".join(factors)


def kernel_source(structures: Sequence[Structure]) -> str:
    """Python source of the fused kernel for ``structures`` (one entry per scheme)."""
    if any(any(p[3:]) for s in structures for p in s[0]):
        raise ValueError("the fused kernel has no raised level: such columns run on the array back ends")
    needs_mid = any(p[2] for s in structures for p in s[0])
    lines = [
        "def kernel(lm, e_pts, e_mid, coefs, noises, out_A, out_B):",
        "    L = lm.shape[0]",
        "    n = e_pts.shape[0] - 1",
        f"    for blk in prange((L + {BLOCK} - 1) // {BLOCK}):",
        f"        i0 = blk * {BLOCK}",
        f"        m = min({BLOCK}, L - i0)",
        "        x = lm[i0:i0 + m].copy()",
        *[f"        A{s} = np.ones(m)" for s in range(len(structures))],
        *[f"        B{s} = np.zeros(m)" for s, (_, noisy) in enumerate(structures) if noisy],
        "        pk = 1.0 / (1.0 + e_pts[0] * x)",
        "        for k in range(n):",
        "            e1 = e_pts[k + 1]",
        "            em = e_mid[k]",
    ]
    for s, (monomials, noisy) in enumerate(structures):
        for m in range(len(monomials)):
            lines.append(f"            c{s}_{m} = coefs[{s}, {m}, k]")
        if noisy:
            lines.append(f"            z{s} = noises[{s}, k]")
    lines.append("            for j in range(m):")
    lines.append("                p0 = pk[j]")
    lines.append("                p1 = 1.0 / (1.0 + e1 * x[j])")  # also the next step's P_k
    if needs_mid:
        lines.append("                p2 = 1.0 / (1.0 + em * x[j])")
    for s, (monomials, noisy) in enumerate(structures):
        terms = [f"c{s}_{m}" + (f" * {_monomial_source(p)}" if any(p) else "") for m, p in enumerate(monomials)]
        lines.append(f"                g = {' + '.join(terms)}")
        lines.append("                g = g * g")
        lines.append(f"                A{s}[j] *= g")
        if noisy:
            lines.append(f"                B{s}[j] = B{s}[j] * g + z{s}")
    lines.append("                pk[j] = p1")
    for s, (_, noisy) in enumerate(structures):
        lines.append(f"        out_A[{s}, i0:i0 + m] = A{s}")
        lines.append(f"        out_B[{s}, i0:i0 + m] = " + (f"B{s}" if noisy else "0.0"))
    return "\n".join(lines) + "\n"


def cache_dir() -> Path:
    """Where generated kernels and numba's compiled code live: under :func:`derivations.core.config.cache_dir`."""
    return config.cache_dir() / "w2_kernels"


@functools.lru_cache(maxsize=None)
def compiled(structures: tuple[Structure, ...]):
    """The kernel for ``structures``. Its source is written to a file named by its hash so that numba's
    on-disk cache applies: the first process compiles (seconds), later ones load the machine code."""
    source = "import numpy as np\nfrom numba import njit, prange\n\n\n" + \
        "@njit(parallel=True, error_model='numpy', fastmath=False, nogil=True, cache=True)\n" + kernel_source(structures)
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


def run(structures: tuple[Structure, ...], coefs: np.ndarray, noises: np.ndarray, e_points: np.ndarray,
        e_mid: np.ndarray, lam_minus_one: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Composed maps (A, b), each (schemes, eigenvalues), for the grid given by :math:`e^{-2B}` at its
    points (``e_points``) and midpoints (``e_mid``); ``coefs`` is (schemes, monomials, steps)."""
    schemes, size = len(structures), lam_minus_one.shape[0]
    out_A, out_B = np.empty((schemes, size)), np.empty((schemes, size))
    compiled(structures)(np.ascontiguousarray(lam_minus_one, dtype=np.float64),
                         np.ascontiguousarray(e_points, dtype=np.float64),
                         np.ascontiguousarray(e_mid, dtype=np.float64),
                         np.ascontiguousarray(coefs, dtype=np.float64),
                         np.ascontiguousarray(noises, dtype=np.float64), out_A, out_B)
    return out_A, out_B
