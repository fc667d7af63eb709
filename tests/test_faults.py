"""Faults: a report killed (SIGKILL) at any point leaves every page old or new, never partial; two
reports into one folder never mix their pages (the second is refused: exit 2, one line); a
damaged cache entry is rebuilt (``tests/test_cache.py::test_a_damaged_entry_is_rebuilt_silently``
covers every kind of damage in process; here, through the CLI).

The reports regenerate two derivation pages without checks (``report --no-checks --only``), so
each run costs a process start and two cached derivations.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checks.app import report
from checks.app.cli import main
from derivations.core import config

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("ddpm.marginal", "ddpm.posterior")
OLD = "an earlier version of this page\n"
KILLS = 2

pytestmark = pytest.mark.xdist_group("faults")


def _arguments(out: Path) -> list[str]:
    only = [arg for page in PAGES for arg in ("--only", page)]
    return ["report", "--no-checks", *only, "--out", str(out), "--jobs", "1"]


def _command(out: Path) -> list[str]:
    return [sys.executable, "-m", "checks.app.cli", *_arguments(out)]


def _env() -> dict[str, str]:
    return os.environ | {"PYTHONPATH": str(ROOT)}


_STAMP = re.compile(r" on \d{4}-\d\d-\d\d \d\d:\d\d UTC")


def _pages(out: Path) -> dict[str, str]:
    """Every file under ``out`` by relative path, the header's time of generation blanked."""
    return {str(p.relative_to(out)): _STAMP.sub(" on (time)", p.read_text())
            for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[dict[str, str], float]:
    """The pages a finished run writes, and how long the run took."""
    out = tmp_path_factory.mktemp("reference")
    start = time.perf_counter()
    done = subprocess.run(_command(out), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    pages = _pages(out)
    assert sorted(pages) == sorted(f"derivations/{p}.md" for p in PAGES)
    return pages, time.perf_counter() - start


def _old_folder(out: Path, names) -> None:
    for name in names:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(OLD)


def _assert_old_or_new(out: Path, new: dict[str, str]) -> int:
    """Every page is the old or the new one, nothing else is visible; how many are new."""
    visible = {k: v for k, v in _pages(out).items() if not Path(k).name.startswith(".")}
    assert sorted(visible) == sorted(new)
    for name, text in visible.items():
        assert text in (OLD, new[name]), f"{name} is neither the old page nor the new one"
    return sum(text != OLD for text in visible.values())


def _kill_when(process: subprocess.Popen, ready) -> None:
    while process.poll() is None and not ready():
        time.sleep(0.002)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)


def test_a_report_killed_at_random_times_leaves_every_page_old_or_new(reference, tmp_path):
    new, seconds = reference
    rng = random.Random(20240601)
    for k in range(KILLS):
        out = tmp_path / f"kill{k}"
        _old_folder(out, new)
        deadline = time.perf_counter() + rng.uniform(0.2, 1.1) * seconds
        process = subprocess.Popen(_command(out), cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        _kill_when(process, lambda: time.perf_counter() > deadline)
        _assert_old_or_new(out, new)


def test_a_report_killed_while_it_writes_leaves_every_page_old_or_new(reference, tmp_path):
    """Killed as soon as the first new page appears: the others are still old or already new, whole."""
    new, _ = reference
    out = tmp_path / "out"
    _old_folder(out, new)
    first = out / sorted(new)[0]
    process = subprocess.Popen(_command(out), cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _kill_when(process, lambda: first.read_text() != OLD)
    assert _assert_old_or_new(out, new) >= 1
    # the next report removes what the killed one left (temporary files) and writes every page
    done = subprocess.run(_command(out), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _pages(out) == new


def test_an_interrupted_write_keeps_the_old_page(tmp_path, monkeypatch):
    page = tmp_path / "derivations" / "x.md"
    page.parent.mkdir()
    page.write_text(OLD)

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(report.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        report.atomic_write(page, b"the new page, never seen whole")
    assert page.read_text() == OLD
    assert [p.name for p in page.parent.iterdir()] == ["x.md"]  # the temporary file removed too


def test_a_second_report_into_a_locked_folder_is_refused_in_one_line(reference, tmp_path, capsys):
    """The CLI's entry point in this process: ``flock`` refuses a second descriptor of the folder even in
    the process that holds it (across processes: the two-reports and killed-holder tests)."""
    new, _ = reference
    out = tmp_path / "out"
    _old_folder(out, new)
    with report.locked(out):
        code = main(_arguments(out))
    printed = capsys.readouterr()
    assert code == 2 and printed.out == ""
    assert len(printed.err.strip().splitlines()) == 1 and "another report is writing to" in printed.err
    assert all(text == OLD for text in _pages(out).values())


def test_two_reports_at_once_never_mix_pages(reference, tmp_path):
    new, _ = reference
    out = tmp_path / "out"
    _old_folder(out, new)
    runs = [subprocess.Popen(_command(out), cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    codes = sorted(r.wait(timeout=300) for r in runs)
    assert codes in ([0, 0], [0, 2])  # one waits for nothing: it is refused, or ran after the other
    assert _pages(out) == new


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from checks.app.report import locked\n"
                               f"with locked(Path({str(tmp_path)!r})):\n    print('held', flush=True); time.sleep(60)"],
                              cwd=ROOT, env=_env(), stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(report.FolderBusy):
        with report.locked(tmp_path):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)
    with report.locked(tmp_path):
        pass


def test_a_damaged_cache_entry_is_rebuilt_by_the_cli(tmp_path):
    env = _env() | {config.CACHE: str(tmp_path)}
    show = [sys.executable, "-m", "checks.app.cli", "show", "ddpm.one_step"]
    first = subprocess.run(show, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    entries = [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size > 0]
    assert entries
    for entry in entries:  # every stored file cut in half
        entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    again = subprocess.run(show, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
