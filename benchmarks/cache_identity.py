"""Every derivation's stored body and verdicts against a build made afresh (the tests compare one id per
family module; this runs the same comparison, ``tests/test_cache.py::compare_cached_and_fresh``, on every id).

    python benchmarks/cache_identity.py            # every id, with the time each fresh build took
    python benchmarks/cache_identity.py fp.        # ids starting with a prefix

Exit code 1 if any id differs (each failure is printed); the times are printed, never asserted.
"""

from __future__ import annotations

import resource
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import derivations  # noqa: E402

from tests.test_cache import compare_cached_and_fresh  # noqa: E402


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    prefix = argv[0] if argv else ""
    ids = [d.id for d in derivations.all() if d.id.startswith(prefix)]
    if not ids:
        print(f"no derivation id starts with {prefix!r}", file=sys.stderr)
        return 2
    failed = []
    print("| id | identical | cpu s |")
    print("|---|---|---|")
    for derivation_id in ids:
        start = _cpu()
        try:
            compare_cached_and_fresh(derivation_id)
            same = "yes"
        except AssertionError:
            same = "NO"
            failed.append(derivation_id)
            traceback.print_exc()
        print(f"| `{derivation_id}` | {same} | {_cpu() - start:.2f} |", flush=True)
    print(f"\n{len(ids) - len(failed)}/{len(ids)} identical" + (f"; differ: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
