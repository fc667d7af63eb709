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
    named_components,
    named_marginal,
    named_moments,
    time_derivative,
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
from derivations.core.work import derivative, held_product, held_sum, named

SARKKA_SOLIN = "S. Särkkä, A. Solin, Applied Stochastic Differential Equations, CUP (2019), §6.1 (moment ODEs)"

PROCESSES: tuple[tuple[str, Callable[[], LinearSDE]], ...] = (
    ("VP", vp_sde), ("sub-VP", subvp_sde), ("VE", ve_sde), ("OU", ou_sde))

_A, _c, _V = (sp.Function(name)(time) for name in ("A", "c", "V"))


def linear_sde() -> LinearSDE:
    r""":math:`dX = (aX + b)\,dt + g\,dW` with moments :math:`A(t), c(t), V(t)` left undefined."""
    return LinearSDE("linear", time, sp.Integer(1), gain_fp, offset_fp, g_fp**2, _A, _c, _V)


def closed_sde() -> LinearSDE:
    r"""The linear SDE with its moments at their values :math:`m_t, c, v_t` (what :func:`close_moments` names):
    for the forms at a fixed time (score, rate of the log-density)."""
    return LinearSDE("closed", time, sp.Integer(1), gain_fp, offset_fp, g_fp**2, kernel_mean_coef, mean_offset_fp,
                     kernel_var)


def close_moments(expr: sp.Expr) -> sp.Expr:
    """Derivatives of A, c, V replaced by their moment ODEs, then the values named."""
    rates = {sp.Derivative(_A, time): gain_fp * _A, sp.Derivative(_c, time): gain_fp * _c + offset_fp,
             sp.Derivative(_V, time): 2 * gain_fp * _V + g_fp**2}
    return expr.subs(rates).subs({_A: kernel_mean_coef, _c: mean_offset_fp, _V: kernel_var})


def moment_ode_steps(name: str, sde: LinearSDE) -> tuple[Relation, ...]:
    r"""The process's moments substituted into :math:`\dot A = aA`, :math:`\dot c = ac + b`, :math:`\dot V = 2aV + g^2`
    (the second only where :math:`b \ne 0`: with :math:`b = 0` and :math:`c(0) = 0`, :math:`c \equiv 0`)."""
    a = sde.drift_gain
    steps = [Relation(rf"{name}: substitute $A$ into $\dot A = aA$", time_derivative(sde, sde.mean_coef),
                      held_product(a, sde.mean_coef))]
    if sde.drift_offset != 0 or sde.mean_offset != 0:
        steps.append(Relation(rf"{name}: substitute $c$ into $\dot c = ac + b$", time_derivative(sde, sde.mean_offset),
                              held_sum(held_product(a, sde.mean_offset), sde.drift_offset)))
    steps.append(Relation(rf"{name}: substitute $V$ into $\dot V = 2aV + g^2$", time_derivative(sde, sde.var),
                          held_sum(held_product(2, a, sde.var), sde.diffusion_sq)))
    return tuple(steps)


def per_density(expr: sp.Expr, one_fraction: bool = True) -> sp.Expr:
    """An expression divided by a Gaussian p, with p cancelled term by term."""
    # expand(deep=False) distributes 1/p over the sum, so that each term's e^{-Q/2} meets the 1/e^{-Q/2}
    # and cancels; together() then writes one fraction, on which the proof's cancel() is quick when the
    # moments are plain symbols (with e^{-B(t)} in them, the proof is quicker on the sum).
    expr = sp.powsimp(sp.expand(expr, deep=False))
    return sp.together(expr) if one_fraction else expr


def reverse_rate(p: sp.Expr, sde: LinearSDE, score_weight: sp.Expr, noise_scale_sq: sp.Expr,
                 coords: Sequence[sp.Symbol]) -> sp.Expr:
    r"""Right side of the reverse process's Fokker-Planck equation, derivatives held:
    :math:`-\nabla\cdot(bp) + \tfrac12\lambda^2 g^2\Delta p`, the flux :math:`b_i p = -f_i p + c\,g^2\partial_i p`
    (:math:`(\partial_i\log p)\,p = \partial_i p` written out)."""
    flux = [-f * p + score_weight * sde.diffusion_sq * derivative(p, c) for f, c in zip(sde.drift(coords), coords)]
    spread = noise_scale_sq * sde.diffusion_sq * sum(derivative(p, (c, 2)) for c in coords) / 2
    return -sum(derivative(j, c) for j, c in zip(flux, coords)) + spread


def _closed(expr: sp.Expr) -> sp.Expr:
    return per_density(close_moments(expr))


def _direct(expr: sp.Expr) -> sp.Expr:
    return per_density(expr, one_fraction=False)


