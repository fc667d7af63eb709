"""The generated report: ``reports/index.md``, one page per derivation, study pages, figures.

Every registered check runs exactly once (in parallel over the cores, see
:mod:`checks.core.batch`); the derivation pages, the index and the studies all
read those results (a study receives them in a
:class:`~checks.app.plugins.StudyContext`). Without checks (``run_checks=False``)
the results of the report already under the output folder are read instead
and its ``evidence.json`` and figures are left as they are.

Everything is computed first (proofs, Monte Carlo checks, studies) and only
then written, each file through a temporary name and an atomic rename, so an
interrupt (even SIGKILL) leaves every page either the old or the new one; the
temporary files a killed run leaves are removed by the next. A report holds an
exclusive lock on its output folder (:func:`locked`) from reading the earlier
evidence to its last write: a second report into the same folder is refused
(one line, exit 2) rather than mixing its pages with the first's. ``only``
regenerates a few derivation pages (and their checks' evidence), leaving the
index, the notation and the studies as they are; ``studies`` regenerates a few study pages from the
evidence already under the output folder (no check runs), leaving every other page as it is. The
symbolic part of each page sits between :data:`SYMBOLIC_BEGIN` and :data:`SYMBOLIC_END`; a test
regenerates it and compares it with the committed pages.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import functools
import io
import json
import os
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

import derivations

from checks.app import plugins
from checks.app import latex, notation_page, render
from checks.app.evidence import DEFAULT_OUT, EVIDENCE_FILE, last_verdicts  # noqa: F401 - the report's interface
from checks.core.progress import Progress

if TYPE_CHECKING:
    from checks.core.registry import CheckResult

SYMBOLIC_BEGIN = "<!-- symbolic: generated from the derivation; checked against the code by the tests -->"
SYMBOLIC_END = "<!-- end symbolic -->"


@dataclass
class Pending:
    """Files to write (text and PNG bytes by relative path), the results they show, and notes for the user."""

    text: dict[str, str] = field(default_factory=dict)
    binary: dict[str, bytes] = field(default_factory=dict)
    results: dict[str, "CheckResult"] = field(default_factory=dict)
    ran_checks: bool = False
    notes: list[str] = field(default_factory=list)
    partial: bool = False  # a few pages only (``only``, ``studies``): no page is stale for not being written


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FolderBusy(RuntimeError):
    """Another report holds the output folder's lock."""


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the folder ``out`` (created if needed) for the block, or raise
    :class:`FolderBusy` at once. The lock is the folder's own (no lock file to commit or leave
    behind) and the kernel drops it when its holder dies, so a killed report never blocks the next.
    Holding it, the temporary files of an earlier killed report are removed."""
    out.mkdir(parents=True, exist_ok=True)
    handle = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusy(f"another report is writing to {out}; run this one when it has finished") from None
        for leftover in out.rglob(".*.tmp"):  # atomic_write's names: never a finished page
            leftover.unlink(missing_ok=True)
        yield
    finally:
        os.close(handle)


def page_path(derivation_id: str) -> str:
    return f"derivations/{derivation_id}.md"


def symbolic_section(d) -> str:
    """The page's symbolic part; for a registered derivation kept in the derivation cache under its key
    and the code of both packages (``diffverify build`` fills it), like ``show``'s text."""
    if derivations.get(d.id) is not d:  # a record built outside the registry: its own page, never stored
        return _symbolic_section(d)
    from derivations.core import cache

    from checks.app.commands.show import CHECKS_ROOT

    code = cache.tree_files(cache.ROOT) + cache.tree_files(CHECKS_ROOT)
    return cache.memo(f"page.{d.id}", lambda: _symbolic_section(d), (d.id,), code)


def _symbolic_section(d) -> str:
    return f"{SYMBOLIC_BEGIN}\n{render.symbolic_markdown(d)}\n{SYMBOLIC_END}"


def extract_symbolic(page: str) -> str | None:
    start, end = page.find(SYMBOLIC_BEGIN), page.find(SYMBOLIC_END)
    if start < 0 or end < 0:
        return None
    return page[start:end + len(SYMBOLIC_END)]


