"""Conformance of the samplers people run (diffusers, or their own) to the derived kernels.

:func:`conform` holds a step function to DDIM or DDPM (:mod:`checks.conform.api`);
:mod:`checks.conform.diffusers_grid` runs diffusers' schedulers over a grid of configurations
(needs the optional extra ``conform``); :mod:`checks.conform.pytest_plugin` gives a user's tests
the fixture ``conformance``.
"""

from checks.conform.api import Schedule, StepVerdict, Verdict, conform
from checks.conform.reference import Reference

__all__ = ["Reference", "Schedule", "StepVerdict", "Verdict", "conform"]
