"""The derivation cache: keys follow the sources, bad entries are rebuilt, writes are atomic, and a
stored derivation is the derivation built afresh."""

from __future__ import annotations

import re

import dataclasses
import hashlib
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sympy as sp

import derivations
from derivations.core import cache, config
from derivations.core.registry import Lambdified

from checks.app.cli import main

from tests.conftest import BY_DERIVATION

CHEAP_ID = "ddpm.marginal"  # derived in a hundredth of a second


@pytest.fixture
def counted():
    """The cheap derivation with a builder that counts its calls, and nothing of it in memory."""
    d = derivations.get(CHEAP_ID)
    original = d.builder
    calls = []

    def builder():
        calls.append(1)
        return original()

    d.builder = builder
    forget(d)
    yield d, calls
    d.builder = original
    forget(d)


def forget(d) -> None:
    """Drop what this process holds of ``d``, so the next use reads the cache or builds."""
    for name in ("body", "verdicts"):
        vars(d).pop(name, None)


def body_file(derivation_id: str) -> Path:
    return cache.part_path(derivation_id, cache.key(derivation_id), "body")


# --------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------

def _keys_after_editing(module: str) -> tuple[dict[str, str], dict[str, str]]:
    sources = cache.sources()
    module_of = {s.id: s.module for s in cache.summaries()}
    edited = sources | {module: sources[module] + b"\n# an edit\n"}
    before = {m: cache.module_key(c, sources) for m, c in cache.module_closures(sources, module_of).items()}
    after = {m: cache.module_key(c, edited) for m, c in cache.module_closures(edited, module_of).items()}
    return before, after


def test_editing_a_family_changes_the_keys_of_what_depends_on_it_only():
    before, after = _keys_after_editing("derivations.families.ddpm")
    changed = {m for m in before if before[m] != after[m]}
    assert "derivations.families.ddpm" in changed
    assert "derivations.families.ddim" in changed, "ddim imports ddpm"
    assert "derivations.families.elbo" in changed, "elbo uses the derivation ddpm.posterior by its id"
    assert "derivations.families.ito" not in changed
    assert "derivations.core.notation" not in changed


def test_editing_a_scheme_of_the_catalogue_changes_the_step_maps_keys():
    """The catalogue imports its scheme modules by iterating over their package: the step maps depend on them."""
    before, after = _keys_after_editing("derivations.catalogue.schemes.ode")
    changed = {m for m in before if before[m] != after[m]}
    assert "derivations.families.gauss_exact" in changed
    assert "derivations.families.ito" not in changed


def test_editing_the_notation_changes_every_family_key():
    before, after = _keys_after_editing("derivations.core.notation")
    families = [m for m in before if m.startswith("derivations.families.") and not m.endswith(("fp", "sde"))]
    assert families and all(before[m] != after[m] for m in families)


def test_a_new_cache_format_or_sympy_changes_every_key(monkeypatch, tmp_path):
    now = cache.environment()
    try:
        monkeypatch.setattr(cache, "FORMAT", cache.FORMAT + 1)
        cache.environment.cache_clear()
        assert cache.environment() != now
        monkeypatch.undo()
        release = tmp_path / "release.py"
        release.write_text('__version__ = "9.9"\n')
        installed = cache._version_files()
        monkeypatch.setattr(cache, "_version_files", lambda: installed | {"sympy": release})
        cache.environment.cache_clear()
        assert cache.environment() != now
    finally:
        monkeypatch.undo()
        cache.environment.cache_clear()
    assert cache.environment() == now


# --------------------------------------------------------------------------
# Rebuilding
# --------------------------------------------------------------------------

def test_a_stored_body_is_read_not_rebuilt(tmp_cache, counted):
    d, calls = counted
    first = d.body
    forget(d)
    assert d.body.results == first.results
    assert len(calls) == 1
    assert body_file(CHEAP_ID).exists()


