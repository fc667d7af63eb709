"""Why a mutant of ``benchmarks/mutants.py`` survives its tests, when it does (equivalent or out of reach),
and how a survivor of an earlier audit was killed (the selection it needed)."""

EXPLANATIONS: dict[str, str] = {}

# Survivors of the first audit, killed once their selection included what catches them.
KILLED_AFTER = {
    "tweedie.vp.no_sqrt": "survived its proofs: the VP gain enters the step and the equivalent through the same "
                          "variable, so the derivation of a wrong model is self-consistent; the Monte Carlo check "
                          "tweedie.vp_posterior, which simulates the real VP process, rejects it (added to its tests)",
    "score.reparam.no_sqrt": "timed out at the audit's 400 s on a loaded machine (SymPy simplifies the wrong "
                             "maps slowly; the unpatched selection takes about 45 s); run again with "
                             "--timeout 1650, its proof of score.reparameterizations fails after 253 s",
    "kernel.gain_not_squared": "timed out (400 s) with the whole fused table as its test: a patched generator "
                               "recompiles every kernel group; tests/test_w2_kernel_oracle.py (one small kernel "
                               "against a plain loop) was added and kills it and every other kernel mutant",
}


# Why a survivor of mutmut (``mutation_audit.py --tool``) survives, by mutmut's name for it: an equivalent
# mutant (no input tells it apart), or what a test would need to kill it. A name belongs to one state of
# its target's source; after an edit there, run the tool again and re-examine.
TOOL_EXPLANATIONS: dict[str, str] = {}
