"""Monte Carlo checks of the derived closed forms, in torch (CUDA when present).

The check API is loaded on first use, so that ``diffverify list`` and other
commands that need no simulation do not pay for importing torch::

    import checks
    result = checks.run("ddpm.forward_chain.posterior", device="auto")
    result.passed, result.statistics
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

_API = ("Check", "CheckContext", "CheckResult", "all", "check", "for_derivation", "get", "run", "run_variants",
        "seed_for")
_loaded = False


def load() -> None:
    """Import the registry and register every module under ``checks.suite``."""
    global _loaded
    if _loaded:
        return
    from checks import suite

    for module in sorted(m.name for m in pkgutil.walk_packages(suite.__path__, f"{suite.__name__}.")):
        importlib.import_module(module)
    _loaded = True


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'checks' has no attribute {name!r}")
    load()
    from checks.core import registry

    return getattr(registry, name)


__all__ = list(_API) + ["load"]
