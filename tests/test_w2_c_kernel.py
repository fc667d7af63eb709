"""The exact W2 table's kernels compiled as C: the numpy path's numbers on every column, the fallback where no
compiler is, and a cache folder of libraries that never hands out half a file or a stale one.
(The kernels against a plain loop over their definition: tests/test_w2_kernel_oracle.py.)"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from derivations.core import config

from checks.exact import backends
from checks.exact import kernel as w2_kernel
from checks.exact import kernel_c
from checks.exact import w2 as exact_w2

ROOT = Path(__file__).resolve().parents[1]
needs_cc = pytest.mark.skipif(not kernel_c.available(), reason="no C compiler")

# A noisy scheme on P_k, P_{k+1} and P_k^2 P_{k+1/2}: small, so that it compiles in a fraction of a second.
STRUCTURE = (((0, 0, 0), (1, 0, 0), (0, 1, 0), (2, 0, 1)), True)


def _inputs(steps: int = 6, size: int = 200):
    rng = np.random.default_rng(3)
    e_points = np.exp(-2 * np.linspace(2.0, 0.1, steps + 1))
    return (rng.uniform(0.5, 1.5, (1, len(STRUCTURE[0]), steps)), rng.uniform(0.1, 1.0, (1, steps)), e_points,
            np.sqrt(e_points[:-1] * e_points[1:]), rng.uniform(0.0, 30.0, size) - 1.0)


def _same_cells(a: list, b: list, rel: float) -> None:
    assert [c.key for c in a] == [c.key for c in b]
    for x, y in zip(a, b):
        assert math.isclose(x.w2, y.w2, rel_tol=rel, abs_tol=1e-10) or x.divergent and y.divergent, (x, y)


@pytest.fixture
def fresh_folder(tmp_path, monkeypatch):
    """An empty cache folder for the kernels (the step maps stay where they are: only kernel_c reads it)."""
    monkeypatch.setattr(w2_kernel, "cache_dir", lambda: tmp_path / "w2_kernels")
    kernel_c.forget()
    yield tmp_path / "w2_kernels"
    kernel_c.forget()


@needs_cc
def test_every_column_on_a_random_spectrum_agrees_with_numpy():
    """Every column structure (each group of columns on a grid is one kernel) on a random spectrum with a zero
    and a unit eigenvalue, at both ends of the NFE range and with and without truncation."""
    rng = np.random.default_rng(4)
    lam = np.concatenate([[0.0, 1.0], rng.lognormal(0.0, 2.0, 150)])
    kwargs = dict(nfes=(10, 100), eps_values=(0.0, 1e-3), continuous=False)
    _same_cells(exact_w2.table(lam, backend="c", **kwargs), exact_w2.table(lam, backend="numpy", **kwargs), 1e-10)


@needs_cc
def test_auto_runs_the_c_kernels_where_a_compiler_is():
    assert isinstance(backends.choose("auto", 3072), backends.COps)


def test_without_a_compiler_auto_falls_back_with_the_same_numbers(monkeypatch):
    lam = np.array([0.0, 1e-3, 0.5, 2.0, 40.0])
    kwargs = dict(nfes=(20,), eps_values=(1e-3,), continuous=False)
    reference = exact_w2.table(lam, backend="numpy", **kwargs)
    monkeypatch.setattr(kernel_c.shutil, "which", lambda name, *args, **kw: None)
    assert not kernel_c.available()
    chosen = backends.choose("auto", lam.size)
    assert isinstance(chosen, backends.NumbaOps if w2_kernel.available() else backends.NumpyOps)
    _same_cells(exact_w2.table(lam, backend="auto", **kwargs), reference, 1e-10)


def test_backend_c_without_a_compiler_is_refused_in_one_line(monkeypatch, capsys):
    from checks.app.cli import main

    monkeypatch.setattr(kernel_c.shutil, "which", lambda name, *args, **kw: None)
    assert main(["w2-table", "--eigenvalues", "cifar10", "--backend", "c"]) == 2
    err = capsys.readouterr().err.strip()
    assert "backend c needs a C compiler" in err and len(err.splitlines()) == 1


def test_the_command_offers_every_backend():
    from checks.app.commands import w2_table

    assert w2_table.BACKENDS == backends.BACKENDS


@needs_cc
def test_a_library_is_compiled_once_and_renamed_into_place(fresh_folder, monkeypatch):
    """The compiler writes a temporary file, never the library's own name, which appears whole by a rename."""
    compiles = []
    real_run = kernel_c.subprocess.run

    def watched(argv, *args, **kwargs):
        target = Path(argv[argv.index("-o") + 1])
        compiles.append(target)
        assert target.parent == fresh_folder and not target.name.endswith(".so")
        assert not list(fresh_folder.glob("*.so"))  # nothing under the final name while the compiler writes
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(kernel_c.subprocess, "run", watched)
    coefs, noises, e_points, e_mid, lm = _inputs()
    first = kernel_c.run((STRUCTURE,), coefs, noises, e_points, e_mid, lm)
    kernel_c.forget()
    second = kernel_c.run((STRUCTURE,), coefs, noises, e_points, e_mid, lm)  # read back, not compiled again
    assert len(compiles) == 1
    assert [p.suffix for p in fresh_folder.iterdir()] == [".so"]  # no temporary file or source left behind
    np.testing.assert_array_equal(first[0], second[0])


