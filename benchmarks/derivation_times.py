"""How long each derivation takes: build (SymPy operations), proofs (every step and claim), wrong variants.

    python3 benchmarks/derivation_times.py            # every id, a markdown table
    python3 benchmarks/derivation_times.py fp.        # ids starting with a prefix

Runs in one process in registry order, so a builder shared by several ids is counted at
its first use; the per-relation tiers show which substitutions SymPy simplified exactly
and which stayed at the numeric tier. The derivation cache is bypassed: every body and
proof is computed here.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import derivations  # noqa: E402
from derivations.core import cache  # noqa: E402
from derivations.core.proof import Tier, prove  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    prefix = argv[0] if argv else ""
    selected = [d for d in derivations.all() if d.id.startswith(prefix)]
    if not selected:
        print(f"no derivation id starts with {prefix!r}", file=sys.stderr)
        return 2
    print("| id | declared tier | reached | build s | proofs s | wrong variants s | relations exact / numeric |")
    print("|---|---|---|---|---|---|---|")
    with cache.bypassed():
        total = _time_each(selected)
    print(f"\n{len(selected)} derivations in {total:.1f} s")
    return 0


def _time_each(selected: list) -> float:
    total = 0.0
    for d in selected:
        start = time.perf_counter()
        body = d.body
        built = time.perf_counter()
        verdicts = d.verdicts
        proved = time.perf_counter()
        rejected = all(prove(d.result(w.result), w.expr).tier is Tier.FAILED for w in body.wrong_variants)
        done = time.perf_counter()
        exact = sum(v.proof.tier.value == "exact" for v in verdicts)
        numeric = sum(v.proof.tier.value == "numeric" for v in verdicts)
        total += done - start
        flag = "" if rejected else " (a wrong variant holds!)"
        print(f"| `{d.id}` | {d.declared_tier.value} | {d.tier.value}{flag} | {built - start:.2f} | "
              f"{proved - built:.2f} | {done - proved:.2f} | {exact} / {numeric} |", flush=True)
    return total


if __name__ == "__main__":
    sys.exit(main())
