"""Every ``DIFFVERIFY_*`` environment variable, read here and nowhere else.

========================  ==============================================================  ==============================
variable                  meaning                                                         default
========================  ==============================================================  ==============================
``DIFFVERIFY_CACHE``      folder of the derivation cache, the generated W2 kernels and     the user's cache folder
                          numba's compiled code                                           (``platformdirs``)
``DIFFVERIFY_THREADS``    worker threads for the eigenvalue blocks of the exact W2 table  the cores this process may use
                          (numpy path); a positive integer
``DIFFVERIFY_NO_NUMBA``   any non-empty value: never use numba (the numpy path runs)      unset (numba when installed)
========================  ==============================================================  ==============================

Each variable is read when it is used, so a test may set it with ``monkeypatch.setenv``; the
CLI also reads them all once before a command runs (:func:`validate`). A value that cannot be
used raises :class:`ConfigError` (one line; exit 2 from the CLI). The module lives with the
derivations because their cache reads ``DIFFVERIFY_CACHE`` and derivations import nothing from checks.
"""

from __future__ import annotations

import os
from pathlib import Path


CACHE = "DIFFVERIFY_CACHE"
THREADS = "DIFFVERIFY_THREADS"
NO_NUMBA = "DIFFVERIFY_NO_NUMBA"
VARIABLES = (CACHE, THREADS, NO_NUMBA)


class ConfigError(ValueError):
    """A variable's value cannot be used; the message is one line."""


def cache_dir() -> Path:
    """The suite's cache folder: ``$DIFFVERIFY_CACHE``, or ``diffverify`` in the user's cache folder."""
    root = os.environ.get(CACHE)
    if root:
        return Path(root)
    import platformdirs  # only when the variable is unset: it costs an import on every command

    return Path(platformdirs.user_cache_dir("diffverify", appauthor=False))


def cores() -> int:
    """The cores this process may use: the processors it may run on (its affinity), capped by the
    CPU quota of its control group where one is set.

    In a container the affinity often lists every processor of the host while the quota allows
    two: a pool sized by the affinity alone starts dozens of workers that share two cores and
    the memory of two.
    """
    visible = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quota = cgroup_quota()
    return max(1, min(visible, quota) if quota else visible)


def cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """``ceil(quota / period)`` of the CPU controller (cgroup v2 ``cpu.max``, else v1
    ``cpu.cfs_quota_us``), or None where no quota is set or none can be read."""
    import math

    for quota_file, period_file in ((root / "cpu.max", None),
                                    (root / "cpu" / "cpu.cfs_quota_us", root / "cpu" / "cpu.cfs_period_us"),
                                    (root / "cpu,cpuacct" / "cpu.cfs_quota_us", root / "cpu,cpuacct" / "cpu.cfs_period_us")):
        try:
            fields = quota_file.read_text().split()
            if period_file is not None:
                fields.append(period_file.read_text().strip())
            quota, period = int(fields[0]), int(fields[1])
        except (OSError, ValueError, IndexError):  # absent, "max" (no quota), unreadable
            continue
        if quota > 0 and period > 0:
            return max(1, math.ceil(quota / period))
    return None


def threads() -> int:
    """``$DIFFVERIFY_THREADS`` (a positive integer), or the cores this process may run on."""
    value = os.environ.get(THREADS, "").strip()
    if not value:
        return cores()
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ConfigError(f"{THREADS} must be a positive integer, got {value!r}")
    return count


def numba_disabled() -> bool:
    """Whether ``$DIFFVERIFY_NO_NUMBA`` is set to a non-empty value."""
    return bool(os.environ.get(NO_NUMBA))


def validate() -> None:
    """Read every variable once, so that a bad value is refused before any work starts (the CLI calls this)."""
    cache_dir()
    threads()
    numba_disabled()
