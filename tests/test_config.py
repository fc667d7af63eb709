"""derivations.core.config: the one reader of the DIFFVERIFY_* environment variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from derivations.core import config

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "DIFFVERIFY_"
# Documentation (markdown, including the generated reports) may name the variables; code may not.
SOURCE_DIRS = ("checks", "derivations", "tests", "benchmarks")
TOP_LEVEL_FILES = ("pyproject.toml", "Makefile")


def _source_files() -> list[Path]:
    files = [p for d in SOURCE_DIRS for p in (ROOT / d).rglob("*") if p.is_file() and p.suffix in {".py", ".toml",
                                                                                                        ".cfg", ".sh"}]
    return files + [ROOT / name for name in TOP_LEVEL_FILES if (ROOT / name).is_file()]


def test_no_module_but_config_names_a_diffverify_variable():
    own = {Path(config.__file__).resolve(), Path(__file__).resolve()}
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in _source_files() if path.resolve() not in own
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if PREFIX in line]
    assert not offenders, f"read DIFFVERIFY_* through derivations.core.config: {offenders}"


def test_every_variable_is_registered_and_documented():
    source = Path(config.__file__).read_text(encoding="utf-8")
    named = set(re.findall(rf"{PREFIX}[A-Z_]+", source))
    assert named == set(config.VARIABLES)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in config.VARIABLES:
        assert f"``{name}``" in config.__doc__, f"{name} is missing from config's table"
        assert f"`{name}`" in readme, f"{name} is missing from README"


def test_threads(monkeypatch):
    monkeypatch.delenv(config.THREADS, raising=False)
    assert config.threads() >= 1
    monkeypatch.setenv(config.THREADS, "3")
    assert config.threads() == 3
    for bad in ("0", "-2", "many", "1.5"):
        monkeypatch.setenv(config.THREADS, bad)
        with pytest.raises(config.ConfigError, match=config.THREADS):
            config.threads()


def test_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(config.CACHE, str(tmp_path / "c"))
    assert config.cache_dir() == tmp_path / "c"
    monkeypatch.delenv(config.CACHE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert config.cache_dir() == tmp_path / "diffverify"


def test_numba_switch(monkeypatch):
    monkeypatch.delenv(config.NO_NUMBA, raising=False)
    assert not config.numba_disabled()
    monkeypatch.setenv(config.NO_NUMBA, "1")
    assert config.numba_disabled()
    monkeypatch.setenv(config.NO_NUMBA, "")
    assert not config.numba_disabled()


def test_a_bad_variable_is_one_line_and_exit_2(monkeypatch, capsys):
    from checks.app.cli import main

    monkeypatch.setenv(config.THREADS, "many")
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("diffverify: error: ") and err.count("\n") == 1 and config.THREADS in err


@pytest.mark.parametrize("files, quota", [
    ({"cpu.max": "200000 100000\n"}, 2),  # cgroup v2: two cores' worth
    ({"cpu.max": "150000 100000\n"}, 2),  # a core and a half rounds up
    ({"cpu.max": "max 100000\n"}, None),  # no quota
    ({"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3),  # cgroup v1
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({"cpu.max": "garbage"}, None),
    ({}, None),
])
def test_cgroup_quota(tmp_path, files, quota):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert config.cgroup_quota(tmp_path) == quota


def test_cores_are_capped_by_the_quota(monkeypatch):
    visible = config.cores()
    assert visible >= 1
    monkeypatch.setattr(config, "cgroup_quota", lambda: 1)
    assert config.cores() == 1
    monkeypatch.setattr(config, "cgroup_quota", lambda: visible + 10)
    assert config.cores() == visible
