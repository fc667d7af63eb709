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
from contextlib import contextmanager
from typing import Callable, Hashable, Iterator, TypeVar

import checks
from checks.core import progress
from checks.core.progress import Progress

Item = TypeVar("Item", bound=Hashable)
Value = TypeVar("Value")


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def map_in_processes(task: Callable[[Item], Value], items: list[Item], jobs: int, label: str,
                     note: Callable[[Item, Value], str] = lambda item, value: str(item)) -> dict[Item, Value]:
    """``task(item)`` for every item, each exactly once, in ``jobs`` processes (1: in this one).

    ``task`` must be a module-level function (or a ``functools.partial`` of one): workers are
    spawned and import it afresh. The items start in the given order (put the longest first);
    the result maps each item to its value, in that order. A bar shows the progress on a
    terminal, with ``note(item, value)`` beside it; bars opened by the tasks stay quiet.
    """
    done: dict[Item, Value] = {}
    with Progress(len(items), label) as bar, progress.quiet():
        for item, value in _results(task, items, jobs):
            done[item] = value
            bar.advance(1, note(item, value))
    return {item: done[item] for item in items}


def _results(task: Callable, items: list, jobs: int) -> Iterator[tuple]:
    if jobs <= 1 or len(items) <= 1:
        with _one_thread():
            for item in items:
                yield item, task(item)
        return
    # spawn, not fork: a worker inherits no CUDA context and no thread pool of this process.
    context = multiprocessing.get_context("spawn")
    with context.Pool(min(jobs, len(items)), initializer=_start_worker) as pool:  # leaving it ends the workers
        yield from pool.imap_unordered(_Keyed(task), items)


class _Keyed:
    """``item -> (item, task(item))``: results of an unordered map keep their item."""

    def __init__(self, task: Callable):
        self.task = task

    def __call__(self, item):
        return item, self.task(item)


def _start_worker() -> None:
    import torch

    torch.set_num_threads(1)  # the workers already fill the cores
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is the parent's to handle: it ends the pool
    progress.silence()  # only the parent draws
    checks.load()


@contextmanager
def _one_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
