"""Device selection: ``auto`` takes CUDA when present, else the CPU."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``; an unknown or unavailable device raises ValueError (one line)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}: use auto, cpu, cuda or cuda:N") from None
    if device.type not in {"cpu", "cuda"}:
        raise ValueError(f"unsupported device {name!r}: use auto, cpu, cuda or cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device {name!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    return device


@contextmanager
def one_thread() -> Iterator[None]:
    """One intra-op thread for the block: elementwise results do not depend on the thread count, reductions
    then run in one fixed order in every process, and small operations stop paying for thread hand-offs
    (on a shared CPU those cost more than the arithmetic)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