def _in_fresh_process(folder: Path, count: int = 1) -> list[str]:
    """Run the small kernel in ``count`` new processes at once, with ``folder`` as the kernels' folder: the sum of
    its composed maps, printed by each (a process that has loaded a library keeps its mapping, so a damaged or
    replaced file is seen only by a process that starts after it)."""
    code = ("import numpy as np; from pathlib import Path; from checks.exact import kernel, kernel_c; "
            f"kernel.cache_dir = lambda: Path({str(folder)!r}); "
            f"S = {STRUCTURE!r}; e = np.exp(-2 * np.linspace(2.0, 0.1, 5)); "
            "A, b = kernel_c.run((S,), np.ones((1, 4, 4)), np.ones((1, 4)), e, e[:-1], np.linspace(-1, 9, 300)); "
            "print(repr(float(A.sum() + b.sum())))")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    processes = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(count)]
    results = [p.communicate(timeout=300) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err for _, err in results]
    return [out for out, _ in results]


@needs_cc
def test_concurrent_processes_never_load_half_a_library(fresh_folder):
    """Four processes compiling the same kernel into an empty folder at once: each loads a whole library."""
    assert len(set(_in_fresh_process(fresh_folder, 4))) == 1
    assert [p.suffix for p in fresh_folder.iterdir()] == [".so"]


@needs_cc
@pytest.mark.parametrize("damage", ["garbage", "truncated", "another_kernel"])
def test_a_damaged_or_stale_library_is_compiled_again(fresh_folder, damage):
    expected = _in_fresh_process(fresh_folder)
    path = next(fresh_folder.glob("*.so"))
    if damage == "garbage":
        path.write_bytes(b"\x7fELF not a library")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:2000])
    else:  # a whole library, of another structure, under this one's name
        kernel_c.compiled(((STRUCTURE[0][:2], True),))
        path.write_bytes(next(p for p in fresh_folder.glob("*.so") if p != path).read_bytes())
    assert _in_fresh_process(fresh_folder) == expected


@needs_cc
def test_a_compiled_library_runs_without_a_compiler(fresh_folder, monkeypatch):
    coefs, noises, e_points, e_mid, lm = _inputs()
    expected = kernel_c.run((STRUCTURE,), coefs, noises, e_points, e_mid, lm)
    kernel_c.forget()
    monkeypatch.setattr(kernel_c.shutil, "which", lambda name, *args, **kw: None)
    np.testing.assert_array_equal(kernel_c.run((STRUCTURE,), coefs, noises, e_points, e_mid, lm)[0], expected[0])
    kernel_c.forget()
    with pytest.raises(kernel_c.KernelError, match="needs a C compiler"):  # one it never compiled
        kernel_c.compiled(((STRUCTURE[0][:3], False),))


