"""Registries for what the CLI and the report loop over beyond derivations and checks.

* :func:`command`: a ``diffverify`` subcommand, defined in its own module under
  ``checks/app/commands/`` (discovered, not listed).
* :func:`study`: a report page that is not one derivation (e.g. a reproduced
  table), defined under ``checks/app/studies/``; it renders markdown and figures
  from a :class:`StudyContext`: the report's check results (each check runs
  once per report) and its options.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from dataclasses import dataclass, field
from types import ModuleType
from collections.abc import Mapping
from typing import TYPE_CHECKING, Callable

from derivations.core.keyed import Registry

if TYPE_CHECKING:  # matplotlib and torch are imported by the report and the studies, not by the CLI's start
    import matplotlib.figure

    from checks.core.registry import CheckResult


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class StudyPage:
    """What a study renders: markdown (figures referenced by file name) and the figures."""

    markdown: str
    figures: dict[str, "matplotlib.figure.Figure"] = field(default_factory=dict)


class MissingResult(KeyError):
    """A study asked for a check the report has no result of (``report --no-checks`` on partial evidence)."""

    def __init__(self, check_id: str):
        super().__init__(check_id)
        self.check_id = check_id

    def __str__(self) -> str:
        return f"the report has no result of check {self.check_id}"


@dataclass(frozen=True)
class StudyContext:
    """What a study renders from: the report's check results by id, and the report's options.

    ``device`` and ``samples`` are the options the checks ran with (``samples=None``: each
    check's own size); a study that computes anything beyond the results uses them too.
    """

    results: Mapping[str, "CheckResult"]
    device: str = "auto"
    samples: int | None = None

    def result(self, check_id: str) -> "CheckResult":
        try:
            return self.results[check_id]
        except KeyError:
            raise MissingResult(check_id) from None


@dataclass(frozen=True)
class Study:
    id: str
    title: str
    derivation_ids: tuple[str, ...]
    render: Callable[[StudyContext], StudyPage]
    path: str = ""  # the page, relative to the report folder; default studies/<id>.md
    # Parts of the page kept in the derivation cache that a full report computes in its worker pool, beside
    # the checks, before the page renders: "module:function" or "module:function:argument" (one string)
    warm: tuple[str, ...] = ()

    @property
    def page(self) -> str:
        return self.path or f"studies/{self.id}.md"


_COMMANDS: Registry[Command] = Registry("command")
_STUDIES: Registry[Study] = Registry("study")


def command(name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None]) -> Callable:
    """Register ``run(args) -> exit code`` as the subcommand ``name``."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable:
        _COMMANDS.add(name, Command(name, help, add_arguments, run))
        return run

    return register


def study(id: str, title: str, derivation_ids: tuple[str, ...] = (), path: str = "",
          warm: tuple[str, ...] = ()) -> Callable:
    """Register ``render(context) -> StudyPage`` as the report page ``studies/<id>.md`` (or ``path``, one
    folder deep like ``studies/``; its figures go next to it). ``warm``: see :class:`Study`."""

    def register(render: Callable[[StudyContext], StudyPage]) -> Callable:
        _STUDIES.add(id, Study(id, title, tuple(derivation_ids), render, path, tuple(warm)))
        return render

    return register


def _discover(package: ModuleType) -> None:
    for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
        importlib.import_module(f"{package.__name__}.{module}")


def commands() -> dict[str, Command]:
    from checks.app import commands as package

    _discover(package)
    return {c.name: c for c in _COMMANDS.all()}


def studies() -> list[Study]:
    from checks.app import studies as package

    _discover(package)
    return _STUDIES.all()


def run_warm(name: str) -> None:
    """Compute the part ``name`` (``module:function`` or ``module:function:argument``) of :attr:`Study.warm`."""
    import importlib

    module, function, *argument = name.split(":", 2)
    getattr(importlib.import_module(module), function)(*argument)