def _header(device_note: str, stamped: bool = False) -> str:
    """The provenance line of every page. Only the index carries the run's time (``stamped``): a page
    is then byte-identical between runs that derive and measure the same, so a diff of ``reports/``
    shows what changed in the mathematics or the evidence, not when it was regenerated."""
    import matplotlib
    import numpy
    import sympy
    import torch

    from importlib.metadata import PackageNotFoundError, version

    try:
        own = version("diffverify")
    except PackageNotFoundError:
        own = "source tree"
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    when = f" on {stamp}" if stamped else ""
    return (f"Generated by `diffverify report`{when}. diffverify {own}; Python {platform.python_version()}, "
            f"SymPy {sympy.__version__}, torch {torch.__version__}, NumPy {numpy.__version__}, "
            f"matplotlib {matplotlib.__version__}; Monte Carlo device: {device_note}.")


def z_figure(result) -> bytes:
    """Standardized deviations of a check's statistics against its two-sided threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from checks.core.stats import critical_value

    names = [s.name for s in result.statistics]
    z = [s.z for s in result.statistics]
    limit = critical_value(result.statistics[0].false_alarm)
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(names) + 1.2))
    ax.barh(range(len(z)), z, color=["tab:blue" if s.passed else "tab:red" for s in result.statistics])
    for sign in (-1, 1):
        ax.axvline(sign * limit, color="k", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"z = (estimate - expected) / SE; dashed: ±{limit:.2f} (false alarm {result.false_alarm:g})")
    ax.set_title(result.check_id, fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def _evidence_markdown(check_ids: list[str], results: dict[str, "CheckResult"]) -> str:
    if not check_ids:
        return "## Monte Carlo evidence\n\nNo Monte Carlo check tests this identity (its proof is symbolic only)."
    out = ["## Monte Carlo evidence", ""]
    for check_id in check_ids:
        r = results.get(check_id)
        if r is None:
            out += [f"### `{check_id}` — not run", "", "This report holds no result of it: run `diffverify report`.", ""]
            continue
        out += [f"### `{r.check_id}` — {r.verdict}", "", latex.prose(r.title) + ".", "",
                f"- Law checked: {latex.prose(r.law)}",
                # the wall time stays in evidence.json: on the page it would change every run
                f"- Samples: {r.n_samples}; seed {r.seed} (from the check id); device `{r.device}`, {r.dtype}",
                f"- Nominal false-alarm probability {r.false_alarm:g} for the check (normal approximation), split over "
                f"{len(r.statistics)} statistics (Bonferroni); the smallest error detected with 99 % power is "
                "the `detectable` column.", "",
                render.check_table(r), "", f"![z-scores of {r.check_id}](../figures/{r.check_id}.png)", ""]
    return "\n".join(out)


def _verdict(check_id: str, results: dict[str, "CheckResult"]) -> str:
    return results[check_id].verdict if check_id in results else "not run"


def load_evidence(out: Path) -> dict[str, "CheckResult"]:
    """The check results of the report under ``out`` (none when it has none or they cannot be read)."""
    from checks.core.registry import CheckResult

    try:
        raw = json.loads((out / EVIDENCE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    results = {}
    for check_id, entry in raw.items():
        try:
            results[check_id] = CheckResult.from_dict(entry)
        except (KeyError, TypeError, AttributeError):  # written by an older version: not reused
            continue
    return results


@dataclass(frozen=True)
class PageParts:
    """What a derivation page takes from the derivation's build, computed where it was built."""

    title: str
    tier: str
    symbolic: str


@dataclass(frozen=True)
class CheckOutput:
    """A check's result and its figure (PNG bytes), both made where the check ran."""

    result: "CheckResult"
    figure: bytes


def _compute(item: tuple[str, str], device: str, samples: int | None) -> "CheckOutput | PageParts":
    kind, key = item
    if kind == "warm":
        plugins.run_warm(key)
        return None
    if kind == "check":
        import checks

        result = checks.run(key, device=device, samples=samples)
        return CheckOutput(result, z_figure(result))
    d = derivations.get(key)
    return PageParts(d.title, d.tier.value, symbolic_section(d))


def _note(item: tuple[str, str], value) -> str:
    return f"{item[1]}: {value.result.verdict}" if item[0] == "check" else item[1]


