r"""False alarms of every Monte Carlo check over many seeds, and the law of their z-scores.

Runs each selected check (default: every registered check) with the derived closed forms
under seed offsets 0, 1, 2, ... (``checks.run(..., seed_offset=k)``: the seed is
``seed_for(check id, k)``, the project's seeding rule), up to ``--offsets`` runs or until
the check's time budget ``--budget-s`` is spent (a slow check gets fewer runs, and the
results say how many it had). Per check: runs, false alarms, the number expected under
its stated false-alarm probability :math:`\alpha` (``runs * alpha``) and the exact
(Clopper-Pearson) 95 % interval of its per-run false-alarm probability.

Zero alarms at :math:`\alpha = 10^{-6}` says little about calibration, so every z-score of
every run is kept too, grouped by the kind of statistic (mean, variance, covariance,
fourth moment, ...: the ``kind`` each estimate carries, stamped by the estimator of
:mod:`checks.core.stats` that built it, :data:`checks.core.stats.KINDS`), and its law compared with N(0, 1): the
frequencies of :math:`|z| > 2, 3, 4` against :math:`2\Phi(-c)`, the Kolmogorov-Smirnov
statistic with its asymptotic p-value, and quantiles for a QQ figure.

The results go to ``--out`` (default ``benchmarks/results/false_alarm.json``), rewritten
after every check, so a sweep stopped early keeps what it measured; ``--resume`` skips the
checks already there, ``--rerun`` runs the selected ones again and keeps the others, ``--resume --extend`` gives the checks
already there more offsets, from where each stopped (fewest runs first). The reliability study page renders that file
(``python -m checks.app.cli report --study reliability`` renders that page alone).

The z-scores are stored by kind (its label, ``checks.core.stats.KINDS``), so the results files need no
conversion across the change that made the kind a field of the estimate: sweeps before it read the same
labels from the statistics' names (a table of regular expressions), and every check's statistics get the
same label either way (each label's set of statistics compared, check by check, when the change was made).

Usage: python benchmarks/false_alarm_rate.py [--offsets 200] [--budget-s 30] [--prefix ''] [--contains '']
       [--device cpu] [--out PATH] [--deadline-s S] [--resume [--extend] | --rerun] [--note TEXT] [--workers N]

``--workers N`` runs N checks at once, each in a spawned process with one torch thread; a check's
numbers depend only on its id and offsets, so they are the same as with one worker.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import NormalDist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checks.core import batch, stats  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "false_alarm.json"
TAIL_CUTS = (2.0, 3.0, 4.0)
CONFIDENCE = 0.95
QQ_POINTS = 199  # interior plotting positions kept per kind (the extremes are kept as well)

# A scheme's exact law against the derived one: z is 0 up to rounding, left out of the z-law.
DETERMINISTIC = stats.EXACT_LAW


# --- exact and asymptotic laws used by the summaries (no scipy needed) ---

def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (no overflow at large n)."""
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    log_p, log_q, log_n = math.log(p), math.log1p(-p), math.lgamma(n + 1)
    logs = [log_n - math.lgamma(j + 1) - math.lgamma(n - j + 1) + j * log_p + (n - j) * log_q for j in range(k + 1)]
    top = max(logs)
    return min(1.0, math.exp(top) * math.fsum(math.exp(v - top) for v in logs))


def clopper_pearson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    r"""Exact two-sided interval of a binomial probability: the :math:`p` with
    :math:`P(X \ge x \mid p) = \gamma/2` and :math:`P(X \le x \mid p) = \gamma/2`
    (:math:`\gamma = 1 -` confidence): beta quantiles (scipy's, where installed), else bisection on
    the binomial distribution function."""
    if trials <= 0:
        return 0.0, 1.0
    half = (1 - confidence) / 2
    try:
        from scipy.stats import beta
    except ImportError:
        beta = None
    if beta is not None:
        lower = 0.0 if successes == 0 else float(beta.ppf(half, successes, trials - successes + 1))
        upper = 1.0 if successes == trials else float(beta.ppf(1 - half, successes + 1, trials - successes))
        return lower, upper

    def solve(condition) -> float:  # the boundary of a monotone condition on [0, 1]
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if condition(mid) else (lo, mid)
        return (lo + hi) / 2

    lower = 0.0 if successes == 0 else solve(lambda p: 1 - binomial_cdf(successes - 1, trials, p) < half)
    upper = 1.0 if successes == trials else solve(lambda p: binomial_cdf(successes, trials, p) > half)
    return lower, upper


