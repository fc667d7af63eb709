"""pytest plugin (entry point ``pytest11``): the fixture ``conformance`` for a user's CI.

::

    def test_my_sampler_is_ddim(conformance):
        conformance(my_step, Schedule.linear(50), "ddim", eta=0.0)

The fixture's callable runs :func:`checks.conform.conform` and fails the test with the verdict's
summary (each failing step, its derived and read coefficients, the timestep it lands on) unless the
step conforms; it returns the verdict. The check is deterministic: a conforming step is never
rejected (false-alarm probability 0; see :func:`checks.conform.reference.tolerance`).
"""

from __future__ import annotations

from typing import Any, Callable

import pytest


@pytest.fixture
def conformance() -> Callable[..., Any]:
    """``conformance(step, schedule, reference="ddim", **options)``: assert conformance, return the verdict."""
    from checks.conform import conform

    def check(step, schedule, reference="ddim", **options):
        verdict = conform(step, schedule, reference, **options)
        if not verdict.passed:
            pytest.fail(verdict.summary(), pytrace=False)
        return verdict

    return check