def test_an_edited_source_rebuilds_the_derivation(tmp_cache, counted):
    d, calls = counted
    d.body
    old_key = cache.key(CHEAP_ID)
    edited = dict(cache.sources())
    edited[d.module] += b"\n# an edit\n"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cache, "sources", lambda: edited)
        cache._current_catalog.cache_clear()
        assert cache.key(CHEAP_ID) != old_key
        forget(d)
        d.body
        assert len(calls) == 2, "a changed source is a miss"
        forget(d)
        d.body
        assert len(calls) == 2, "and the rebuilt entry is stored under the new key"


@pytest.mark.parametrize("damage", ["truncate", "flip a byte", "empty", "stale class"])
def test_a_damaged_entry_is_rebuilt_silently(tmp_cache, counted, damage):
    d, calls = counted
    expected = d.body
    path = body_file(CHEAP_ID)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip a byte":
        path.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a whole, checksummed entry whose class no longer exists
        payload = b"cno_such_module\nThing\n."
        path.write_bytes(cache.MAGIC + hashlib.sha256(payload).digest() + payload)
    forget(d)
    assert d.body.results == expected.results
    assert len(calls) == 2
    assert cache.read(path) is not cache._MISS, "the entry is rewritten whole"


def test_an_unwritable_folder_only_costs_time(tmp_path, monkeypatch, counted):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv(config.CACHE, str(blocker / "cache"))  # a folder under a file cannot exist
    cache.refresh()
    try:
        d, calls = counted
        assert d.body.results
        assert len(calls) == 1
    finally:
        cache.refresh()


def test_a_derivation_built_outside_the_registry_is_not_stored(tmp_cache):
    d = dataclasses.replace(derivations.get(CHEAP_ID))  # same id and module, but not the registered record
    assert d.body.results
    assert not any(tmp_cache.rglob("*.body.pickle"))


# --------------------------------------------------------------------------
# Concurrency
# --------------------------------------------------------------------------

_WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from derivations.core import cache
    path, tag = Path(sys.argv[1]), sys.argv[2]
    for i in range(int(sys.argv[3])):
        assert cache.write(path, (tag, i, tag * 200_000))
