r"""fp.*_2d: Fokker-Planck substitutions in two dimensions (correlated Gaussian and mixture data).

Every process of ``fp.forward`` is linear, :math:`dX = (a(t) X + b(t))\,dt + g(t)\,dW`
coordinate-wise, and from :math:`X_0 = x_0` it has the law
:math:`\mathcal N(A(t) x_0 + c(t), V(t) I)`. The 2-D substitutions are done twice:

* *generic*: :math:`A, c, V` are undefined functions of :math:`t`; after SymPy
  differentiates, their derivatives are replaced by the moment ODEs
  :math:`\dot A = aA`, :math:`\dot c = ac + b`, :math:`\dot V = 2aV + g^2` and the
  values are named (``kernel_mean_coef``, ``mean_offset_fp``, ``kernel_var``). The
  residual then vanishes for every :math:`a, b, g, A, c, V`: the marginal
  :math:`\mathcal N(A\mu_0 + c, A^2\Sigma_0 + V I)` solves the PDE whenever the
  moments solve their ODEs, which each process then checks in 1-D (``moment_ode_steps``);
* *direct*: the VP marginal (any schedule) is substituted as it stands.

Dividing by :math:`p` keeps the Gaussian relations small: after
``powsimp(expand(., deep=False))`` every term carries :math:`e^{-Q/2}/e^{-Q/2}`
and SymPy cancels it, leaving rational functions that ``cancel`` reduces to 0.
Mixture densities do not divide out; their residuals are compared at the
numeric tier (SymPy's simplifiers do not finish on them in minutes).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

import sympy as sp

from derivations.families.fp.scalar import (
    COORDS_2D,
    RISKEN,
    SONG_2021,
    Component,
    LinearSDE,
    fokker_planck_rhs,
    forward_relation,
    gaussian_data,
    marginal,
    mixture_data,
    ou_sde,
    subvp_sde,
    ve_sde,
    vp_sde,
)
from derivations.core.notation import (
    corr_data,
    g_fp,
    gain_fp,
    kernel_mean_coef,
    kernel_var,
    lam_rev,
    mean_data,
    mean_data_y,
    mean_offset_fp,
    offset_fp,
    std_data_x,
    std_data_y,
    time,
    x_sde,
    y_sde,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Relation, Result, WrongVariant, derivation, get

SARKKA_SOLIN = "S. Särkkä, A. Solin, Applied Stochastic Differential Equations, CUP (2019), §6.1 (moment ODEs)"

PROCESSES: tuple[tuple[str, Callable[[], LinearSDE]], ...] = (
    ("VP", vp_sde), ("sub-VP", subvp_sde), ("VE", ve_sde), ("OU", ou_sde))

_A, _c, _V = (sp.Function(name)(time) for name in ("A", "c", "V"))


def linear_sde() -> LinearSDE:
    r""":math:`dX = (aX + b)\,dt + g\,dW` with moments :math:`A(t), c(t), V(t)` left undefined."""
    return LinearSDE("linear", time, sp.Integer(1), gain_fp, offset_fp, g_fp**2, _A, _c, _V)


def close_moments(expr: sp.Expr) -> sp.Expr:
    """Derivatives of A, c, V replaced by their moment ODEs, then the values named."""
    rates = {sp.Derivative(_A, time): gain_fp * _A, sp.Derivative(_c, time): gain_fp * _c + offset_fp,
             sp.Derivative(_V, time): 2 * gain_fp * _V + g_fp**2}
    return expr.subs(rates).subs({_A: kernel_mean_coef, _c: mean_offset_fp, _V: kernel_var})


def moment_ode_steps(name: str, sde: LinearSDE) -> tuple[Relation, ...]:
    r"""The process's moments solve :math:`\dot A = aA`, :math:`\dot c = ac + b`, :math:`\dot V = 2aV + g^2`."""
    a = sde.drift_gain
    return (
        Relation(rf"{name}: $\dot A = aA$", sde.d_dt(sde.mean_coef), a * sde.mean_coef),
        Relation(rf"{name}: $\dot c = ac + b$", sde.d_dt(sde.mean_offset), a * sde.mean_offset + sde.drift_offset),
        Relation(rf"{name}: $\dot V = 2aV + g^2$", sde.d_dt(sde.var), 2 * a * sde.var + sde.diffusion_sq),
    )


def per_density(expr: sp.Expr, one_fraction: bool = True) -> sp.Expr:
    """An expression divided by a Gaussian p, with p cancelled term by term."""
    # expand(deep=False) distributes 1/p over the sum, so that each term's e^{-Q/2} meets the 1/e^{-Q/2}
    # and cancels; together() then writes one fraction, on which the proof's cancel() is quick when the
    # moments are plain symbols (with e^{-B(t)} in them, the proof is quicker on the sum).
    expr = sp.powsimp(sp.expand(expr, deep=False))
    return sp.together(expr) if one_fraction else expr


