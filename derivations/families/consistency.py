r"""consistency.*: the exact consistency function of the probability-flow ODE for Gaussian data.

For data :math:`\mathcal N(\mu_0, \sigma_0^2)` and the VP SDE the probability-flow ODE is linear, and its
flow map from time 0 is ``likelihood.pf_ode_exact``'s
:math:`x_t = m_t\mu_0 + \sqrt{\Sigma_t/\sigma_0^2}\,(x_0 - \mu_0)`, :math:`m_t = e^{-B(t)/2}`,
:math:`\Sigma_t = m_t^2\sigma_0^2 + 1 - m_t^2`. The consistency function (Song et al. 2023) maps any point of
a trajectory to its origin, :math:`f(x_t, t) = x_0`: here the flow map inverted in :math:`x_0`. It is the same
at every point of a trajectory, :math:`f(x_t, t) = f(x_s, s)`, and :math:`f(x, 0) = x`. The one-step sampler
draws :math:`x_T` and returns :math:`f(x_T, T)`: from :math:`p_T` it returns the data law exactly; from the
standard normal prior it is off by the prior's mismatch, pushed through the affine :math:`f`.
"""

from __future__ import annotations

import sympy as sp

from derivations.core import work
from derivations.core.notation import B_s_cm, B_t, mean_data, var_data, x_0, x_sde
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation, get
from derivations.families.likelihood import gaussian_flow

SONG_2023 = ("Y. Song, P. Dhariwal, M. Chen, I. Sutskever, Consistency Models, ICML 2023 (arXiv:2303.01469), "
             "section 3 (the consistency function and its self-consistency) and Algorithm 1 (one-step sampling)")


def consistency_function(x: sp.Expr, b: sp.Expr) -> sp.Expr:
    r""":math:`f(x, t)`: the flow map of ``likelihood.pf_ode_exact`` solved for :math:`x_0` (it is affine in
    :math:`x_0` with a positive slope), at :math:`B(t) = b`."""
    flow = get("likelihood.pf_ode_exact").result("flow_map")
    (origin,) = sp.solve(sp.Eq(flow, x_sde), x_0)
    return origin.subs({x_sde: x, B_t: b})


@derivation(
    id="consistency.gaussian",
    title="The exact consistency function of the probability-flow ODE for Gaussian data, and its one-step sampler",
    statement=r"For data $\mathcal N(\mu_0, \sigma_0^2)$ and the VP SDE, $f(x, t) = \mu_0 + \sqrt{\sigma_0^2/\Sigma_t}"
    r"\,(x - m_t\mu_0)$ (the flow map of `likelihood.pf_ode_exact` inverted); $f(x, 0) = x$ and "
    r"$f(x_t, t) = f(x_s, s) = x_0$ along every trajectory. The one-step sampler $f(x_T, T)$ returns "
    r"$\mathcal N(\mu_0, \sigma_0^2)$ exactly from $x_T \sim p_T = \mathcal N(m_T\mu_0, \Sigma_T)$, and from "
    r"$x_T \sim \mathcal N(0, 1)$ the law $\mathcal N(\mu_0(1 - m_T\sqrt{\sigma_0^2/\Sigma_T}), \sigma_0^2/\Sigma_T)$.",
    tier=Tier.EXACT,
    assumptions=(r"VP SDE, $B(t) = \int_0^t\beta$, $m = e^{-B/2}$, one dimension (per eigenvalue of a covariance)",
                 r"$s$ and $t$ any two times of the same trajectory ($B(s)$, $B(t) > 0$)"),
    references=(SONG_2023, "likelihood.pf_ode_exact (the flow map)"),
)
def gaussian() -> Body:
    parts = gaussian_flow()
    flow = parts["flow"]  # x_t as a function of x_0, at B_t
    f_t = consistency_function(x_sde, B_t)
    marginal_var, marginal_mean = parts["marginal_var"], parts["marginal_mean"]
    along_t = f_t.subs(x_sde, flow)
    along_s = f_t.subs(B_t, B_s_cm).subs(x_sde, flow.subs(B_t, B_s_cm))
    slope, offset = sp.diff(f_t, x_sde), f_t.subs(x_sde, 0)
    # One step from x_T ~ N(a, v): the affine f gives N(slope a + offset, slope^2 v).
    exact_mean = sp.simplify(slope * marginal_mean + offset)
    exact_var = sp.simplify(slope**2 * marginal_var)
    prior_mean, prior_var = sp.simplify(offset), sp.simplify(slope**2)
    wrong_time = f_t.subs(B_t, B_s_cm)  # the consistency function of another time, applied at t
    wrong_var = sp.simplify(sp.diff(wrong_time, x_sde) ** 2 * marginal_var)
    return Body(
        steps=(
            Relation(r"$f$ inverts the flow map: $f(x_t, t) = x_0$", along_t, x_0),
            Relation(r"self-consistency: at another time $s$ of the same trajectory $f$ returns the same point",
                     work.held_sum(along_t, -along_s), 0),
            Relation(r"boundary condition: $f(x, 0) = x$", work.at(f_t, {B_t: 0}), x_sde),
            Relation(r"one step from $p_T$: the mean of $f(x_T, T)$, $f$ affine", work.held_sum(
                work.held_product(slope, marginal_mean), offset), mean_data),
            Relation(r"and its variance: the slope squared times $\Sigma_T$",
                     work.held_product(work.held_power(slope, 2), marginal_var), var_data),
        ),
        results=(
            Result("consistency_function", f_t, "f(x, t): the origin x_0 of the trajectory through x at time t"),
            Result("output_mean", exact_mean, "mean of f(x_T, T) for x_T ~ p_T"),
            Result("output_var", exact_var, "variance of f(x_T, T) for x_T ~ p_T"),
            Result("output_mean_prior", prior_mean, "mean of f(x_T, T) for x_T ~ N(0, 1)"),
            Result("output_var_prior", prior_var, "variance of f(x_T, T) for x_T ~ N(0, 1)"),
        ),
        claims=(
            Claim("output_var", var_data, "Song et al. (2023), section 3: f maps p_T to the data law (exact f)"),
            Claim("output_mean", mean_data, "Song et al. (2023), section 3: f maps p_T to the data law (exact f)"),
        ),
        wrong_variants=(
            WrongVariant("output_var", wrong_var, "the consistency function of time s applied at time t"),
            WrongVariant("consistency_function", mean_data + var_data / marginal_var * (x_sde - marginal_mean),
                         "the variance ratio without its square root"),
            WrongVariant("consistency_function", mean_data + sp.sqrt(marginal_var / var_data) * (x_sde - marginal_mean),
                         "the forward flow's gain for its inverse"),
            WrongVariant("output_var_prior", var_data, "the prior taken for p_T"),
        ),
    )
