"""The commands' options, validated where argparse reads them: once, before any command runs.

Each function below is an argparse ``type=``: it turns the text on the command line into the
value the command receives, or raises :class:`argparse.ArgumentTypeError`, which the CLI's
parser turns into one line on stderr and exit code 2
(``diffverify: error: argument --samples: ...``). A command therefore never sees a sample
size below the floor, an unavailable device, an unknown id or an unreadable file.

=====================  =======================================  ===========================================
type                   accepts                                  used by
=====================  =======================================  ===========================================
:func:`sample_size`    an integer >= ``stats.MIN_SAMPLES``      ``--samples`` (check, report, samplers)
:func:`device`         auto, cpu, cuda, cuda:N (available)      ``--device`` (check, report, samplers)
:func:`derivation_id`  a registered derivation id               show, verify
:func:`check_target`   a derivation id or a check id            check
:func:`sampler_name`   a registered sampler name                samplers
:func:`spectrum`       a shipped spectrum's name or a file      w2-table ``--eigenvalues``
:func:`w2_backend`     a backend whose packages are installed   w2-table ``--backend``
:func:`output_folder`  a folder that exists or can be created   report ``--out``
:func:`worker_count`   a positive integer                       build ``--jobs``
:func:`shard_count`    a positive integer                       check ``--shards``
:func:`ray_address`    an address, when the ray package exists  ``--ray`` (check, report, conform)
=====================  =======================================  ===========================================
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from derivations.core.keyed import UnknownId

if TYPE_CHECKING:  # numpy is imported when a spectrum is read, not when the CLI starts
    import numpy as np


def _registered(kind: str, lookup: Callable[[str], object]) -> Callable[[str], str]:
    """A type accepting the ids ``lookup`` finds (an unknown id names the closest ones)."""

    def registered_id(text: str) -> str:
        try:
            lookup(text)
        except UnknownId as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return text

    return registered_id


def sample_size(text: str) -> int:
    """At least the floor of the normal approximation (:data:`checks.core.stats.MIN_SAMPLES`)."""
    from checks.core.stats import MIN_SAMPLES

    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of samples, got {text!r}") from None
    if n < MIN_SAMPLES:
        raise argparse.ArgumentTypeError(f"at least {MIN_SAMPLES} samples are needed for the normal "
                                         f"approximation, got {n}")
    return n


def device(text: str) -> str:
    """A device torch can use here (:func:`checks.core.device.resolve_device`); the name is passed on."""
    from checks.core.device import resolve_device

    try:
        resolve_device(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _derivation(text: str) -> object:
    from derivations.core import cache  # the catalog: no family (and no SymPy) on a warm cache

    return cache.summary(text)


def _check_or_derivation(text: str) -> object:
    import checks
    import derivations

    check_ids = [c.id for c in checks.all()]
    if text in check_ids:
        return text
    derivation_ids = [d.id for d in derivations.all()]
    if text not in derivation_ids:
        raise UnknownId("derivation or check", text, derivation_ids + check_ids)
    return text


def _study(text: str) -> object:
    from checks.app import plugins

    study_ids = [s.id for s in plugins.studies()]
    if text not in study_ids:
        raise UnknownId("study", text, study_ids)
    return text


def _sampler(text: str) -> object:
    from checks.sim import get

    return get(text)


derivation_id = _registered("derivation", _derivation)
check_target = _registered("derivation or check", _check_or_derivation)
sampler_name = _registered("sampler", _sampler)
study_id = _registered("study", _study)


def spectrum(text: str) -> "np.ndarray":
    """The eigenvalues of a shipped spectrum (by name) or of a file (:func:`checks.exact.data.spectrum`)."""
    from checks.exact import data

    try:
        return data.spectrum(text)
    except data.SpectrumError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def w2_backend(text: str) -> str:
    """A backend of the exact W2 table that can run here (``numba`` needs the package, and
    :func:`derivations.core.config.numba_disabled` false; ``c`` a C compiler); unknown names are left to the
    option's ``choices``."""
    if text == "numba":
        from checks.exact import kernel

        if not kernel.available():
            from derivations.core import config

            raise argparse.ArgumentTypeError(f"backend numba needs the numba package (pip install numba) and "
                                             f"{config.NO_NUMBA} unset")
    if text == "c":
        from checks.exact import kernel_c

        if not kernel_c.available():
            raise argparse.ArgumentTypeError(f"backend c needs a C compiler ({', '.join(kernel_c.COMPILERS)}) "
                                             "on the PATH")
    return text


def output_folder(text: str) -> Path:
    """A folder that exists and is writable, or that can be created (its nearest existing parent is)."""
    path = Path(text)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{str(existing)!r} exists and is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{str(existing)!r} is not writable")
    return path


def worker_count(text: str) -> int:
    """A positive number of worker processes."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return count


def shard_count(text: str) -> int:
    """A positive number of shards (whether each shard keeps enough samples is checked per check)."""
    return worker_count(text)


def ray_address(text: str) -> str:
    """A Ray address (``auto``, ``ray://host:port``; empty: ``RAY_ADDRESS`` or a local instance), accepted
    only where the optional extra ``scale`` is installed."""
    from checks.core import cluster

    if not cluster.available():
        raise argparse.ArgumentTypeError("needs the ray package: pip install 'diffverify[scale]'")
    return text


class _RayAddress(argparse.Action):
    """``--ray`` with or without an address: the bare flag is validated too (argparse skips ``type`` for ``const``)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        try:
            setattr(namespace, self.dest, ray_address(values or ""))
        except argparse.ArgumentTypeError as error:
            parser.error(f"argument {option_string}: {error}")


def add_cluster_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--ray [ADDRESS]``: run ``what`` as tasks on a Ray cluster (:mod:`checks.core.cluster`)."""
    parser.add_argument("--ray", nargs="?", default=None, action=_RayAddress, metavar="ADDRESS",
                        help=f"run {what} as Ray tasks: on the cluster at ADDRESS (auto, ray://host:port), or "
                             "without ADDRESS on RAY_ADDRESS's or a local instance; needs the extra scale")


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """``--device`` and ``--samples``, shared by every command that runs Monte Carlo checks."""
    parser.add_argument("--device", type=device, default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    parser.add_argument("--samples", type=sample_size, default=None,
                        help="sample size for every check (default: each check's own); at least the floor of "
                             "the normal approximation, checks.core.stats.MIN_SAMPLES")
