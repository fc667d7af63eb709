"""The reliability machinery: the false-alarm sweep (a small slice), its summaries, the t and
bias-allowance parts of the threshold rule, and the study page rendered from result files."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from statistics import NormalDist

import pytest
import torch

import checks
from checks.app.studies import reliability
from checks.core import stats

ROOT = Path(__file__).resolve().parents[1]
CHEAP_CHECKS = ("score.dsm_regression", "gaussian.kl.sampled", "ou.euler_maruyama.coarse")


def _sweep_module():
    spec = importlib.util.spec_from_file_location("false_alarm_rate", ROOT / "benchmarks" / "false_alarm_rate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sweep = _sweep_module()


@pytest.mark.mc
def test_a_small_sweep_counts_runs_alarms_and_every_z(tmp_path):
    """Three cheap checks, five seed offsets each: the CI slice of the sweep, through its command line."""
    out = tmp_path / "false_alarm.json"
    for check_id in CHEAP_CHECKS:
        assert sweep.main(["--offsets", "5", "--budget-s", "1000", "--prefix", check_id, "--out", str(out),
                           "--resume"]) == 0
    result = json.loads(out.read_text())
    assert [r["id"] for r in result["checks"]] == [c.id for c in checks.all() if c.id in CHEAP_CHECKS]
    n_statistics = 0
    for record in result["checks"]:
        assert record["runs"] == 5 and record["false_alarms"] == 0
        assert record["expected"] == pytest.approx(5 * checks.get(record["id"]).false_alarm)
        assert record["interval"][0] == 0 and record["interval"][1] == pytest.approx(1 - 0.025 ** (1 / 5))
        n_statistics += 5 * record["statistics"]
    assert sum(s["count"] for s in result["z_scores"].values()) == n_statistics
    assert result["totals"]["runs"] == 15
    # the z-scores are those of checks.run at the same offsets (seeds from the check id and the offset)
    raw = json.loads(__import__("gzip").decompress(sweep.raw_path(out).read_bytes()))
    again = checks.run(CHEAP_CHECKS[0], device="cpu", seed_offset=3)
    first_kind = again.statistics[0].kind
    per_run = sum(s.kind == first_kind for s in again.statistics)
    assert raw[CHEAP_CHECKS[0]][first_kind][3 * per_run] == pytest.approx(again.statistics[0].z, abs=1e-4)
    page = reliability.render_from(tmp_path)
    assert "| `score.dsm_regression` |" in page.markdown and reliability.QQ_FIGURE in page.figures
    # --extend continues a check from the offset where it stopped
    assert sweep.main(["--offsets", "7", "--prefix", CHEAP_CHECKS[0], "--out", str(out), "--resume", "--extend"]) == 0
    extended = json.loads(out.read_text())
    record = next(r for r in extended["checks"] if r["id"] == CHEAP_CHECKS[0])
    assert record["runs"] == 7 and extended["totals"]["runs"] == 17
    raw = json.loads(__import__("gzip").decompress(sweep.raw_path(out).read_bytes()))
    assert sum(len(v) for v in raw[CHEAP_CHECKS[0]].values()) == 7 * record["statistics"]


def test_clopper_pearson_matches_the_closed_forms_and_the_beta_quantiles():
    assert sweep.clopper_pearson(0, 200) == pytest.approx((0.0, 1 - 0.025 ** (1 / 200)))
    assert sweep.clopper_pearson(200, 200) == pytest.approx((0.025 ** (1 / 200), 1.0))
    beta = pytest.importorskip("scipy.stats").beta
    low, high = sweep.clopper_pearson(7, 120)
    assert low == pytest.approx(beta.ppf(0.025, 7, 114), rel=1e-9)
    assert high == pytest.approx(beta.ppf(0.975, 8, 113), rel=1e-9)


def test_ks_accepts_normal_quantiles_and_rejects_a_shift():
    n = 2000
    exact = [NormalDist().inv_cdf((i + 0.5) / n) for i in range(n)]
    statistic, pvalue = sweep.ks_normal(exact)
    assert statistic == pytest.approx(0.5 / n) and pvalue == 1.0
    statistic, pvalue = sweep.ks_normal([z + 0.2 for z in exact])
    assert statistic == pytest.approx(NormalDist().cdf(0.2) - 0.5, abs=1e-3) and pvalue < 1e-6
    kstwobign = pytest.importorskip("scipy.stats").kstwobign
    assert sweep.kolmogorov_pvalue(0.9 / math.sqrt(10**8), 10**8) == pytest.approx(kstwobign.sf(0.9), rel=1e-4)


def test_tail_summary_counts_against_the_normal_law():
    summary = sweep.summarise_kind([0.0] * 97 + [2.5, -3.5, 4.5])
    assert [t["observed"] for t in summary["tails"]] == [3, 2, 1]
    assert summary["tails"][0]["expected"] == pytest.approx(100 * 2 * NormalDist().cdf(-2))
    assert summary["max_abs"] == 4.5 and summary["count"] == 100


def test_estimators_stamp_the_kind_of_their_estimates():
    """The kind is set where a statistic is built: by the estimator, or by the check for a special mean."""
    generator = torch.Generator().manual_seed(3)
    x, y = (torch.randn(2000, generator=generator, dtype=torch.float64) for _ in range(2))
    assert stats.mean("m", x, 0.0).kind == stats.MEAN
    assert stats.mean("kl", x, 0.0, kind=stats.SAMPLED_KL).kind == stats.SAMPLED_KL
    assert stats.variance("v", x, 1.0).kind == stats.SECOND_MOMENT
    assert stats.covariance("c", x, y, 0.0).kind == stats.COVARIANCE
    assert [e.kind for e in stats.regression(["b"], x + y, [x], [1.0], "r", 1.0)] == [
        stats.REGRESSION_COEFFICIENT, stats.SECOND_MOMENT]
    assert stats.batch_variance("bv", x, 1.0, batches=10).kind == stats.SECOND_MOMENT
    moments = stats.RunningMoments().update(torch.stack([x, (x > 0).double()], dim=1))
    assert [e.kind for e in stats.standard_normal_moment_estimates("u", moments.columns(slice(0, 1)),
                                                                   torch.zeros(1), torch.ones(1))] == [
        stats.MEAN, stats.SECOND_MOMENT, stats.THIRD_MOMENT, stats.FOURTH_MOMENT]
    [p] = stats.proportion_estimates(["P(x > 0)"], moments.columns(slice(1, 2)), torch.tensor([0.5]))
    assert p.kind == stats.PROPORTION
    with pytest.raises(ValueError, match="unknown statistic kind"):
        stats.Estimate("m", 0.0, 0.0, 1.0, kind="average")


def test_the_kind_is_recorded_in_the_evidence_and_old_evidence_reads_as_unclassified():
    [s] = stats.test([stats.mean("kl", torch.arange(2000.0), 999.5, kind=stats.SAMPLED_KL)])
    assert s.kind == stats.SAMPLED_KL and s.as_dict()["kind"] == stats.SAMPLED_KL
    assert stats.Statistic.from_dict(s.as_dict()) == s
    old = {k: v for k, v in s.as_dict().items() if k != "kind"}
    assert stats.Statistic.from_dict(old).kind == stats.UNCLASSIFIED


def test_a_sharded_check_keeps_its_statistics_kinds():
    from checks.core.shards import run_sharded

    whole = checks.run("gaussian.kl.sampled", device="cpu", samples=4000)
    [sharded] = run_sharded("gaussian.kl.sampled", shards=2, device="cpu", samples=4000)
    assert [s.kind for s in sharded.statistics] == [s.kind for s in whole.statistics] == [stats.SAMPLED_KL] * 4


def test_every_statistic_of_the_committed_evidence_names_its_kind():
    """Every statistic of the committed evidence carries a kind other than ``other`` (an estimate a check
    builds by hand must name its kind); evidence written before kinds were recorded has none to test."""
    evidence = json.loads((ROOT / "reports" / "evidence.json").read_text())
    recorded = [(cid, s) for cid, r in evidence.items() for s in r["statistics"] if "kind" in s]
    if not recorded:
        pytest.skip("the committed evidence predates recorded kinds")
    unclassified = sorted({f"{cid}: {s['name']}" for cid, s in recorded if s["kind"] == stats.UNCLASSIFIED})
    assert not unclassified, unclassified[:10]


# --- the threshold rule's t reference and bias allowance ---

def test_student_t_quantiles_match_tables():
    assert stats.quantile(0.99, 9) == pytest.approx(2.821437925, rel=1e-9)
    assert stats.quantile(0.975, 1) == pytest.approx(12.70620474, rel=1e-9)
    assert stats.quantile(0.01, 5) == pytest.approx(-3.364929999, rel=1e-9)
    assert stats.critical_value(1e-6, 10_000) == pytest.approx(stats.critical_value(1e-6), rel=2e-3)


def test_threshold_is_bias_allowance_plus_critical_value_times_se():
    bias, se = 0.02, 0.01
    [s] = stats.test([stats.Estimate("m", 1.0 + bias + 5.0 * se, 1.0, se, dof=49, bias_allowance=bias)])
    c = stats.critical_value(1e-6, 49)
    assert s.threshold == pytest.approx(bias + c * se) and s.passed == (5.0 <= c)
    assert s.detectable_error == pytest.approx(2 * bias + (c + stats.power_quantile(stats.POWER, 49)) * se)
    [far] = stats.test([stats.Estimate("m", 1.0 + bias + (c + 0.01) * se, 1.0, se, dof=49, bias_allowance=bias)])
    assert not far.passed
    with pytest.raises(ValueError):
        stats.test([stats.Estimate("m", 0.0, 0.0, 1.0, bias_allowance=-1.0)])


def test_statistics_of_earlier_evidence_read_back_without_the_new_fields():
    [s] = stats.test([stats.Estimate("m", 0.1, 0.0, 1.0)])
    old = {k: v for k, v in s.as_dict().items() if k not in ("dof", "bias_allowance")}
    assert stats.Statistic.from_dict(old) == s
    [t] = stats.test([stats.Estimate("m", 0.1, 0.0, 1.0, dof=9, bias_allowance=0.5)])
    assert stats.Statistic.from_dict(t.as_dict()) == t


def test_batch_means_splits_into_batches_and_uses_t():
    x = torch.arange(1000, dtype=torch.float64)
    e = stats.batch_means("mean", x, 499.5, batches=10)
    batch_values = torch.tensor([x[b * 100:(b + 1) * 100].mean() for b in range(10)], dtype=torch.float64)
    assert e.estimate == pytest.approx(499.5) and e.dof == 9
    assert e.std_error == pytest.approx(float(batch_values.std()) / math.sqrt(10))
    v = stats.batch_variance("var", x, 0.0, batches=10)
    assert v.estimate == pytest.approx(float(x[:100].var()))
    with pytest.raises(ValueError):
        stats.batch_means("mean", x[:10], 0.0, batches=10)


def test_batch_variance_is_calibrated_for_a_skewed_law():
    """Exponential samples (a skewed variance): over 400 seeds the batch-means t statistics stay within
    their t law's central 99.8 % (no more than a handful beyond), and their mean is near 0."""
    generator = torch.Generator().manual_seed(stats.__name__.__len__())
    t_values = []
    for _ in range(400):
        x = -torch.log(torch.rand(5000, generator=generator, dtype=torch.float64))
        e = stats.batch_variance("var", x, 1.0, batches=50)
        t_values.append((e.estimate - e.expected) / e.std_error)
    c = stats.quantile(0.999, 49)
    assert sum(abs(t) > c for t in t_values) <= 4
    assert abs(sum(t_values) / len(t_values)) < 0.3


