"""Why a mutant of ``benchmarks/mutants.py`` survives its tests, when it does (equivalent or out of reach)."""

EXPLANATIONS: dict[str, str] = {}