def kolmogorov_pvalue(statistic: float, n: int) -> float:
    r"""Asymptotic :math:`P(\sqrt n D_n > \lambda)` with Stephens' small-sample correction
    :math:`\lambda = (\sqrt n + 0.12 + 0.11/\sqrt n) D`:
    :math:`2\sum_{j \ge 1} (-1)^{j-1} e^{-2 j^2 \lambda^2}`."""
    root = math.sqrt(n)
    lam = (root + 0.12 + 0.11 / root) * statistic
    if lam < 0.2:
        return 1.0
    total = math.fsum(2 * (-1) ** (j - 1) * math.exp(-2 * j * j * lam * lam) for j in range(1, 101))
    return min(1.0, max(0.0, total))


def ks_normal(values: list[float]) -> tuple[float, float]:
    """Kolmogorov-Smirnov statistic of ``values`` against N(0, 1) and its asymptotic p-value."""
    ordered = sorted(values)
    n = len(ordered)
    cdf = NormalDist().cdf
    statistic = max(max((i + 1) / n - cdf(z), cdf(z) - i / n) for i, z in enumerate(ordered))
    return statistic, kolmogorov_pvalue(statistic, n)


def summarise_kind(values: list[float]) -> dict:
    """Tail counts against N(0, 1), the KS test and QQ quantiles of one kind's z-scores."""
    n = len(values)
    ordered = sorted(values)
    normal = NormalDist()
    tails = []
    for cut in TAIL_CUTS:
        above, below = sum(z > cut for z in ordered), sum(z < -cut for z in ordered)
        probability = 2 * normal.cdf(-cut)
        tails.append({"cut": cut, "observed": above + below, "above": above, "below": below,
                      "expected": n * probability, "interval": list(clopper_pearson(above + below, n)),
                      "probability": probability})
    statistic, pvalue = ks_normal(ordered)
    picks = sorted({0, n - 1} | {min(n - 1, int((k + 0.5) / QQ_POINTS * n)) for k in range(QQ_POINTS)})
    qq = [[normal.inv_cdf((i + 0.5) / n), round(ordered[i], 4)] for i in picks]
    centre = math.fsum(ordered) / n
    spread = math.sqrt(math.fsum((z - centre) ** 2 for z in ordered) / max(1, n - 1))
    skewness = math.fsum((z - centre) ** 3 for z in ordered) / n / spread**3 if spread > 0 else 0.0
    return {"count": n, "mean": centre, "std": spread, "skewness": skewness,
            "max_abs": max(abs(ordered[0]), abs(ordered[-1])), "tails": tails,
            "ks": {"statistic": statistic, "pvalue": pvalue}, "qq": qq}


# --- the sweep ---

def sweep_check(check_id: str, offsets: int, budget_s: float, device: str,
                first: int = 0) -> tuple[dict, dict[str, list[float]]]:
    """Run one check under offsets first, first + 1, ... below ``offsets`` until ``budget_s`` seconds: its
    record and its z-scores by kind."""
    import checks

    alarms, runs, start = [], 0, time.perf_counter()
    chk = checks.get(check_id)
    n_samples = false_alarm = None
    stat_kinds: dict[str, str] = {}
    z_by_kind: dict[str, list[float]] = {}
    for offset in range(first, offsets):
        result = checks.run(check_id, device=device, seed_offset=offset)
        runs += 1
        n_samples, false_alarm = result.n_samples, result.false_alarm
        for s in result.statistics:
            if s.kind == stats.UNCLASSIFIED and s.name not in stat_kinds:
                print(f"  {check_id}: statistic {s.name!r} names no kind (counted as {s.kind!r})", flush=True)
            stat_kinds[s.name] = s.kind
            z_by_kind.setdefault(s.kind, []).append(s.z)
        if not result.passed:
            failing = [f"{s.name} (z = {s.z:.2f})" for s in result.statistics if not s.passed]
            alarms.append({"offset": offset, "statistics": failing})
            print(f"  alarm: {check_id} at offset {offset}: {', '.join(failing)}", flush=True)
        if time.perf_counter() - start > budget_s:
            break
    elapsed = time.perf_counter() - start
    lower, upper = clopper_pearson(len(alarms), runs)
    kinds = sorted(set(stat_kinds.values()))
    return {"id": check_id, "runs": runs, "statistics": len(stat_kinds), "kinds": kinds, "n_samples": n_samples,
            "false_alarm": false_alarm or chk.false_alarm, "false_alarms": len(alarms),
            "expected": runs * (false_alarm or chk.false_alarm), "interval": [lower, upper], "alarms": alarms,
            "seconds_per_run": elapsed / runs}, z_by_kind