def reverse_flux(p: sp.Expr, sde: LinearSDE, score_weight: sp.Expr, coords: Sequence[sp.Symbol]) -> list[sp.Expr]:
    r"""Flux :math:`b_i p` of the reverse drift :math:`b = -f + c\,g^2\nabla\log p`, with
    :math:`(\partial_i\log p)\,p = \partial_i p` written out (SymPy does not cancel p/p inside a sum)."""
    return [-f * p + score_weight * sde.diffusion_sq * sp.diff(p, c) for f, c in zip(sde.drift(coords), coords)]


def reverse_rate(p: sp.Expr, sde: LinearSDE, score_weight: sp.Expr, noise_scale_sq: sp.Expr,
                 coords: Sequence[sp.Symbol]) -> sp.Expr:
    r"""Right side of the reverse process's Fokker-Planck equation: :math:`-\nabla\cdot(bp) + \tfrac12\lambda^2 g^2\Delta p`."""
    flux = reverse_flux(p, sde, score_weight, coords)
    spread = noise_scale_sq * sde.diffusion_sq * sum(sp.diff(p, c, 2) for c in coords) / 2
    return -sum(sp.diff(j, c) for j, c in zip(flux, coords)) + spread


def gaussian_forward(sde: LinearSDE, data: Sequence[Component], label: str,
                     close: Callable[[sp.Expr], sp.Expr] | None = None) -> Relation:
    r""":math:`\partial_t p / p = ` Fokker-Planck right side :math:`/ p` for 2-D Gaussian data
    (``close``: :func:`close_moments` for the generic process)."""
    p = marginal(sde, data, COORDS_2D)
    rhs = fokker_planck_rhs(p, sde.drift(COORDS_2D), sde.diffusion_sq * sp.eye(2), COORDS_2D)
    prepare = (lambda e: per_density(close(e))) if close else (lambda e: per_density(e, one_fraction=False))
    return Relation(f"{label}: the marginal solves the Fokker-Planck equation",
                    prepare(sde.d_dt(p) / p), prepare(rhs / p))


def gaussian_reverse(sde: LinearSDE, data: Sequence[Component], score_weight: sp.Expr, noise_scale_sq: sp.Expr,
                     label: str) -> Relation:
    r""":math:`q_s = p_{T-s}`: :math:`-\partial_t p / p = ` reverse Fokker-Planck right side :math:`/ p`,
    for the generic process (moments closed by their ODEs)."""
    p = marginal(sde, data, COORDS_2D)
    rhs = reverse_rate(p, sde, score_weight, noise_scale_sq, COORDS_2D)
    return Relation(f"{label}: p_(T-s) solves the reverse-time Fokker-Planck equation",
                    per_density(close_moments(-sde.d_dt(p) / p)), per_density(close_moments(rhs / p)))


def _generic_marginal_cov() -> sp.Matrix:
    """A^2 Sigma_0 + V I with A, V named."""
    (comp,) = gaussian_data(2)
    return close_moments(_A**2 * comp.cov + _V * sp.eye(2))


def _all_moment_steps() -> tuple[Relation, ...]:
    return tuple(step for name, build in PROCESSES for step in moment_ode_steps(name, build()))


GENERIC_LABEL = r"linear SDE, moments by their ODEs, 2-D correlated Gaussian data"


