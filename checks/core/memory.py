"""Freed memory kept for the next allocation of the process (glibc's ``malloc``).

A simulation step allocates and frees tensors of megabytes (a batch of 1000 paths in 3072
dimensions is 12 MB in float32) dozens of times. With glibc's defaults a block that large is
either mapped afresh for each allocation (``M_MMAP_THRESHOLD``) or handed back to the system
when freed at the top of the heap (``M_TRIM_THRESHOLD``), so every new tensor touches pages
the kernel must fault in and zero: 3 million page faults, and half of the CPU time, for the
check ``gauss_exact.eigenbasis.ddim_eta0`` (``benchmarks/README.md``). Raising both
thresholds keeps the freed blocks in the heap, where the next step's tensors reuse them. The
arithmetic is untouched: every number comes out the same, only sooner; the process holds on
to its peak memory instead of returning it between steps.
"""

from __future__ import annotations

import ctypes
import functools

KEPT_BYTES = 1 << 30  # blocks up to 1 GiB come from the heap and return to it
_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3


@functools.lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Let ``malloc`` reuse freed blocks of up to :data:`KEPT_BYTES` instead of unmapping them; ``True``
    where that took effect (glibc), ``False`` elsewhere (another C library: nothing changes)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter is linked with
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, KEPT_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, KEPT_BYTES))