def sweep_task(item: tuple[str, int], offsets: int, budget_s: float, device: str,
               deadline: float) -> tuple[dict, dict[str, list[float]]] | None:
    """:func:`sweep_check` of ``item = (check id, first offset)``; None once ``deadline`` (epoch seconds) has passed."""
    if time.time() > deadline:
        return None
    check_id, first = item
    return sweep_check(check_id, offsets, budget_s, device, first)


def merged(earlier: dict, later: dict) -> dict:
    """One record of a check from two sweeps over consecutive offsets."""
    runs = earlier["runs"] + later["runs"]
    alarms = earlier["alarms"] + later["alarms"]
    return earlier | {"runs": runs, "alarms": alarms, "false_alarms": len(alarms),
                      "expected": runs * earlier["false_alarm"], "interval": list(clopper_pearson(len(alarms), runs)),
                      "seconds_per_run": (earlier["seconds_per_run"] * earlier["runs"]
                                          + later["seconds_per_run"] * later["runs"]) / runs}


def last_wall_times() -> dict[str, float]:
    """Each check's simulation time in the committed report's evidence (empty when there is none)."""
    evidence = Path(__file__).resolve().parents[1] / "reports" / "evidence.json"
    if not evidence.exists():
        return {}
    return {cid: r["wall_time_s"] for cid, r in json.loads(evidence.read_text()).items()}


def atomic_write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        json.dump(payload, handle, indent=1)
        handle.write("\n")
    os.replace(tmp, path)


def totals(records: list[dict]) -> dict:
    runs = sum(r["runs"] for r in records)
    alarms = sum(r["false_alarms"] for r in records)
    expected = math.fsum(r["expected"] for r in records)
    return {"checks": len(records), "runs": runs, "false_alarms": alarms, "expected": expected,
            "poisson_p_at_least": 1.0 - math.fsum(math.exp(-expected) * expected**k / math.factorial(k)
                                                  for k in range(alarms))}


def pooled(z_by_check: dict[str, dict[str, list[float]]]) -> dict[str, list[float]]:
    """The z-scores of all checks, by kind."""
    out: dict[str, list[float]] = {}
    for by_kind in z_by_check.values():
        for kind, values in by_kind.items():
            out.setdefault(kind, []).extend(values)
    return out


def payload(records: list[dict], z_by_check: dict[str, dict[str, list[float]]], settings: dict) -> dict:
    z_by_kind = pooled(z_by_check)
    return {"settings": settings, "totals": totals(records), "checks": records,
            "deterministic": len(z_by_kind.get(DETERMINISTIC, [])),
            "z_scores": {kind: summarise_kind(values) for kind, values in sorted(z_by_kind.items())
                         if kind != DETERMINISTIC}}


def raw_path(out: Path) -> Path:
    """Every z-score of the sweep by check and kind (gzipped JSON), beside ``out``: what ``--resume`` continues."""
    return out.with_name(out.stem + "_z.json.gz")


