"""Every ``DIFFVERIFY_*`` environment variable, read here and nowhere else.

========================  ==============================================================  ==============================
variable                  meaning                                                         default
========================  ==============================================================  ==============================
``DIFFVERIFY_CACHE``      folder for generated W2 kernels and numba's compiled code        ``$XDG_CACHE_HOME/diffverify``,
                                                                                          else ``~/.cache/diffverify``
``DIFFVERIFY_THREADS``    worker threads for the eigenvalue blocks of the exact W2 table  the cores this process may use
                          (numpy path); a positive integer
``DIFFVERIFY_NO_NUMBA``   any non-empty value: never use numba (the numpy path runs)      unset (numba when installed)
========================  ==============================================================  ==============================

Each variable is read when it is used, so a test may set it with ``monkeypatch.setenv``; the
CLI also reads them all once before a command runs (:func:`validate`). A value that cannot be
used raises :class:`~checks.core.errors.UsageError` (one line; exit 2 from the CLI).
"""

from __future__ import annotations

import os
from pathlib import Path

from checks.core.errors import UsageError

CACHE = "DIFFVERIFY_CACHE"
THREADS = "DIFFVERIFY_THREADS"
NO_NUMBA = "DIFFVERIFY_NO_NUMBA"
VARIABLES = (CACHE, THREADS, NO_NUMBA)


def cache_dir() -> Path:
    """The suite's cache folder: ``$DIFFVERIFY_CACHE``, or ``diffverify`` in the user's cache folder."""
    root = os.environ.get(CACHE)
    if root:
        return Path(root)
    user_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(user_cache) / "diffverify"


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def threads() -> int:
    """``$DIFFVERIFY_THREADS`` (a positive integer), or the cores this process may run on."""
    value = os.environ.get(THREADS, "").strip()
    if not value:
        return max(1, _cores())
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise UsageError(f"{THREADS} must be a positive integer, got {value!r}")
    return count


def numba_disabled() -> bool:
    """Whether ``$DIFFVERIFY_NO_NUMBA`` is set to a non-empty value."""
    return bool(os.environ.get(NO_NUMBA))


def validate() -> None:
    """Read every variable once, so that a bad value is refused before any work starts (the CLI calls this)."""
    cache_dir()
    threads()
    numba_disabled()
