"""Tasks on a Ray cluster (the optional extra ``scale``): sharded checks, report checks, conformance rows.

:class:`Cluster` connects to a running cluster (an address, ``auto``, or ``RAY_ADDRESS``) or starts
a local instance, and maps a module-level function over items as Ray tasks. Each task runs as
the processes of :mod:`checks.core.batch` do (one intra-op thread, the checks registered, no
progress bars), so its value is the one a local run computes; the values come back in the
items' order, whatever order the tasks finish in. A task whose worker dies (killed, out of
memory, node lost) is run again by Ray, up to :data:`TASK_RETRIES` times: every task is a pure
function of its item, so a retry gives the same value.

Workers must import this package: a local instance is started with this checkout on their
``PYTHONPATH``; on a remote cluster, install ``diffverify`` on every node.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from checks.core.errors import UsageError

Item = TypeVar("Item")
Value = TypeVar("Value")

TASK_RETRIES = 3
# The package root that local workers import (the folder that holds checks/ and derivations/).
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def available() -> bool:
    """Whether the ``ray`` package can be imported here."""
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def in_worker(task: Callable[[Item], Value], item: Item) -> Value:
    """``task(item)`` the way a worker process of :mod:`checks.core.batch` runs it."""
    import torch

    import checks
    from checks.core import progress

    torch.set_num_threads(1)
    progress.silence()
    checks.load()
    return task(item)


class Cluster:
    """A connection to Ray for the duration of a ``with`` block (an instance started here stops at its end).

    ``address``: ``None`` or ``""`` connects to ``RAY_ADDRESS`` when it is set and starts a local
    instance otherwise; ``auto`` finds a running cluster on this machine; ``ray://host:port`` a remote one.
    ``init`` holds further :func:`ray.init` arguments for a local start (e.g. ``num_cpus``).
    """

    def __init__(self, address: str | None = None, **init: Any):
        self.address = address or None
        self.init = init
        self.started = False
        self.gpus_per_task = 0.0  # what map() asks for by default (see use_device)

    def __enter__(self) -> "Cluster":
        import ray

        if not ray.is_initialized():
            options: dict[str, Any] = dict(address=self.address, log_to_driver=False, include_dashboard=False)
            if self.address is None and not os.environ.get("RAY_ADDRESS"):
                path = os.pathsep.join(p for p in (PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p)
                options["runtime_env"] = {"env_vars": {"PYTHONPATH": path}}
                options |= self.init
            try:
                ray.init(**options)
            except ConnectionError as error:  # no cluster at that address: bad input, one line
                raise UsageError(f"no Ray cluster at {self.address or os.environ.get('RAY_ADDRESS')!r}: "
                                 f"{str(error).splitlines()[0]}") from None
            self.started = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            import ray

            ray.shutdown()
            self.started = False

    def resources(self) -> dict[str, float]:
        import ray

        return ray.cluster_resources()

    def cpus(self) -> int:
        return int(self.resources().get("CPU", 1))

    def gpus(self) -> int:
        return int(self.resources().get("GPU", 0))

    def device(self, requested: str = "auto") -> str:
        """One device for every task: ``auto`` is CUDA when the cluster has GPUs, else the CPU (decided
        here, not per worker, so that where a task lands never changes its numbers)."""
        if requested != "auto":
            return requested
        return "cuda" if self.gpus() > 0 else "cpu"

    def use_device(self, requested: str = "auto") -> str:
        """:meth:`device`, and a whole GPU for each later task when it is CUDA."""
        device = self.device(requested)
        self.gpus_per_task = 1.0 if device.startswith("cuda") else 0.0
        return device

    def completed(self, task: Callable[[Item], Value], items: list[Item], gpus_per_task: float | None = None,
                  retries: int = TASK_RETRIES) -> Iterator[tuple[int, Value]]:
        """``(index, task(items[index]))`` as the Ray tasks finish (one CPU each, and ``gpus_per_task``, by
        default what :meth:`use_device` chose)."""
        import ray

        gpus = self.gpus_per_task if gpus_per_task is None else gpus_per_task
        remote = ray.remote(num_cpus=1, num_gpus=gpus, max_retries=retries)(in_worker)
        refs = [remote.remote(task, item) for item in items]
        index = {ref: k for k, ref in enumerate(refs)}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield index[done[0]], ray.get(done[0])

    def map(self, task: Callable[[Item], Value], items: list[Item], gpus_per_task: float | None = None,
            retries: int = TASK_RETRIES) -> list[Value]:
        """:meth:`completed`, the values in the items' order."""
        values = dict(self.completed(task, items, gpus_per_task, retries))
        return [values[k] for k in range(len(items))]