def save(out: Path, records: list[dict], z_by_check: dict[str, dict[str, list[float]]], settings: dict) -> None:
    raw = {cid: {kind: [round(z, 4) for z in values] for kind, values in sorted(by_kind.items())}
           for cid, by_kind in sorted(z_by_check.items())}
    data = gzip.compress(json.dumps(raw, separators=(",", ":")).encode(), mtime=0)
    fd, tmp = tempfile.mkstemp(dir=out.parent if out.parent.exists() else None, prefix=".z.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, raw_path(out))
    atomic_write_json(out, payload(records, z_by_check, settings))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offsets", type=int, default=200, help="seed offsets per check (at most)")
    parser.add_argument("--budget-s", type=float, default=30.0, help="wall seconds per check before it stops")
    parser.add_argument("--prefix", default="", help="keep only ids starting with this text")
    parser.add_argument("--contains", default="", help="keep only ids containing this text")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--deadline-s", type=float, default=math.inf,
                        help="wall seconds for the whole sweep: no check starts after them (the rest are listed as "
                             "not swept)")
    parser.add_argument("--workers", type=int, default=1,
                        help="checks run at once, each in its own process with one torch thread (same numbers)")
    parser.add_argument("--resume", action="store_true", help="keep the checks already in --out, run the others")
    parser.add_argument("--extend", action="store_true",
                        help="with --resume: give the checks already there more offsets (from where they stopped)")
    parser.add_argument("--rerun", action="store_true",
                        help="keep the other checks in --out, run the selected ones again (after a change to them)")
    parser.add_argument("--note", default="",
                        help="how this invocation ran (its budget, the load), added to the results' note, which the "
                             "reliability page prints")
    args = parser.parse_args(argv)
    if args.offsets < 1 or args.budget_s <= 0 or args.workers < 1:
        print("--offsets and --workers must be >= 1 and --budget-s > 0", file=sys.stderr)
        return 2
    import checks
    import torch

    selected = [c.id for c in checks.all() if c.id.startswith(args.prefix) and args.contains in c.id]
    if not selected:
        print(f"no check id starts with {args.prefix!r} and contains {args.contains!r}", file=sys.stderr)
        return 2
    records: list[dict] = []
    z_by_check: dict[str, dict[str, list[float]]] = {}
    settings = {"offsets": args.offsets, "budget_s": args.budget_s, "device": args.device,
                "torch": torch.__version__, "threads": torch.get_num_threads()}
    if (args.resume or args.rerun) and args.out.exists():
        previous = json.loads(args.out.read_text())
        settings = previous["settings"] | {"threads": torch.get_num_threads(), "rerun": sorted(set(previous["settings"].get("rerun", []))
                                                           | (set(selected) if args.rerun else set()))}
        dropped = set(selected) if args.rerun else set()
        records = [r for r in previous["checks"] if r["id"] not in dropped]
        z_by_check = {cid: by_kind for cid, by_kind in json.loads(gzip.decompress(raw_path(args.out).read_bytes())).items()
                      if cid not in dropped}
    if args.note:
        settings["note"] = "; ".join(filter(None, [settings.get("note", ""), args.note]))
    done = {r["id"] for r in records}
    order = {c.id: k for k, c in enumerate(checks.all())}
    # Cheapest first (by the last report's simulation times), so a deadline cuts the slowest checks.
    selected.sort(key=lambda cid: last_wall_times().get(cid, math.inf))
    if args.extend:  # the checks with the fewest runs first
        previous_runs = {r["id"]: r["runs"] for r in records}
        selected.sort(key=lambda cid: previous_runs.get(cid, 0))
    todo = []  # (check id, first offset)
    for check_id in selected:
        earlier = next((r for r in records if r["id"] == check_id), None)
        if earlier is None or (args.extend and earlier["runs"] < args.offsets):
            todo.append((check_id, earlier["runs"] if earlier is not None else 0))
    # A check's runs depend only on its id and offsets, so the workers change no number; each check
    # is saved as it finishes, so an interrupted sweep resumes from there.
    deadline = time.time() + args.deadline_s
    task = functools.partial(sweep_task, offsets=args.offsets, budget_s=args.budget_s, device=args.device,
                             deadline=deadline)
    for number, ((check_id, _first), outcome) in enumerate(batch.completed(task, todo, args.workers), 1):
        if outcome is None:
            print(f"deadline reached before {check_id}", flush=True)
            continue
        record, z_new = outcome
        earlier = next((r for r in records if r["id"] == check_id), None)
        if earlier is not None:
            record = merged(earlier, record)
            for kind, values in z_new.items():
                z_by_check[check_id].setdefault(kind, []).extend(values)
        else:
            z_by_check[check_id] = z_new
        records = sorted([r for r in records if r["id"] != check_id] + [record],
                         key=lambda r: order.get(r["id"], len(order)))
        save(args.out, records, z_by_check, settings)
        print(f"[{number}/{len(todo)}] {check_id}: {record['runs']} runs, {record['false_alarms']} false alarms "
              f"({record['seconds_per_run']:.2f} s/run)", flush=True)
    swept = {r["id"] for r in records}
    settings["not_swept"] = [c.id for c in checks.all() if c.id not in swept]
    save(args.out, records, z_by_check, settings)
    result = totals(records)
    print(f"{result['checks']} checks, {result['runs']} runs, {result['false_alarms']} false alarms; expected "
          f"{result['expected']:.3g} (P(count >= {result['false_alarms']}) = {result['poisson_p_at_least']:.3g})")
    for kind, summary in payload(records, z_by_check, settings)["z_scores"].items():
        tails = ", ".join(f"|z|>{t['cut']:g}: {t['observed']} vs {t['expected']:.1f}" for t in summary["tails"])
        print(f"  {kind}: {summary['count']} z; {tails}; KS D = {summary['ks']['statistic']:.4f} "
              f"(p = {summary['ks']['pvalue']:.3g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