@needs_cc
def test_a_compiler_error_is_one_line(fresh_folder, monkeypatch):
    monkeypatch.setattr(kernel_c, "FLAGS", kernel_c.FLAGS + ("-no-such-flag-anywhere",))
    with pytest.raises(kernel_c.KernelError) as error:
        kernel_c.compiled((STRUCTURE,))
    assert "\n" not in str(error.value) and "C compiler" in str(error.value)
    assert not list(fresh_folder.iterdir())  # neither a library nor a temporary file


@needs_cc
def test_the_build_compiles_every_kernel_of_the_default_table(fresh_folder, monkeypatch):
    """``diffverify build`` leaves nothing to compile for the default table: it then runs without a compiler."""
    from checks.app.commands import build
    from checks.exact import data

    build.build_exact_w2_parts()
    assert list(fresh_folder.glob("*.so"))
    kernel_c.forget()
    monkeypatch.setattr(kernel_c.shutil, "which", lambda name, *args, **kw: None)
    cifar = data.spectrum("cifar10")
    _same_cells(exact_w2.table(cifar, backend="c"), exact_w2.table(cifar, backend="numpy"), 1e-10)


@needs_cc
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_process_runs_the_kernels_on_its_own_threads(monkeypatch):
    """A worker forked after the parent ran the threaded kernel (as the report's process pool does) runs it too."""
    import multiprocessing

    monkeypatch.setenv(config.THREADS, "2")
    coefs, noises, e_points, e_mid, lm = _inputs(size=5000)
    expected = kernel_c.run((STRUCTURE,), coefs, noises, e_points, e_mid, lm)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        result = pool.apply_async(kernel_c.run, ((STRUCTURE,), coefs, noises, e_points, e_mid, lm))
        got = result.get(timeout=120)
    np.testing.assert_array_equal(got[0], expected[0])


@needs_cc
def test_a_table_s_kernels_are_compiled_together(fresh_folder):
    """``prepare`` compiles the missing kernels side by side, each into its own library, and loads them."""
    structure_sets = [(STRUCTURE,), ((STRUCTURE[0][:2], True),), ((STRUCTURE[0][:3], False), (STRUCTURE[0][:2], True))]
    kernel_c.prepare(structure_sets + structure_sets[:1])
    assert len(list(fresh_folder.glob("*.so"))) == 3 and len(list(fresh_folder.iterdir())) == 3
    coefs, noises, e_points, e_mid, lm = _inputs()
    assert np.all(np.isfinite(kernel_c.run((STRUCTURE,), coefs, noises, e_points, e_mid, lm)[0]))


@needs_cc
def test_a_compiler_that_cannot_target_the_processor_compiles_generic_code(fresh_folder, monkeypatch):
    monkeypatch.setattr(kernel_c, "flags", lambda: kernel_c.FLAGS + ("-march=no-such-processor",))
    coefs, noises, e_points, e_mid, lm = _inputs()
    gain_sq, tail = kernel_c.run((STRUCTURE,), coefs, noises, e_points, e_mid, lm)
    assert np.all(np.isfinite(gain_sq)) and len(list(fresh_folder.glob("*.so"))) == 1


def test_the_processor_is_read_from_tab_aligned_cpuinfo():
    """/proc/cpuinfo aligns its colons with tabs: the model and flags are found, so x86-64 compiles for them."""
    cpuinfo = ("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n"
               "flags\t\t: fpu sse2 avx2 avx512f\n\nprocessor\t: 1\nvendor_id\t: Other\n")
    assert kernel_c.first_processor(cpuinfo) == "AuthenticAMD|AMD EPYC|fpu sse2 avx2 avx512f||"
    assert kernel_c.first_processor("") == ""
    if platform.machine() == "x86_64" and Path("/proc/cpuinfo").exists():
        assert "-march=native" in kernel_c.flags()
