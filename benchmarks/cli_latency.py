"""End-to-end latency of the ``diffverify`` commands, warm and cold cache, beside their baselines.

    python3 benchmarks/cli_latency.py                 # every id, median of 5, cold numbers too
    python3 benchmarks/cli_latency.py --repeats 3 --ids ddpm.posterior fp.reverse_mixture --skip-cold

Each command runs in a fresh process (``python -m checks.app.cli``), as a user starts it. *Warm*:
the cache folder of the environment (:func:`derivations.core.config.cache_dir`), filled first by
``diffverify build``. *Cold*: an empty cache folder per run (each process derives what it needs,
as every process did before the cache), run once per command. Printed per command: the median
wall time and the median CPU time (user + system) of the process; on a loaded machine the wall
time grows with the load and the CPU time does not. Baselines measured in the same run: the
interpreter's start, ``import sympy`` (the floor of a claim checked afresh), the cold cache, and for
``w2-table`` the notebook-style loop of ``benchmarks/_w2_notebook.py``, whose numbers are
compared with the command's. Targets (idle 2-core machine): ``list`` < 0.3 s, ``show`` and
``verify`` < 0.5 s for every id, ``w2-table`` on CIFAR-10 < 0.5 s and 3x faster than the
notebook, on ADSN < 2 s; each ``w2-table`` row also beside ``--backend numba``, the two taking
turns. ``verify`` is timed twice per id: a first check of the formula
(``--no-cache``: the verdict neither read nor stored, so SymPy is imported and the claim proved)
and a repeated check (the verdict read from the cache, no SymPy), each beside ``import sympy``.
Also listed: which of SymPy, torch, numba each warm command imports.
Never a test: timings are printed, not asserted.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from derivations.core import config  # noqa: E402  (light: no SymPy)

HEAVY = ("sympy", "torch", "numba")


@dataclass
class Timing:
    wall: list[float]
    cpu: list[float]
    stdout: str = ""

    @property
    def wall_median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def timed(argv: list[str], repeats: int, env: dict[str, str] | None = None, fresh_cache: bool = False) -> Timing:
    """Run ``argv`` ``repeats`` times; wall and child CPU seconds of each run."""
    walls, cpus, out = [], [], ""
    for _ in range(repeats):
        run_env = dict(env or os.environ)
        holder = tempfile.TemporaryDirectory(prefix="diffverify-cold-") if fresh_cache else None
        if holder:
            run_env[config.CACHE] = holder.name
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(argv, cwd=ROOT, env=run_env, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if holder:
            holder.cleanup()
        if result.returncode not in (0, 1):
            raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()[-500:]}")
        out = result.stdout
    return Timing(walls, cpus, out)


def alternated(first: list[str], second: list[str], repeats: int) -> tuple[Timing, Timing]:
    """:func:`timed` for two commands taking turns, so that a change in the machine's load hits both alike."""
    runs = [(timed(first, 1), timed(second, 1)) for _ in range(repeats)]
    return tuple(Timing([w for t in ts for w in t.wall], [c for t in ts for c in t.cpu], ts[-1].stdout)
                 for ts in zip(*runs))


def spectrum_file(name: str) -> str:
    """The path of a shipped spectrum (:data:`checks.exact.data.SPECTRA`), for the notebook-style
    baseline, which reads a file and knows no names."""
    from checks.exact.data import SPECTRA, resource

    return str(resource(SPECTRA[name].file))


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "checks.app.cli", *args]


