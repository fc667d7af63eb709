"""Monte Carlo checks of the derived closed forms, in torch (CUDA when present).

Importing the package registers every check module under ``checks.suite``::

    import checks
    result = checks.run("ddpm.forward_chain.posterior", device="auto")
    result.passed, result.statistics
"""

import importlib
import pkgutil

from . import suite
from .registry import Check, CheckContext, CheckResult, all, check, for_derivation, get, run, run_variants, seed_for

for _module in sorted(m.name for m in pkgutil.iter_modules(suite.__path__)):
    importlib.import_module(f"{suite.__name__}.{_module}")

__all__ = ["Check", "CheckContext", "CheckResult", "all", "check", "for_derivation", "get", "run", "run_variants", "seed_for"]
