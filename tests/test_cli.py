"""The console script: commands, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from checks.app.cli import main

from tests.conftest import DERIVATION_IDS


def run_cli(*args: str) -> subprocess.CompletedProcess:
    # The same thread count as the test processes (conftest), so reductions agree to the bit.
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "checks.app.cli", *args], capture_output=True, text=True, timeout=600,
                          env=env)


def test_list_shows_every_id(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for derivation_id in DERIVATION_IDS:
        assert derivation_id in out


def test_list_does_not_import_torch_or_derive():
    code = ("import sys; from checks.app.cli import main; main(['list']); "
            "import derivations; assert 'torch' not in sys.modules; "
            "assert not any('body' in vars(d) for d in derivations.all())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_show_prints_the_posterior(capsys):
    assert main(["show", "ddpm.posterior"]) == 0
    out = capsys.readouterr().out
    assert "coef_x0" in out and "coef_xt" in out and "var" in out
    assert r"\bar\alpha_{t-1}" in out  # LaTeX in the notation's symbols
    assert "ddpm.forward_chain.posterior" in out


@pytest.mark.parametrize("args", [["show", "no.such.id"], ["check", "no.such.id"], ["frobnicate"],
                                  ["check", "ddpm.marginal", "--samples", "10"],
                                  ["check", "ddpm.marginal", "--device", "tpu"], ["show"]])
def test_bad_input_is_one_line_on_stderr_and_exit_2(args, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("diffverify: error: ") and err.count("\n") == 1


def test_unknown_id_names_the_closest(capsys):
    assert main(["show", "ddpm.posteriro"]) == 2
    assert "ddpm.posterior" in capsys.readouterr().err


def test_console_exit_codes_in_a_subprocess():
    bad = run_cli("show", "no.such.id")
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.count("\n") == 1
    assert run_cli("--help").returncode == 0
    for command in ("list", "show", "check", "report", "w2-table"):
        assert run_cli(command, "--help").returncode == 0


def test_bad_options_end_before_any_command_runs_in_a_subprocess():
    """The console script's own path: exit 2, one line, no traceback (options are validated while parsing)."""
    for args in (["samplers", "pf_euler", "--check", "--samples", "500"], ["samplers", "--device", "cuda:99"],
                 ["w2-table", "--eigenvalues", "no_such_spectrum"]):
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stdout == "" and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, args


@pytest.mark.mc
def test_check_json_is_what_the_library_returns(capsys):
    """A subprocess (like an xdist worker) and this process get identical numbers: seeds come from ids."""
    import checks

    cli = run_cli("check", "ddpm.forward_chain.posterior", "--samples", "20000", "--device", "cpu", "--json")
    assert cli.returncode == 0, cli.stderr
    from_cli = json.loads(cli.stdout)[0]
    here = checks.run("ddpm.forward_chain.posterior", device="cpu", samples=20000).as_dict()
    for key in ("seed", "n_samples", "passed"):
        assert from_cli[key] == here[key]
    assert [s["estimate"] for s in from_cli["statistics"]] == [s["estimate"] for s in here["statistics"]]
