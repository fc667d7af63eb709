"""Progress display: a tqdm bar on stderr when stderr is a terminal, nothing otherwise.

Off a terminal (pytest, CI, a pipe) a bar writes nothing, so logs hold only
results. :func:`quiet` silences every bar opened inside it (the report's
workers, and the engine's per-simulation bars while the report shows its own).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

from tqdm import tqdm

_silenced = 0


def on_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def quiet() -> Iterator[None]:
    """Silence every bar opened inside the block (nested blocks allowed)."""
    global _silenced
    _silenced += 1
    try:
        yield
    finally:
        _silenced -= 1


def silence() -> None:
    """Silence every bar for the rest of the process (a worker of a parallel run)."""
    global _silenced
    _silenced += 1


class Progress:
    """A bar of ``total`` units labelled ``label``; it closes itself when the total is reached.

    ``enabled=None`` shows it only on a terminal and outside :func:`quiet`.
    """

    def __init__(self, total: int, label: str, enabled: bool | None = None, unit: str = "it"):
        if enabled is None:
            enabled = on_terminal() and not _silenced
        self.total, self.done = total, 0
        self._bar = tqdm(total=total, desc=label, unit=unit, disable=not enabled, file=sys.stderr,
                         dynamic_ncols=True, leave=False)

    def advance(self, amount: int = 1, note: str | None = None) -> None:
        """Count ``amount`` more units; ``note`` (e.g. what just finished) shows beside the bar."""
        self.done += amount
        if note is not None:
            self._bar.set_postfix_str(note, refresh=False)
        self._bar.update(amount)
        if self.done >= self.total:
            self.close()

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
