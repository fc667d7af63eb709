"""Run every benchmark script in this folder, one after the other (``make bench``).

Each script times its subject against a baseline in the same process and
prints ratios; speed is never asserted in the test suite.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    sys.path.insert(0, str(HERE.parent))
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_"))
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as exit_:  # each script ends with sys.exit(main())
            if exit_.code not in (0, None):
                failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
