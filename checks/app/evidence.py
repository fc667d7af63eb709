"""Where the report lives and what ``diffverify list`` reads of it: the last run's check verdicts.

Apart from :mod:`checks.app.report` (which renders with SymPy), so that reading the verdicts
imports neither SymPy nor torch.
"""

from __future__ import annotations

import json
from pathlib import Path

EVIDENCE_FILE = "evidence.json"
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "reports"


def last_verdicts(out: Path = DEFAULT_OUT) -> dict[str, list[tuple[str, bool]]]:
    """Check verdicts of the last written report, by derivation id (for ``diffverify list``)."""
    try:
        evidence = json.loads((out / EVIDENCE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    by_derivation: dict[str, list[tuple[str, bool]]] = {}
    for check_id, result in evidence.items():
        for derivation_id in result.get("derivation_ids", []):
            by_derivation.setdefault(derivation_id, []).append((check_id, bool(result.get("passed"))))
    return by_derivation
