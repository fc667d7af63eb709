"""Derivations of the mathematics of diffusion models, one module per family.

Importing the package registers every family (each module's decorators run)
without running SymPy; a record's body is derived when first used::

    import derivations
    d = derivations.get("ddpm.posterior")
    d.result("var")          # SymPy closed form
    d.tier                   # tier reached by its proofs
    d.function("var", "torch")(alpha_t=..., alpha_bar_prev=...)
"""

import importlib
import pkgutil

from .proof import Proof, Tier, prove
from .registry import (
    Body,
    Claim,
    Derivation,
    Relation,
    Result,
    UnknownId,
    WrongVariant,
    all,
    derivation,
    get,
    search,
)

# Infrastructure modules; every other module in the package is a family.
_INFRASTRUCTURE = {"notation", "proof", "registry", "claims", "schedules"}

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in _INFRASTRUCTURE and not _module.startswith("_"):
        importlib.import_module(f"{__name__}.{_module}")

__all__ = [
    "Body", "Claim", "Derivation", "Proof", "Relation", "Result", "Tier", "UnknownId",
    "WrongVariant", "all", "derivation", "get", "prove", "search",
]