def imports_of(args: list[str]) -> list[str]:
    """The heavy modules a warm run of the command imports."""
    code = (f"import sys; from checks.app.cli import main; main({args!r}); "
            f"print('IMPORTED', *(m for m in {HEAVY!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.rpartition("IMPORTED")[2].split()


def verify_formulas(ids: list[str]) -> dict[str, str]:
    """For each id, a formula that ``verify`` accepts: a claim from the literature when one parses
    in the suite's notation, else the first closed form with its named intermediates written out
    (EQUIVALENT either way)."""
    import sympy as sp

    import derivations
    from derivations.core import claims

    chosen = {}
    for derivation_id in ids:
        d = derivations.get(derivation_id)
        candidates = [f"{c.result} = {sp.sstr(c.expr)}" for c in d.body.claims]
        candidates += [f"{r.name} = {sp.sstr(d.result(r.name))}" for r in d.body.results]
        for text in candidates:
            try:
                claims.parse_claim(derivation_id, text)
            except claims.ClaimError:
                continue
            chosen[derivation_id] = text
            break
    return chosen


def row(label: str, target: float | None, warm: Timing | None, baseline: str, note: str = "") -> str:
    verdict = "" if target is None or warm is None else ("meets" if warm.wall_median < target else "MISSES")
    target_text = "" if target is None else f"< {target:g} s"
    warm_text = "" if warm is None else f"{warm.wall_median:.3f} s (cpu {warm.cpu_median:.3f} s)"
    return f"| {label} | {target_text} | {warm_text} | {baseline} | {verdict} {note}".rstrip() + " |"


def over_ids(kind: str, per_id: dict[str, Timing], target: float, baseline: str = "") -> str:
    walls = {i: t.wall_median for i, t in per_id.items()}
    cpus = {i: t.cpu_median for i, t in per_id.items()}
    slowest = sorted(walls, key=walls.get, reverse=True)[:3]
    over = [i for i, w in walls.items() if w >= target]
    return (f"| {kind}, {len(per_id)} ids | < {target:g} s each | median {statistics.median(walls.values()):.3f} s, "
            f"max {max(walls.values()):.3f} s (cpu median {statistics.median(cpus.values()):.3f} s, "
            f"max {max(cpus.values()):.3f} s) | slowest: "
            + ", ".join(f"{i} {walls[i]:.2f} s" for i in slowest) + (f"; {baseline}" if baseline else "")
            + f" | {'meets' if not over else f'MISSES on {len(over)} ids'} |")


def compare_tables(ours: str, notebook: str) -> tuple[float, list[str]]:
    """Largest relative difference between two W2 tables in CSV over the cells both have (cells below
    1e-9 compared absolutely), and the schemes only ``ours`` has (columns the notebook does not type in)."""
    def cells(text: str) -> dict[tuple, str]:
        return {(r["scheme"], r["eps"], r["init"], r["nfe"]): r["w2"] for r in csv.DictReader(io.StringIO(text))}

    a, b = cells(ours), cells(notebook)
    if not set(b) <= set(a):
        return math.inf, []
    worst = 0.0
    for key, y in b.items():
        x = a[key]
        if "divergent" in (x, y):
            worst = worst if x == y else math.inf
            continue
        worst = max(worst, abs(float(x) - float(y)) / max(abs(float(y)), 1e-9))
    return worst, sorted({key[0] for key in set(a) - set(b)})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ids", nargs="*", default=None, help="ids for show and verify (default: every id)")
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--adsn-baseline", action="store_true", help="also time the notebook loop on ADSN (minutes)")
    args = parser.parse_args(argv)
    repeats = args.repeats

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the "
          f"start; median of {repeats} runs each (cold: one run)", flush=True)
    start = time.perf_counter()
    build = timed(cli("build"), 1)
    print(f"diffverify build (fills the cache, or finds it full): {build.wall_median:.1f} s; {build.stdout.strip()}",
          flush=True)

    from derivations.core import cache

    ids = args.ids or [s.id for s in cache.summaries()]
    cifar, adsn = "cifar10", "adsn"  # shipped spectra, named

    lines = ["| command | target | warm (wall, cpu) | baseline in this run | verdict |", "|---|---|---|---|---|"]
    python_start = timed([sys.executable, "-c", "pass"], repeats)
    import_sympy = timed([sys.executable, "-c", "import sympy"], repeats)
    lines.append(row("`python -c pass` (floor)", None, python_start, ""))
    lines.append(row("`python -c 'import sympy'` (floor of verify)", None, import_sympy, ""))

    cold = {} if args.skip_cold else {
        "list": timed(cli("list"), 1, fresh_cache=True),
        "show": timed(cli("show", "ddpm.posterior"), 1, fresh_cache=True),
        "verify": timed(cli("verify", "ddpm.posterior", "var = (1 - alpha_bar_prev)/(1 - alpha_bar_t)*beta_t"), 1,
                        fresh_cache=True),
        "w2-table": timed(cli("w2-table", "--eigenvalues", cifar), 1, fresh_cache=True),
    }

    def cold_text(name: str, what: str) -> str:
        return f"cold ({what}) {cold[name].wall_median:.2f} s, cpu {cold[name].cpu_median:.2f} s" if name in cold else ""

    lines.append(row("`list`", 0.3, timed(cli("list"), repeats), cold_text("list", "empty cache")))
    show = {i: timed(cli("show", i), repeats) for i in ids}
    lines.append(over_ids("`show ID`", show, 0.5))
    if "show" in cold:
        lines.append(f"| `show ddpm.posterior` | | {show.get('ddpm.posterior', show[ids[0]]).wall_median:.3f} s | "
                     f"{cold_text('show', 'empty cache')} | |")
    formulas = verify_formulas(ids)
    sympy_text = f"`import sympy` {import_sympy.wall_median:.3f} s (cpu {import_sympy.cpu_median:.3f} s)"
    first = {i: timed(cli("verify", "--no-cache", i, formulas[i]), repeats) for i in ids if i in formulas}
    lines.append(over_ids("`verify --no-cache ID 'NAME = EXPR'` (first check)", first, 0.5, sympy_text))
    for i in first:
        timed(cli("verify", i, formulas[i]), 1)  # checks the claim and keeps its verdict
    repeat = {i: timed(cli("verify", i, formulas[i]), repeats) for i in first}
    lines.append(over_ids("`verify ID 'NAME = EXPR'` (repeated: verdict cached)", repeat, 0.5, sympy_text))
    if "verify" in cold:
        lines.append(f"| `verify ddpm.posterior ...` | | | {cold_text('verify', 'empty cache')} | |")
    missing = [i for i in ids if i not in formulas]

    # the default back end (the C kernels where a compiler is) beside numba's kernels, taking turns
    from checks.exact import kernel as w2_kernel

    numba_too = w2_kernel.available()
    w2_warm, w2_numba = alternated(cli("w2-table", "--eigenvalues", cifar, "--format", "csv"),
                                   cli("w2-table", "--eigenvalues", cifar, "--backend", "numba"), repeats) \
        if numba_too else (timed(cli("w2-table", "--eigenvalues", cifar, "--format", "csv"), repeats), None)
    notebook = timed([sys.executable, str(ROOT / "benchmarks" / "_w2_notebook.py"), "--eigenvalues", spectrum_file(cifar)],
                     repeats)
    ratio = notebook.wall_median / w2_warm.wall_median
    agreement, only_ours = compare_tables(w2_warm.stdout, notebook.stdout)
    lines.append(row("`w2-table --eigenvalues cifar10`", 0.5, w2_warm,
                     f"notebook loop {notebook.wall_median:.3f} s (cpu {notebook.cpu_median:.3f} s): "
                     f"{ratio:.1f}x (target 3x); " + cold_text("w2-table", "empty cache, kernels compiled"),
                     f"; tables agree to {agreement:.1e}"
                     + (f" (columns the notebook lacks, so its loop does less work: {', '.join(only_ours)})"
                        if only_ours else "")))
    if numba_too:
        lines.append(row("`w2-table --eigenvalues cifar10 --backend numba`", None, w2_numba,
                         f"default back end {w2_warm.wall_median / w2_numba.wall_median:.2f}x this time"))
    adsn_warm, adsn_numba = alternated(cli("w2-table", "--eigenvalues", adsn),
                                       cli("w2-table", "--eigenvalues", adsn, "--backend", "numba"), repeats) \
        if numba_too else (timed(cli("w2-table", "--eigenvalues", adsn), repeats), None)
    adsn_base = ""
    if args.adsn_baseline:
        base = timed([sys.executable, str(ROOT / "benchmarks" / "_w2_notebook.py"), "--eigenvalues", spectrum_file(adsn)],
                     1)
        adsn_base = f"notebook loop {base.wall_median:.1f} s: {base.wall_median / adsn_warm.wall_median:.0f}x"
    lines.append(row("`w2-table --eigenvalues adsn`", 2.0, adsn_warm, adsn_base))
    if numba_too:
        lines.append(row("`w2-table --eigenvalues adsn --backend numba`", None, adsn_numba,
                         f"default back end {adsn_warm.wall_median / adsn_numba.wall_median:.2f}x this time"))

    print("\n".join(lines))
    if missing:
        print(f"\nverify not timed for {', '.join(missing)}: no closed form parses in the claim notation")
    print("\nHeavy modules imported by a warm run:")
    claim = formulas.get("ddpm.posterior", "var = beta_tilde_t")
    for label, args_ in (("list", ["list"]), ("show", ["show", "ddpm.posterior"]),
                         ("verify --no-cache", ["verify", "--no-cache", "ddpm.posterior", claim]),
                         ("verify, repeated", ["verify", "ddpm.posterior", claim]),
                         ("w2-table", ["w2-table", "--eigenvalues", cifar])):
        print(f"  {label}: {', '.join(imports_of(args_)) or 'none of ' + ', '.join(HEAVY)}")
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end; {time.perf_counter() - start:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
