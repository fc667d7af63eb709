"""The repository runs from a clone anywhere: its data ship with it, nothing reads a folder beside it.

The clone is of the committed tree (``git clone`` of this checkout, so a data file that is not
committed fails here), placed in a temporary folder with nothing beside it; when this tree is not
a git checkout, its files are copied instead. Each step runs in a fresh interpreter whose
``PYTHONPATH`` and working directory are the clone, and asserts that the code it ran is the clone's.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checks.exact import data

ROOT = Path(__file__).resolve().parents[1]
NOT_COPIED = (".git", ".venv", "__pycache__", "*.pyc", "*.egg-info", ".pytest_cache", "build", "dist")
REFERENCE_RTOL = 1e-4  # as the tests of checks.exact.w2 reproduce Table 5


def _clone_into(target: Path) -> None:
    if (ROOT / ".git").exists() and shutil.which("git"):
        cloned = subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], capture_output=True, text=True)
        if cloned.returncode == 0:
            return
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(*NOT_COPIED))


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("elsewhere") / "diffverify"
    _clone_into(target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["diffverify"]  # no `shared` beside it
    return target


def _run(clone: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(clone), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, *args], cwd=clone, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result


def test_data_paths_run_from_the_clone(clone):
    code = """if True:
        import json
        import checks, derivations
        from checks.exact import data
        from checks.suite import gauss_exact
        print(json.dumps({
            "modules": [checks.__file__, derivations.__file__, data.__file__, gauss_exact.__file__],
            "spectra": {name: [int(data.spectrum(name).size), float(data.spectrum(name).sum())] for name in data.SPECTRA},
            "table5": len(data.table5()),
            "suite": int(gauss_exact.eigenvalues().size),
        }))
    """
    found = json.loads(_run(clone, "-c", code).stdout)
    assert all(Path(module).resolve().is_relative_to(clone.resolve()) for module in found["modules"])
    here = {name: [int(data.spectrum(name).size), float(data.spectrum(name).sum())] for name in data.SPECTRA}
    assert found["spectra"] == here and set(here) == {"cifar10", "adsn"}
    assert found["spectra"]["cifar10"][0] == 3072 and found["spectra"]["adsn"][0] == 196608
    assert found["table5"] == len(data.table5()) == 208
    assert found["suite"] == 3072


def test_w2_table_of_a_shipped_spectrum_from_the_clone(clone):
    """``w2-table --eigenvalues cifar10`` from the clone reproduces the published Table 5 cells."""
    out = _run(clone, "-m", "checks.app.cli", "w2-table", "--eigenvalues", "cifar10", "--format", "csv",
               "--backend", "numpy").stdout
    computed = {(r["scheme"], float(r["eps"]), r["init"], r["nfe"]): r["w2"] for r in csv.DictReader(io.StringIO(out))}
    compared = 0
    for row in data.table5():
        reference = float(row["reference"])
        if not math.isfinite(reference) or reference == 0:
            continue
        w2 = float(computed[(row["scheme"], float(row["eps"]), row["init"], row["nfe"])])
        assert abs(w2 - reference) <= REFERENCE_RTOL * reference, (row, w2)
        compared += 1
    assert compared > 150


def test_list_from_the_clone(clone):
    out = _run(clone, "-m", "checks.app.cli", "list").stdout
    assert out.startswith("id ") and "ddpm.posterior" in out and "gauss_exact.step_reverse_sde_em" in out
