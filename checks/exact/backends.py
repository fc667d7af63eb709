"""Array back ends of the exact W2 table: numpy on the CPU, torch on a CUDA device, or the fused kernels
of :mod:`checks.exact.kernel`, compiled as C (:mod:`checks.exact.kernel_c`) or by numba (:func:`choose`
chooses), and the composition of affine maps."""

from __future__ import annotations

from typing import Any

import numpy as np

from derivations.core import config
from checks.exact import kernel as w2_kernel
from checks.exact import kernel_c


class NumpyOps:

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


class TorchOps:

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


class FusedOps:
    """The fused CPU kernels of :mod:`checks.exact.kernel`: ``run`` composes the maps of a group of columns;
    ``fuse_last_step``: the grid's last step runs as a kernel too (else in numpy)."""

    run = staticmethod(w2_kernel.run)
    fuse_last_step = True

    @staticmethod
    def prepare(structure_sets: list[tuple]) -> None:
        """Make the kernels of ``structure_sets`` ready before the table runs them (numba: when first run)."""


class NumbaOps(FusedOps):
    """The kernels compiled by numba. The last step stays in numpy: each further kernel costs numba a load
    in every process (about 0.05 s), more than that step's arithmetic."""

    fuse_last_step = False


class COps(FusedOps):
    """The kernels compiled as C by the system's compiler (:mod:`checks.exact.kernel_c`)."""

    run = staticmethod(kernel_c.run)
    prepare = staticmethod(kernel_c.prepare)


BACKENDS = ("auto", "c", "numba", "numpy", "torch")


def _cpu_default() -> FusedOps | NumpyOps:
    """The fastest CPU back end here: C kernels where a compiler is, else numba, else numpy."""
    if kernel_c.available():
        return COps()
    return NumbaOps() if w2_kernel.available() else NumpyOps()


# ``auto`` considers CUDA from this many distinct eigenvalues: below it, starting torch and the
# device (about a second) costs more than the whole table on the CPU (CIFAR-10's 3072 eigenvalues
# take a few hundredths of a second there), and the command need not import torch at all.
CUDA_MIN_EIGENVALUES = 1 << 17


def choose(backend: str, eigenvalues: int | None = None) -> NumpyOps | TorchOps | FusedOps:
    """The back end for ``backend`` (one of :data:`BACKENDS`); ``auto`` is CUDA when a device is there and the
    spectrum has at least :data:`CUDA_MIN_EIGENVALUES` distinct ``eigenvalues`` (any size when not given), else
    the C kernels where a C compiler is, else numba, else numpy."""
    if backend == "auto" and eigenvalues is not None and eigenvalues < CUDA_MIN_EIGENVALUES:
        return _cpu_default()
    if backend == "numpy":
        return NumpyOps()
    if backend == "c":
        return COps()  # a missing compiler is reported when a kernel is needed and not in the cache
    if backend == "numba":
        if not w2_kernel.available():
            raise ValueError("backend numba needs the numba package (pip install numba)")
        return NumbaOps()
    import torch

    if backend == "auto":
        if torch.cuda.is_available():
            return TorchOps(torch.device("cuda"))
        return _cpu_default()
    if backend in ("torch", "cuda"):
        return TorchOps(torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    raise ValueError(f"unknown backend {backend!r}: use {', '.join(BACKENDS)}")


def threads() -> int:
    """Worker threads for the eigenvalue blocks (numpy releases the GIL): :func:`derivations.core.config.threads`."""
    return config.threads()


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


def monomial(powers: tuple[int, ...], precisions: tuple[Any, ...], cache: dict) -> Any:
    if powers not in cache:
        value = None
        for p, e in zip(precisions, powers):
            for _ in range(e):
                value = p if value is None else value * p
        cache[powers] = value
    return cache[powers]
