"""Shared fixtures: every list of ids comes from the registries."""

from __future__ import annotations

import pytest
import torch

import checks
import derivations
from derivations.core import cache, config
from checks.core.memory import keep_freed_memory

# One intra-op thread per test process: pytest -n auto already runs one process
# per core, more threads only contend; and a fixed thread count keeps float
# reductions, hence every Monte Carlo number, identical under -n auto, -n 1 and
# a serial run.
torch.set_num_threads(1)
# Freed tensors are reused instead of unmapped: the simulations allocate megabytes at every step.
keep_freed_memory()


@pytest.fixture(autouse=True)
def _one_intra_op_thread():
    """The thread count above, again before every test: a library a test calls may change the
    process's thread count, and every later simulation in that worker would run with it."""
    torch.set_num_threads(1)


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per core by the suite's own count (the affinity capped by the CPU quota,
    :func:`derivations.core.config.cores`); xdist's count ignores a container's quota and would start a
    worker per processor of the host, each with torch's memory."""
    from derivations.core import config as settings

    return settings.cores()


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


def _grouped(ids: list[str]) -> list:
    # Tests of one id share an xdist group; with --dist loadgroup (as `make test`
    # runs) each worker derives a given identity at most once, since derivations
    # are cached per process.
    return [pytest.param(i, marks=pytest.mark.xdist_group(i), id=i) for i in ids]


def wrong_variants(check):
    """(label, overrides) for every wrong variant of a closed form that the check uses."""
    out = []
    for derivation_id in check.tests:
        for wrong in derivations.get(derivation_id).body.wrong_variants:
            key = (derivation_id, wrong.result)
            if key in check.uses:
                out.append((f"{derivation_id}: {wrong.description}", {key: wrong.expr}))
    return out


DERIVATION_IDS = [d.id for d in derivations.all()]
CHECK_IDS = [c.id for c in checks.all()]
BY_DERIVATION = _grouped(DERIVATION_IDS)
BY_CHECK = _grouped(CHECK_IDS)


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """An empty cache folder for the test; the process's cache state is forgotten before and after."""
    monkeypatch.setenv(config.CACHE, str(tmp_path))
    cache.refresh()
    yield tmp_path
    cache.refresh()
