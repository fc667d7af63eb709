"""The numbers a step map ``gauss_exact.step_<sampler>`` takes, keyed by notation name.

Kept apart from :mod:`derivations.families.gauss_exact` (which re-exports it) so that a caller
holding compiled step maps (the exact W2 table on a warm cache) fills them without importing
SymPy or a family.
"""

from __future__ import annotations

import math
from typing import Any

# (start, end, midpoint) names of each per-time quantity a rule may read.
TRIPLES = {
    "drift": ("f_k_st", "f_next_st", "f_mid_st"),
    "diffusion_sq": ("g2_k_st", "g2_next_st", "g2_mid_st"),
    "prec": ("prec_k_pg", "prec_next_pg", "prec_mid_pg"),
    "mean": ("mu_k_st", "mu_next_st", "mu_mid_st"),
}


# The names of a step's raised level t_hat (EDM's churn): the forward kernel N(a x, b) from t to t_hat, the
# coefficients there and the rise t_hat - t.
RAISED = ("a_hat_st", "b_hat_st", "f_hat_st", "g2_hat_st", "mu_hat_st", "rise_st")

# The points a third and two thirds of a step's half-log-SNR increment in (DPM-Solver-3): kernel and mean of p there.
THIRDS = (("m_s1_st", "v_s1_st", "mu_s1_st"), ("m_s2_st", "v_s2_st", "mu_s2_st"))

# Karras et al. (2022), Algorithm 2: gamma_i never exceeds sqrt(2) - 1, where the fresh noise's variance
# t_hat^2 - t^2 = ((1 + gamma)^2 - 1) t^2 equals the variance t^2 already present (edm.churn derives it).
CHURN_CAP = math.sqrt(2.0) - 1.0


def churn_gamma(level: float, steps: int, churn: float, t_min: float, t_max: float) -> float:
    r"""Karras et al. (2022), Algorithm 2: :math:`\gamma_i = \min(S_{\rm churn}/N, \sqrt2 - 1)` when the noise
    level :math:`\sigma(t_i) = \sqrt{v_{t_i}}/m_{t_i}` (their :math:`t_i`) lies in :math:`[S_{t\min}, S_{t\max}]`,
    else 0 (``steps`` is :math:`N`, the grid's steps). The churn raises the level to :math:`(1 + \gamma_i)\sigma(t_i)`."""
    return min(churn / steps, CHURN_CAP) if t_min <= level <= t_max else 0.0


def step_values(*, a: Any, b: Any, m_next: Any, v_next: Any, dt: Any, drift: Any = None, diffusion_sq: Any = None,
                prec: Any = None, mean: Any = None, kernel_mid: Any = None, raised: Any = None,
                thirds: Any = None) -> dict[str, Any]:
    """Numbers (floats, arrays or tensors) for the step-map vocabulary, keyed by notation name.

    ``drift``, ``diffusion_sq``, ``prec`` and ``mean`` are triples (start, end, midpoint), ``kernel_mid``
    the pair :math:`(m, v)` at the midpoint, ``raised`` the values of :data:`RAISED` at a step's raised
    level, ``thirds`` the values of :data:`THIRDS` (two triples); a missing one is left out (a step map that needs it then says so when called).
    """
    values = {"a_st": a, "b_st": b, "m_next_st": m_next, "v_next_st": v_next, "dt_pg": dt}
    if kernel_mid is not None:
        values.update(zip(("m_mid_st", "v_mid_st"), kernel_mid))
    if raised is not None:
        values.update(zip(RAISED, raised))
    if thirds is not None:
        for names, point in zip(THIRDS, thirds):
            values.update(zip(names, point))
    for kind, triple in (("drift", drift), ("diffusion_sq", diffusion_sq), ("prec", prec), ("mean", mean)):
        if triple is not None:
            values.update(zip(TRIPLES[kind], triple))
    return values
