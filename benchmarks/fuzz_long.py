"""A longer run of the fuzzing properties (tests/test_fuzz.py), with their example counts recorded.

Runs the file's tests with ``FUZZ_EXAMPLES_SCALE`` times their ``max_examples`` (random seeds,
not the derandomized ones of ``make test``), reads Hypothesis's statistics (examples per property
and phase) and writes ``benchmarks/results/fuzzing.json``: per property, the examples run, the
failing ones, and a note. Takes minutes at the default scale; not part of pytest.

Usage: python benchmarks/fuzz_long.py [--scale 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "fuzzing.json"
TEST_FILE = "tests/test_fuzz.py"

NOTES = {
    "test_equivalent_rewrites_are_accepted": "verify accepts a derived result rewritten (X/X, X - X, reordering, "
                                             "sqrt of a square, exp of a log; X from the grammar)",
    "test_perturbations_are_rejected_with_a_counterexample": "verify rejects the result changed by 0.3-5 % or an "
                                                             "extra monomial, with a counterexample point",
    "test_any_grammar_formula_gets_a_verdict_or_one_line": "random formulas of the notation's grammar: a verdict "
                                                          "or a one-line ClaimError, never another exception",
    "test_hostile_formulas_exit_2_in_one_line_quickly": "hostile or huge formulas (plain and --latex): exit 2, "
                                                        "one line, < 2 s CPU, < 1 GiB; sizes below a kind's "
                                                        "hostile size are skipped inside the example",
    "test_every_option_refuses_bad_values_in_one_line": "random text for every command's options (values "
                                                        "the option accepts are skipped): exit 2, one line",
    "test_w2_table_refuses_bad_eigenvalues_in_one_line": "NaN, infinite, negative and empty spectra (.npy and "
                                                         "text): exit 2, one line",
    "test_w2_table_refuses_malformed_files_in_one_line": "malformed files (words, ragged columns, binary, "
                                                         "1e999, matrices, complex, pickled): exit 2, one line",
}
_TEST = re.compile(r"^\S*::(test_\w+):\s*$")
_COUNTS = re.compile(r"(\d+) passing, (\d+) failing")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10, help="multiple of each property's max_examples")
    args = parser.parse_args(argv)
    env = os.environ | {"FUZZ_EXAMPLES_SCALE": str(args.scale), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                           "--hypothesis-show-statistics", TEST_FILE], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    counts: dict[str, list[int]] = {}
    current = None
    for line in done.stdout.splitlines():
        test = _TEST.match(line.strip())
        if test:
            current = test.group(1)
            counts.setdefault(current, [0, 0])
            continue
        found = _COUNTS.search(line)
        if found and current:
            counts[current][0] += int(found.group(1)) + int(found.group(2))
            counts[current][1] += int(found.group(2))
    (ROOT / "benchmarks" / "results" / "fuzz_long.log").write_text(done.stdout[-20000:])
    failed = set(re.findall(r"^FAILED \S*::(test_\w+)", done.stdout, re.M))
    properties = [{"name": name, "examples": n, "failures": bad or int(name in failed),
                   "note": NOTES.get(name, "")} for name, (n, bad) in counts.items()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"properties": properties, "scale": args.scale}, indent=1) + "\n")
    for p in properties:
        print(f"{p['name']:58s} {p['examples']:6d} examples, {p['failures']} failing")
    print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:])
    return 0 if done.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
