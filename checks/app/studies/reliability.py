"""Report page ``studies/reliability.md``: the suite's reliability, measured.

Rendered from committed result files under ``benchmarks/results/`` (no check runs here):

* ``false_alarm.json`` (``benchmarks/false_alarm_rate.py``): every Monte Carlo check run
  under many seed offsets with the derived closed forms; its runs, false alarms, the
  number expected under its stated probability and the exact 95 % interval of its
  per-run false-alarm probability; the checks with fewer runs than the sweep's target, and what a run
  of each costs; and the law of every z-score of the sweep, per kind of statistic (the kind each
  estimate carries, :data:`checks.core.stats.KINDS`), against N(0, 1) (tail frequencies, KS test, a QQ
  figure);
* ``mutation_audit.json``: planted bugs and the tests that kill them, by category;
* ``fuzzing.json``: property-based tests, their example counts and failures.

A missing file is reported as not run.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from checks.app.plugins import StudyContext, StudyPage, study  # noqa: E402
from checks.core import stats  # noqa: E402

if TYPE_CHECKING:
    from checks.core.registry import CheckResult

RESULTS = Path(__file__).resolve().parents[3] / "benchmarks" / "results"
QQ_FIGURE = "reliability_qq.png"


def _load(name: str, folder: Path) -> dict | None:
    path = folder / name
    return json.loads(path.read_text()) if path.exists() else None


def _cell(text: str) -> str:
    """Text for a markdown table cell (a pipe would end the cell)."""
    return text.replace("|", "\\|")


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


def threshold_rule(results: Mapping[str, "CheckResult"] | None = None) -> list[str]:
    """The one statistical rule, as the page states it (constants read from :mod:`checks.core.stats`), and
    the checks whose thresholds include a bias allowance or a t reference (from the report's results)."""
    lines = [
        "## The threshold rule",
        "",
        f"Each check has a false-alarm probability of {stats.FALSE_ALARM_PER_CHECK:g}, split evenly over its k "
        "statistics (Bonferroni). A statistic fails when the distance between its estimate and the derived "
        "value exceeds its threshold, b + c SE: b is the bias the check allows for (a discretisation bias "
        "it bounds rather than derives; zero where the expected value includes the derived bias or there is "
        "none) and c the critical value at 1 - alpha/(2k) of the statistic's reference law: normal for a mean "
        "of independent samples, Student t with B - 1 degrees of freedom for a statistic estimated by batch "
        f"means (B = {stats.BATCHES} batches by default; exact for normal batch values at any sample size). "
        f"The smallest error detected with probability {stats.POWER:g} is 2b + (c + the power quantile) SE "
        "(the worst case: a true bias of -b against the error).",
        "",
        "Where an estimate is the mean of summands whose shape it carries (the sample mean, variance, "
        "covariance and residual variance estimators do), the critical value is calibrated to second order. "
        "For a studentized mean the first correction to the normal law (Edgeworth, of order skewness / "
        "sqrt(n)) is even in the threshold: it moves probability from one tail to the other and cancels in the "
        "two-sided probability the rule uses. The next one, of order 1/n, does not, and it grows like "
        "skewness^2 c^5 / (18 n): at c near 5 the variance of log-normal values (skewness 10 to 15 at "
        "n = 20000) would have several times the nominal tail. The rule solves for the c at which the "
        "two-sided tail to order 1/n equals the target (never below the normal c). Estimates built from "
        "streamed moments (the samplers' per-coordinate means and variances, proportions, standardized "
        "moments) keep the normal c. The bound stays nominal (an expansion read near abs z = 5.3); the "
        "measured rates below stand beside it.",
        "",
    ]
    if results and not any(st.count for r in results.values() for st in r.statistics):
        lines += ["The report's evidence predates the calibrated rule (its statistics carry no summand shape): "
                  "a report that runs the checks lists here the calibrated statistics and the checks with a bias "
                  "allowance or a t reference.", ""]
    elif results:
        allowed = sorted(cid for cid, r in results.items() if any(st.bias_allowance for st in r.statistics))
        t_ref = sorted(cid for cid, r in results.items() if any(st.dof for st in r.statistics))
        calibrated = [(cid, st) for cid, r in sorted(results.items()) for st in r.statistics
                      if st.dof is None and st.count and st.critical > stats.critical_value(st.false_alarm) + 0.02]
        if calibrated:
            lines += ["Statistics whose calibrated critical value exceeds the normal one by more than 0.02 "
                      "(from the report's evidence):", "",
                      "| check | statistic | summands | skewness | excess kurtosis | normal c | calibrated c |",
                      "|---|---|---|---|---|---|---|"]
            lines += [f"| `{cid}` | {_cell(st.name)} | {st.count} | {st.skewness:.2f} | {st.excess_kurtosis:.1f} | "
                      f"{stats.critical_value(st.false_alarm):.2f} | {st.critical:.2f} |" for cid, st in calibrated]
            lines.append("")
        lines += [f"Checks whose thresholds include a bias allowance ({len(allowed)}): "
                  + (", ".join(f"`{c}`" for c in allowed) or "none") + ".",
                  "",
                  f"Checks with a Student t reference ({len(t_ref)}): " + (", ".join(f"`{c}`" for c in t_ref) or "none")
                  + ".", ""]
    return lines


def _unswept(sweep: dict) -> list[str]:
    """The registered checks the committed sweep has no runs of (added since it ran), named: no check is
    counted as swept that was not."""
    import checks

    swept = {r["id"] for r in sweep["checks"]}
    missing = sorted(c.id for c in checks.all() if c.id not in swept)
    if not missing:
        return []
    return [f"Not in this sweep (registered since it ran; rerun with `--resume`): "
            f"{', '.join(f'`{m}`' for m in missing)}.", ""]


def _short_of_target(sweep: dict) -> list[str]:
    """The checks with fewer runs than the target, named with what a run costs: a short count is the
    price of a slow check under the sweep's time budget, not a choice of offsets."""
    target = sweep["settings"]["offsets"]
    short = sorted((r for r in sweep["checks"] if r["runs"] < target), key=lambda r: (r["runs"], r["id"]))
    if not short:
        return [f"Every check had all {target} runs.", ""]
    hours = math.fsum((target - r["runs"]) * r["seconds_per_run"] for r in short) / 3600
    return [
        f"{len(short)} of {len(sweep['checks'])} checks have fewer than {target} runs. The sweep gives each check a "
        f"time budget, and these cost too much a run on the machine that ran it (a CPU shared with other work: the "
        f"seconds a run below are wall times under that load) to reach {target} within it; their missing runs "
        f"would take about {hours:.1f} hours more at the same cost. Their false-alarm intervals are wide "
        f"accordingly; their z-scores count in the law below with the runs they had.",
        "",
        f"| check | runs | seconds a run | hours for the missing runs to {target} |",
        "|---|---|---|---|",
        *[f"| `{r['id']}` | {r['runs']} | {r['seconds_per_run']:.2f} | "
          f"{(target - r['runs']) * r['seconds_per_run'] / 3600:.2f} |" for r in short],
        "",
    ]


def _kind_legend(sweep: dict) -> list[str]:
    """What each kind of statistic is (:data:`checks.core.stats.KINDS`) and how many checks give it z-scores."""
    checks_of: dict[str, int] = defaultdict(int)
    for record in sweep["checks"]:
        for kind in record["kinds"]:
            checks_of[kind] += 1
    return ["Each statistic carries its kind, set by the estimator of `checks/core/stats.py` that built it (a "
            "check names it only for a special case of an estimator, such as a KL estimated as a mean of "
            "log-ratios):", "",
            "| kind | what it is | checks |", "|---|---|---|",
            *[f"| {kind} | {_cell(stats.KINDS.get(kind, 'not a kind the estimators set'))} | {count} |"
              for kind, count in sorted(checks_of.items())], ""]


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
        f"on `{settings['device']}` (torch {settings['torch']}, torch threads: {settings['threads']}"
        f"{'; ' + settings['note'] if settings.get('note') else ''}): each check ran with "
        f"the derived closed forms under seed offsets 0, 1, ... (seed from the check id and the offset), up to "
        f"{settings['offsets']} offsets or until its time budget was spent ({settings['budget_s']:g} s where the "
        "note above names no other). "
        + (f"Every check had all {settings['offsets']} runs." if full == len(runs) else
           f"{full} of {len(runs)} checks had all {settings['offsets']} runs; the others had between {min(runs)} and "
           f"{max(r for r in runs if r < settings['offsets'])} "
           "(the column runs says how many; the list after the table says why)."),
        "",
        f"Over {total['checks']} checks and {total['runs']} runs: **{total['false_alarms']} false alarms**, against "
        f"{total['expected']:.2g} expected under the stated probabilities (the probability of at least that many "
        f"is {total['poisson_p_at_least']:.3g}). At a stated probability of 1e-6 a run, zero alarms in a few "
        "hundred runs bounds the per-run rate only at the percent level (the interval column); the z-law "
        "below is the sharper test of calibration. A z-score does not depend on the threshold, so the law "
        "below holds for the current rule whatever rule a check ran under; a check swept before the "
        "calibrated critical values (which only raise thresholds) counted its alarms at the normal ones, an "
        "upper bound for the current rule. The sweep shared two cores with other work, so the runs a check "
        "had say more about the load than about the check.",
        "",
        *_unswept(sweep),
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
    lines += ["", *_short_of_target(sweep)]
    kinds = sweep["z_scores"]
    lines += [
        "## The law of the z-scores",
        "",
        *_kind_legend(sweep),
        "Every statistic of every run above, z = (estimate - derived value) / standard error, grouped by kind. "
        "Under a calibrated rule each kind is N(0, 1): the expected counts of abs(z) beyond 2, 3 and 4 are the "
        "count times 2 Phi(-c) (0.0455, 0.0027, 6.3e-5). The Kolmogorov-Smirnov test is against N(0, 1) "
        "(asymptotic p-value); statistics of one run are not independent (they share samples), so its "
        "p-value is indicative where a check tests many coordinates of one simulation. Proportions are binomial "
        "counts: their z-scores lie on a lattice with steps of 1/sqrt(n p (1 - p)) (a few hundredths here), up to "
        "one step of which the KS statistic reads as distance from the continuous N(0, 1).",
        "",
        "| kind | z-scores | mean | std | skewness | abs z > 2: seen (above, below) / expected | abs z > 3 | "
        "abs z > 4 | largest abs z | KS D | KS p |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, s in kinds.items():
        tails = " | ".join(f"{t['observed']} ({t.get('above', '?')}, {t.get('below', '?')}) / {t['expected']:.1f}"
                           for t in s["tails"])
        lines.append(f"| {kind} | {s['count']} | {s['mean']:+.3f} | {s['std']:.3f} | {s.get('skewness', 0.0):+.3f} | "
                     f"{tails} | {s['max_abs']:.2f} | {s['ks']['statistic']:.4f} | {s['ks']['pvalue']:.3g} |")
    rates = []
    for kind, s in kinds.items():
        t3, t4 = s["tails"][1], s["tails"][2]
        rates.append(f"| {kind} | {t3['observed'] / s['count']:.2g} [{_probability(t3['interval'][0])}, "
                     f"{_probability(t3['interval'][1])}] | {t3['probability']:.2g} | "
                     f"{t4['observed'] / s['count']:.2g} [{_probability(t4['interval'][0])}, "
                     f"{_probability(t4['interval'][1])}] | {t4['probability']:.2g} |")
    outside = [kind for kind, s in kinds.items()
               if any(not (t["interval"][0] <= t["probability"] <= t["interval"][1]) for t in s["tails"])]
    rejected = [kind for kind, s in kinds.items() if s["ks"]["pvalue"] < 0.01]
    lines += [
        "",
        "Kinds whose nominal tail probability at 2, 3 or 4 lies outside the measured 95 % interval: "
        + (", ".join(outside) or "none") + ". Kinds the KS test rejects at the 1 % level: "
        + (", ".join(rejected) or "none") + ".",
        "",
        "The measured tail rates beside the nominal ones (95 % Clopper-Pearson intervals): the thresholds sit "
        "near abs z = 5.3, beyond what a sweep of this size can reach, so the nominal 1e-6 is stated as "
        "nominal and these rates are its evidence.",
        "",
        "| kind | rate of abs z > 3 [95 % interval] | nominal | rate of abs z > 4 [95 % interval] | nominal |",
        "|---|---|---|---|---|",
        *rates,
    ]
    lines += ["", f"![QQ plots of the z-scores by kind]({QQ_FIGURE})", ""]
    if sweep.get("deterministic"):
        lines += [f"Left out of the comparison: {sweep['deterministic']} comparisons of a scheme's exact law "
                  "(computed with scripted noise) against the derived one, whose z is 0 up to rounding.", ""]
    not_swept = settings.get("not_swept", [])
    if not_swept:
        lines += [f"Not swept (the sweep's deadline came first): {', '.join(f'`{c}`' for c in not_swept)}.", ""]
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
                  f"{tool['killed']} killed, {tool['survived']} survived, {tool['timeout']} timed out"
                  + (f", {tool['no_tests']} in code that the tool's test selection never runs (for the catalogue "
                     "rule: the claims and wrong variants, read when a derivation is built, which the planted bugs "
                     "above cover)" if tool.get("no_tests") else "")
                  + ". A second opinion, its survivors listed below by target."]
        for target, counts in tool.get("per_target", {}).items():
            lines += tool_survivor_lines(target, counts)
    return lines + [""]


def tool_survivor_lines(target: str, counts: dict) -> list[str]:
    """One target's surviving automatic mutants: each one's change (the line removed, the line put in its
    place) and why it survives, where that was worked out."""
    survivors = counts.get("survivors")
    if survivors is None:
        return ["", f"`{target}`: {counts['survived']} survived; this run did not record which."]
    lines = ["", f"`{target}` ({counts['killed']} killed, {counts['survived']} survived):" if survivors
             else f"`{target}`: no survivor.", ""]
    for survivor in survivors:
        removed = " ".join(line[1:].strip() for line in survivor["change"] if line.startswith("-"))
        added = " ".join(line[1:].strip() for line in survivor["change"] if line.startswith("+"))
        why = survivor.get("explanation") or "Not yet examined."
        lines.append(f"- `{mutant_label(survivor['name'])}`: `{removed}` became `{added}`. {why}")
    return lines


def mutant_label(name: str) -> str:
    """mutmut's name of a mutant as a reader names the code: ``pkg.mod.x_func__mutmut_3`` is ``func #3``,
    ``pkg.mod.x\u01c1Class\u01c1method__mutmut_3`` is ``Class.method #3``."""
    function, _, number = name.rpartition(".")[2].partition("__mutmut_")
    return f"{function.removeprefix('x').replace(chr(0x1C1), '.').strip('._')} #{number}"


def fuzzing_section(fuzzing: dict | None) -> list[str]:
    lines = ["## Fuzzing", ""]
    if fuzzing is None:
        return lines + ["Not run: `benchmarks/results/fuzzing.json` is absent.", ""]
    lines += ["| property | examples | failures | note |", "|---|---|---|---|"]
    lines += [f"| {p['name']} | {p['examples']} | {p['failures']} | {p['note']} |" for p in fuzzing["properties"]]
    return lines + [""]


def render_from(folder: Path, results: Mapping[str, "CheckResult"] | None = None) -> StudyPage:
    """The page from the result files in ``folder`` (and the report's check results, when given)."""
    sweep_lines, figures = sweep_section(_load("false_alarm.json", folder))
    markdown = "\n".join([
        "# Reliability",
        "",
        "How often the suite raises a false alarm on correct formulas, whether its z-scores follow the law "
        "its thresholds assume, which planted bugs it catches, and what random and hostile input does to it. "
        "Rendered from the files in `benchmarks/results/`; regenerate them with the scripts named in each section.",
        "",
        *threshold_rule(results),
        *sweep_lines,
        *mutation_section(_load("mutation_audit.json", folder)),
        *fuzzing_section(_load("fuzzing.json", folder)),
    ])
    return StudyPage(markdown, figures)


@study("reliability", "Reliability: false alarms over seeds, the law of the z-scores, planted bugs and fuzzing")
def render(context: StudyContext) -> StudyPage:
    return render_from(RESULTS, context.results)
