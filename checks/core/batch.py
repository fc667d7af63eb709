"""Many independent tasks (checks, pages) over the cores: worker processes, or this process alone.

A check's numbers depend only on its id (the seed derives from it) and on the
arithmetic, which is kept the same in every mode: each task runs with one
intra-op thread, whether in a worker or here. So ``jobs=1`` and ``jobs=N``
give identical results; only the wall times differ.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Callable, Hashable, Iterator, TypeVar

import checks
from checks.core import progress
from checks.core.progress import Progress

Item = TypeVar("Item", bound=Hashable)
Value = TypeVar("Value")


def default_jobs() -> int:
    """The cores this process may use (:func:`derivations.core.config.cores`: affinity and CPU quota)."""
    from derivations.core import config

    return config.cores()


def map_in_processes(task: Callable[[Item], Value], items: list[Item], jobs: int, label: str,
                     note: Callable[[Item, Value], str] = lambda item, value: str(item),
                     cluster=None) -> dict[Item, Value]:
    """``task(item)`` for every item, each exactly once, in ``jobs`` processes (1: in this one).

    ``task`` must be a module-level function (or a ``functools.partial`` of one): workers are
    spawned and import it afresh. The items start in the given order (put the longest first);
    the result maps each item to its value, in that order. A bar shows the progress on a
    terminal, with ``note(item, value)`` beside it; bars opened by the tasks stay quiet.
    ``cluster`` (a :class:`checks.core.cluster.Cluster`): the items run as its tasks instead, set up alike.
    """
    done: dict[Item, Value] = {}
    results = (completed(task, items, jobs) if cluster is None
               else ((items[k], value) for k, value in cluster.completed(task, items)))
    with Progress(len(items), label) as bar, progress.quiet():
        for item, value in results:
            done[item] = value
            bar.advance(1, note(item, value))
    return {item: done[item] for item in items}


def completed(task: Callable[[Item], Value], items: list[Item], jobs: int) -> Iterator[tuple[Item, Value]]:
    """``(item, task(item))`` for every item, as each finishes, in ``jobs`` spawned processes (1: here).

    For callers that keep partial results (a long sweep saves after each item); the same
    one-thread rule as :func:`map_in_processes`, and a task that raises raises :class:`TaskFailed`.
    """
    if jobs <= 1 or len(items) <= 1:
        from checks.core.device import one_thread  # torch only once checks run

        with one_thread():
            for item in items:
                yield item, task(item)
        return
    # spawn, not fork: a worker inherits no CUDA context and no thread pool of this process.
    # A worker that dies (killed, out of memory) raises BrokenProcessPool here instead of a hang.
    executor = ProcessPoolExecutor(min(jobs, len(items)), mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker)
    finished = False
    try:
        futures = {executor.submit(_Guarded(task), item): item for item in items}
        for future in as_completed(futures):
            value = future.result()
            if isinstance(value, _Failure):
                raise TaskFailed(f"{futures[future]} failed in a worker process:\n{value.traceback}")
            yield futures[future], value
        finished = True
    finally:
        executor.shutdown(wait=finished, cancel_futures=not finished)


class TaskFailed(RuntimeError):
    """A task raised in a worker; the message holds the worker's traceback."""


@dataclass(frozen=True)
class _Failure:
    traceback: str


class _Guarded:
    """``task`` with any exception sent back as text: not every exception survives pickling."""

    def __init__(self, task: Callable):
        self.task = task

    def __call__(self, item):
        try:
            return self.task(item)
        except Exception:
            return _Failure(traceback.format_exc())


def _start_worker() -> None:
    import torch

    from checks.core.memory import keep_freed_memory

    torch.set_num_threads(1)  # the workers already fill the cores
    keep_freed_memory()
    signal.signal(signal.SIGINT, _leave)
    progress.silence()  # only the parent draws
    checks.load()


def _leave(signum, frame) -> None:
    """Ctrl-C reaches every worker too: leave at once and silently, the parent reports the interrupt."""
    os._exit(130)


