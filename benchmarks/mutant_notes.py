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
_BRACKET = ("Equivalent: the bracket's step only decides how many steps find a bracket; 60 halvings "
            "of it reach the same root to rounding")
_TIE = ("Equivalent in practice: it differs only where a tail equals the false-alarm probability exactly, "
        "a set of measure zero the bisection never lands on")
_CPU = ("Equivalent on the CPU, where the audit runs: the default device is the samples' device there; "
        "with samples on a GPU the tensor would be made on the CPU and the next operation with the "
        "samples' sums would raise a device mismatch")
_SAME_DTYPE = ("Equivalent: ``.to(None)`` returns the tensor unchanged, and every caller passes float64 "
               "predictions or reads them through ``float()``")
TOOL_EXPLANATIONS: dict[str, str] = {
    "checks.core.stats.x_calibrated_critical_value__mutmut_1": (
        "Equivalent: a default skewness matters only with a count, whose default of 0 returns the normal "
        "value before the shape is read; every caller passes all three"),
    "checks.core.stats.x_calibrated_critical_value__mutmut_2": (
        "Equivalent: as the default skewness, a default kurtosis is never read without a count"),
    "checks.core.stats.x_calibrated_critical_value__mutmut_8": (
        "Equivalent on the rule's domain: it differs only for a mean of one summand, and a check has at "
        "least MIN_SAMPLES (1000)"),
    "checks.core.stats.x_calibrated_critical_value__mutmut_17": _TIE,
    "checks.core.stats.x_calibrated_critical_value__mutmut_19": (
        "Equivalent: a bracket started one below z is stepped up past z by the loop that widens it (the "
        "tail there is above the target), and the bisection then finds the same root"),
    "checks.core.stats.x_calibrated_critical_value__mutmut_20": _BRACKET,
    "checks.core.stats.x_calibrated_critical_value__mutmut_29": _TIE,
    "checks.core.stats.x_calibrated_critical_value__mutmut_32": _BRACKET,
    "checks.core.stats.x_calibrated_critical_value__mutmut_34": (
        "Equivalent: a 61st halving moves the root by 2^-61 of the bracket, below double precision"),
    "checks.core.stats.x_calibrated_critical_value__mutmut_50": _TIE,
    "checks.core.stats.x\u01c1RunningMoments\u01c1update__mutmut_11": _CPU,
    "checks.core.stats.x\u01c1RunningMoments\u01c1update__mutmut_15": _CPU,
    "checks.core.stats.x\u01c1RunningMoments\u01c1update__mutmut_16": (
        "Equivalent: a fifth row of sums is allocated and never read (only the first four powers are summed)"),
    "checks.core.stats.x\u01c1RunningMoments\u01c1about__mutmut_9": _CPU,
    "checks.core.stats.x\u01c1RunningMoments\u01c1about__mutmut_12": _CPU,
    "checks.core.stats.x_proportion_estimates__mutmut_9": _SAME_DTYPE,
    "checks.core.stats.x_standard_normal_moment_estimates__mutmut_2": _SAME_DTYPE,
    "checks.core.stats.x_standard_normal_moment_estimates__mutmut_5": _SAME_DTYPE,
    "derivations.catalogue.schemes.ancestral.x_ancestral__mutmut_14": (
        "Equivalent in law: the noise is a centred normal draw, so subtracting it instead of adding it "
        "leaves every step's law, and so every check's statistic in distribution, unchanged (the numbers "
        "of one seed change, not their law)"),
    "checks.core.stats.x_loglog_slope__mutmut_23": (
        "Equivalent: the centred log step sizes sum to zero, so adding the mean of y instead of subtracting "
        "it changes the slope by rounding only"),
}
