"""Fokker-Planck family: the solved reverse-drift weights and the VP clock."""

from __future__ import annotations

import sympy as sp

from derivations import fokker_planck
from derivations.notation import lam_rev


def test_score_weight_solved_for_each_noise_level():
    assert sp.simplify(fokker_planck.solve_score_weight(lam_rev**2) - (1 + lam_rev**2) / 2) == 0
    assert fokker_planck.solve_score_weight(sp.Integer(0)) == sp.Rational(1, 2)
    assert fokker_planck.solve_score_weight(sp.Integer(1)) == 1
