"""Every formula of every page typesets with a real engine (KaTeX, under node).

GitHub renders ```` ```math ```` blocks and ``$`...`$`` with its math engine;
KaTeX in strict mode refuses what either engine would show as an error. The
formulas go to one node process per test worker (``tests/js/typeset.mjs``).
Without node the tests skip; with node, ``make install`` (``npm ci`` in
``tests/js``) provides KaTeX.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import derivations

from checks.app import latex as tex
from checks.app import report

from tests.conftest import BY_DERIVATION

JS = Path(__file__).resolve().parent / "js"
REPORTS = Path(__file__).resolve().parent.parent / "reports"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the pages' formulas are not typeset "
                                                      "(install Node.js, then `make install`)")


class Typesetter:
    """One long-lived ``node typeset.mjs``: a JSON line of formulas in, a JSON line of failures out."""

    def __init__(self):
        if not (JS / "node_modules" / "katex").is_dir():
            pytest.fail(f"KaTeX is not installed: run `make install` (npm ci --prefix {JS})")
        self.process = subprocess.Popen([NODE, str(JS / "typeset.mjs")], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)

    def failures(self, segments: list[tuple[str, bool]]) -> list[str]:
        request = [{"tex": t, "display": display} for t, display in segments]
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        return [f"{f['error'][:300]}\n    in: {segments[f['index']][0][:200]}" for f in answer]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="session")
def typesetter():
    engine = Typesetter()
    yield engine
    engine.close()


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_derivation_page_typesets(typesetter, derivation_id):
    page = report.symbolic_section(derivations.get(derivation_id))
    segments = tex.math_segments(page)
    assert segments, "a derivation page without math"
    failures = typesetter.failures(segments)
    assert not failures, "\n".join(failures)


def test_study_formulas_typeset(typesetter):
    from checks.app.studies import pierret_galerne

    page = tex.github_markdown("\n".join([pierret_galerne.setting_section(), pierret_galerne.continuous_section(),
                                          pierret_galerne.step_maps_section()]))
    assert not tex.bare_dollar_math(page)
    failures = typesetter.failures(tex.math_segments(page))
    assert not failures, "\n".join(failures)


def test_committed_pages_typeset(typesetter):
    """Study pages, evidence sections and the index, as committed (``make report`` rewrites them)."""
    failures = []
    for page in sorted(REPORTS.rglob("*.md")):
        found = typesetter.failures(tex.math_segments(page.read_text()))
        failures += [f"{page.relative_to(REPORTS)}: {f}" for f in found]
    assert not failures, "\n".join(failures)


def test_the_typesetter_refuses_bad_latex(typesetter):
    assert len(typesetter.failures([(r"\frac{a}{b}", True), (r"\undefinedmacro x", False), ("x^{", False)])) == 2
