"""Data shipped with the package: covariance spectra and the reference table of Pierret & Galerne.

The files live under ``pierret_galerne/`` beside this module (package data, so a
wheel ships them; their ``README.md`` gives the source and the setting) and are read
through :mod:`importlib.resources`, never through a path relative to a checkout::

    from checks.exact import data
    data.spectrum("cifar10")          # a shipped spectrum, by name (see SPECTRA)
    data.spectrum("my_eigs.npy")      # or a file: .npy, or text with one number per line
    data.table5()                     # rows of Table 5 (ICML 2025), as strings

A spectrum is a non-empty 1-D array of finite non-negative numbers, returned as
float64 (:func:`validate_eigenvalues`). Bad input raises :class:`SpectrumError`, a
``ValueError`` whose message is one line.
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:  # numpy loads when a spectrum is read: the CLI's parser names SPECTRA
    import numpy as np
    from importlib.abc import Traversable

_FOLDER = "pierret_galerne"


class SpectrumError(ValueError):
    """A spectrum that cannot be read or is not a valid spectrum (one-line message)."""


@dataclass(frozen=True)
class Spectrum:
    """A shipped spectrum: its file under ``pierret_galerne/`` and what it is."""

    file: str
    description: str


SPECTRA: dict[str, Spectrum] = {
    "cifar10": Spectrum("cifar10_eigenvalues.npy", "the Gaussian fitted to CIFAR-10 (3,072 eigenvalues, 9 zero)"),
    "adsn": Spectrum("adsn_eigenvalues.npy", "the ADSN texture model, 256x256x3 (196,608 eigenvalues)"),
}
TABLE5 = "table5_icml2025.csv"


def resource(file: str) -> "Traversable":
    return resources.files(__name__).joinpath(_FOLDER, file)


def validate_eigenvalues(values: Any) -> np.ndarray:
    """A 1-D array of finite non-negative numbers as float64; SpectrumError otherwise."""
    import numpy as np

    lam = np.asarray(values)
    if lam.ndim != 1 or lam.size == 0:
        raise SpectrumError(f"eigenvalues must be a non-empty 1-D array, got shape {lam.shape}")
    if not (np.issubdtype(lam.dtype, np.floating) or np.issubdtype(lam.dtype, np.integer)):
        raise SpectrumError(f"eigenvalues must be real numbers, got dtype {lam.dtype}")
    lam = lam.astype(np.float64)
    if not np.all(np.isfinite(lam)):
        raise SpectrumError("eigenvalues must be finite")
    if np.any(lam < 0):
        raise SpectrumError(f"eigenvalues must be non-negative; smallest is {lam.min():g}")
    return np.abs(lam)  # -0.0 -> 0.0


def _read_file(path: Path) -> np.ndarray:
    """A .npy array (no pickles), or a text file of numbers, one per line."""
    import numpy as np

    try:
        if path.suffix == ".npy":
            values = np.load(path, allow_pickle=False)
        else:
            with warnings.catch_warnings():  # an empty file: refused below as empty, not warned about
                warnings.simplefilter("ignore", UserWarning)
                values = np.loadtxt(path, dtype=np.float64, ndmin=1)
    except (OSError, ValueError, EOFError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise SpectrumError(f"cannot read eigenvalues from {str(path)!r}: {reason}") from None
    if not isinstance(values, np.ndarray):  # e.g. an .npz archive under a .npy name
        values.close()
        raise SpectrumError(f"{str(path)!r} does not hold one array")
    return values


def spectrum(name_or_path: str | Path) -> np.ndarray:
    """The eigenvalues of a shipped spectrum (a key of :data:`SPECTRA`) or of a file, as float64.

    A shipped name takes precedence over a file of the same name (write ``./cifar10`` for the file).
    """
    import numpy as np

    name = str(name_or_path)
    if name in SPECTRA:
        with resource(SPECTRA[name].file).open("rb") as f:
            values = np.load(f, allow_pickle=False)
        return validate_eigenvalues(values)
    path = Path(name_or_path)
    if not path.is_file():
        raise SpectrumError(f"cannot read eigenvalues from {name!r}: not a file, and not a shipped spectrum "
                            f"({', '.join(SPECTRA)})")
    values = _read_file(path)
    try:
        return validate_eigenvalues(values)
    except SpectrumError as error:
        raise SpectrumError(f"{name}: {error}") from None


def table5() -> list[dict[str, str]]:
    """Rows of Table 5 (CIFAR-10): ``scheme, eps, init, nfe, published, reference`` as strings."""
    text = resource(TABLE5).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))
