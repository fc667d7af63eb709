"""checks.exact.data: shipped spectra and Table 5, read as package data; user files with the same rules."""

from __future__ import annotations

import fnmatch
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from checks.exact import data

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name, size, zeros", [("cifar10", 3072, 9), ("adsn", 196608, 131072)])
def test_shipped_spectra(name, size, zeros):
    lam = data.spectrum(name)
    assert lam.dtype == np.float64 and lam.shape == (size,)
    assert np.all(lam >= 0) and not np.any(np.signbit(lam))  # stored -0.0 read as 0.0
    assert int(np.sum(lam == 0)) == zeros


def test_table5_rows():
    rows = data.table5()
    assert len(rows) == 208
    assert list(rows[0]) == ["scheme", "eps", "init", "nfe", "published", "reference"]
    assert {r["scheme"] for r in rows} == {"SDE", "ODE", "EM", "EI", "DDPM", "Euler", "Heun", "RK4"}


def test_files_and_text_follow_the_same_rules(tmp_path):
    np.save(tmp_path / "lam.npy", np.array([0.5, 2.0], dtype=np.float32))
    (tmp_path / "lam.txt").write_text("0.5\n2.0\n")
    for path in (tmp_path / "lam.npy", tmp_path / "lam.txt", str(tmp_path / "lam.txt")):
        assert data.spectrum(path).tolist() == [0.5, 2.0]


def test_a_shipped_name_wins_over_a_file_of_that_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("cifar10").write_text("1.0\n")
    assert data.spectrum("cifar10").size == 3072
    assert data.spectrum("./cifar10").tolist() == [1.0]


@pytest.mark.parametrize("content, message", [
    (np.array([[1.0]]), "1-D"), (np.array([1.0, -1.0]), "non-negative"), (np.array([np.inf]), "finite"),
    (np.array(["a"]), "real numbers"), (np.array([], dtype=float), "non-empty")])
def test_bad_arrays_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.npy"
    np.save(path, content)
    with pytest.raises(data.SpectrumError, match=message):
        data.spectrum(path)


def test_an_unknown_name_names_the_shipped_spectra():
    with pytest.raises(data.SpectrumError) as error:
        data.spectrum("cifar100")
    assert all(name in str(error.value) for name in data.SPECTRA)


def test_every_data_file_is_declared_package_data():
    """A wheel ships what pyproject's package-data matches: every file in the data folder, and the
    registry's files are among them."""
    tomllib = pytest.importorskip("tomllib")
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    folder = resources.files(data.__name__).joinpath("pierret_galerne")
    shipped = sorted(f.name for f in folder.iterdir() if f.is_file())
    declared = [name for name in shipped
                if any(fnmatch.fnmatch(f"pierret_galerne/{name}", p) for p in patterns[data.__name__])]
    assert declared == shipped
    assert {s.file for s in data.SPECTRA.values()} | {data.TABLE5} <= set(shipped)