# --- the page ---

def test_page_says_not_run_without_result_files(tmp_path):
    page = reliability.render_from(tmp_path)
    assert page.markdown.count("Not run") == 3 and not page.figures
    assert "## The threshold rule" in page.markdown


def test_page_renders_mutation_kill_rates_and_fuzzing_counts(tmp_path):
    mutants = [{"id": f"m{i}", "category": "catalogue" if i < 3 else "stats", "file": "x.py", "description": f"bug {i}",
                "killed": i != 1, "killed_by": [] if i == 1 else ["tests/test_x.py"],
                "explanation": "equivalent mutant" if i == 1 else None} for i in range(5)]
    (tmp_path / "mutation_audit.json").write_text(json.dumps({"mutants": mutants, "tool": {
        "name": "mutmut", "targets": ["checks/core/stats.py"], "killed": 40, "survived": 3, "timeout": 1}}))
    (tmp_path / "fuzzing.json").write_text(json.dumps({"properties": [
        {"name": "verify rejects perturbations", "examples": 500, "failures": 0, "note": "random formulas"}]}))
    markdown = reliability.render_from(tmp_path).markdown
    assert "| catalogue | 3 | 2 | 66.7 % |" in markdown and "| stats | 2 | 2 | 100.0 % |" in markdown
    assert "**4 killed (80.0 %)**" in markdown and "`m1`" in markdown and "equivalent mutant" in markdown
    assert "40 killed, 3 survived, 1 timed out" in markdown
    assert "| verify rejects perturbations | 500 | 0 | random formulas |" in markdown