@derivation(
    id="fp.forward_2d",
    title="Fokker-Planck equation in 2-D: correlated Gaussian data under VP, sub-VP, VE and OU",
    statement=r"For data $\mathcal N(\mu_0, \Sigma_0)$ with $\Sigma_0 = \begin{pmatrix} s_x^2 & \rho_0 s_x s_y \\ "
    r"\rho_0 s_x s_y & s_y^2\end{pmatrix}$ and $dX = (aX + b)\,dt + g\,dW$ in $\mathbb R^2$, the marginal "
    r"$\mathcal N(A\mu_0 + c\mathbf 1, A^2\Sigma_0 + V I)$ solves $\partial_t p = -\nabla\cdot(fp) + \tfrac12 g^2\Delta p$ "
    r"whenever $\dot A = aA$, $\dot c = ac + b$, $\dot V = 2aV + g^2$; the moments of VP, sub-VP, VE and OU solve "
    r"these ODEs, and the VP marginal (any schedule) is also substituted directly.",
    tier=Tier.EXACT,
    assumptions=(r"$\Sigma_0$ positive definite ($s_x, s_y > 0$, $|\rho_0| < 1$); $V \ge 0$, $A > 0$",
                 r"$\beta(t) > 0$ continuous; $0 < \sigma_{\min} < \sigma_{\max}$; $\kappa, \sigma > 0$"),
    references=(RISKEN, SARKKA_SOLIN, SONG_2021),
)
def forward_2d() -> Body:
    generic = linear_sde()
    p = marginal(generic, gaussian_data(2), COORDS_2D)
    drift, diffusion = generic.drift(COORDS_2D), generic.diffusion_sq * sp.eye(2)

    # The two terms of the operator, per density: the wrong variants recombine them.
    transport = per_density(close_moments(fokker_planck_rhs(p, drift, 0 * diffusion, COORDS_2D) / p))
    spread = per_density(close_moments(fokker_planck_rhs(p, [0, 0], diffusion, COORDS_2D) / p))
    cov = _generic_marginal_cov()
    return Body(
        steps=(gaussian_forward(generic, gaussian_data(2), GENERIC_LABEL, close_moments),)
        + _all_moment_steps()
        + (gaussian_forward(vp_sde(), gaussian_data(2), "VP (direct), 2-D correlated Gaussian data"),),
        results=(
            Result("cov_xx", cov[0, 0], "Var of the first coordinate of X_t"),
            Result("cov_xy", cov[0, 1], "cross-covariance of the coordinates of X_t"),
            Result("log_density_rate", per_density(close_moments(generic.d_dt(p) / p)),
                   "d/dt log p_t(x, y), the moments' derivatives by their ODEs"),
        ),
        wrong_variants=(
            WrongVariant("cov_xy", sp.Integer(0), "cross term missing"),
            WrongVariant("cov_xy", corr_data * std_data_x * std_data_y, "cross term not scaled by A^2"),
            WrongVariant("cov_xy", cov[0, 1] + kernel_var, "noise variance added off the diagonal"),
            WrongVariant("log_density_rate", -transport + spread,
                         "Fokker-Planck right side with the drift's sign flipped"),
            WrongVariant("log_density_rate", transport + spread / g_fp,
                         "diffusion g in place of g^2 in the second-order term"),
            WrongVariant("log_density_rate", transport + 2 * spread, "second-order term without the 1/2"),
        ),
    )


def _score(coord: sp.Symbol) -> sp.Expr:
    r""":math:`-(\Sigma_t^{-1}(x - \mu_t))` component of the generic 2-D Gaussian marginal."""
    cov = _generic_marginal_cov()
    centred = sp.Matrix([x_sde - kernel_mean_coef * mean_data - mean_offset_fp,
                         y_sde - kernel_mean_coef * mean_data_y - mean_offset_fp])
    return sp.factor(-(cov.adjugate() * centred)[COORDS_2D.index(coord)] / cov.det())


@derivation(
    id="fp.reverse_2d",
    title="Reverse-time family and probability-flow ODE in 2-D: correlated Gaussian data",
    statement=r"For the 2-D marginals of `fp.forward_2d`, $q_s = p_{T-s}$ solves the Fokker-Planck equation of "
    r"$dY = [-f + \tfrac12(1+\lambda^2) g^2\nabla\log p_{T-s}]\,ds + \lambda g\,dW$ for every $\lambda \ge 0$ "
    r"(weight from `fp.reverse_family`); $\lambda = 0$ is the continuity equation of the probability-flow ODE. "
    r"The score is $\nabla\log p_t = -\Sigma_t^{-1}(x - \mu_t)$ with $\Sigma_t = A^2\Sigma_0 + V I$.",
    tier=Tier.EXACT,
    assumptions=(r"$\lambda \ge 0$; $\Sigma_0$ positive definite; moments solving their ODEs (`fp.forward_2d`)",),
    references=(SONG_2021, "B. D. O. Anderson, Reverse-time diffusion equation models, Stoch. Proc. Appl. 12 (1982)"),
)
def reverse_2d() -> Body:
    weight = get("fp.reverse_family").result("score_weight")
    generic, data = linear_sde(), gaussian_data(2)
    p = marginal(generic, data, COORDS_2D)
    score_x = _score(x_sde)
    cov = _generic_marginal_cov()
    return Body(
        steps=(
            gaussian_reverse(generic, data, weight, lam_rev**2, rf"general $\lambda$, {GENERIC_LABEL}"),
            gaussian_reverse(generic, data, weight.subs(lam_rev, 0), sp.Integer(0),
                             rf"$\lambda = 0$ (probability-flow ODE), {GENERIC_LABEL}"),
            Relation(r"score: $\partial_x\log p_t = -(\Sigma_t^{-1}(x - \mu_t))_x$",
                     per_density(close_moments(sp.diff(p, x_sde) / p)), score_x),
        ),
        results=(
            Result("score_x", score_x, "first component of the score of the 2-D marginal"),
            Result("score_y", _score(y_sde), "second component of the score of the 2-D marginal"),
            Result("score_weight", weight, "weight of g^2 grad log p in the reverse drift"),
        ),
        wrong_variants=(
            WrongVariant("score_x", -(x_sde - kernel_mean_coef * mean_data - mean_offset_fp) / cov[0, 0],
                         "cross term missing: -(x - mu_x) / Sigma_xx"),
            WrongVariant("score_x", -score_x, "sign flipped"),
            WrongVariant("score_weight", (1 + lam_rev) / 2, "lambda in place of lambda^2"),
            WrongVariant("score_weight", 1 + lam_rev**2, "missing 1/2"),
        ),
    )