def compute(check_ids: list[str], derivation_ids: list[str], device: str = "auto", samples: int | None = None,
            jobs: int = 1, expected_time: dict[str, float] | None = None, cluster=None,
            figures: dict[str, bytes] | None = None, warm: Sequence[str] = (),
            ) -> tuple[dict[str, "CheckResult"], dict[str, PageParts]]:
    """Run each check exactly once and build each derivation's page parts, over ``jobs`` processes.

    ``expected_time`` (seconds by check id, from the last report) starts the longest checks
    first, so that no long one runs alone at the end. ``cluster``: run them as its Ray tasks instead.
    ``figures``, when given, receives each check's z-score figure (PNG bytes by check id), drawn
    by the process that ran the check, in parallel like the checks. ``warm``: the studies' cached parts
    (:attr:`checks.app.plugins.Study.warm`), computed first, each in one process, beside the checks.
    """
    from checks.core.batch import map_in_processes

    expected_time = expected_time or {}
    ordered = sorted(check_ids, key=lambda check_id: -expected_time.get(check_id, 0.0))
    items = ([("warm", name) for name in warm] + [("check", cid) for cid in ordered]
             + [("page", did) for did in derivation_ids])
    done = map_in_processes(functools.partial(_compute, device=device, samples=samples), items, jobs,
                            "checks and pages", _note, cluster)
    if figures is not None:
        figures.update({cid: done[("check", cid)].figure for cid in check_ids})
    return ({cid: done[("check", cid)].result for cid in check_ids},
            {did: done[("page", did)] for did in derivation_ids})


def build(device: str = "auto", samples: int | None = None, run_checks: bool = True, out: Path = DEFAULT_OUT,
          jobs: int = 1, cluster=None, only: Sequence[str] = (), studies: Sequence[str] = ()) -> Pending:
    """Compute every page of the report in memory, running each check once, over ``jobs`` processes.

    ``run_checks=False``: no check runs; the pages show the evidence already under ``out``.
    ``only`` (derivation ids): just those pages and their checks; the evidence of the others is kept.
    ``studies`` (study ids): just those study pages, from the evidence under ``out`` (no check runs).
    """
    import checks

    if studies:
        pending = Pending(partial=True, results=load_evidence(out))
        _studies(pending, _header(_device_note(pending)), plugins.StudyContext(pending.results, device, samples), out,
                 chosen=studies)
        return pending

    if only:
        chosen = [derivations.get(derivation_id) for derivation_id in dict.fromkeys(only)]
        registered = [c.id for d in chosen for c in checks.for_derivation(d.id)]
    else:
        registered = [c.id for c in checks.all()]
        chosen = derivations.all()
    previous = load_evidence(out)
    expected = {cid: r.wall_time_s for cid, r in previous.items()}
    figures: dict[str, bytes] = {}
    # A cluster's workers keep their own cache folders: the studies' parts are computed here then.
    warm = [] if only or cluster is not None else [name for s in plugins.studies() for name in s.warm]
    results, parts = compute(registered if run_checks else [], [d.id for d in chosen], device, samples, jobs,
                             expected, cluster, figures, warm)
    pending = Pending(ran_checks=run_checks, partial=bool(only))
    if run_checks:
        pending.results = results
        for check_id in results:
            pending.binary[f"figures/{check_id}.png"] = figures[check_id]
        kept = previous if only else {}
        evidence = {cid: r.as_dict() for cid, r in (kept | results).items()}
        pending.text[EVIDENCE_FILE] = json.dumps(evidence, indent=1, sort_keys=True) + "\n"
    else:
        pending.results = {cid: previous[cid] for cid in registered if cid in previous}
    # A page written by --only says what a full report says: the devices of all the evidence it keeps.
    header = _header(_device_note(pending, previous if only else {}))
    index_rows = []
    for d in chosen:
        tested_by = [c.id for c in checks.for_derivation(d.id)]
        verdicts = ", ".join(f"`{cid}`: {_verdict(cid, pending.results)}" for cid in tested_by) or "symbolic only"
        index_rows.append(f"| [`{d.id}`]({page_path(d.id)}) | {render.cell(latex.prose(parts[d.id].title))} | {parts[d.id].tier} | "
                          f"{verdicts} |")
        pending.text[page_path(d.id)] = "\n\n".join([
            f"[index](../index.md) · {header}", parts[d.id].symbolic, _evidence_markdown(tested_by, pending.results),
        ]) + "\n"
    if only:
        return pending
    study_rows = _studies(pending, header, plugins.StudyContext(pending.results, device, samples), out)
    pending.text["index.md"] = _index(_header(_device_note(pending), stamped=True), len(registered), pending,
                                      index_rows, study_rows)
    pending.text[notation_page.PATH] = notation_page.markdown()
    return pending


