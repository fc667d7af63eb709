"""Fuzzing with Hypothesis: ``verify`` on formulas drawn from the notation's grammar, hostile input,
every CLI option with bad values, and ``w2-table`` on bad eigenvalue files.

* Equivalent rewrites of a derived result (a factor X/X, a term X - X, reordered factors, the
  root of a square, exp of a log) are accepted; perturbations (a relative change of 1 %, an extra
  monomial) are rejected with a counterexample point; any formula of the grammar gives a verdict
  or a one-line :class:`~derivations.core.claims.ClaimError`, never another exception.
* Hostile or huge text (deep nesting, a million digits, ``__import__``, lambdas, attributes,
  towers of exponents) is refused by the CLI with exit code 2 and one line, within
  :data:`CPU_SECONDS` of CPU time and :data:`MEMORY_BYTES` of extra memory; one subprocess runs
  the worst of them under an address-space limit.
* Every option of every command, given values it must refuse, exits 2 with one line.
* ``w2-table --eigenvalues FILE`` with NaN, infinite, negative, empty, huge or malformed content
  exits 2 with one line.

``max_examples`` is modest so the file runs in well under a minute; ``benchmarks/fuzz_long.py``
runs the same properties with many more examples and records the counts.
"""

from __future__ import annotations

import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from checks.app.cli import main
from derivations.core import claims

ROOT = Path(__file__).resolve().parents[1]
DERIVATION = "ddpm.posterior"
QUANTITY = "var"
DERIVED = "(1 - alpha_bar_prev)/(1 - alpha_bar_t)*beta_t"
SYMBOLS = ("alpha_t", "alpha_bar_t", "alpha_bar_prev", "beta_t")
CPU_SECONDS = 2.0
MEMORY_BYTES = 1 << 30
# Examples per property; benchmarks/fuzz_long.py multiplies them (FUZZ_SCALE).
SCALE = int(os.environ.get("FUZZ_EXAMPLES_SCALE", "1"))


