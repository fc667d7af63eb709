"""Conformance of the samplers people run (diffusers, or their own) to the derived kernels.

:func:`conform` holds a step function to DDIM or DDPM (:mod:`checks.conform.api`);
:mod:`checks.conform.diffusers_grid` runs diffusers' schedulers over a grid of configurations
(needs the optional extra ``conform``); :mod:`checks.conform.pytest_plugin` gives a user's tests
the fixture ``conformance``. The names below load on first use, so that the CLI can read the
grid's axes (:mod:`checks.conform.axes`) without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"Schedule": "api", "StepVerdict": "api", "Verdict": "api", "conform": "api", "Reference": "reference"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"checks.conform.{_EXPORTS[name]}"), name)