def _device_note(pending: Pending, kept: dict | None = None) -> str:
    devices = sorted({r.device for r in ({**(kept or {}), **pending.results}).values()})
    if not devices:
        return "none (symbolic pages only)"
    note = ", ".join(f"`{d}`" for d in devices)
    return note if pending.ran_checks else f"{note} (evidence of an earlier run; no check ran for this one)"


def _index(header: str, n_checks: int, pending: Pending, index_rows: list[str], study_rows: list[str]) -> str:
    passed = sum(r.passed for r in pending.results.values())
    missing = n_checks - len(pending.results)
    run_note = "This run" if pending.ran_checks else "The evidence of an earlier run (this one ran no check)"
    return "\n".join([
        "# diffverify report", "", header, "",
        "Each identity is derived by SymPy from the model's definition; each step and each claim from the "
        "literature is re-proved (tier **exact**: SymPy simplifies the difference to 0; **numeric**: 50-digit "
        "agreement at random admissible points). Monte Carlo checks simulate the real processes and test the "
        "derived laws at a nominal false-alarm probability of 1e-6 per check; over the "
        f"{n_checks} checks, the nominal probability that any correct check fails is at most {n_checks:g}e-6 "
        "(Bonferroni). Nominal: the threshold takes each mean's sampling law as normal, an asymptotic "
        f"approximation read far in its tail (|z| ≈ 5.3). {run_note}: {passed}/{n_checks} checks pass"
        + (f"; {missing} have no result." if missing else "."), "",
        "| id | title | tier | Monte Carlo checks |", "|---|---|---|---|", *index_rows, "",
        "## Studies", "", *study_rows, "",
    ])


def _studies(pending: Pending, header: str, context: plugins.StudyContext, out: Path,
             chosen: Sequence[str] = ()) -> list[str]:
    """Render every study (or the ``chosen`` ids) into ``pending``; the index rows, one per study whatever happens
    to its page."""
    rows = []
    studies = [s for s in plugins.studies() if not chosen or s.id in chosen]
    with Progress(len(studies), "studies", unit="page") as bar:
        for study in studies:
            rel = study.page
            rows.append(f"- [{latex.prose(study.title)}]({rel})")
            try:
                page = study.render(context)
            except plugins.MissingResult as missing:
                kept = (out / rel).exists()
                pending.notes.append(f"{rel}: {missing}; " + ("the page from the earlier run is kept" if kept else
                                                              "a page saying so is written"))
                if not kept:
                    pending.text[rel] = (f"[index](../index.md) · {header}\n\n# {study.title}\n\nNot rendered: "
                                         f"{missing}. Run `diffverify report` to run the checks.\n")
                bar.advance(1, study.id)
                continue
            pending.text[rel] = f"[index](../index.md) · {header}\n\n{latex.github_markdown(page.markdown)}\n"
            for name, figure in page.figures.items():
                buffer = io.BytesIO()
                figure.savefig(buffer, format="png", dpi=90)
                pending.binary[f"{rel.rsplit('/', 1)[0]}/{name}"] = buffer.getvalue()
            bar.advance(1, study.id)
    return rows


def write(pending: Pending, out: Path) -> list[Path]:
    written = []
    for rel, text in sorted(pending.text.items()):
        atomic_write(out / rel, text.encode())
        written.append(out / rel)
    for rel, data in sorted(pending.binary.items()):
        atomic_write(out / rel, data)
        written.append(out / rel)
    removed = [] if pending.partial else remove_stale_derivation_pages(pending, out)
    if removed:
        pending.notes.append(f"removed {len(removed)} page(s) of ids that no longer exist: "
                             + ", ".join(p.stem for p in removed))
    return written


def remove_stale_derivation_pages(pending: Pending, out: Path) -> list[Path]:
    """Delete ``derivations/*.md`` pages the run did not write: every report writes one page per
    registered id (with or without checks), so any other is the page of a renamed or removed id,
    and its links would point at nothing. Check pages and figures are left alone: a run without
    checks keeps them."""
    folder = out / page_path("x").rsplit("/", 1)[0]
    stale = [p for p in sorted(folder.glob("*.md")) if f"{folder.name}/{p.name}" not in pending.text]
    for page in stale:
        page.unlink()
    return stale
