"""Every subcommand refuses bad options with one line on stderr and exit code 2, never a traceback.

The table below has bad inputs for each registered command; the options several commands share
(``--samples``, ``--device``) get theirs from :data:`SHARED`, added to every command whose parser
has the option, so a new command inherits them. A test requires the table to name every command.
The CLI runs in-process (``main(argv)``). Options are validated while the arguments are parsed
(``checks.app.options``) and a formula by ``verify``'s whitelist parser, so no case reaches a
simulation or a file write.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch

from checks.app import plugins
from checks.app.cli import main

# Placeholders, filled by the `files` fixture: {out} a folder that does not exist yet (a slip
# through validation would be written there, never into reports/), {file} a regular file, and
# bad eigenvalue files.
BAD_INPUTS: dict[str, list[list[str]]] = {
    "check": [["no.such.id"], ["ddpm.posteriro"], ["ddpm.posterior", "no.such.id"], ["--seed", "x"], ["--bogus"]],
    "list": [["--bogus"], ["posterior", "extra"]],
    "report": [["--out", "{file}"], ["--out", "{file}/below"], ["--no-checks=yes"], ["--study", "no_such_study"],
               ["--study", "reliability", "--only", "ddpm.posterior"]],
    "samplers": [["ddmi"], ["pf_euler", "no_such_sampler"], ["--check=1"]],
    "show": [[], ["no.such.id"], ["ddpm.posterior", "extra"]],
    "build": [["no.such.id"], ["--jobs", "0"], ["--jobs", "two"]],
    "verify": [[], ["ddpm.posterior"], ["no.such.id", "var = beta_t"], ["ddpm.posterior", "var = __import__('os')"],
               ["ddpm.posterior", "variance = beta_t"], ["ddpm.posterior", "var = beta_t +"]],
    "w2-table": [[], ["--eigenvalues"], ["--eigenvalues", "cifar1"], ["--eigenvalues", "{missing}"],
                 ["--eigenvalues", "{corrupt}"], ["--eigenvalues", "{truncated}"], ["--eigenvalues", "{matrix}"],
                 ["--eigenvalues", "{negative}"], ["--eigenvalues", "{nan}"], ["--eigenvalues", "{words}"],
                 ["--eigenvalues", "{empty}"], ["--eigenvalues", "{archive}"], ["--eigenvalues", "{folder}"],
                 ["--eigenvalues", "cifar10", "--format", "xml"], ["--eigenvalues", "cifar10", "--backend", "gpu"]],
    "conform": [[], ["k-diffusion", "--grid", "vp"], ["diffusers", "--steps", "0"], ["diffusers", "--steps", "seven"],
                ["diffusers", "--eta", "2"], ["diffusers", "--scheduler", "Euler"], ["diffusers", "--jobs", "0"]],
}

_NO_CUDA = [] if torch.cuda.is_available() else [["--device", "cuda"], ["--device", "cuda:0"]]
SHARED: dict[str, list[list[str]]] = {
    "--samples": [["--samples", "500"], ["--samples", "999"], ["--samples", "0"], ["--samples", "-5"],
                  ["--samples", "many"], ["--samples", "1e6"], ["--samples"]],
    "--device": [["--device", "tpu"], ["--device", "mps"], ["--device", ""], ["--device", "cuda:99"],
                 ["--device", "cuda:x"], *_NO_CUDA],
}
# Valid arguments put before every case of a command, so that if validation ever let one through,
# the command would stay cheap and harmless (a report into a scratch folder, symbolic pages only;
# one sampler). A later option overrides them (argparse keeps the last --out).
HARMLESS_PREFIX: dict[str, list[str]] = {"report": ["--out", "{out}", "--no-checks"], "samplers": ["pf_euler"]}


def _has_option(command: str, option: str) -> bool:
    parser = argparse.ArgumentParser(prog=command)
    plugins.commands()[command].add_arguments(parser)
    return option in parser.format_usage().replace("[", " ").replace("]", " ").split()


def _cases() -> list:
    cases = []
    for command, bad in sorted(BAD_INPUTS.items()):
        shared = [case for option, cases_ in SHARED.items() if _has_option(command, option) for case in cases_]
        for args in bad + shared:
            prefix = HARMLESS_PREFIX.get(command, [])
            cases.append(pytest.param([command, *prefix, *args], id=" ".join([command, *args]) or command))
    return cases


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("bad_input")
    paths = {name: folder / name for name in ("corrupt.npy", "truncated.npy", "matrix.npy", "negative.npy",
                                              "nan.npy", "words.txt", "empty.txt", "archive.npy", "file.txt")}
    paths["corrupt.npy"].write_text("not an array")
    np.save(paths["truncated.npy"], np.arange(100.0))
    paths["truncated.npy"].write_bytes(paths["truncated.npy"].read_bytes()[:200])
    np.save(paths["matrix.npy"], np.ones((2, 2)))
    np.save(paths["negative.npy"], np.array([1.0, -0.5]))
    np.save(paths["nan.npy"], np.array([1.0, np.nan]))
    paths["words.txt"].write_text("one\ntwo\n")
    paths["empty.txt"].write_text("")
    with open(paths["archive.npy"], "wb") as f:  # an .npz archive under a .npy name
        np.savez(f, a=np.ones(3))
    paths["file.txt"].write_text("a file, not a folder\n")
    names = {Path(name).stem: str(path) for name, path in paths.items()}
    return names | {"missing": str(folder / "missing.npy"), "folder": str(folder),
                    "out": str(folder / "out")}


def test_the_table_covers_every_registered_command():
    registered = set(plugins.commands())
    assert set(BAD_INPUTS) == registered, f"bad inputs missing for {registered - set(BAD_INPUTS)}"
    assert all(BAD_INPUTS[command] for command in registered)


def test_shared_options_are_validated_for_every_command_that_has_them():
    """Each command with --samples or --device gets the shared bad inputs (at least one command has each)."""
    for option in SHARED:
        assert any(_has_option(command, option) for command in plugins.commands()), option


@pytest.mark.filterwarnings("error")  # a warning would be a second line on stderr
@pytest.mark.parametrize("argv", _cases())
def test_bad_input_is_one_line_on_stderr_and_exit_2(argv, files, capsys):
    argv = [arg.format(**files) for arg in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.err.startswith("diffverify: error: ") and captured.err.count("\n") == 1, captured.err
    assert captured.out == ""  # nothing printed, nothing half-done
    assert not Path(files["out"]).exists()  # and nothing written


def test_unknown_spectrum_names_the_shipped_ones(capsys):
    from checks.exact.data import SPECTRA

    assert main(["w2-table", "--eigenvalues", "cifar1"]) == 2
    err = capsys.readouterr().err
    assert all(name in err for name in SPECTRA)


def test_sample_size_floor_is_the_statistical_rule(capsys):
    from checks.core.stats import MIN_SAMPLES

    assert main(["samplers", "pf_euler", "--check", "--samples", str(MIN_SAMPLES - 1)]) == 2
    assert str(MIN_SAMPLES) in capsys.readouterr().err
