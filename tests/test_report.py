"""The generated report: committed pages match the code, each check runs once, writes are atomic."""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path

import pytest

import checks
import derivations
from checks.app import plugins, report
from checks.core import registry, stats
from checks.core.registry import CheckResult

from tests.conftest import BY_DERIVATION, CHECK_IDS, DERIVATION_IDS

COMMITTED = Path(__file__).resolve().parent.parent / "reports"


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_committed_page_matches_the_code(derivation_id):
    """Regenerate a page's symbolic section and compare it with the committed one (`make report` refreshes)."""
    page = COMMITTED / report.page_path(derivation_id)
    assert page.exists(), f"no committed page for {derivation_id}: run `make report`"
    committed = report.extract_symbolic(page.read_text())
    assert committed == report.symbolic_section(derivations.get(derivation_id)), (
        f"{page} is stale: run `make report` and commit reports/")


def test_index_lists_every_derivation():
    index = (COMMITTED / "index.md").read_text()
    for derivation_id in DERIVATION_IDS:
        assert f"[`{derivation_id}`]" in index


def test_atomic_write_leaves_old_content_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "page.md"
    report.atomic_write(target, b"old")

    def broken_replace(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(report.os, "replace", broken_replace)
    with pytest.raises(KeyboardInterrupt):
        report.atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["page.md"], "no temporary file is left behind"


# --- each check runs once per report; studies read its results -------------------------------------------

TWO_DERIVATIONS = ("ddpm.marginal", "ddpm.posterior")  # enough to exercise the writer; every page is compared above


def canned_result(check_id: str, device: str = "auto", samples: int | None = None, **_) -> CheckResult:
    """A passing result for any check, made without simulating."""
    statistics = tuple(stats.test([stats.Estimate("mean", 0.0, 0.0, 1.0)]))
    return CheckResult(check_id, "canned", checks.get(check_id).tests, "canned law", statistics, samples or 1000, 0,
                       device, "float64", 1e-6, 0.0)


class RecordingStudy:
    """A study that records the context it renders from; ``needs`` names a check it asks the context for."""

    def __init__(self, id: str, needs: str | None = None, warm: tuple[str, ...] = ()):
        self.id, self.title, self.derivation_ids, self.needs, self.warm = id, f"Study {id}", (), needs, warm
        self.page = f"studies/{id}.md"
        self.contexts: list[plugins.StudyContext] = []
        self.warm_found: list[str] = []

    def render(self, context: plugins.StudyContext) -> plugins.StudyPage:
        self.contexts.append(context)
        self.warm_found = [Path(name.split(":", 2)[2]).read_text() for name in self.warm]
        if self.needs:
            context.result(self.needs)
        return plugins.StudyPage(f"# {self.title}")


@pytest.fixture
def small_report(monkeypatch):
    """Two derivations, every registered check run by a counting stub, two recording studies."""
    calls: Counter[str] = Counter()

    def counting_run(check_id, **options):
        calls[check_id] += 1
        return canned_result(check_id, **options)

    chosen = [derivations.get(i) for i in TWO_DERIVATIONS]
    studies = [RecordingStudy("first"), RecordingStudy("second", needs="samplers.pf_euler")]
    monkeypatch.setattr(report.derivations, "all", lambda: chosen)
    monkeypatch.setattr(registry, "run", counting_run)
    monkeypatch.setattr(report.plugins, "studies", lambda: studies)
    return calls, chosen, studies


def test_a_report_runs_each_check_exactly_once_and_studies_receive_the_results(small_report, tmp_path):
    calls, _, studies = small_report
    pending = report.build(device="cpu", samples=2000, out=tmp_path)
    assert calls == Counter(CHECK_IDS), "every registered check runs exactly once, studies included"
    for study in studies:
        (context,) = study.contexts
        assert set(context.results) == set(CHECK_IDS)
        assert (context.device, context.samples) == ("cpu", 2000)
        assert context.result("samplers.pf_euler") is pending.results["samplers.pf_euler"]
    assert set(json.loads(pending.text[report.EVIDENCE_FILE])) == set(CHECK_IDS)


def test_studies_never_run_a_check_themselves():
    """Statically: no study module calls ``run``/``run_variants`` or imports them (the count above stubs them)."""
    folder = Path(report.__file__).parent / "studies"
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        called = {node.func.attr for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
        assert not ({"run", "run_variants"} & (called | imported)), f"{path.name} runs checks: read context.result"


def mark_warm(path: str) -> None:
    """A study's cached part, for the test below: one mark per computation."""
    with open(path, "a") as out:
        out.write("x")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_studys_warm_parts_are_computed_once_before_it_renders(small_report, tmp_path, jobs):
    _, _, studies = small_report
    studies[0].warm = (f"tests.test_report:mark_warm:{tmp_path / 'part'}",)
    report.build(run_checks=False, out=tmp_path / "out", jobs=jobs)
    assert studies[0].warm_found == ["x"], "computed once, by the pool, before the page rendered"


def test_no_checks_keeps_the_evidence_and_lists_the_studies(small_report, tmp_path):
    calls, chosen, studies = small_report
    evidence = {"samplers.pf_euler": canned_result("samplers.pf_euler", "cpu").as_dict()}
    (tmp_path / report.EVIDENCE_FILE).write_text(json.dumps(evidence))
    before = (tmp_path / report.EVIDENCE_FILE).read_bytes()
    written = report.write(report.build(run_checks=False, out=tmp_path), tmp_path)
    assert not calls, "no check runs"
    assert (tmp_path / report.EVIDENCE_FILE).read_bytes() == before
    assert (tmp_path / report.EVIDENCE_FILE) not in written and not (tmp_path / "figures").exists()
    index = (tmp_path / "index.md").read_text()
    for d in chosen:
        assert f"[`{d.id}`]" in index and (tmp_path / report.page_path(d.id)).exists()
    assert "`ddpm.forward_chain.marginal`: not run" in index
    for study in studies:
        assert f"(studies/{study.id}.md)" in index and (tmp_path / f"studies/{study.id}.md").exists()
        assert study.contexts[0].result("samplers.pf_euler").passed  # read back from the evidence


def test_no_checks_on_a_fresh_folder_keeps_an_existing_study_page(small_report, tmp_path):
    """A study whose check has no result keeps its earlier page, or says why it has none."""
    _, _, studies = small_report
    pending = report.build(run_checks=False, out=tmp_path)
    assert "Not rendered" in pending.text["studies/second.md"] and pending.notes
    (tmp_path / "studies").mkdir()
    (tmp_path / "studies/second.md").write_text("earlier page")
    pending = report.build(run_checks=False, out=tmp_path)
    assert "studies/second.md" not in pending.text and "(studies/second.md)" in pending.text["index.md"]
    assert report.EVIDENCE_FILE not in pending.text


def test_evidence_reads_back_as_the_results_written():
    result = canned_result("samplers.pf_euler", "cpu")
    assert CheckResult.from_dict(json.loads(json.dumps(result.as_dict()))) == result


def test_report_refuses_zero_jobs(capsys):
    from checks.app.cli import main

    assert main(["report", "--jobs", "0", "--out", "/nonexistent"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


CHEAP_CHECKS = ["ito.isometry.wiener_sums", "ou.euler_maruyama.coarse", "gaussian.kl.sampled", "samplers.pf_euler"]


@pytest.mark.mc
def test_parallel_and_serial_runs_give_identical_numbers():
    def numbers(jobs: int) -> dict:
        results, _ = report.compute(CHEAP_CHECKS, [], device="cpu", jobs=jobs)
        return {cid: {**r.as_dict(), "wall_time_s": None} for cid, r in results.items()}

    assert numbers(jobs=2) == numbers(jobs=1)


def test_progress_shows_on_a_terminal_only(capsys, monkeypatch):
    from checks.core import progress

    progress.Progress(2, "shown", enabled=True).advance(2, "done")
    assert "shown" in capsys.readouterr().err
    monkeypatch.setattr(progress, "on_terminal", lambda: True)
    with progress.quiet():
        progress.Progress(2, "hidden").advance(2)
    assert capsys.readouterr().err == ""


def test_summary_says_what_passed_how_long_and_where(tmp_path):
    from checks.app.commands.report import summary

    pending = report.Pending(results={"a": canned_result("samplers.pf_euler")}, ran_checks=True)
    text = summary(pending, 3, tmp_path, 12.3, jobs=2)
    assert "1/1 checks pass (2 processes); 12 s" in text and str(tmp_path / "index.md") in text


@pytest.mark.slow
def test_a_task_that_fails_in_a_worker_stops_the_run_with_its_traceback():
    """UnknownId cannot be unpickled: sent back as text, it ends the run instead of hanging it."""
    from checks.core.batch import TaskFailed

    with pytest.raises(TaskFailed, match="no.such_id"):
        report.compute([], ["no.such_id", "ddpm.marginal"], jobs=2)


def test_pages_of_ids_that_no_longer_exist_are_removed(tmp_path):
    """A renamed id leaves no page behind; check pages and figures a run without checks keeps stay."""
    kept_id = DERIVATION_IDS[0]
    for rel in (report.page_path(kept_id), report.page_path("gone.id"), "checks/some.check.md", "figures/f.png"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("old")
    pending = report.Pending(text={report.page_path(kept_id): "new"})
    report.write(pending, tmp_path)
    assert (tmp_path / report.page_path(kept_id)).read_text() == "new"
    assert not (tmp_path / report.page_path("gone.id")).exists()
    assert (tmp_path / "checks/some.check.md").exists() and (tmp_path / "figures/f.png").exists()
    assert any("gone.id" in note for note in pending.notes)
