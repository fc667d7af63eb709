"""False alarms of the Monte Carlo checks over many seeds, against their stated probability.

Runs every selected check (default: the sampler checks, ``samplers.``) with
the derived closed forms under seed offsets 0..K-1 (``checks.run(...,
seed_offset=k)``). Each correct check fails with probability at most its
stated false-alarm probability, so the number of failures is at most Poisson
with mean sum(false_alarm) * K; the script prints the count, that mean and
the probability of seeing at least the count. Takes minutes; not part of pytest.

Usage: python benchmarks/false_alarm_rate.py [--offsets 200] [--first 0] [--prefix samplers.] [--contains .mixture]
       [--device auto]

A line per finished offset (its alarms and the running count) is printed as it goes, so a
sweep split over processes (``--first``) or stopped early still says how far it got.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import checks  # noqa: E402
from checks.core.progress import Progress  # noqa: E402


def poisson_tail(count: int, mean: float) -> float:
    """P(N >= count) for N ~ Poisson(mean)."""
    return 1.0 - sum(math.exp(-mean) * mean**k / math.factorial(k) for k in range(count))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offsets", type=int, default=200)
    parser.add_argument("--first", type=int, default=0, help="first seed offset (to split a sweep)")
    parser.add_argument("--prefix", default="samplers.")
    parser.add_argument("--contains", default="", help="keep only ids containing this text")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    selected = [c for c in checks.all() if c.id.startswith(args.prefix) and args.contains in c.id]
    if not selected:
        print(f"no check id starts with {args.prefix!r} and contains {args.contains!r}", file=sys.stderr)
        return 2
    bar = Progress(len(selected) * args.offsets, "false-alarm sweep")
    alarms: list[tuple[str, int, list[str]]] = []
    for offset in range(args.first, args.first + args.offsets):
        for chk in selected:
            result = checks.run(chk.id, device=args.device, seed_offset=offset)
            if not result.passed:
                alarms.append((chk.id, offset, [s.name for s in result.statistics if not s.passed]))
                print(f"  alarm: {chk.id} at offset {offset}: {', '.join(alarms[-1][2])}", flush=True)
            bar.advance(1)
        print(f"offset {offset}: {len(selected)} runs, false alarms so far {len(alarms)}", flush=True)
    expected = args.offsets * sum(c.false_alarm for c in selected)
    print(f"{len(selected)} checks x {args.offsets} seed offsets = {len(selected) * args.offsets} runs")
    print(f"false alarms: {len(alarms)}; expected at most {expected:.3g} "
          f"(P(count >= {len(alarms)}) = {poisson_tail(len(alarms), expected):.3g} under the stated probability)")
    for check_id, offset, names in alarms:
        print(f"  {check_id} at offset {offset}: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
