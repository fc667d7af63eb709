"""Registries for what the CLI and the report loop over beyond derivations and checks.

* :func:`command`: a ``diffverify`` subcommand, defined in its own module under
  ``checks/commands/`` (discovered, not listed).
* :func:`study`: a report page that is not one derivation (e.g. a reproduced
  table), defined under ``checks/studies/``; it renders markdown and figures.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Callable

from derivations.core.keyed import Registry

if TYPE_CHECKING:  # matplotlib is imported by the studies themselves, not by the CLI's start
    import matplotlib.figure


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


@dataclass(frozen=True)
class Study:
    id: str
    title: str
    derivation_ids: tuple[str, ...]
    render: Callable[[], StudyPage]


_COMMANDS: Registry[Command] = Registry("command")
_STUDIES: Registry[Study] = Registry("study")


def command(name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None]) -> Callable:
    """Register ``run(args) -> exit code`` as the subcommand ``name``."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable:
        _COMMANDS.add(name, Command(name, help, add_arguments, run))
        return run

    return register


def study(id: str, title: str, derivation_ids: tuple[str, ...] = ()) -> Callable:
    """Register ``render() -> StudyPage`` as the report page ``studies/<id>.md``."""

    def register(render: Callable[[], StudyPage]) -> Callable:
        _STUDIES.add(id, Study(id, title, tuple(derivation_ids), render))
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
