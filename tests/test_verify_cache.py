"""Verdicts of ``verify`` kept on disk: a repeated claim prints what it printed, exits as it exited,
imports no SymPy, and still passes the whitelist first; the key follows the derivation and the
checker; bad entries are rewritten; usage errors are never stored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from checks.app.cli import main
from derivations.core import cache, claim_cache, claim_syntax, claims, config
from derivations.core.claim_cache import Entry, Request

ROOT = Path(__file__).resolve().parents[1]

EQUIVALENT = ("ddpm.posterior", "var = (1 - alpha_bar_prev)/(1 - alpha_bar_t)*beta_t")
NOT_EQUIVALENT = ("ddpm.posterior", "coef_x0 = sqrt(alpha_bar_t)*beta_t/(1 - alpha_bar_t)")
CASES = {
    "equivalent": ["verify", *EQUIVALENT],
    "not equivalent": ["verify", *NOT_EQUIVALENT],
    "assumption": ["verify", "gaussian.kl", "kl = (mean_q - mean_p)**2/var_q", "--assume", "var_p = var_q"],
    "latex": ["verify", "--latex", "ddpm.marginal", r"std = \sqrt{1 - \bar{\alpha}_{t}}"],
}


@pytest.fixture
def proofs(monkeypatch):
    """Counts the claims proved afresh (by the CLI, one claim or a file)."""
    calls = []
    prove = claims.verdict_for

    def counted(*args, **kwargs):
        calls.append(args[:2])
        return prove(*args, **kwargs)

    monkeypatch.setattr(claims, "verdict_for", counted)
    return calls


def run(argv, capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def verdict_files(folder: Path) -> set[Path]:
    return set(folder.rglob("*.verdict-*.pickle"))


@pytest.mark.parametrize("case", list(CASES))
def test_a_repeated_claim_prints_what_it_printed_and_exits_alike(case, tmp_cache, proofs, capsys):
    argv = CASES[case]
    first = run(argv, capsys)
    assert first[0] in (0, 1) and first[2] == "" and len(proofs) == 1
    assert len(verdict_files(tmp_cache)) == 1
    second = run(argv, capsys)
    assert second == first and len(proofs) == 1  # read, not proved
    assert first[0] == (1 if case in ("not equivalent", "assumption") else 0)
    if case == "not equivalent":
        assert first[1].startswith("NOT EQUIVALENT") and "alpha_t=" in first[1] and "derived coef_x0" in first[1]
    if case == "assumption":
        assert "under var_p = var_q" in first[1]


def test_no_cache_neither_reads_nor_stores(tmp_cache, proofs, capsys):
    argv = CASES["equivalent"]
    fresh = run([*argv, "--no-cache"], capsys)
    assert not verdict_files(tmp_cache) and len(proofs) == 1
    stored = run(argv, capsys)
    again = run([*argv, "--no-cache"], capsys)
    assert fresh == stored == again and len(proofs) == 3


def test_surrounding_whitespace_is_the_only_normalisation(tmp_cache):
    derivation_key = cache.key("gaussian.kl")
    base = Request("gaussian.kl", "kl = 0", ("var_p = var_q", "mean_p = mean_q"))
    same = Request("gaussian.kl", "  kl = 0\t", (" var_p = var_q", "mean_p = mean_q "))
    digest = claim_cache.request_digest
    assert digest(base, derivation_key) == digest(same, derivation_key)
    for other in (Request("gaussian.kl", "kl = 0", ("mean_p = mean_q", "var_p = var_q")),  # order of assumptions
                  Request("gaussian.kl", "kl = 0 + 0", base.assume),
                  Request("gaussian.kl", "kl = 0", base.assume, latex=True)):
        assert digest(other, derivation_key) != digest(base, derivation_key)
    assert digest(base, "another key") != digest(base, derivation_key)


def test_an_edited_derivation_or_checker_is_checked_afresh(tmp_cache, proofs, capsys, monkeypatch):
    argv = CASES["not equivalent"]
    first = run(argv, capsys)
    key = cache.key("ddpm.posterior")
    monkeypatch.setattr(cache, "key", lambda derivation_id: f"{key}-edited")  # the derivation's sources changed
    assert run(argv, capsys) == first and len(proofs) == 2
    monkeypatch.setattr(claim_cache, "checker_digest", lambda: "an edited checker")
    assert run(argv, capsys) == first and len(proofs) == 3
    assert len(verdict_files(tmp_cache)) == 3


def test_a_truncated_or_corrupt_entry_is_checked_afresh_and_rewritten(tmp_cache, proofs, capsys):
    argv = CASES["not equivalent"]
    first = run(argv, capsys)
    (entry,) = verdict_files(tmp_cache)
    whole = entry.read_bytes()
    for damaged in (whole[: len(whole) // 2], whole[:-1] + bytes([whole[-1] ^ 1]), b"", b"not a cache entry"):
        entry.write_bytes(damaged)
        proved = len(proofs)
        assert run(argv, capsys) == first and len(proofs) == proved + 1
        assert isinstance(cache.read(entry), Entry)
    assert not list(tmp_cache.rglob("*.tmp"))  # the rewrite left no temporary file


def test_an_entry_of_another_type_is_a_miss(tmp_cache, proofs, capsys):
    argv = CASES["equivalent"]
    first = run(argv, capsys)
    (entry,) = verdict_files(tmp_cache)
    cache.write(entry, {"printed": "EQUIVALENT (tier: exact)"})
    assert run(argv, capsys) == first and len(proofs) == 2


HOSTILE = [
    "var = (1 - alpha_bar_prev)/(1 - alpha_bar_t)*beta_t.__class__",
    "var = __import__('os').system('true')",
    "var = (1 - alpha_bar_prev)/(1 - alpha_bar_t)*beta_t; import os",
    "var = (1 - alpha_bar_prev)/(1 - alpha_bar_t)*sigma_tw",
    "var = (1 - alpha_bar_prev)/(1 - alpha_bar_t)*beta_t ^ 2",
    "var = " + "1" * 300,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_formula_is_refused_even_with_a_verdict_stored_under_its_text(text, tmp_cache, capsys, monkeypatch):
    assert run(CASES["equivalent"], capsys)[0] == 0  # a verdict for a similar text, and the vocabulary, stored
    printed = "EQUIVALENT (tier: exact)"
    planted = Entry(claim_syntax.Outcome("ddpm.posterior", "var", True, "exact"), printed)
    request = Request("ddpm.posterior", text)
    assert cache.write(claim_cache.verdict_path(request, cache.key("ddpm.posterior")), planted)

    def refuse(*args, **kwargs):
        raise AssertionError("a hostile formula reached SymPy")

    monkeypatch.setattr(claims, "verify", refuse)  # the whitelist refuses it before anything else
    code, out, err = run(["verify", "ddpm.posterior", text], capsys)
    assert code == 2 and out == "" and err.startswith("diffverify: error: ") and err.count("\n") == 1


def test_a_usage_error_is_never_stored(tmp_cache, capsys):
    assert run(CASES["equivalent"], capsys)[0] == 0
    stored = verdict_files(tmp_cache)
    for argv in (["verify", "ddpm.posterior", "var = beta_t**17"],  # refused by a bound, after the whitelist
                 ["verify", "ddpm.posterior", "var = 1/(beta_t - beta_t)"],
                 ["verify", "gaussian.kl", "kl = 0", "--assume", "var_p = -var_q"],
                 ["verify", "ddpm.posterior", "var = x_t ^ 2"]):
        assert run(argv, capsys)[0] == 2
        assert run(argv, capsys)[0] == 2
    assert verdict_files(tmp_cache) == stored


def test_a_claims_file_reads_each_row_from_the_cache(tmp_cache, proofs, capsys, tmp_path):
    path = tmp_path / "claims.tsv"
    path.write_text("ddpm.posterior\tvar = beta_tilde_t\n"
                    f"{NOT_EQUIVALENT[0]}\t{NOT_EQUIVALENT[1]}\n"
                    "gaussian.kl\tkl = (mean_q - mean_p)**2/(2*var_q)\tvar_p = var_q\n", encoding="utf-8")
    first = run(["verify", "--file", str(path)], capsys)
    assert first[0] == 1 and len(proofs) == 3
    assert run(["verify", "--file", str(path)], capsys) == first and len(proofs) == 3
    # a row the single-claim form checked is answered from the cache too, and a new row is proved
    path.write_text(f"{EQUIVALENT[0]}\t{EQUIVALENT[1]}\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    run(["verify", *EQUIVALENT], capsys)
    proved = len(proofs)
    table = run(["verify", "--file", str(path)], capsys)
    assert table[0] == 1 and len(proofs) == proved and "4 claims: 3 equivalent, 1 not equivalent" in table[1]
    # a bad row after cached ones: one usage error naming its line, nothing printed
    path.write_text(path.read_text(encoding="utf-8") + "ddpm.posterior\tvar = __import__('os')\n", encoding="utf-8")
    code, out, err = run(["verify", "--file", str(path)], capsys)
    assert code == 2 and out == "" and f"{path}:5: " in err and err.count("\n") == 1


# Refused by the whitelist, about the derivation of each case (whose vocabulary the first run stored).
REFUSED = {"not equivalent": ["verify", "ddpm.posterior", "var = beta_t.__class__"],
           "latex": ["verify", "--latex", "ddpm.marginal", r"std = \input{/etc/passwd}"]}


def _in_a_process(argv: list[str], cache_folder: Path) -> subprocess.CompletedProcess:
    code = (f"import sys; from checks.app.cli import main; code = main({argv!r}); "
            "print('IMPORTED', *sorted(m for m in ('sympy', 'mpmath') if m in sys.modules)); sys.exit(code)")
    env = dict(os.environ, **{config.CACHE: str(cache_folder)})
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("case", ["not equivalent", "latex"])
def test_a_repeated_claim_imports_no_sympy(case, tmp_cache):
    argv = CASES[case]
    cache.key("ddpm.posterior")  # the catalog, written here: the processes then import one family each
    first = _in_a_process(argv, tmp_cache)
    assert first.stdout.rpartition("IMPORTED")[2].split() == ["mpmath", "sympy"], first.stderr
    second = _in_a_process(argv, tmp_cache)
    assert second.returncode == first.returncode and second.stderr == first.stderr == ""
    assert second.stdout.rpartition("IMPORTED")[0] == first.stdout.rpartition("IMPORTED")[0]
    assert second.stdout.rpartition("IMPORTED")[2].split() == []
    hostile = _in_a_process(REFUSED[case], tmp_cache)
    assert hostile.returncode == 2 and hostile.stdout.rpartition("IMPORTED")[2].split() == []  # refused before SymPy


def test_the_whitelist_names_the_functions_and_constants_the_builder_has():
    assert tuple(claims.FUNCTIONS) == claim_syntax.FUNCTION_NAMES
    assert tuple(claims.CONSTANTS) == claim_syntax.CONSTANT_NAMES
    assert claims.ClaimError is claim_syntax.ClaimError