# --- the second-order calibration of the critical value ---

def test_calibrated_critical_value_is_normal_without_shape_and_solves_the_tail():
    alpha = 1e-6 / 6
    assert stats.calibrated_critical_value(alpha) == stats.critical_value(alpha)
    assert stats.studentized_tail(4.0, 0.0, 0.0, 10**12) == pytest.approx(2 * NormalDist().cdf(-4.0), rel=1e-9)
    c = stats.calibrated_critical_value(alpha, 14.9, 370.0, 20_000)
    assert c > stats.critical_value(alpha) + 0.3
    assert stats.studentized_tail(c, 14.9, 370.0, 20_000) == pytest.approx(alpha, rel=1e-6)
    assert stats.calibrated_critical_value(alpha, 7.0, 100.0, 50_000) < c  # milder shape, larger n


def test_estimators_carry_the_summands_shape_and_the_rule_uses_it():
    generator = torch.Generator().manual_seed(5)
    x = torch.exp(torch.randn(20_000, generator=generator, dtype=torch.float64))  # log-normal: skewed squares
    estimate = stats.variance("var", x, math.e * (math.e - 1))
    assert estimate.count == 20_000 and estimate.skewness > 5 and estimate.excess_kurtosis > 50
    [s] = stats.test([estimate])
    assert s.critical == pytest.approx(stats.calibrated_critical_value(1e-6, estimate.skewness,
                                                                       estimate.excess_kurtosis, 20_000))
    assert s.critical > stats.critical_value(1e-6) + 0.2
    gaussian = stats.mean("mean", torch.randn(20_000, generator=generator, dtype=torch.float64), 0.0)
    [g] = stats.test([gaussian])
    assert g.critical == pytest.approx(stats.critical_value(1e-6), abs=0.01)


