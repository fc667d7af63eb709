"""Fokker-Planck family: the solved reverse-drift weights and the VP clock."""

from __future__ import annotations

import sympy as sp

from derivations import fokker_planck
from derivations.notation import lam_rev


def test_score_weight_solved_for_each_noise_level():
    assert sp.simplify(fokker_planck.solve_score_weight(lam_rev**2) - (1 + lam_rev**2) / 2) == 0
    assert fokker_planck.solve_score_weight(sp.Integer(0)) == sp.Rational(1, 2)
    assert fokker_planck.solve_score_weight(sp.Integer(1)) == 1


def test_mixture_reverse_substitution_rejects_a_wrong_weight():
    """The numeric-tier substitution can fail: the probability-flow weight with noise g leaves a residual."""
    import sympy as sp

    from derivations import Tier, fokker_planck, prove

    relation = fokker_planck.reverse_relation("VP", fokker_planck.vp_sde(), fokker_planck.mixture_data(1),
                                              sp.Rational(1, 2), sp.Integer(1), "wrong weight", per_density=False)
    assert prove(relation.lhs, relation.rhs).tier is Tier.FAILED