""")


def test_concurrent_writers_never_produce_a_torn_read(tmp_path):
    path = tmp_path / "entry.pickle"
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), tag, "150"], cwd=Path(__file__).parents[1])
               for tag in ("a", "b")]
    reads = 0
    while any(w.poll() is None for w in writers) or reads == 0:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        head = len(cache.MAGIC) + 32
        assert data.startswith(cache.MAGIC) and hashlib.sha256(data[head:]).digest() == data[len(cache.MAGIC):head]
        tag, _, body = pickle.loads(data[head:])
        assert body == tag * 200_000
        reads += 1
    assert all(w.wait() == 0 for w in writers)
    assert not [p for p in tmp_path.iterdir() if p != path], "no temporary file is left behind"


# --------------------------------------------------------------------------
# A stored derivation is the derivation built afresh
# --------------------------------------------------------------------------

def _same(a: sp.Expr, b: sp.Expr) -> bool:
    return a == b and sp.srepr(a) == sp.srepr(b)


def representatives() -> list[str]:
    """One derivation id per family module: the one with the fewest relations (steps, results, claims,
    wrong variants; ties by id), so the smallest build that exercises the module's builder, its
    symbols, held operations and the derivations it reads. Building afresh is the cost of this
    comparison (a whole derivation and its proofs); ``benchmarks/cache_identity.py`` runs it on
    every id."""
    def size(derivation_id: str) -> tuple[int, str]:
        body = derivations.get(derivation_id).body
        return len(body.steps) + len(body.results) + len(body.claims) + len(body.wrong_variants), derivation_id

    by_module: dict[str, list[str]] = {}
    for s in cache.summaries():
        by_module.setdefault(s.module, []).append(s.id)
    return sorted(min(ids, key=size) for ids in by_module.values())


def stored_parts(d) -> tuple:
    """The body and verdicts of ``d`` as stored under its current key (read, or built and stored)."""
    forget(d)
    d.verdicts  # read from the cache, or built and stored under the current key
    stored_body = cache.read(cache.part_path(d.id, cache.key(d.id), "body"))
    stored_verdicts = cache.read(cache.part_path(d.id, cache.key(d.id), "verdicts"))
    assert stored_body is not cache._MISS and stored_verdicts is not cache._MISS, "every derivation can be stored"
    return stored_body, stored_verdicts


def assert_same_bodies(body, stored_body) -> None:
    assert len(body.steps) == len(stored_body.steps)
    for new, old in zip(body.steps, stored_body.steps):
        assert (new.description, new.attempt_exact) == (old.description, old.attempt_exact)
        assert _same(new.lhs, old.lhs) and _same(new.rhs, old.rhs), new.description
    for kind in ("results", "claims", "wrong_variants"):
        new_items, old_items = getattr(body, kind), getattr(stored_body, kind)
        assert len(new_items) == len(old_items), kind
        for new, old in zip(new_items, old_items):
            assert _same(new.expr, old.expr), (kind, new)
            assert dataclasses.replace(new, expr=0) == dataclasses.replace(old, expr=0)


def compare_cached_and_fresh(derivation_id: str) -> None:
    """The stored body and verdicts of ``derivation_id`` equal a build and proof made afresh in this
    process, and the build reads no derivation its key does not cover."""
    d = derivations.get(derivation_id)
    stored_body, stored_verdicts = stored_parts(d)
    fresh = dataclasses.replace(d)  # not the registered record: built and proved afresh, never stored
    cache._building.append(set())
    try:
        body = fresh.body
    finally:
        reached = cache._building.pop()
    assert reached <= cache.catalog().covered_ids(d.id), "the key covers every derivation the build uses"
    assert_same_bodies(body, stored_body)
    assert [(v.kind, v.description, v.proof.tier) for v in fresh.verdicts] == \
        [(v.kind, v.description, v.proof.tier) for v in stored_verdicts]


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_every_derivation_is_stored_and_reads_back_whole(derivation_id, tmp_path):
    """Every id: both parts are stored, and a stored body written again reads back as the same expressions."""
    stored_body, _ = stored_parts(derivations.get(derivation_id))
    again = tmp_path / "body.pickle"
    assert cache.write(again, stored_body)
    assert_same_bodies(cache.read(again), stored_body)


@pytest.mark.parametrize("derivation_id", representatives())
def test_cached_and_fresh_builds_are_identical(derivation_id):
    compare_cached_and_fresh(derivation_id)


def test_the_representatives_cover_every_family_module():
    chosen = set(representatives())
    modules = {s.module for s in cache.summaries()}
    assert {cache.summary(i).module for i in chosen} == modules and len(chosen) == len(modules)


def test_a_stored_function_is_the_lambdified_one(tmp_cache):
    d = derivations.get("ddpm.posterior")
    derivations.core.registry._lambdified.cache_clear()
    try:
        for backend in ("numpy", "mpmath"):
            built = Lambdified(d.result("var"), backend)
            stored = pickle.loads(pickle.dumps(built))
            assert type(stored) is cache.Compiled and stored.arg_names == built.arg_names
            point = {"alpha_t": 0.9, "alpha_bar_prev": 0.4, "beta_t": 0.1}
            assert stored(**point) == built(**point)
    finally:
        derivations.core.registry._lambdified.cache_clear()


# --------------------------------------------------------------------------
# What a warm command imports, and the build command
# --------------------------------------------------------------------------

def _imports_after(args: list[str]) -> set[str]:
    """The heavy modules a fresh process has imported after running the command ``args``."""
    code = (f"import sys; from checks.app.cli import main; assert main({args!r}) == 0; "
            "print('IMPORTED', *(m for m in ('sympy', 'torch', 'numba') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                            cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stderr
    return set(result.stdout.rpartition("IMPORTED")[2].split())


def test_importing_the_package_and_the_cli_loads_neither_sympy_nor_torch():
    code = ("import sys, derivations, checks; from checks.app import cli, plugins; plugins.commands(); "
            "cli.build_parser(); print(sorted(m for m in ('sympy', 'torch', 'numpy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("args", [["list"], ["show", CHEAP_ID]], ids=["list", "show"])
def test_a_warm_command_imports_neither_sympy_nor_torch(args):
    _imports_after(args)  # fills the cache if needed
    assert _imports_after(args) == set()


def test_a_warm_verify_imports_only_the_family_of_its_id():
    """``verify`` about one id imports that id's family module, not every family (0.2 s of its start); a claim
    checked afresh (``--no-cache``: its verdict not read from the cache, which imports no family at all)."""
    code = ("import sys; from checks.app.cli import main; "
            "assert main(['verify', '--no-cache', 'ddpm.posterior', "
            "'var = (1 - alpha_bar_prev)*(1 - alpha_t)/(1 - alpha_bar_t)']) == 0; "
            "print('FAMILIES', *sorted(m for m in sys.modules if m.startswith('derivations.families.')))")
    run = lambda: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                                 cwd=Path(__file__).parents[1])
    run()  # fills the cache if needed
    result = run()
    assert result.returncode == 0, result.stderr
    imported = set(result.stdout.rpartition("FAMILIES")[2].split())
    closure = cache.catalog().closures["derivations.families.ddpm"]  # ddpm and the modules it imports
    assert "derivations.families.ddpm" in imported
    assert imported - {"derivations.families"} <= closure
    assert len(closure) < len({s.module for s in cache.summaries()})


def test_a_warm_w2_table_imports_neither_sympy_nor_torch(tmp_path):
    eigenvalues = tmp_path / "eigenvalues.txt"
    eigenvalues.write_text("0\n0.5\n2\n")
    args = ["w2-table", "--eigenvalues", str(eigenvalues)]
    _imports_after(args)
    assert _imports_after(args) <= {"numba"}


# --------------------------------------------------------------------------
# The exact W2 table's step maps
# --------------------------------------------------------------------------

def test_the_w2_step_maps_are_stored_and_rebuilt_when_a_catalogue_source_changes(tmp_cache, monkeypatch):
    from checks.exact import forms

    calls = []
    monkeypatch.setattr(forms, "derive_step", lambda label, last=False, clean=False: calls.append(label) or
                        forms.CompiledStep((), None, ()))
    label = next(iter(forms.layouts()))
    forms.compiled_step.cache_clear()
    try:
        forms.compiled_step(label)
        forms.compiled_step.cache_clear()
        forms.compiled_step(label)
        assert calls == [label], "the second process reads the stored maps"
        edited = cache.ROOT / "catalogue" / "schemes" / "ode.py"
        assert edited in forms.source_files()
        digest = cache.file_digest
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cache, "file_digest", lambda p: "an edit" if p == edited else digest(p))
            forms.compiled_step.cache_clear()
            forms.compiled_step(label)
        assert calls == [label, label], "an edited rule is a miss"
    finally:
        forms.compiled_step.cache_clear()


def test_stored_w2_step_maps_compute_what_fresh_ones_compute():
    import numpy as np

    from checks.exact import forms

    label = "EI"
    rng = np.random.default_rng(0)
    for last in (False, True):
        fresh = forms.derive_step(label, last)
        stored = pickle.loads(pickle.dumps(forms.compiled_step(label, last)))
        assert [p for p, _ in stored.monomials] == [p for p, _ in fresh.monomials]
        assert stored.arg_names == fresh.arg_names
        values = {n: rng.uniform(0.1, 0.9) for n in fresh.arg_names} | {"unused": 1.0}
        for (_, a), (_, b) in zip(stored.monomials, fresh.monomials):
            assert a(**values) == b(**values)
        assert (stored.noise_var is None) == (fresh.noise_var is None)
        if fresh.noise_var is not None:
            assert stored.noise_var(**values) == fresh.noise_var(**values)


def test_the_w2_layouts_map_nfe_labels_to_points_as_the_catalogue_does():
    from checks.exact import forms
    from checks.exact.columns import SCHEMES

    layouts = forms.layouts()
    assert list(layouts) == [s.label for s in SCHEMES]
    for spec in SCHEMES:
        layout = layouts[spec.label]
        assert (layout.chain, layout.fixed) == (spec.chain, spec.fixed)
        assert all(layout.points(n) == spec.points(n) for n in range(1, 2049))


def test_build_fills_the_cache_and_is_then_a_no_op(tmp_cache, capsys):
    forget(derivations.get(CHEAP_ID))
    assert main(["build", CHEAP_ID, "--jobs", "1"]) == 0
    assert "1 derivations built or read" in capsys.readouterr().out
    key = cache.key(CHEAP_ID)
    parts = {p.name.removeprefix(key + ".") for p in (tmp_cache / "derivations" / f"v{cache.FORMAT}" / CHEAP_ID).iterdir()}
    assert {"body.pickle", "verdicts.pickle"} <= parts
    assert any(p.startswith("function.") and p.endswith(".torch.pickle") for p in parts)
    assert any(p.name.startswith(f"show.{CHEAP_ID}-") for p in (tmp_cache / "derivations" / f"v{cache.FORMAT}" / "memo").iterdir())


def test_build_in_spawned_workers_reports_its_progress_off_a_terminal(tmp_cache, capsys, monkeypatch):
    """Two workers (spawned: a forked one may inherit a lock held by a thread of this process), and
    progress lines on stderr where there is no terminal, as in a CI log."""
    from checks.app.commands import build

    monkeypatch.setattr(build, "LINE_EVERY_S", 0.0)
    ids = [CHEAP_ID, "ve.marginal"]
    assert main(["build", *ids, "--jobs", "2"]) == 0
    captured = capsys.readouterr()
    assert "2 derivations built or read" in captured.out
    assert re.findall(r"^build: (\d)/3 after", captured.err, re.M) == ["1", "2", "3"]
    for i in ids:  # stored by the workers, read here
        assert any(p.name.startswith(f"show.{i}-") for p in (tmp_cache / "derivations" / f"v{cache.FORMAT}" / "memo").iterdir())


def test_build_writes_the_bytecode_of_both_packages_where_python_would_not(monkeypatch):
    """Under PYTHONDONTWRITEBYTECODE an editable install compiles every module from source in every
    process; the build writes the bytecode (atomically: a process importing meanwhile reads the old or the new)."""
    import importlib.util

    from checks.app.commands import build, list as list_command

    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    compiled = Path(importlib.util.cache_from_source(list_command.__file__))
    compiled.unlink(missing_ok=True)
    build.compile_bytecode()
    assert compiled.is_file() and compiled.stat().st_size > 0


def test_build_refuses_an_unknown_id(capsys):
    assert main(["build", "ddpm.posteriro"]) == 2
    assert "ddpm.posterior" in capsys.readouterr().err


def test_prune_removes_entries_of_other_sources(tmp_cache):
    derivations.get(CHEAP_ID)  # registered
    stale = tmp_cache / "derivations" / f"v{cache.FORMAT}" / CHEAP_ID / ("0" * 64 + ".body.pickle")
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    old_catalog = stale.parents[1] / ("catalog-" + "0" * 64 + ".pickle")
    old_catalog.write_bytes(b"old")
    cache.catalog()
    assert cache.prune() == 0, "a week's grace"
    assert cache.prune(older_than_s=0) == 2
    assert not stale.exists() and not old_catalog.exists()
    assert any(stale.parents[1].glob("catalog-*.pickle")), "the current catalog stays"


def test_the_folder_is_the_variable_or_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.setenv(config.CACHE, str(tmp_path))
    assert cache.folder() == tmp_path
    monkeypatch.delenv(config.CACHE)
    assert cache.folder().name == "diffverify"
    assert os.path.isabs(cache.folder())