def gaussian_forward(sde: LinearSDE, data: Sequence[Component], label: str,
                     close: Callable[[sp.Expr], sp.Expr] | None = None) -> Relation:
    r""":math:`\partial_t p / p = ` Fokker-Planck right side :math:`/ p` for 2-D Gaussian data, derivatives held;
    ``close``: :func:`close_moments` for the generic process (the moments' derivatives by their ODEs)."""
    p = named_marginal(sde, data, COORDS_2D)
    rhs = fokker_planck_rhs(p, sde.drift(COORDS_2D), sde.diffusion_sq * sp.eye(2), COORDS_2D, held=True)
    closing = ", the moments' derivatives replaced by their ODEs" if close else ""
    return Relation(f"{label}: substitute the marginal into the Fokker-Planck equation (divided by $p$){closing}",
                    held_product(time_derivative(sde, p), 1 / p), held_product(rhs, 1 / p),
                    prepare=_closed if close else _direct)


def gaussian_reverse(sde: LinearSDE, data: Sequence[Component], score_weight: sp.Expr, noise_scale_sq: sp.Expr,
                     label: str) -> Relation:
    r""":math:`q_s = p_{T-s}`: :math:`-\partial_t p / p = ` reverse Fokker-Planck right side :math:`/ p`,
    for the generic process (moments closed by their ODEs)."""
    p = named_marginal(sde, data, COORDS_2D)
    rhs = reverse_rate(p, sde, score_weight, noise_scale_sq, COORDS_2D)
    return Relation(f"{label}: substitute the marginal into the reverse-time Fokker-Planck equation (divided by "
                    "$p$), the moments' derivatives replaced by their ODEs",
                    held_product(-time_derivative(sde, p), 1 / p), held_product(rhs, 1 / p), prepare=_closed)


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
    generic, closed = linear_sde(), closed_sde()
    p = named_marginal(generic, gaussian_data(2), COORDS_2D)
    # At a fixed time: log p = -log(2 pi) - log det(S)/2 - r^T S^-1 r / 2, r = x - mu, with the moment ODEs
    # mu' = a mu + b, S' = 2 a S + g^2 I (S = A^2 S_0 + V I): d/dt log p = -tr(S^-1 S')/2 + r^T S^-1 mu'
    # + r^T S^-1 S' S^-1 r / 2.
    means, cov, det = named_moments(closed, gaussian_data(2)[0], COORDS_2D)
    texs = ("x", "y")
    precision = sp.Matrix(2, 2, lambda i, j: named(
        f"P{min(i, j)}{max(i, j)}_closed", rf"(\Sigma^{{\mathrm{{closed}}}})^{{-1}}_{{{texs[min(i, j)]}{texs[max(i, j)]}}}",
        cov.adjugate()[min(i, j), max(i, j)] / det, description="precision (inverse covariance) at time t"))
    centred = sp.Matrix([x_sde - means[0], y_sde - means[1]])
    # S^-1 S' S^-1 = 2a S^-1 + g^2 S^-2 and tr(S^-1 S') = 4a + g^2 tr S^-1; w = S^-1 r is minus the score.
    pulled = precision * centred
    minus_score = [named(f"w{i}_closed", rf"w_{texs[i]}", pulled[i],
                         description=rf"$(\Sigma^{{-1}}(x - \mu))_{texs[i]}$, minus the score") for i in range(2)]
    mean_rate = [gain_fp * m + offset_fp for m in means]
    log_rate = (-2 * gain_fp - g_fp**2 * precision.trace() / 2
                + sum(w * (m + gain_fp * r) for w, m, r in zip(minus_score, mean_rate, centred))
                + g_fp**2 * sum(w**2 for w in minus_score) / 2)
    p_closed = named_marginal(closed, gaussian_data(2), COORDS_2D)
    drift, diffusion = closed.drift(COORDS_2D), closed.diffusion_sq * sp.eye(2)
    transport = held_product(fokker_planck_rhs(p_closed, drift, 0 * diffusion, COORDS_2D, held=True), 1 / p_closed)
    spread = held_product(fokker_planck_rhs(p_closed, [0, 0], diffusion, COORDS_2D, held=True), 1 / p_closed)
    cov_generic = _generic_marginal_cov()
    return Body(
        steps=(gaussian_forward(generic, gaussian_data(2), GENERIC_LABEL, close=close_moments),)
        + _all_moment_steps()
        + (gaussian_forward(vp_sde(), gaussian_data(2), "VP (direct), 2-D correlated Gaussian data"),
           Relation(r"differentiate $\log p_t$ in $t$ through its moments (trace and quadratic forms of "
                    r"$\Sigma_t^{-1}$, with $\dot\mu = a\mu + b$, $\dot\Sigma = 2a\Sigma + g^2 I$)",
                    held_product(time_derivative(generic, p), 1 / p), log_rate, prepare=_closed)),
        results=(
            Result("cov_xx", cov_generic[0, 0], "Var of the first coordinate of X_t"),
            Result("cov_xy", cov_generic[0, 1], "cross-covariance of the coordinates of X_t"),
            Result("log_density_rate", log_rate, "d/dt log p_t(x, y), the moments' derivatives by their ODEs"),
        ),
        wrong_variants=(
            WrongVariant("cov_xy", sp.Integer(0), "cross term missing"),
            WrongVariant("cov_xy", corr_data * std_data_x * std_data_y, "cross term not scaled by A^2"),
            WrongVariant("cov_xy", cov_generic[0, 1] + kernel_var, "noise variance added off the diagonal"),
            WrongVariant("log_density_rate", held_sum(-transport, spread),
                         "Fokker-Planck right side with the drift's sign flipped"),
            WrongVariant("log_density_rate", held_sum(transport, held_product(spread, 1 / g_fp)),
                         "diffusion g in place of g^2 in the second-order term"),
            WrongVariant("log_density_rate", held_sum(transport, held_product(2, spread)),
                         "second-order term without the 1/2"),
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
    p = named_marginal(generic, data, COORDS_2D)
    score_x = _score(x_sde)
    cov = _generic_marginal_cov()
    return Body(
        steps=(
            gaussian_reverse(generic, data, weight, lam_rev**2, rf"general $\lambda$, {GENERIC_LABEL}"),
            gaussian_reverse(generic, data, weight.subs(lam_rev, 0), sp.Integer(0),
                             rf"$\lambda = 0$ (probability-flow ODE), {GENERIC_LABEL}"),
            Relation(r"score: differentiate the marginal, $\partial_x\log p_t = -(\Sigma_t^{-1}(x - \mu_t))_x$",
                     held_product(derivative(p, x_sde), 1 / p), score_x, prepare=_closed),
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


def _mixture_scores() -> tuple[sp.Expr, sp.Expr]:
    r""":math:`\partial_x\log p_t` of the 2-D mixture marginal at the moments' values: the responsibilities
    :math:`w_k\mathcal N_k/p` times the components' scores :math:`-(x - m_{k,x})/v_k`; and the same scores
    weighted by the prior weights (a wrong variant)."""
    parts = named_components(closed_sde(), mixture_data(2), COORDS_2D)
    p = named_marginal(closed_sde(), mixture_data(2), COORDS_2D)
    scores = [-(x_sde - means[0]) / var for _, _, means, var in parts]
    posterior = sum(weight * density * component for (weight, density, _, _), component in zip(parts, scores)) / p
    prior = sum(weight * component for (weight, _, _, _), component in zip(parts, scores))
    return posterior, prior


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
    p = named_marginal(generic, data, COORDS_2D)
    weight = get("fp.reverse_family").result("score_weight")
    forward = Relation("linear SDE, 2-D mixture data: substitute the marginal into the Fokker-Planck equation, the "
                       "moments' derivatives replaced by their ODEs", time_derivative(generic, p),
                       fokker_planck_rhs(p, generic.drift(COORDS_2D), generic.diffusion_sq * sp.eye(2), COORDS_2D,
                                         held=True), attempt_exact=False, prepare=close_moments)
    reverse = Relation(r"general $\lambda$, linear SDE, 2-D mixture data: substitute the marginal into the "
                       "reverse-time Fokker-Planck equation, the moments' derivatives replaced by their ODEs",
                       -time_derivative(generic, p), reverse_rate(p, generic, weight, lam_rev**2, COORDS_2D),
                       attempt_exact=False, prepare=close_moments)
    direct = replace(forward_relation("VP", vp_sde(), data, COORDS_2D, "VP (direct), 2-D mixture data",
                                      per_density=False), attempt_exact=False)
    score_x, prior_weighted = _mixture_scores()
    return Body(
        steps=(forward, reverse, direct) + _all_moment_steps()
        + (Relation(r"score: differentiate the marginal, $\partial_x\log p_t$ (the constant $2\pi$ cancels)",
                    held_product(derivative(p, x_sde), 1 / p), score_x, attempt_exact=False, prepare=close_moments),),
        results=(Result("score_x", score_x, "first component of the score of the 2-D mixture marginal"),),
        wrong_variants=(
            WrongVariant("score_x", prior_weighted, "prior weights in place of posterior responsibilities"),
            WrongVariant("score_x", -score_x, "sign flipped"),
        ),
    )
