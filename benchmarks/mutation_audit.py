"""Mutation audit: plant each bug of ``benchmarks/mutants.py`` in a copy of the tree and run the tests that should catch it.

For every mutant: check that its ``old`` text occurs exactly once in its file, patch a private
copy of the repository (tracked and untracked, non-ignored files), run its targeted pytest
selection there (``-x``, one process, ``nice``) with ``PYTHONPATH`` at the copy and
the cache variable (``config.CACHE``) at the audit's own copy of the warm derivation cache, then restore the
file. Entries are keyed by the hash of their sources (and generated W2 kernels by the hash of
their text), so a patched source only ever adds entries under new keys: only what the patch
touches is rebuilt, and no mutant reads another's entries.
A mutant is *killed* when its selection fails (pytest exit 1), *survives* when it passes, and
*times out* past ``--timeout``. Before the mutants, each distinct selection runs once on the
unpatched copy: a selection that fails there would kill every mutant and proves nothing.

Writes ``benchmarks/results/mutation_audit.json`` (merged by id with an earlier run, so
``--only`` refreshes a few entries) and prints the kill rate by category.

Second opinion (``--tool``): mutmut (the ``reliability`` extra) mutates every operator and constant
of :data:`TOOL_TARGETS` in its own copy of the tree, each target with its tests and a time limit
(``--tool-minutes``); its counts go to the JSON's ``tool`` field. A catalogue rule is tested as the
torch engine runs it (at run time, in each forked mutant) against derivations built unmutated: a
derivation built from a mutated rule would be stored under the same key for every mutant (mutmut
mutates through one trampolined source), so the rule's own step-map proofs cannot be its tests here.

Usage: python benchmarks/mutation_audit.py [--only ID[,ID...]] [--category NAME] [--check] [--no-baseline]
       [--timeout 400]
       python benchmarks/mutation_audit.py --tool [--tool-minutes 12]
       python benchmarks/mutation_audit.py --notes     # survivors' explanations from mutant_notes.py
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from derivations.core import config  # noqa: E402
from benchmarks.mutants import MUTANTS, STATS_TESTS, Mutant, proof_tests  # noqa: E402
from benchmarks.mutant_notes import EXPLANATIONS, KILLED_AFTER, TOOL_EXPLANATIONS  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "mutation_audit.json"
FAILED_LINE = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.M)


def occurrences(mutant: Mutant, root: Path = ROOT) -> int:
    return (root / mutant.file).read_text().count(mutant.old)


def copy_tree(target: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)


def seed_cache() -> Path | None:
    from derivations.core import config

    warm = config.cache_dir()
    return warm if warm.is_dir() else None


def run_selection(tree: Path, tests: str, cache: Path, timeout: float) -> tuple[str, list[str], float]:
    """('killed' | 'survived' | 'timeout' | 'error', failing test ids, seconds) of one selection on ``tree``."""
    env = os.environ | {"PYTHONPATH": str(tree), config.CACHE: str(cache), "PYTHONDONTWRITEBYTECODE": "1",
                        config.THREADS: "1", "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    command = ["nice", "-n", "10", sys.executable, "-m", "pytest", "-q", "-x", "-n", "0", "-p", "no:cacheprovider",
               *shlex.split(tests)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", [], time.perf_counter() - start
    elapsed = time.perf_counter() - start
    failing = FAILED_LINE.findall(done.stdout)
    if done.returncode == 0:
        return "survived", [], elapsed
    if done.returncode == 1:
        return "killed", failing or ["(pytest exit 1)"], elapsed
    tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
    return "error", [f"pytest exit {done.returncode}: " + " | ".join(tail)], elapsed


_PROOF_SELECTION = re.compile(r"^tests/test_derivations.py -k '\((.*)\) and \(tier or wrong_variant\)'$")


def baseline_selections(selections: set[str]) -> list[str]:
    """The selections as few pytest runs: every proof selection (``mutants.proof_tests``) merged into one."""
    proofs = sorted({i.strip() for s in selections if (m := _PROOF_SELECTION.match(s)) for i in m.group(1).split(" or ")})
    others = sorted(s for s in selections if not _PROOF_SELECTION.match(s))
    merged = [f"tests/test_derivations.py -k '({' or '.join(proofs)}) and (tier or wrong_variant)'"] if proofs else []
    return merged + others


def load() -> dict:
    if RESULTS.exists():
        return json.loads(RESULTS.read_text())
    return {"mutants": [], "tool": None}


def save(records: dict[str, dict]) -> None:
    """Merge ``records`` by id into the results file, read again now (a ``--tool`` run may have written it)."""
    results = load()
    by_id = {m["id"]: m for m in results["mutants"]} | records
    results["mutants"] = [by_id[i] for i in MUTANTS if i in by_id]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")


# (module, pytest selection, process isolation): the statistics module's tests import it and call it;
# the catalogue module is read while its step maps are derived (hence fresh processes, no cache).
TOOL_TARGETS = (
    ("checks/core/stats.py", STATS_TESTS, "fork"),
    # The rule as the torch engine runs it, against the derived ddpm.posterior and DDIM's eta = 1 law:
    # the engine calls the (mutated) rule at run time, while the derivations it is compared with are
    # built once, unmutated, in mutmut's first run of the tests (a fresh cache), then forked.
    ("derivations/catalogue/schemes/ancestral.py",
     "tests/test_samplers.py::test_ancestral_step_is_the_derived_ddpm_posterior "
     "tests/test_samplers.py::test_ddim_eta_1_is_ancestral_with_posterior_variance", "fork"),
)
_TOOL_LINE = re.compile(r"^\s*(\S+__mutmut_\d+): (.+?)\s*$", re.M)


def _mutmut_config(target: str, tests: str, isolation: str) -> str:
    lines = ["[mutmut]", "source_paths =", f"    {target.rsplit('/', 1)[0]}/", "only_mutate =", f"    {target}",
             "also_copy =", *(f"    {p}" for p in ("derivations/", "checks/", "tests/", "benchmarks/", "pyproject.toml")),
             "pytest_add_cli_args =", *(f"    {a}" for a in ("-p", "no:cacheprovider", "-n", "0", "-x")),
             "pytest_add_cli_args_test_selection =", *(f"    {a}" for a in shlex.split(tests)),
             "use_git_change_detection = false", f"process_isolation = {isolation}"]
    if isolation == "forkserver":
        lines.append("forkserver_warmup = none")
    return "\n".join(lines) + "\n"


def run_tool(minutes: float, only: str = "", earlier: dict | None = None) -> dict:
    """mutmut on each of :data:`TOOL_TARGETS` (those containing ``only``) for at most ``minutes`` each;
    its counts per target (the others' kept from ``earlier``) and summed."""
    per_target = dict((earlier or {}).get("per_target", {}))
    for target, tests, isolation in TOOL_TARGETS:
        if only not in target:
            continue
        with tempfile.TemporaryDirectory(prefix="diffverify-mutmut-") as scratch_name:
            tree = Path(scratch_name) / "tree"
            copy_tree(tree)
            (tree / "setup.cfg").write_text(_mutmut_config(target, tests, isolation))
            env = os.environ | {"PYTHONDONTWRITEBYTECODE": "1", config.THREADS: "1",
                                # no derivation cache: every mutant's step maps are derived afresh
                                config.CACHE: "/proc/diffverify-no-cache" if isolation == "forkserver"
                                else str(Path(scratch_name) / "cache")}
            mutmut = [sys.executable, "-m", "mutmut"]
            try:
                subprocess.run(["nice", "-n", "10", *mutmut, "run", "--max-children", "1"], cwd=tree, env=env,
                               capture_output=True, timeout=minutes * 60)
            except subprocess.TimeoutExpired:
                pass  # what finished is kept in mutmut's own files; the rest is "not checked"
            listed = subprocess.run([*mutmut, "results", "--all", "true"], cwd=tree, env=env, capture_output=True,
                                    text=True).stdout
            survivors = [{"name": name, "change": survivor_change(mutmut, name, tree, env),
                          "explanation": TOOL_EXPLANATIONS.get(name, "")}
                         for name, status in _TOOL_LINE.findall(listed) if status == "survived"]
        found = dict.fromkeys(("killed", "survived", "timeout", "no_tests", "not_checked"), 0)
        for _, status in _TOOL_LINE.findall(listed):
            key = {"killed": "killed", "survived": "survived", "timeout": "timeout", "no tests": "no_tests"}.get(status, "not_checked")
            found[key] += 1
        print(f"mutmut {target}: " + ", ".join(f"{v} {k}" for k, v in found.items()), flush=True)
        per_target[target] = found | {"minutes": minutes, "tests": tests, "survivors": survivors}
    keys = ("killed", "survived", "timeout", "no_tests", "not_checked")
    return {"name": "mutmut", "targets": list(per_target), **{k: sum(t[k] for t in per_target.values()) for k in keys},
            "per_target": per_target}


def survivor_change(mutmut: list[str], name: str, tree: Path, env: dict) -> list[str]:
    """The lines a surviving mutant removes (``-``) and adds (``+``), from ``mutmut show``'s diff."""
    shown = subprocess.run([*mutmut, "show", name], cwd=tree, env=env, capture_output=True, text=True).stdout
    return [line.rstrip() for line in shown.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---")) and line[1:].strip()]


def summary(mutants: list[dict]) -> str:
    lines = []
    for category in sorted({m["category"] for m in mutants}):
        group = [m for m in mutants if m["category"] == category]
        killed = sum(m["killed"] for m in group)
        lines.append(f"{category:12s} {killed}/{len(group)} killed ({100 * killed / len(group):.0f} %)")
    killed = sum(m["killed"] for m in mutants)
    lines.append(f"{'all':12s} {killed}/{len(mutants)} killed ({100 * killed / max(1, len(mutants)):.1f} %)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated mutant ids")
    parser.add_argument("--category", default="", help="derivations, catalogue, statistics or w2-kernels")
    parser.add_argument("--check", action="store_true", help="only check that every patch applies exactly once")
    parser.add_argument("--no-baseline", action="store_true", help="skip the selections' run on the unpatched tree")
    parser.add_argument("--timeout", type=float, default=400.0, help="seconds per mutant")
    parser.add_argument("--notes", action="store_true",
                        help="only rewrite the survivors' explanations from mutant_notes.py and print the summary")
    parser.add_argument("--tool", action="store_true", help="run mutmut on TOOL_TARGETS instead of the planted bugs")
    parser.add_argument("--tool-minutes", type=float, default=12.0, help="mutmut's time limit per target")
    parser.add_argument("--tool-only", default="", help="only the targets whose path contains this text")
    args = parser.parse_args(argv)
    if args.notes:
        results = load()
        for m in results["mutants"]:
            m["explanation"] = KILLED_AFTER.get(m["id"]) if m["killed"] else EXPLANATIONS.get(m["id"], m["explanation"])
        for counts in results.get("tool", {}).get("per_target", {}).values():
            for survivor in counts.get("survivors", []):
                survivor["explanation"] = TOOL_EXPLANATIONS.get(survivor["name"], survivor.get("explanation", ""))
        RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
        print(summary(results["mutants"]))
        return 0
    if args.tool:
        tool = run_tool(args.tool_minutes, args.tool_only, load().get("tool"))
        results = load()  # read after the run: the planted bugs' audit may have written meanwhile
        results["tool"] = tool
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
        print(json.dumps(results["tool"]))
        return 0

    chosen = [m for m in MUTANTS.values()
              if (not args.only or m.id in args.only.split(",")) and (not args.category or m.category == args.category)]
    unknown = set(filter(None, args.only.split(","))) - set(MUTANTS)
    if unknown or not chosen:
        print(f"no such mutant: {', '.join(sorted(unknown))}" if unknown else "no mutant selected", file=sys.stderr)
        return 2
    bad = [f"{m.id}: {m.file} holds its text {occurrences(m)} times" for m in chosen if occurrences(m) != 1]
    if bad:
        print("patches that do not apply exactly once:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 2
    print(f"{len(chosen)} mutants apply exactly once")
    if args.check:
        return 0

    records = {}
    seed = seed_cache()
    with tempfile.TemporaryDirectory(prefix="diffverify-mutants-") as scratch_name:
        scratch = Path(scratch_name)
        tree = scratch / "tree"
        copy_tree(tree)
        cache = scratch / "cache"
        if seed is not None:
            shutil.copytree(seed, cache)
        if not args.no_baseline:
            for tests in baseline_selections({m.tests for m in chosen}):
                outcome, failing, seconds = run_selection(tree, tests, cache, args.timeout)
                print(f"baseline {outcome:8s} {seconds:5.0f} s  {tests[:150]}", flush=True)
                if outcome != "survived":
                    print(f"the selection fails on the unpatched tree: {failing}", file=sys.stderr)
                    return 2
        for mutant in chosen:
            path = tree / mutant.file
            original = path.read_text()
            path.write_text(original.replace(mutant.old, mutant.new))
            try:
                outcome, failing, seconds = run_selection(tree, mutant.tests, cache, args.timeout)
            finally:
                path.write_text(original)
            records[mutant.id] = {
                "id": mutant.id, "category": mutant.category, "file": mutant.file,
                "description": mutant.description, "killed": outcome == "killed", "killed_by": failing,
                "explanation": KILLED_AFTER.get(mutant.id) if outcome == "killed"
                else EXPLANATIONS.get(mutant.id, f"outcome: {outcome}"),
                "outcome": outcome, "seconds": round(seconds, 1),
            }
            print(f"{outcome:8s} {seconds:5.0f} s  {mutant.category:11s} {mutant.id}  {' '.join(failing[:2])}",
                  flush=True)
            save(records)  # after each mutant: an interrupted audit keeps what it measured
    print(summary(load()["mutants"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
