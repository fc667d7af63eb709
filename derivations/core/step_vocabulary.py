"""The numbers a step map ``gauss_exact.step_<sampler>`` takes, keyed by notation name.

Kept apart from :mod:`derivations.families.gauss_exact` (which re-exports it) so that a caller
holding compiled step maps (the exact W2 table on a warm cache) fills them without importing
SymPy or a family.
"""

from __future__ import annotations

from typing import Any

# (start, end, midpoint) names of each per-time quantity a rule may read.
TRIPLES = {
    "drift": ("f_k_st", "f_next_st", "f_mid_st"),
    "diffusion_sq": ("g2_k_st", "g2_next_st", "g2_mid_st"),
    "prec": ("prec_k_pg", "prec_next_pg", "prec_mid_pg"),
    "mean": ("mu_k_st", "mu_next_st", "mu_mid_st"),
}


def step_values(*, a: Any, b: Any, m_next: Any, v_next: Any, dt: Any, drift: Any = None, diffusion_sq: Any = None,
                prec: Any = None, mean: Any = None, kernel_mid: Any = None) -> dict[str, Any]:
    """Numbers (floats, arrays or tensors) for the step-map vocabulary, keyed by notation name.

    ``drift``, ``diffusion_sq``, ``prec`` and ``mean`` are triples (start, end, midpoint), ``kernel_mid``
    the pair :math:`(m, v)` at the midpoint; a missing one is left out (a step map that needs it then
    says so when called).
    """
    values = {"a_st": a, "b_st": b, "m_next_st": m_next, "v_next_st": v_next, "dt_pg": dt}
    if kernel_mid is not None:
        values.update(zip(("m_mid_st", "v_mid_st"), kernel_mid))
    for kind, triple in (("drift", drift), ("diffusion_sq", diffusion_sq), ("prec", prec), ("mean", mean)):
        if triple is not None:
            values.update(zip(TRIPLES[kind], triple))
    return values
