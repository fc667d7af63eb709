"""Freed memory kept for reuse: a setting of the C library, never of the arithmetic."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from checks.core.memory import keep_freed_memory

CHEAP_CHECK = "ito.isometry.wiener_sums"
_RUN = ("import sys, json, torch; torch.set_num_threads(1); import checks; from checks.core import memory, registry; "
        "checks.load(); {setting}r = registry.run_variants(sys.argv[1], [{{}}], device='cpu')[0]; "
        "print(json.dumps([[s.name, s.estimate, s.std_error] for s in r.statistics]))")


def test_it_takes_effect_with_glibc_and_is_idempotent():
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("the thresholds are glibc's")
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True


def _statistics(setting: str) -> str:
    result = subprocess.run([sys.executable, "-c", _RUN.format(setting=setting), CHEAP_CHECK], capture_output=True,
                            text=True, timeout=600, cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_check_gives_the_same_numbers_with_and_without_it():
    with_it = _statistics("")
    assert with_it == _statistics("memory.keep_freed_memory = lambda: False; ")
