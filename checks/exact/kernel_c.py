r"""The fused W2 kernels of :mod:`checks.exact.kernel` compiled as C by the system's compiler, run through ctypes.

The source is :func:`checks.exact.kernel.c_source`: the numba kernel's statements (the same monomials, the
same order of products, the same recursions) in C99. It is compiled once per structure into the kernels'
cache folder (:func:`checks.exact.kernel.cache_dir`), under a name hashed from the source, the compiler and
its flags, and loaded with :mod:`ctypes`; a later process only loads the library (about a millisecond),
where numba spends half a second importing itself and setting up its target. The flags keep the float64
arithmetic of the numpy path: no ``-ffast-math``, and ``-ffp-contract=off`` so that no product and sum
fuse into one rounding. Where the processor can be named (Linux: its model and feature flags), the
library is compiled for it (``-march=native``: AVX-512 halves the time, and with no fused multiply-add the
results are the same to the bit) and the name hashes that processor too, so that a cache folder shared by
different machines never hands one a library for another. Ranges of blocks of eigenvalues run on threads (:func:`checks.exact.kernel.over_threads`;
ctypes releases the GIL during the call).

A library is written under a temporary name and renamed into place, so that a process never loads half a
file; one whose embedded marker is not its name's (a stale or damaged file), or that does not load, is
compiled again.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from derivations.core import config
from checks.exact import kernel as w2_kernel

COMPILERS = ("cc", "gcc", "clang")
FLAGS = ("-std=c99", "-O3", "-fPIC", "-shared", "-ffp-contract=off", "-fno-math-errno")
MARKER = "diffverify-w2-kernel "


class KernelError(RuntimeError):
    """The C compiler failed on a kernel (one-line message)."""


def compiler() -> str | None:
    """The first of :data:`COMPILERS` on the ``PATH``, or None."""
    for name in COMPILERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def available() -> bool:
    """A C compiler is there (a kernel already compiled in the cache also runs without one)."""
    return compiler() is not None


def first_processor(cpuinfo: str) -> str:
    """The model and feature flags of the first processor listed in ``cpuinfo`` (``/proc/cpuinfo``'s text),
    joined by ``|``, or "" where it names none."""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            break
        if ":" in line:
            name, value = line.split(":", 1)
            fields[name.strip()] = value.strip()  # "vendor_id\t: AuthenticAMD": tabs align the colons
    named = [fields.get(k, "") for k in ("vendor_id", "model name", "flags", "Features", "CPU part")]
    return "|".join(named) if any(named) else ""


@functools.lru_cache(maxsize=1)
def processor() -> str:
    """This machine's :func:`first_processor`, or "" where unknown (no ``/proc/cpuinfo``)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            return first_processor(info.read())
    except OSError:
        return ""


def flags() -> tuple[str, ...]:
    """:data:`FLAGS`, and ``-march=native`` where :func:`processor` names the processor (x86-64 Linux)."""
    native = processor() and platform.machine() in ("x86_64", "AMD64")
    return FLAGS + ("-march=native",) if native else FLAGS


def library_path(source: str) -> Path:
    """Where the library of ``source`` lives: named by the hash of the source, the compiler's flags and
    the machine (with the processor's model and features when compiled for it)."""
    parts = [source, *flags(), platform.machine(), processor()]
    key = hashlib.sha256("\0".join(parts).encode())
    return w2_kernel.cache_dir() / f"w2c_{key.hexdigest()[:20]}.so"


def _source(structures: tuple) -> tuple[str, str]:
    """(source, marker): the marker names the structure's source without itself, so it can be checked in the file."""
    digest = hashlib.sha256(w2_kernel.c_source(structures, MARKER).encode()).hexdigest()[:20]
    marker = MARKER + digest
    return w2_kernel.c_source(structures, marker), marker


def _is_current(path: Path, marker: str) -> bool:
    try:
        return marker.encode() in path.read_bytes()
    except OSError:
        return False


def _compile(source: str, path: Path, cc: str) -> None:
    """Compile ``source`` into ``path`` atomically: into a temporary file beside it, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stem = f"{path.name}.{os.getpid()}.{threading.get_ident()}"
    c_file, temporary = path.with_name(stem + ".c"), path.with_name(stem + ".tmp")
    try:
        c_file.write_text(source)
        result = subprocess.run([cc, *flags(), "-o", str(temporary), str(c_file)], capture_output=True, text=True)
        if result.returncode != 0 and flags() != FLAGS:  # a compiler that cannot target this processor: generic code
            result = subprocess.run([cc, *FLAGS, "-o", str(temporary), str(c_file)], capture_output=True, text=True)
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or [f"exit code {result.returncode}"])[-1]
            raise KernelError(f"the C compiler {cc} failed on a W2 kernel: {last} (--backend numba or numpy runs "
                              "without it)")
        os.replace(temporary, path)  # atomic: concurrent compilers never expose half a library
    finally:
        for leftover in (c_file, temporary):
            leftover.unlink(missing_ok=True)


_loaded: dict[tuple, Callable[..., None]] = {}


def compiled(structures: tuple) -> Callable[..., None]:
    """The C kernel for ``structures``: loaded from the cache folder, compiled first where it is missing or stale."""
    if structures not in _loaded:
        _loaded[structures] = _load(structures)
    return _loaded[structures]


def forget() -> None:
    """Drop the kernels this process has loaded, so that the next use looks at the cache folder again."""
    _loaded.clear()


def _load(structures: tuple) -> Callable[..., None]:
    source, marker = _source(structures)
    cc = compiler()
    path = library_path(source)
    if not _is_current(path, marker):
        if cc is None:
            raise KernelError("backend c needs a C compiler (cc, gcc or clang) on the PATH")
        _compile(source, path, cc)
    try:
        library = ctypes.CDLL(str(path))
    except OSError:  # a damaged file that still holds the marker: compiled again
        if cc is None:
            raise KernelError(f"cannot load {path} and there is no C compiler to rebuild it") from None
        path.unlink(missing_ok=True)
        _compile(source, path, cc)
        library = ctypes.CDLL(str(path))
    function = library.w2_kernel
    function.argtypes = [ctypes.c_ssize_t] * 5 + [ctypes.c_void_p] * 7
    function.restype = None
    return function


def prepare(structure_sets: list[tuple]) -> None:
    """Compile (or load) the kernels of ``structure_sets`` at once over the cores: a cold cache's first table
    waits for its slowest compile, not for their sum."""
    missing = list(dict.fromkeys(s for s in structure_sets if s not in _loaded))
    if len(missing) > 1:
        with ThreadPoolExecutor(max(1, config.threads())) as pool:  # the compilers are processes
            list(pool.map(compiled, missing))


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def run(structures: tuple, coefs: np.ndarray, noises: np.ndarray, e_points: np.ndarray,
        e_extra: np.ndarray, lam_minus_one: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`checks.exact.kernel.run` by the C kernel: the composed maps (A, b), each (schemes, eigenvalues)."""
    function = compiled(structures)
    schemes, size = len(structures), lam_minus_one.shape[0]
    out_A, out_B = np.empty((schemes, size)), np.empty((schemes, size))
    arrays = [np.ascontiguousarray(a, dtype=np.float64)
              for a in (lam_minus_one, e_points, np.atleast_2d(e_extra), coefs, noises)]
    n, rows = arrays[1].shape[0] - 1, arrays[3].shape[1]
    pointers = [_address(a) for a in (*arrays, out_A, out_B)]
    w2_kernel.over_threads(lambda start, stop: function(start, stop, size, n, rows, *pointers), size,
                           w2_kernel.C_BLOCK)
    return out_A, out_B
