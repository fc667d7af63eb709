"""Derivations of the mathematics of diffusion models, one module per family.

The registry's interface loads on first use: importing the package imports neither SymPy nor
any family, so that commands which need neither (``diffverify list``) start fast. Using it
registers every family (each module's decorators run) without running SymPy; a record's body
is derived when first used, or read from the cache on disk (:mod:`derivations.core.cache`)::

    import derivations
    d = derivations.get("ddpm.posterior")
    d.result("var")          # SymPy closed form
    d.tier                   # tier reached by its proofs
    d.function("var", "torch")(alpha_t=..., alpha_bar_prev=...)
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

_API = {
    "Body": "derivations.core.registry", "Claim": "derivations.core.registry",
    "Derivation": "derivations.core.registry", "Relation": "derivations.core.registry",
    "Result": "derivations.core.registry", "WrongVariant": "derivations.core.registry",
    "all": "derivations.core.registry", "derivation": "derivations.core.registry",
    "get": "derivations.core.registry", "search": "derivations.core.registry",
    "UnknownId": "derivations.core.keyed",
    "Proof": "derivations.core.proof", "Tier": "derivations.core.proof", "prove": "derivations.core.proof",
    "prove_inequality": "derivations.core.proof",
    "AT_MOST": "derivations.core.registry", "Equivalent": "derivations.core.registry",
}
_state = "not loaded"  # then "loading", then "loaded"


def load() -> None:
    """Import every module under ``families`` (each registers its derivations); once per process."""
    global _state
    if _state != "not loaded":
        return
    _state = "loading"
    try:
        from derivations import families

        for module in sorted(m.name for m in pkgutil.walk_packages(families.__path__, f"{families.__name__}.")):
            importlib.import_module(module)
    except BaseException:
        _state = "not loaded"
        raise
    _state = "loaded"


def loaded() -> bool:
    return _state == "loaded"


def loading() -> bool:
    return _state == "loading"


def __getattr__(name: str) -> Any:
    if name in _API:
        load()
        return getattr(importlib.import_module(_API[name]), name)
    if name in ("core", "families"):
        load()
        return importlib.import_module(f"derivations.{name}")
    raise AttributeError(f"module 'derivations' has no attribute {name!r}")


__all__ = sorted(_API) + ["load", "loaded", "loading"]
