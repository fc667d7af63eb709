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

from derivations import families

from derivations.core.proof import Proof, Tier, prove
from derivations.core.registry import (
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

# Every module under ``families`` registers its derivations when imported.
for _module in sorted(m.name for m in pkgutil.walk_packages(families.__path__, f"{families.__name__}.")):
    importlib.import_module(_module)

__all__ = [
    "Body", "Claim", "Derivation", "Proof", "Relation", "Result", "Tier", "UnknownId",
    "WrongVariant", "all", "derivation", "get", "prove", "search",
]
