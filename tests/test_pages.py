"""What a reader sees: readable math sizes, exact constants, steps that show something, working links."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
import sympy as sp

import derivations

from checks.app import latex as tex
from checks.app import render

from tests.conftest import BY_DERIVATION

REPORTS = Path(__file__).resolve().parent.parent / "reports"
MAX_MATH_LINE = 1000
MAX_DECIMAL_DIGITS = 15
_DECIMAL = re.compile(r"\d+(?:\.\d+)?")
# link text may hold one level of brackets (``![ddim[eta=0.0]](file.png)``)
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(([^)\s]+)\)")
_NOT_LINKS = re.compile(r"```.*?```|\$`.+?`\$|\$[^$\n]+\$|`[^`\n]+`", re.S)


def _math(derivation_id: str) -> list[str]:
    return [s for s, _ in tex.math_segments(render.symbolic_markdown(derivations.get(derivation_id)))]


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_no_long_decimal_in_math(derivation_id):
    """Exact constants stay exact: a float folded for torch never reaches a page."""
    long = [n for s in _math(derivation_id) for n in _DECIMAL.findall(s)
            if len(n.replace(".", "")) > MAX_DECIMAL_DIGITS]
    assert not long, f"decimals with more than {MAX_DECIMAL_DIGITS} digits: {long[:3]}"


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_no_math_line_over_1000_characters(derivation_id):
    lengths = [len(line) for s in _math(derivation_id) for line in s.split("\n")]
    assert max(lengths, default=0) <= MAX_MATH_LINE, f"a math line of {max(lengths)} characters"


@pytest.mark.parametrize("derivation_id", BY_DERIVATION)
def test_no_step_is_a_literal_tautology(derivation_id):
    d = derivations.get(derivation_id)
    literal = [f"{i}. {s.description}" for i, s in enumerate(d.body.steps, 1)
               if sp.sympify(s.lhs) == sp.sympify(s.rhs) or tex.latex(s.lhs) == tex.latex(s.rhs)]
    assert not literal, "steps that display X = X:\n" + "\n".join(literal)


def test_long_decimals_are_detected():
    page = tex.display(tex.latex(sp.Float("0.918938533204672741780329736", 30) + sp.Symbol("x")))
    assert any(len(n.replace(".", "")) > MAX_DECIMAL_DIGITS for s, _ in tex.math_segments(page)
               for n in _DECIMAL.findall(s))


# --- committed pages ---------------------------------------------------------------------------------

def _pages(root: Path = REPORTS) -> list[Path]:
    return sorted(root.rglob("*.md"))


def test_committed_pages_carry_math_in_github_syntax():
    """``$...$`` is read by GitHub's markdown first; pages use ```` ```math ```` and ``$`...`$`` (`make report`)."""
    bare = {str(p.relative_to(REPORTS)): tex.bare_dollar_math(p.read_text())[:2] for p in _pages()}
    bare = {k: v for k, v in bare.items() if v}
    assert not bare, f"{len(bare)} pages with $...$ math, e.g. {next(iter(bare.items()))}"


def test_bare_dollar_math_is_detected():
    assert tex.bare_dollar_math("a $x$ b") == ["$x$"]
    assert tex.bare_dollar_math("a $`x`$ b `$y$`\n```sh\n$HOME\n```") == []


def _local_targets(page: Path) -> list[str]:
    text = _NOT_LINKS.sub("", page.read_text())  # math and code hold brackets that are not links
    return [unquote(t.split("#")[0]) for t in _LINK.findall(text)
            if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def broken_links(root: Path) -> list[str]:
    return [f"{p.relative_to(root)} -> {t}" for p in _pages(root) for t in _local_targets(p)
            if t and not (p.parent / t).exists()]


def figure_problems(root: Path) -> tuple[list[str], list[str]]:
    """(figures no page shows, figures shown but absent)."""
    referenced = {(p.parent / t).resolve() for p in _pages(root) for t in _local_targets(p) if t.endswith(".png")}
    figures = {f.resolve() for f in root.rglob("*.png")}
    return (sorted(str(f.relative_to(root.resolve())) for f in figures - referenced),
            sorted(str(f) for f in referenced - figures))


def test_relative_links_resolve():
    broken = broken_links(REPORTS)
    assert not broken, "broken links:\n" + "\n".join(broken[:20])


def test_every_figure_is_referenced_and_exists():
    orphans, missing = figure_problems(REPORTS)
    assert not orphans, f"figures no page shows: {orphans[:10]}"
    assert not missing, f"figures referenced but absent: {missing[:10]}"


def test_link_checks_catch_a_broken_link_and_an_orphan(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "shown.png").write_bytes(b"png")
    (tmp_path / "figures" / "orphan.png").write_bytes(b"png")
    (tmp_path / "index.md").write_text("[gone](derivations/gone.md) ![a[b]](figures/shown.png) "
                                       "![x](figures/absent.png) $`[0, T](Y_s)`$ [web](https://example.org)")
    assert broken_links(tmp_path) == ["index.md -> derivations/gone.md", "index.md -> figures/absent.png"]
    orphans, missing = figure_problems(tmp_path)
    assert orphans == ["figures/orphan.png"] and len(missing) == 1


def test_math_reaches_github_untouched():
    """Display math in a fence, inline math as $`...`$, code left alone; a table row's `\\|` is a pipe."""
    page = tex.github_markdown("Text $a\\,b$ and `$b$`\n\n$$x \\\\ y$$\n\n```sh\n$HOME\n```\n| a | $c\\|d$ |")
    assert page.splitlines()[0] == "Text $`a\\,b`$ and `$b$`"
    assert "```math\nx \\\\ y\n```" in page and "$HOME" in page
    assert tex.math_segments(page) == [("a\\,b", False), ("x \\\\ y", True), ("c|d", False)]
    assert not tex.bare_dollar_math(page)
