"""The generated report: committed pages match the code, writes are atomic."""

from __future__ import annotations

from pathlib import Path

import pytest

import derivations
from checks.app import report

from tests.conftest import BY_DERIVATION, DERIVATION_IDS

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


def test_symbolic_report_writes_index_and_pages(tmp_path, monkeypatch):
    # Two identities are enough to exercise the writer; every page is compared above.
    chosen = [derivations.get("ddpm.marginal"), derivations.get("ddpm.posterior")]
    monkeypatch.setattr(report.derivations, "all", lambda: chosen)
    written = report.write(report.build(run_checks=False), tmp_path)
    assert (tmp_path / "index.md") in written
    for d in chosen:
        assert (tmp_path / report.page_path(d.id)).exists()
        assert f"[`{d.id}`]" in (tmp_path / "index.md").read_text()