def _mixture_score_x() -> sp.Expr:
    r""":math:`\partial_x\log p_t` of the generic 2-D mixture marginal; the factor :math:`2\pi` of every
    component density is dropped (it cancels), so the closed form compiles without constants."""
    p = marginal(linear_sde(), mixture_data(2), COORDS_2D) * 2 * sp.pi
    return close_moments(sp.diff(p, x_sde) / sp.expand(p))


@derivation(
    id="fp.mixture_2d",
    title="Fokker-Planck and the reverse-time family in 2-D: Gaussian-mixture data",
    statement=r"For data $w\,\mathcal N(\mu_1, v_1 I) + (1-w)\,\mathcal N(\mu_2, v_2 I)$ in $\mathbb R^2$ and "
    r"$dX = (aX + b)\,dt + g\,dW$, the marginal $\sum_k w_k\mathcal N(A\mu_k + c\mathbf 1, (A^2 v_k + V) I)$ solves "
    r"the forward Fokker-Planck equation and, for every $\lambda \ge 0$, $p_{T-s}$ solves that of the reverse "
    r"process with drift $-f + \tfrac12(1+\lambda^2)g^2\nabla\log p$ and noise $\lambda g$, whenever the moments "
    r"solve $\dot A = aA$, $\dot c = ac + b$, $\dot V = 2aV + g^2$ (as those of VP, sub-VP, VE and OU do); "
    r"the VP marginal is also substituted directly.",
    tier=Tier.NUMERIC,
    assumptions=(r"$0 < w < 1$, $v_k > 0$",
                 "the mixture residuals do not divide by p: SymPy's simplifiers do not finish on them, "
                 "so they are compared to 50 digits at random admissible points"),
    references=(RISKEN, SARKKA_SOLIN, SONG_2021),
)
def mixture_2d() -> Body:
    generic, data = linear_sde(), mixture_data(2)
    p = marginal(generic, data, COORDS_2D)
    weight = get("fp.reverse_family").result("score_weight")
    forward = Relation("linear SDE, moments by their ODEs, 2-D mixture data: the marginal solves the "
                       "Fokker-Planck equation", close_moments(generic.d_dt(p)),
                       close_moments(fokker_planck_rhs(p, generic.drift(COORDS_2D), generic.diffusion_sq * sp.eye(2),
                                                       COORDS_2D)), attempt_exact=False)
    reverse = Relation(r"general $\lambda$, linear SDE, moments by their ODEs, 2-D mixture data: p_(T-s) solves "
                       "the reverse-time Fokker-Planck equation", close_moments(-generic.d_dt(p)),
                       close_moments(reverse_rate(p, generic, weight, lam_rev**2, COORDS_2D)), attempt_exact=False)
    direct = replace(forward_relation("VP", vp_sde(), data, COORDS_2D, "VP (direct), 2-D mixture data",
                                      per_density=False), attempt_exact=False)
    score_x = _mixture_score_x()
    components = [close_moments(sp.diff(sp.log(marginal(generic, [comp], COORDS_2D)), x_sde)) for comp in data]
    w = data[0].weight
    return Body(
        steps=(forward, reverse, direct) + _all_moment_steps()
        + (Relation(r"score: $\partial_x\log p_t$ (constant $2\pi$ dropped)",
                    close_moments(sp.diff(p, x_sde) / p), score_x, attempt_exact=False),),
        results=(Result("score_x", score_x, "first component of the score of the 2-D mixture marginal"),),
        wrong_variants=(
            WrongVariant("score_x", w * components[0] + (1 - w) * components[1],
                         "prior weights in place of posterior responsibilities"),
            WrongVariant("score_x", -score_x, "sign flipped"),
        ),
    )