def test_calibration_brings_a_skewed_tail_nearer_to_its_target():
    """Studentized means of 40 squared log-normal values (heavily skewed): over 40,000 replicas the
    two-sided rate beyond the calibrated c is nearer to the target than the rate beyond the normal c."""
    generator = torch.Generator().manual_seed(11)
    n, replicas, alpha = 40, 40_000, 0.01
    x = torch.exp(0.8 * torch.randn(replicas, n, generator=generator, dtype=torch.float64))
    population = torch.exp(0.8 * torch.randn(2_000_000, generator=generator, dtype=torch.float64))
    shape = stats.summand_shape(population)
    t = (x.mean(dim=1) - math.exp(0.32)) / (x.std(dim=1) / math.sqrt(n))
    normal_rate = float((t.abs() > stats.critical_value(alpha)).double().mean())
    c = stats.calibrated_critical_value(alpha, shape["skewness"], shape["excess_kurtosis"], n)
    calibrated_rate = float((t.abs() > c).double().mean())
    assert normal_rate > 1.5 * alpha and abs(calibrated_rate - alpha) < abs(normal_rate - alpha)


def test_report_renders_one_study_page_alone(tmp_path, capsys):
    """``report --study reliability`` writes that page and its figure, nothing else (no check runs)."""
    from checks.app.cli import main

    assert main(["report", "--study", "reliability", "--out", str(tmp_path)]) == 0
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and p.name != ".lock")
    assert written == ["studies/reliability.md", f"studies/{reliability.QQ_FIGURE}"], written
    assert "# Reliability" in (tmp_path / "studies" / "reliability.md").read_text()
    assert main(["report", "--study", "reliabilty", "--out", str(tmp_path)]) == 2
    assert "closest: reliability" in capsys.readouterr().err


def test_every_planted_bug_of_the_mutation_audit_still_applies_exactly_once():
    """A planted bug whose text no longer occurs is silently not planted: the audit's kill rate would
    count code that has moved on. Each patch's ``old`` text must occur once in today's sources."""
    from benchmarks.mutants import MUTANTS

    stale = {m.id: (ROOT / m.file).read_text().count(m.old) for m in MUTANTS.values()
             if (ROOT / m.file).read_text().count(m.old) != 1}
    assert not stale, f"planted bugs that do not apply exactly once (id: occurrences): {stale}"


def test_the_page_lists_every_mutmut_survivor_with_its_change_and_why():
    tool = {"name": "mutmut", "targets": ["checks/core/stats.py", "derivations/x.py"], "killed": 5, "survived": 3,
            "timeout": 0, "no_tests": 0,
            "per_target": {
                "checks/core/stats.py": {"killed": 5, "survived": 2, "survivors": [
                    {"name": "checks.core.stats.x_loglog_slope__mutmut_23",
                     "change": ["-    slope = (xc @ (y - y.mean())) / sxx", "+    slope = (xc @ (y + y.mean())) / sxx"],
                     "explanation": "Equivalent: the centred steps sum to zero"},
                    {"name": "checks.core.stats.x\u01c1RunningMoments\u01c1update__mutmut_16",
                     "change": ["-        a = 4", "+        a = 5"], "explanation": ""}]},
                "derivations/x.py": {"killed": 0, "survived": 1}}}
    text = "\n".join(reliability.mutation_section({"mutants": [], "tool": tool}))
    assert ("- `loglog_slope #23`: `slope = (xc @ (y - y.mean())) / sxx` became "
            "`slope = (xc @ (y + y.mean())) / sxx`. Equivalent: the centred steps sum to zero") in text
    assert "- `RunningMoments.update #16`: `a = 4` became `a = 5`. Not yet examined." in text
    assert "`derivations/x.py`: 1 survived; this run did not record which." in text
    assert "\u01c1" not in text
