"""The catalog of the suite's mathematics, stated claim by claim (``tests/data/math_catalog.tsv``).

Every entry of the design catalog has at least one claim, in the form the catalog writes, checked
against a derived quantity: the form is EQUIVALENT and a plausible misprint is NOT EQUIVALENT. The
entries that no quantity states yet are listed with the reason in :data:`NOT_STATED`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.app.cli import main
from checks.app.commands import verify as verify_command
from derivations.core import claims

CATALOG = Path(__file__).parent / "data" / "math_catalog.tsv"

# Every entry of the design catalog of the mathematics, in its order.
ENTRIES = (
    "gaussian.linear_bayes", "gaussian.kl", "gaussian.w2",
    "ddpm.marginal", "ddpm.posterior", "ve.marginal", "ve.posterior", "ddim.family",
    "elbo.decomposition", "elbo.prior_term", "elbo.weights", "elbo.vae_kl",
    "tweedie.first_order", "tweedie.second_order", "score.conditional", "score.dsm_equals_esm",
    "gaussian_and_mixture_data",
    "ou.moments", "sde.vp_ve_subvp", "ito.formula", "ito.isometry", "ito.lambda_integral", "ito.gbm",
    "ito.stratonovich",
    "fp.forward", "fp.reverse_sde", "fp.reverse_family", "langevin.stationary", "langevin.backward_family",
    "gauss_exact.backward", "gauss_exact.sde_beats_ode", "gauss_exact.samplers", "gauss_exact.w2_to_data",
    "gauss_exact.convergence_orders", "gauss_exact.reference_table",
)
NOT_STATED = {
    "gauss_exact.convergence_orders": "an order is the slope of a log-log fit of Monte Carlo-free errors over "
                                      "step sizes, not a closed form (checked by the sampler-order checks)",
    "gauss_exact.reference_table": "a table of numbers, not a formula (checked against the computed table)",
}


def _rows() -> list[dict[str, str]]:
    lines = [line.rstrip("\n") for line in CATALOG.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line.strip() and not line.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


ROWS = _rows()


def _params():
    return [pytest.param(row, id=f"{n:02d}-{row['id']}-{row['claim'].partition('=')[0].strip()}")
            for n, row in enumerate(ROWS, 1)]


def test_the_catalog_covers_every_entry():
    stated = {row["entry"] for row in ROWS}
    assert stated <= set(ENTRIES), stated - set(ENTRIES)
    assert stated.isdisjoint(NOT_STATED)
    assert stated | set(NOT_STATED) == set(ENTRIES), set(ENTRIES) - stated - set(NOT_STATED)
    assert all(len(row) == 6 for row in ROWS)


@pytest.mark.parametrize("row", _params())
def test_the_catalog_form_is_accepted_and_its_misprint_rejected(row):
    latex = row["format"] == "latex"
    assume = [a for a in row["assume"].split(";") if a.strip()]
    verdict = claims.verify(row["id"], row["claim"], assume=assume, latex=latex)
    assert verdict.equivalent, verdict.report()
    misprint = claims.verify(row["id"], row["misprint"], assume=assume, latex=latex)
    assert not misprint.equivalent and misprint.counterexample, row["misprint"]


HEADER = "id\tclaim\tassume\tformat\tlabel"


def _file_line(row: dict[str, str], claim: str) -> str:
    return f"{row['id']}\t{claim}\t{row['assume']}\t{row['format']}\t{row['entry']}"


# The claims-file path (header, columns, formats, assumptions, the table, exit codes) on the first row of
# each format and the first row with assumptions; every row's claim and misprint are proved one by one above.
RULES = {"plain": lambda r: r["format"] != "latex", "latex": lambda r: r["format"] == "latex",
         "assumptions": lambda r: bool(r["assume"])}


def _file_rows() -> list[dict[str, str]]:
    chosen: list[dict[str, str]] = []
    for rule in RULES.values():
        first = next(r for r in ROWS if rule(r))
        if first not in chosen:
            chosen.append(first)
    return chosen


FILE_ROWS = _file_rows()


def test_every_catalog_row_reads_as_a_claims_file_line(tmp_path):
    (tmp_path / "all.tsv").write_text("\n".join([HEADER, *(_file_line(r, r["claim"]) for r in ROWS)]) + "\n",
                                      encoding="utf-8")
    read = verify_command.read_claims(tmp_path / "all.tsv")
    assert [(r.derivation_id, r.claim.partition("=")[0].strip(), r.label) for r in read] == [
        (row["id"], row["claim"].partition("=")[0].strip(), row["entry"]) for row in ROWS]
    assert [len(r.assume) for r in read] == [len([a for a in row["assume"].split(";") if a.strip()])
                                             for row in ROWS]
    assert [r.request().latex for r in read] == [row["format"] == "latex" for row in ROWS]


def test_the_catalog_runs_as_a_claims_file(tmp_path, capsys):
    good = [_file_line(r, r["claim"]) for r in FILE_ROWS]
    bad = [_file_line(r, r["misprint"]) for r in FILE_ROWS]
    n = len(FILE_ROWS)
    (tmp_path / "good.tsv").write_text("\n".join([HEADER, *good]) + "\n", encoding="utf-8")
    assert main(["verify", "--file", str(tmp_path / "good.tsv")]) == 0
    out = capsys.readouterr().out
    assert f"{n} claims: {n} equivalent, 0 not equivalent" in out
    assert all(f"| {r['entry']} |" in out for r in FILE_ROWS)  # the label column
    (tmp_path / "mixed.tsv").write_text("\n".join([HEADER, *good, *bad]) + "\n", encoding="utf-8")
    assert main(["verify", "--file", str(tmp_path / "mixed.tsv")]) == 1
    out = capsys.readouterr().out
    assert f"{2 * n} claims: {n} equivalent, {n} not equivalent" in out
    assert out.count("**NOT EQUIVALENT**") == n
