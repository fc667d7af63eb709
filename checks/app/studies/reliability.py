"""Report page ``studies/reliability.md``: the suite's reliability, measured.

Rendered from committed result files under ``benchmarks/results/`` (no check runs here):

* ``false_alarm.json`` (``benchmarks/false_alarm_rate.py``): every Monte Carlo check run
  under many seed offsets with the derived closed forms; its runs, false alarms, the
  number expected under its stated probability and the exact 95 % interval of its
  per-run false-alarm probability; and the law of every z-score of the sweep, per kind
  of statistic, against N(0, 1) (tail frequencies, KS test, a QQ figure);
* ``mutation_audit.json``: planted bugs and the tests that kill them, by category;
* ``fuzzing.json``: property-based tests, their example counts and failures.

A missing file is reported as not run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from checks.app.plugins import StudyContext, StudyPage, study  # noqa: E402
from checks.core import stats  # noqa: E402

RESULTS = Path(__file__).resolve().parents[3] / "benchmarks" / "results"
QQ_FIGURE = "reliability_qq.png"


def _load(name: str, folder: Path) -> dict | None:
    path = folder / name
    return json.loads(path.read_text()) if path.exists() else None


def _probability(value: float) -> str:
    return f"{value:.2g}" if value else "0"


def _qq_figure(kinds: dict[str, dict]) -> Figure:
    columns = 3
    rows = -(-len(kinds) // columns)
    fig = Figure(figsize=(3.1 * columns, 2.7 * rows))
    for number, (kind, summary) in enumerate(kinds.items(), 1):
        ax = fig.add_subplot(rows, columns, number)
        normal, observed = zip(*summary["qq"])
        edge = max(4.0, max(abs(v) for v in normal + observed))
        ax.plot([-edge, edge], [-edge, edge], "k--", lw=0.8)
        ax.plot(normal, observed, ".", ms=3)
        ax.set_xlim(-edge, edge)
        ax.set_ylim(-edge, edge)
        ax.set_title(f"{kind} ({summary['count']} z)", fontsize=8)
        ax.tick_params(labelsize=7)
        if number > (rows - 1) * columns:
            ax.set_xlabel("N(0, 1) quantile", fontsize=7)
        if number % columns == 1:
            ax.set_ylabel("z quantile", fontsize=7)
    fig.tight_layout()
    return fig


def threshold_rule() -> list[str]:
    """The one statistical rule, as the page states it (constants read from :mod:`checks.core.stats`)."""
    return [
        "## The threshold rule",
        "",
        f"Each check has a false-alarm probability of {stats.FALSE_ALARM_PER_CHECK:g}, split evenly over its k "
        "statistics (Bonferroni). A statistic fails when the distance between its estimate and the derived "
        "value exceeds its threshold: the bias the check allows for (a discretisation bias it bounds rather "
        "than derives; zero where the expected value includes the derived bias or there is none) plus the "
        "critical value times the standard error. The critical value is the normal quantile at "
        "1 - alpha/(2k) for a mean of independent samples (the normal approximation), and a Student t "
        "quantile with B - 1 degrees of freedom for a statistic tested by batch means (its samples split "
        f"into B = {stats.BATCHES} batches; the t law of the batch mean holds for normal batch means at any "
        "sample size, and batch means of skewed statistics are nearer to normal than the statistic's own "
        "sample is to its limit). The smallest error detected with probability "
        f"{stats.POWER:g} is the bias allowance plus (critical value + the power quantile) times the "
        "standard error; for the normal reference the bound is nominal, and the measured rates below "
        "stand beside it.",
        "",
    ]


def sweep_section(sweep: dict | None) -> tuple[list[str], dict[str, Figure]]:
    if sweep is None:
        return ["## False alarms over seeds", "", "Not run: `benchmarks/results/false_alarm.json` is absent "
                "(`python benchmarks/false_alarm_rate.py`).", ""], {}
    settings, total = sweep["settings"], sweep["totals"]
    runs = [r["runs"] for r in sweep["checks"]]
    full = sum(r == settings["offsets"] for r in runs)
    lines = [
        "## False alarms over seeds",
        "",
        f"`python benchmarks/false_alarm_rate.py --offsets {settings['offsets']} --budget-s {settings['budget_s']:g}` "
        f"on `{settings['device']}` (torch {settings['torch']}, {settings['threads']} threads): each check ran with "
        f"the derived closed forms under seed offsets 0, 1, ... (seed from the check id and the offset), up to "
        f"{settings['offsets']} offsets or until its {settings['budget_s']:g} s budget was spent. "
        f"{full} of {len(runs)} checks had all {settings['offsets']} runs; the others had between {min(runs)} and "
        f"{max(r for r in runs if r < settings['offsets']) if full < len(runs) else settings['offsets']} "
        "(the column runs says how many).",
        "",
        f"Over {total['checks']} checks and {total['runs']} runs: **{total['false_alarms']} false alarms**, against "
        f"{total['expected']:.2g} expected under the stated probabilities (the probability of at least that many "
        f"is {total['poisson_p_at_least']:.3g}). At a stated probability of 1e-6 a run, zero alarms in a few "
        "hundred runs bounds the per-run rate only at the percent level (the interval column); the z-law "
        "below is the sharper test of calibration.",
        "",
        "| check | statistics | samples | runs | false alarms | expected | 95 % interval of the per-run "
        "false-alarm probability | seconds a run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sweep["checks"]:
        low, high = r["interval"]
        lines.append(f"| `{r['id']}` | {r['statistics']} | {r['n_samples']} | {r['runs']} | {r['false_alarms']} | "
                     f"{r['expected']:.1e} | [{_probability(low)}, {_probability(high)}] | "
                     f"{r['seconds_per_run']:.2f} |")
    alarms = [(r["id"], a) for r in sweep["checks"] for a in r["alarms"]]
    if alarms:
        lines += ["", "Alarms:", ""] + [f"- `{cid}` at offset {a['offset']}: {'; '.join(a['statistics'])}"
                                         for cid, a in alarms]
    kinds = sweep["z_scores"]
    lines += [
        "",
        "## The law of the z-scores",
        "",
        "Every statistic of every run above, z = (estimate - derived value) / standard error, grouped by kind. "
        "Under a calibrated rule each kind is N(0, 1): the expected counts of abs(z) beyond 2, 3 and 4 are the "
        "count times 2 Phi(-c) (0.0455, 0.0027, 6.3e-5). The Kolmogorov-Smirnov test is against N(0, 1) "
        "(asymptotic p-value); statistics of one run are not independent (they share samples), so its "
        "p-value is indicative where a check tests many coordinates of one simulation.",
        "",
        "| kind | z-scores | mean | std | abs z > 2: seen / expected | abs z > 3 | abs z > 4 | largest abs z | "
        "KS D | KS p |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, s in kinds.items():
        tails = " | ".join(f"{t['observed']} / {t['expected']:.1f}" for t in s["tails"])
        lines.append(f"| {kind} | {s['count']} | {s['mean']:+.3f} | {s['std']:.3f} | {tails} | {s['max_abs']:.2f} | "
                     f"{s['ks']['statistic']:.4f} | {s['ks']['pvalue']:.3g} |")
    lines += ["", f"![QQ plots of the z-scores by kind]({QQ_FIGURE})", ""]
    return lines, {QQ_FIGURE: _qq_figure(kinds)} if kinds else {}


def mutation_section(audit: dict | None) -> list[str]:
    lines = ["## Planted bugs (mutation audit)", ""]
    if audit is None:
        return lines + ["Not run: `benchmarks/results/mutation_audit.json` is absent.", ""]
    by_category: dict[str, list[dict]] = defaultdict(list)
    for mutant in audit["mutants"]:
        by_category[mutant["category"]].append(mutant)
    killed = sum(m["killed"] for m in audit["mutants"])
    total = len(audit["mutants"])
    lines += [f"{total} planted bugs, each a small patch in a temporary copy, run against the tests that should "
              f"catch it: **{killed} killed ({100 * killed / total:.1f} %)**." if total else "No planted bug.", "",
              "| category | planted | killed | kill rate |", "|---|---|---|---|"]
    for category, mutants in sorted(by_category.items()):
        k = sum(m["killed"] for m in mutants)
        lines.append(f"| {category} | {len(mutants)} | {k} | {100 * k / len(mutants):.1f} % |")
    survivors = [m for m in audit["mutants"] if not m["killed"]]
    lines += ["", "Survivors:" if survivors else "No survivor.", ""]
    lines += [f"- `{m['id']}` ({m['category']}, `{m['file']}`): {m['description']}. "
              f"{m['explanation'] or 'No explanation recorded.'}" for m in survivors]
    tool = audit.get("tool")
    if tool:
        lines += ["", f"Automatic mutation ({tool['name']}) on {', '.join(f'`{t}`' for t in tool['targets'])}: "
                  f"{tool['killed']} killed, {tool['survived']} survived, {tool['timeout']} timed out."]
    return lines + [""]


def fuzzing_section(fuzzing: dict | None) -> list[str]:
    lines = ["## Fuzzing", ""]
    if fuzzing is None:
        return lines + ["Not run: `benchmarks/results/fuzzing.json` is absent.", ""]
    lines += ["| property | examples | failures | note |", "|---|---|---|---|"]
    lines += [f"| {p['name']} | {p['examples']} | {p['failures']} | {p['note']} |" for p in fuzzing["properties"]]
    return lines + [""]


def render_from(folder: Path) -> StudyPage:
    """The page from the result files in ``folder``."""
    sweep_lines, figures = sweep_section(_load("false_alarm.json", folder))
    markdown = "\n".join([
        "# Reliability",
        "",
        "How often the suite raises a false alarm on correct formulas, whether its z-scores follow the law "
        "its thresholds assume, which planted bugs it catches, and what random and hostile input does to it. "
        "Rendered from the files in `benchmarks/results/`; regenerate them with the scripts named in each section.",
        "",
        *threshold_rule(),
        *sweep_lines,
        *mutation_section(_load("mutation_audit.json", folder)),
        *fuzzing_section(_load("fuzzing.json", folder)),
    ])
    return StudyPage(markdown, figures)


@study("reliability", "Reliability: false alarms over seeds, the law of the z-scores, planted bugs and fuzzing")
def render(context: StudyContext) -> StudyPage:
    return render_from(RESULTS)
