"""Fokker-Planck family: the solved reverse-drift weights and the VP clock."""

from __future__ import annotations

import sympy as sp

from derivations.families.fp import scalar as fokker_planck
from derivations.core.notation import lam_rev


def test_score_weight_solved_for_each_noise_level():
    assert sp.simplify(fokker_planck.solve_score_weight(lam_rev**2) - (1 + lam_rev**2) / 2) == 0
    assert fokker_planck.solve_score_weight(sp.Integer(0)) == sp.Rational(1, 2)
    assert fokker_planck.solve_score_weight(sp.Integer(1)) == 1


def test_mixture_reverse_substitution_rejects_a_wrong_weight():
    """The numeric-tier substitution can fail: the probability-flow weight with noise g leaves a residual."""
    import sympy as sp

    from derivations import Tier, prove
    from derivations.families.fp import scalar as fokker_planck

    relation = fokker_planck.reverse_relation("VP", fokker_planck.vp_sde(), fokker_planck.mixture_data(1),
                                              sp.Rational(1, 2), sp.Integer(1), "wrong weight", per_density=False)
    assert prove(relation.lhs, relation.rhs).tier is Tier.FAILED


def test_2d_substitution_rejects_a_cross_covariance_that_does_not_decay():
    """N(A mu_0 + c, Sigma_t) with the cross term rho s_x s_y kept at its t = 0 value leaves a residual."""
    from derivations import Tier, prove
    from derivations.families.fp import plane
    from derivations.families.fp.scalar import COORDS_2D, fokker_planck_rhs, gaussian_density, gaussian_data

    sde = plane.linear_sde()
    (comp,) = gaussian_data(2)
    cov = sde.mean_coef**2 * comp.cov + sde.var * sp.eye(2)
    cov[0, 1] = cov[1, 0] = comp.cov[0, 1]
    mean = [sde.mean_coef * m + sde.mean_offset for m in comp.mean]
    p = gaussian_density(COORDS_2D, mean, cov)
    rhs = fokker_planck_rhs(p, sde.drift(COORDS_2D), sde.diffusion_sq * sp.eye(2), COORDS_2D)
    lhs_pd, rhs_pd = (plane.per_density(plane.close_moments(e / p)) for e in (sde.d_dt(p), rhs))
    assert prove(lhs_pd, rhs_pd).tier is Tier.FAILED


def test_2d_substitution_rejects_a_wrong_variance_ode():
    """Closing the moments with dV/dt = aV + g^2 (the factor 2 lost) breaks the 2-D substitution."""
    from derivations import Tier, prove
    from derivations.families.fp import plane
    from derivations.families.fp.scalar import COORDS_2D, fokker_planck_rhs, gaussian_data, marginal
    from derivations.core.notation import g_fp, gain_fp, time

    sde = plane.linear_sde()
    p = marginal(sde, gaussian_data(2), COORDS_2D)
    wrong_rate = {sp.Derivative(sde.var, time): gain_fp * sde.var + g_fp**2}
    rhs = fokker_planck_rhs(p, sde.drift(COORDS_2D), sde.diffusion_sq * sp.eye(2), COORDS_2D)
    lhs_pd = plane.per_density(plane.close_moments((sde.d_dt(p) / p).subs(wrong_rate)))
    assert prove(lhs_pd, plane.per_density(plane.close_moments(rhs / p))).tier is Tier.FAILED


def test_2d_reverse_substitution_rejects_a_wrong_weight():
    """Noise g with the probability-flow weight 1/2 does not keep the 2-D marginals."""
    from derivations import Tier
    from derivations.families.fp import plane
    from derivations.families.fp.scalar import gaussian_data

    relation = plane.gaussian_reverse(plane.linear_sde(), gaussian_data(2), sp.Rational(1, 2), sp.Integer(1), "wrong")
    assert relation.prove().tier is Tier.FAILED


def test_every_process_solves_the_moment_odes_that_close_the_2d_substitution():
    from derivations import Tier
    from derivations.families.fp import plane

    for name, build in plane.PROCESSES:
        assert all(step.prove().tier is Tier.EXACT for step in plane.moment_ode_steps(name, build())), name


def test_numeric_only_relations_stop_at_the_numeric_tier_and_still_fail():
    from derivations import Tier
    from derivations.core.notation import x_sde
    from derivations.core.registry import Relation

    assert Relation("equal", (x_sde + 1) ** 2, x_sde**2 + 2 * x_sde + 1, attempt_exact=False).prove().tier is Tier.NUMERIC
    assert Relation("unequal", (x_sde + 1) ** 2, x_sde**2 + 1, attempt_exact=False).prove().tier is Tier.FAILED