def _settings(examples: int):
    return settings(max_examples=examples * SCALE, deadline=None, derandomize=SCALE == 1,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


# --- the grammar: numbers, the context's names, + - * / **, unary minus, the whitelisted functions ---

_leaf = st.one_of(st.sampled_from(SYMBOLS), st.integers(1, 9).map(str),
                  st.sampled_from(["1/2", "3/7", "0.25", "pi"]))


def _node(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    power = st.tuples(children, st.integers(1, 3)).map(lambda t: f"({t[0]})**{t[1]}")
    # Division and the functions on values kept positive, so a grammar formula is defined everywhere.
    divided = st.tuples(children, children).map(lambda t: f"({t[0]})/(1 + ({t[1]})**2)")
    function = st.tuples(st.sampled_from(["exp", "sqrt", "log", "cosh", "atan"]), children).map(
        lambda t: f"{t[0]}(1 + ({t[1]})**2)" if t[0] in ("sqrt", "log") else f"{t[0]}({t[1]})")
    return st.one_of(binary, power, divided, function, children.map(lambda c: f"-({c})"))


formulas = st.recursive(_leaf, _node, max_leaves=6)
positive = formulas.map(lambda f: f"(2 + ({f})**2)")


def _verdict(text: str) -> claims.Verdict:
    return claims.verify(DERIVATION, f"{QUANTITY} = {text}")


@st.composite
def equivalent_rewrites(draw) -> str:
    x = draw(positive)
    rewrite = draw(st.sampled_from(["ratio", "difference", "order", "root", "log"]))
    return {"ratio": f"({DERIVED})*{x}/{x}", "difference": f"({DERIVED}) + {x} - {x}",
            "order": "beta_t/(1 - alpha_bar_t)*(1 - alpha_bar_prev)", "root": f"sqrt(({DERIVED})**2)",
            "log": f"exp(log({DERIVED}))"}[rewrite]


@st.composite
def perturbations(draw) -> str:
    if draw(st.booleans()):
        change = draw(st.sampled_from(["1/100", "-1/100", "1/20", "3/1000"]))
        return f"({DERIVED})*(1 + {change})"
    coefficient = draw(st.sampled_from(["1/10", "-1/5", "2", "-3"]))
    return f"({DERIVED}) + {coefficient}*{draw(st.sampled_from(SYMBOLS))}**{draw(st.integers(1, 3))}"


@_settings(8)
@given(equivalent_rewrites())
def test_equivalent_rewrites_are_accepted(text):
    verdict = _verdict(text)
    assert verdict.equivalent, (text, verdict.report())


@_settings(8)
@given(perturbations())
def test_perturbations_are_rejected_with_a_counterexample(text):
    verdict = _verdict(text)
    assert not verdict.equivalent, text
    assert verdict.counterexample and verdict.derived_value != verdict.claimed_value


@_settings(12)
@given(formulas)
def test_any_grammar_formula_gets_a_verdict_or_one_line(text):
    try:
        verdict = _verdict(text)
    except claims.ClaimError as error:
        assert "\n" not in str(error)
    else:
        assert isinstance(verdict.equivalent, bool)


# --- hostile and huge input through the CLI ---

# Each kind of hostile text, from its size n, and the least n at which it is hostile (below, some
# kinds are legitimate formulas: exp(beta_t), a sum of 50 terms, 1e50).
HOSTILE = {
    "nesting": (lambda n: "(" * n + "beta_t" + ")" * n, 3_000),
    "unary": (lambda n: "-" * n + "beta_t", 3_000),
    "calls": (lambda n: "exp(" * n + "beta_t" + ")" * n, 7),
    "digits": (lambda n: "1" * n, 201),
    "float digits": (lambda n: "0." + "3" * n, 201),
    "exponent": (lambda n: f"beta_t**(10**{n})", 2),
    "tower": (lambda n: "**".join(["9"] * (3 + n % 5)), 1),
    "big power": (lambda n: f"(alpha_t + beta_t + alpha_bar_t)**{n}", 17),
    "product of sums": (lambda n: "*".join(f"(alpha_t + {k}*beta_t + alpha_bar_t)**16" for k in range(3 + n % 199)), 1),
    "long sum": (lambda n: "+".join(["beta_t"] * n), 20_000),
    "import": (lambda n: "__import__('os').system('true')", 1),
    "lambda": (lambda n: "(lambda: 1)()", 1),
    "attribute": (lambda n: "beta_t.__class__.__mro__", 1),
    "subscript": (lambda n: "beta_t[0]", 1),
    "comprehension": (lambda n: "[x for x in (1, 2)]", 1),
    "conditional": (lambda n: "beta_t if 1 else 2", 1),
    "string": (lambda n: "'a' * " + str(n), 1),
    "f-string": (lambda n: "f'{1}'", 1),
    "walrus": (lambda n: "(y := 1)", 1),
    "keyword call": (lambda n: "sqrt(x=beta_t)", 1),
    "bit op": (lambda n: "beta_t ^ 2", 1),
    "complex": (lambda n: f"{n}j", 1),
    "nul byte": (lambda n: "beta_t\x00", 1),
    "gamma of huge": (lambda n: f"gamma(10**{n})", 17),
    "overflow float": (lambda n: f"1e{n}", 309),
}


# Python literals that LaTeX reads otherwise: 1e400 is 1 times e times 400 there, a finite number.
PLAIN_ONLY = {"overflow float"}


def hostile(kind: str, n: int) -> str:
    return HOSTILE[kind][0](n)


SIZES = st.sampled_from([1, 7, 50, 400, 3_000, 100_000, 1_000_000])


def _refused_in_one_line(argv: list[str], capsys) -> tuple[float, int]:
    """Run the CLI in-process; assert exit 2 and one stderr line; return (CPU seconds, peak memory growth)."""
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.process_time()
    code = main(argv)
    cpu = time.process_time() - start
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak_before
    err = capsys.readouterr().err
    assert code == 2, (argv[-1][:80], err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("diffverify: error:"), err[:300]
    return cpu, growth


@_settings(30)
@given(st.sampled_from(sorted(HOSTILE)), SIZES, st.booleans())
def test_hostile_formulas_exit_2_in_one_line_quickly(capsys, kind, size, latex):
    if size < HOSTILE[kind][1] or (latex and kind in PLAIN_ONLY):
        return  # a legitimate formula at this size, or in LaTeX
    argv = ["verify", DERIVATION, f"{QUANTITY} = {hostile(kind, size)}"] + (["--latex"] if latex else [])
    cpu, growth = _refused_in_one_line(argv, capsys)
    assert cpu < CPU_SECONDS, (kind, size, cpu)
    assert growth < MEMORY_BYTES, (kind, size, growth)


def test_hostile_formulas_are_refused_under_a_memory_limit():
    """The worst inputs in a fresh process whose address space is capped: each exits 2 in one line."""
    worst = [hostile(k, 1_000_000 if k in ("digits", "nesting", "long sum") else 100_000)
             for k in ("digits", "nesting", "calls", "long sum", "exponent")]
    worst += [hostile("product of sums", 197)]
    worst += ["9**9**9**9**9", "(alpha_t + beta_t)**16**16"]
    script = ("import sys, resource\n"
              "resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))\n"
              "from checks.app.cli import main\n"
              "for text in sys.stdin.read().split('\\x1e'):\n"
              f"    code = main(['verify', '{DERIVATION}', '{QUANTITY} = ' + text])\n"
              "    print(code, flush=True)\n")
    env = os.environ | {"PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", script], input="\x1e".join(worst), capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)
    assert done.stdout.split() == ["2"] * len(worst), done.stderr[-2000:]
    assert len(done.stderr.strip().splitlines()) == len(worst)


# --- every option with values it must refuse ---

def _not_a_sample_size(text: str) -> bool:
    try:
        return int(text) < 1000
    except ValueError:
        return True


def _not_a_positive_int(text: str) -> bool:
    try:
        return int(text) < 1
    except ValueError:
        return True


def _not_an_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return True
    return False


def _not_a_step_count(text: str) -> bool:
    try:
        return not 1 <= int(text) <= 1000
    except ValueError:
        return True


def _not_a_number_in_unit_interval(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return True
    return not 0 <= value <= 1 or math.isnan(value)


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
# (command and valid arguments, option, predicate that keeps only values the option must refuse)
OPTIONS = [
    (["check", "ddpm.posterior"], "--samples", _not_a_sample_size),
    (["check", "ddpm.posterior"], "--device", lambda t: t.strip() not in ("auto", "cpu")),
    (["check", "ddpm.posterior"], "--seed", _not_an_int),
    (["samplers", "pf_euler"], "--samples", _not_a_sample_size),
    (["report", "--no-checks", "--out", "{out}"], "--jobs", _not_a_positive_int),
    (["report", "--no-checks", "--out", "{out}"], "--only", lambda t: True),
    (["build"], "--jobs", _not_a_positive_int),
    (["w2-table", "--eigenvalues", "cifar10"], "--format", lambda t: t not in ("markdown", "csv")),
    (["w2-table", "--eigenvalues", "cifar10"], "--backend", lambda t: t not in ("auto", "c", "numpy", "torch", "numba")),
    (["conform", "diffusers"], "--steps", _not_a_step_count),
    (["conform", "diffusers"], "--eta", _not_a_number_in_unit_interval),
    (["verify"], "--list-symbols", lambda t: True),
    (["show"], "", lambda t: True),
]


@_settings(40)
@given(st.sampled_from(range(len(OPTIONS))), _text)
def test_every_option_refuses_bad_values_in_one_line(capsys, tmp_path_factory, which, value):
    prefix, option, refused = OPTIONS[which]
    if not refused(value) or value.startswith("-"):
        return  # a value the option accepts, or one argparse reads as another option
    if option in ("--only", "--list-symbols", "") and value.strip() in _registered_ids():
        return
    out = str(tmp_path_factory.mktemp("out") / "never")
    argv = [a.replace("{out}", out) for a in prefix] + ([option, value] if option else [value])
    _refused_in_one_line(argv, capsys)


_IDS: set[str] = set()


def _registered_ids() -> set[str]:
    if not _IDS:
        import derivations

        _IDS.update(d.id for d in derivations.all())
    return _IDS


# --- w2-table on bad eigenvalue files ---

_bad_values = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=30).filter(
        lambda v: not all(math.isfinite(x) and x >= 0 for x in v)),
    st.just([]),
    st.lists(st.floats(-1e300, -1e-300), min_size=1, max_size=5),
)


@_settings(25)
@given(_bad_values, st.sampled_from(["npy", "txt"]))
def test_w2_table_refuses_bad_eigenvalues_in_one_line(capsys, tmp_path_factory, values, kind):
    path = tmp_path_factory.mktemp("spectrum") / f"eigenvalues.{kind}"
    if kind == "npy":
        np.save(path, np.array(values, dtype=np.float64))
    else:
        path.write_text("\n".join(repr(v) for v in values))
    _refused_in_one_line(["w2-table", "--eigenvalues", str(path)], capsys)


MALFORMED = {
    "words": "0.5\nhalf\n", "two columns": "1 2\n3\n", "binary": "\x93NUMPY\x01\x00garbage", "huge": "1e999\n",
    "hex": "0x10\n", "matrix npy": None, "object npy": None, "complex npy": None, "huge npy": None, "empty npy": None,
}


@_settings(20)
@given(st.sampled_from(sorted(MALFORMED)))
def test_w2_table_refuses_malformed_files_in_one_line(capsys, tmp_path_factory, name):
    folder = tmp_path_factory.mktemp("malformed")
    if name.endswith("npy"):
        path = folder / "spectrum.npy"
        arrays = {"matrix npy": np.ones((3, 3)), "complex npy": np.array([1 + 1j, 2]),
                  "huge npy": np.array([1e308, np.inf]), "empty npy": np.zeros(0)}
        if name == "object npy":
            path.write_bytes(b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"
                             + b" " * 50 + b"\n" + b"\x00" * 16)
        else:
            np.save(path, arrays[name])
    else:
        path = folder / "spectrum.txt"
        path.write_text(MALFORMED[name], errors="surrogateescape")
    _refused_in_one_line(["w2-table", "--eigenvalues", str(path)], capsys)
