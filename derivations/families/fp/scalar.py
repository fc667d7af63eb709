r"""fp.*: the Fokker-Planck equation, time reversal and the probability-flow ODE.

For :math:`dX = f(t, X)\,dt + G(t)\,dW` in :math:`\mathbb R^d` the marginal
density solves

.. math::
    \partial_t p = -\sum_i \partial_i (f_i p)
        + \tfrac12 \sum_{i,j} \partial_i\partial_j \big((G G^\top)_{ij}\, p\big).

Every identity here is shown by *substitution*: the marginal densities of the
VP, sub-VP, VE and OU processes (moments from ``sde.*`` and from the moment
ODEs of :func:`derivations.families.sde.moments.solve_moment_ode`) are put into the PDE and
SymPy reduces the residual. The VP family keeps an arbitrary schedule: its
:math:`B(t)` is the ``Integral`` of an undefined :math:`\beta`, SymPy's chain
rule differentiates it, and only then are the point values
:math:`B(t)` and :math:`\beta(t)` named (``B_t``, ``beta_now``); at a fixed
:math:`t` any positive pair is reached by some schedule.

Time reversal: :math:`q_s = p_{T-s}` is the marginal of
:math:`dY = b(s, Y)\,ds + \lambda g\,dW` iff it solves that process's
Fokker-Planck equation; with the ansatz :math:`b = -f + c\, g^2 \nabla\log p`
SymPy solves the residual for :math:`c`, for an undefined density and drift.

=============  ==========================  =====================================
code name      LaTeX                       meaning
=============  ==========================  =====================================
``x_sde``      :math:`x`                   state (``y_sde``: second coordinate)
``beta_now``   :math:`\beta(t)`            schedule value at :math:`t`
``T_rev``      :math:`T`                   horizon; ``s_rev`` is :math:`s`
``lam_rev``    :math:`\lambda`             reverse-family diffusion scale
``f_fp``       :math:`f`                   drift value; ``g_fp``: :math:`g`
``score_fp``   :math:`\nabla\log p_t`      score value
=============  ==========================  =====================================
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import sympy as sp

from derivations.families.gaussian import push_forward
from derivations.core.notation import (
    B_t,
    beta_now,
    corr_data,
    f_fp,
    g_fp,
    kappa_ou,
    lam_rev,
    mean_data,
    mean_data_y,
    mix_mean_1,
    mix_mean_1_y,
    mix_mean_2,
    mix_mean_2_y,
    mix_var_1,
    mix_var_2,
    mix_weight,
    score_fp,
    sigma_ou,
    std_data_x,
    std_data_y,
    theta_ou,
    time,
    var_data,
    x_0,
    x_sde,
    y_sde,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation, get
from derivations.families.sde.moments import solve_moment_ode

SONG_2021 = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, eqs. (5), (6), (13) and App. D"
ANDERSON_1982 = "B. D. O. Anderson, Reverse-time diffusion equation models, Stoch. Proc. Appl. 12 (1982)"
HAUSSMANN_PARDOUX = "U. G. Haussmann, E. Pardoux, Time reversal of diffusions, Ann. Probab. 14 (1986)"
RISKEN = "H. Risken, The Fokker-Planck Equation, Springer (1989), ch. 4"

_u = sp.Symbol("u", positive=True)
_beta = sp.Function("beta", positive=True)
COORDS_1D = (x_sde,)
COORDS_2D = (x_sde, y_sde)


def schedule_integral(upper: sp.Expr) -> sp.Integral:
    r""":math:`B(\text{upper}) = \int_0^{\text{upper}} \beta(u)\,du` for an undefined schedule."""
    return sp.Integral(_beta(_u), (_u, 0, upper))


def name_schedule_values(expr: sp.Expr) -> sp.Expr:
    r"""Replace :math:`\int_0^\tau\beta` by ``B_t`` and :math:`\beta(\tau)` by ``beta_now`` (after differentiating)."""
    expr = expr.replace(lambda e: isinstance(e, sp.Integral) and e.function == _beta(_u), lambda e: B_t)
    return expr.replace(lambda e: isinstance(e, sp.Function) and e.func == _beta, lambda e: beta_now)


@dataclass(frozen=True)
class LinearSDE:
    r""":math:`dX = (a(t) X + b(t))\,dt + g(t)\,dW` coordinate-wise; from :math:`X_0 = x_0`,
    :math:`X_t \sim \mathcal N(A(t) x_0 + c(t), V(t))`. Every field is an expression in ``time``."""

    name: str
    clock: sp.Symbol
    clock_rate: sp.Expr
    drift_gain: sp.Expr
    drift_offset: sp.Expr
    diffusion_sq: sp.Expr
    mean_coef: sp.Expr
    mean_offset: sp.Expr
    var: sp.Expr

    def d_dt(self, expr: sp.Expr) -> sp.Expr:
        r"""Chain rule :math:`\partial_t = \dot\tau\,\partial_\tau` through the process's clock (t, or B(t))."""
        return self.clock_rate * sp.diff(expr, self.clock)

    def drift(self, coords: Sequence[sp.Symbol]) -> list[sp.Expr]:
        return [self.drift_gain * c + self.drift_offset for c in coords]


def vp_sde() -> LinearSDE:
    """VP: f = -beta x / 2, g^2 = beta; moments of ``sde.vp`` with B = int beta."""
    d = get("sde.vp")
    return LinearSDE("VP", B_t, beta_now, -beta_now / 2, sp.Integer(0), beta_now,
                     d.result("mean_coef"), sp.Integer(0), d.result("var"))


def subvp_sde() -> LinearSDE:
    """sub-VP: f = -beta x / 2, g^2 = beta (1 - e^{-2B}); moments of ``sde.subvp``."""
    d = get("sde.subvp")
    return LinearSDE("sub-VP", B_t, beta_now, -beta_now / 2, sp.Integer(0), beta_now * (1 - sp.exp(-2 * B_t)),
                     d.result("mean_coef"), sp.Integer(0), d.result("var"))


def ve_sde() -> LinearSDE:
    """VE: f = 0, g^2 = d sigma^2 / dt (geometric sigma); moments of ``sde.ve``."""
    d = get("sde.ve")
    return LinearSDE("VE", time, sp.Integer(1), sp.Integer(0), sp.Integer(0), d.result("diffusion_sq"), d.result("mean_coef"),
                     sp.Integer(0), d.result("var"))


def ou_moments(rate: sp.Expr, level: sp.Expr, diffusion_sq: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""Mean coefficient, mean offset and variance of :math:`dX = \kappa(\theta - X)dt + \sigma dW` from
    :math:`x_0`: the moment ODEs in the time :math:`\kappa t` solved by ``dsolve``."""
    mean = solve_moment_ode(-sp.Integer(1), level, x_0).subs(B_t, rate * time)
    var = solve_moment_ode(-sp.Integer(2), diffusion_sq / rate, sp.Integer(0)).subs(B_t, rate * time)
    return sp.expand(sp.diff(mean, x_0)), sp.expand(mean.subs(x_0, 0)), var


def ou_sde() -> LinearSDE:
    mean_coef, mean_offset, var = ou_moments(kappa_ou, theta_ou, sigma_ou**2)
    return LinearSDE("OU", time, sp.Integer(1), -kappa_ou, kappa_ou * theta_ou, sigma_ou**2, mean_coef, mean_offset, var)


def ou_moment_steps() -> tuple[Relation, ...]:
    """The dsolve solutions solve the OU moment ODEs in t."""
    sde = ou_sde()
    mean = sde.mean_coef * x_0 + sde.mean_offset
    return (
        Relation(r"OU mean: $\dot m = \kappa(\theta - m)$, $m(0) = x_0$", sp.diff(mean, time),
                 kappa_ou * (theta_ou - mean)),
        Relation(r"OU variance: $\dot v = -2\kappa v + \sigma^2$, $v(0) = 0$", sp.diff(sde.var, time),
                 -2 * kappa_ou * sde.var + sigma_ou**2),
        Relation("OU moments at t = 0", (mean + sde.var).subs(time, 0), x_0),
    )


# --- densities ----------------------------------------------------------------------------------

def gaussian_density(coords: Sequence[sp.Symbol], mean: Sequence[sp.Expr], cov: sp.Matrix) -> sp.Expr:
    r""":math:`\mathcal N(x; \mu, \Sigma)` in ``len(coords)`` dimensions."""
    centred = sp.Matrix([c - m for c, m in zip(coords, mean)])
    det = sp.factor(cov.det(method="berkowitz"))
    # The adjugate keeps the inverse a plain rational expression (Matrix.inv() simplifies, slowly).
    quad = (centred.T * cov.adjugate() * centred)[0, 0] / det
    return sp.exp(-quad / 2) / sp.sqrt((2 * sp.pi) ** len(coords) * det)


@dataclass(frozen=True)
class Component:
    """A Gaussian data component N(mean, cov) with its weight."""

    weight: sp.Expr
    mean: tuple[sp.Expr, ...]
    cov: sp.Matrix


def marginal(sde: LinearSDE, data: Sequence[Component], coords: Sequence[sp.Symbol]) -> sp.Expr:
    r"""Density of :math:`X_t` for data :math:`\sum_k w_k \mathcal N(\mu_k, \Sigma_k)`: each component
    pushed through the Gaussian transition, :math:`\mathcal N(A\mu_k + c, A^2\Sigma_k + V I)`."""
    total = sp.Integer(0)
    for comp in data:
        mean = [push_forward(m, 0, sde.mean_coef, sde.mean_offset, 0)[0] for m in comp.mean]
        cov = comp.cov.applyfunc(lambda entry: push_forward(0, entry, sde.mean_coef, 0, 0)[1])
        cov += sde.var * sp.eye(len(coords))
        total += comp.weight * gaussian_density(coords, mean, cov)
    return total


def gaussian_data(dim: int) -> list[Component]:
    """One Gaussian: N(m, var) in 1-D; correlated N(mean, Sigma) in 2-D."""
    if dim == 1:
        return [Component(sp.Integer(1), (mean_data,), sp.Matrix([[var_data]]))]
    std_x, std_y = std_data_x, std_data_y
    cov = corr_data * std_x * std_y
    return [Component(sp.Integer(1), (mean_data, mean_data_y), sp.Matrix([[std_x**2, cov], [cov, std_y**2]]))]


def mixture_data(dim: int) -> list[Component]:
    """Two components, weights w and 1 - w, isotropic covariances v_k I."""
    means = ((mix_mean_1,), (mix_mean_2,)) if dim == 1 else ((mix_mean_1, mix_mean_1_y), (mix_mean_2, mix_mean_2_y))
    return [Component(mix_weight, means[0], mix_var_1 * sp.eye(dim)), Component(1 - mix_weight, means[1], mix_var_2 * sp.eye(dim))]


# --- the operators ------------------------------------------------------------------------------

def fokker_planck_rhs(density: sp.Expr, drift: Sequence[sp.Expr], diffusion: sp.Matrix,
                      coords: Sequence[sp.Symbol]) -> sp.Expr:
    r""":math:`-\sum_i \partial_i(f_i p) + \tfrac12\sum_{ij}\partial_i\partial_j(D_{ij} p)`, :math:`D = GG^\top`."""
    transport = -sum(sp.diff(f * density, c) for f, c in zip(drift, coords))
    spread = sum(sp.diff(diffusion[i, j] * density, ci, cj)
                 for i, ci in enumerate(coords) for j, cj in enumerate(coords)) / 2
    return transport + spread


def score(density: sp.Expr, coord: sp.Symbol) -> sp.Expr:
    return sp.diff(density, coord) / density


# The 2-D substitutions (correlated Gaussian and mixture data) are in fokker_planck_2d.py: substituted
# as they stand they take minutes in SymPy's simplifier.
CASES_GAUSSIAN = (("VP", vp_sde, 1), ("sub-VP", subvp_sde, 1), ("VE", ve_sde, 1), ("OU", ou_sde, 1))
CASES_MIXTURE = (("VP", vp_sde, 1), ("sub-VP", subvp_sde, 1), ("OU", ou_sde, 1))


def _label(name: str, dim: int, data: str) -> str:
    return f"{name}, {dim}-D {data} data"


def forward_relation(name: str, sde: LinearSDE, data: Sequence[Component], coords: Sequence[sp.Symbol],
                     label: str, per_density: bool) -> Relation:
    r""":math:`\partial_t p = ` Fokker-Planck right side, both divided by :math:`p` when ``per_density``."""
    p = marginal(sde, data, coords)
    lhs = sde.d_dt(p)
    rhs = fokker_planck_rhs(p, sde.drift(coords), sde.diffusion_sq * sp.eye(len(coords)), coords)
    scale = p if per_density else 1
    return Relation(f"{label}: the marginal solves the Fokker-Planck equation", lhs / scale, rhs / scale)


# --- forward --------------------------------------------------------------------------------------

def _vp_gaussian_rate() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(p, f, g^2) of the VP marginal of 1-D Gaussian data, schedule still undefined."""
    sde = vp_sde()
    return marginal(sde, gaussian_data(1), COORDS_1D), sde.drift(COORDS_1D)[0], sde.diffusion_sq


def _forward_wrong(p: sp.Expr, f: sp.Expr, g2: sp.Expr) -> tuple[WrongVariant, ...]:
    def rate(drift_sign: int, spread: sp.Expr) -> sp.Expr:
        return name_schedule_values((drift_sign * sp.diff(f * p, x_sde) + spread) / p)

    return (
        WrongVariant("log_density_rate", rate(-1, sp.diff(g2 * p, x_sde, 2)), "diffusion term without the 1/2"),
        WrongVariant("log_density_rate", rate(+1, sp.diff(g2 * p, x_sde, 2) / 2), "drift term with the wrong sign"),
        WrongVariant("log_density_rate", rate(-1, sp.diff(sp.sqrt(g2) * p, x_sde, 2) / 2), "g in place of g^2"),
    )


@derivation(
    id="fp.forward",
    title="Fokker-Planck equation: the Gaussian-data marginals of VP, sub-VP, VE and OU solve it",
    statement=r"$\partial_t p = -\nabla\cdot(f p) + \tfrac12 \sum_{ij}\partial_i\partial_j\big((gg^\top)_{ij} p\big)$; "
    r"substituting the marginal $\mathcal N(A\mu_0 + c, A^2\Sigma_0 + V I)$ of Gaussian data $\mathcal N(\mu_0, \Sigma_0)$ "
    r"under VP and sub-VP (any schedule $\beta$), VE and OU, in 1-D, leaves zero residual "
    r"(the operator is written for $d$ dimensions; 2-D correlated data: `fp.forward_2d`).",
    tier=Tier.EXACT,
    assumptions=(r"$\beta(t) > 0$ continuous; $0 < \sigma_{\min} < \sigma_{\max}$; $\kappa, \sigma > 0$",
                 r"$\Sigma_0$ positive definite, $|\rho_0| < 1$"),
    references=(RISKEN, SONG_2021),
)
def forward() -> Body:
    steps = tuple(forward_relation(name, build(), gaussian_data(dim), COORDS_2D[:dim],
                                   _label(name, dim, "Gaussian"), per_density=True)
                  for name, build, dim in CASES_GAUSSIAN)
    p, f, g2 = _vp_gaussian_rate()
    rate = vp_sde().d_dt(p) / p
    log_p = sp.log(p)
    clock = Relation(r"clock: $\partial_t \log p(B(t)) = \beta(t)\,\partial_B \log p$ for $B = \int_0^t\beta$, "
                     r"$\beta$ an undefined function", name_schedule_values(
                         sp.diff(log_p.subs(B_t, schedule_integral(time)), time)), beta_now * sp.diff(log_p, B_t))
    return Body(
        steps=(clock,) + ou_moment_steps() + steps,
        results=(
            Result("log_density_rate", sp.cancel(sp.together(rate)),
                   r"d/dt log p_t(x) of the VP marginal of N(m, var) data, at B(t) and beta(t)"),
            Result("log_density_rate_fp",
                   sp.cancel(sp.together(fokker_planck_rhs(p, [f], sp.Matrix([[g2]]), COORDS_1D) / p)),
                "the Fokker-Planck right side divided by p (equal to log_density_rate)"),
        ),
        claims=(Claim("log_density_rate_fp", name_schedule_values(rate), "Risken (1989), eq. (4.94)"),),
        wrong_variants=_forward_wrong(p, f, g2),
    )


@derivation(
    id="fp.forward_mixture",
    title="Fokker-Planck equation: the Gaussian-mixture-data marginals of VP, sub-VP and OU solve it",
    statement=r"For data $w\,\mathcal N(\mu_1, v_1 I) + (1-w)\,\mathcal N(\mu_2, v_2 I)$ the marginal "
    r"$p_t = \sum_k w_k \mathcal N(A\mu_k + c, (A^2 v_k + V) I)$ solves "
    r"$\partial_t p = -\nabla\cdot(fp) + \tfrac12 g^2\Delta p$ for VP, sub-VP and OU, in 1-D.",
    tier=Tier.EXACT,
    assumptions=(r"$0 < w < 1$, $v_k > 0$",),
    references=(RISKEN, SONG_2021),
)
def forward_mixture() -> Body:
    steps = tuple(forward_relation(name, build(), mixture_data(dim), COORDS_2D[:dim],
                                   _label(name, dim, "mixture"), per_density=False)
                  for name, build, dim in CASES_MIXTURE)
    sde = vp_sde()
    p = marginal(sde, mixture_data(1), COORDS_1D)
    # sqrt(2 pi) times the rate: the constant cancels term by term, so the closed form compiles to torch.
    unit = sp.sqrt(2 * sp.pi)

    def scaled(diffusion_factor: int, drift_sign: int) -> sp.Expr:
        drift = [drift_sign * f for f in sde.drift(COORDS_1D)]
        rhs = fokker_planck_rhs(p, drift, sp.Matrix([[diffusion_factor * sde.diffusion_sq]]), COORDS_1D)
        return _numeric_constants(sp.expand(unit * rhs))

    return Body(
        steps=steps,
        results=(Result("density_rate", _numeric_constants(sp.expand(unit * sde.d_dt(p))),
                        "sqrt(2 pi) d/dt p_t(x) of the VP marginal of 1-D mixture data"),),
        wrong_variants=(
            WrongVariant("density_rate", scaled(2, 1), "diffusion term without the 1/2"),
            WrongVariant("density_rate", scaled(1, -1), "drift with the wrong sign"),
        ),
    )


def _numeric_constants(expr: sp.Expr) -> sp.Expr:
    """Constant powers (sqrt(pi)) as 60-digit Floats, so the torch back end can evaluate them."""
    return expr.xreplace({a: sp.N(a, 60) for a in expr.atoms(sp.Pow) if a.is_number})


# --- time reversal --------------------------------------------------------------------------------

_c = sp.Symbol("c")  # unknown weight of g^2 times the score in the reverse drift (solved for)


def solve_score_weight(noise_scale_sq: sp.Expr) -> sp.Expr:
    r"""The weight :math:`c` in the reverse drift :math:`-f + c\,g^2\partial_x\log p` (reverse time) for
    which :math:`q_s = p_{T-s}` solves the Fokker-Planck equation of :math:`dY = b\,ds + \sqrt{\text{scale}}\,g\,dW`.

    Density, drift and diffusion are undefined functions; :math:`\partial_t p` is replaced by the forward
    Fokker-Planck right side, and the residual is solved for :math:`c`.
    """
    p, f, g = sp.Function("p")(time, x_sde), sp.Function("f")(time, x_sde), sp.Function("g")(time)
    forward_rate = fokker_planck_rhs(p, [f], sp.Matrix([[g**2]]), COORDS_1D)
    reverse_drift = -f + _c * g**2 * sp.diff(p, x_sde) / p
    # d/ds p(T - s, y) = -(d_t p)(T - s, y)
    residual = -sp.diff(p, time) - fokker_planck_rhs(p, [reverse_drift], sp.Matrix([[noise_scale_sq * g**2]]),
                                                      COORDS_1D)
    residual = sp.expand(residual.subs(sp.Derivative(p, time), forward_rate).doit())
    (weight,) = sp.solve(residual, _c)
    return sp.factor(weight)


def reverse_relation(name: str, sde: LinearSDE, data: Sequence[Component], score_weight: sp.Expr,
                     noise_scale_sq: sp.Expr, label: str, per_density: bool) -> Relation:
    r""":math:`q_s = p_{T-s}` solves the Fokker-Planck equation of the reverse process (reverse time
    :math:`s`, :math:`\partial_s = -\partial_t`): drift :math:`-f + c g^2\partial\log p`, diffusion
    :math:`\text{scale}\cdot g^2`."""
    p = marginal(sde, data, COORDS_1D)
    drift = -sde.drift(COORDS_1D)[0] + score_weight * sde.diffusion_sq * score(p, x_sde)
    # The flux b p with (d_x log p) p = d_x p written out: SymPy does not cancel p/p inside a sum.
    flux = sp.expand(drift * p, deep=False).subs(score(p, x_sde) * p, sp.diff(p, x_sde))
    lhs = -sde.d_dt(p)
    rhs = -sp.diff(flux, x_sde) + noise_scale_sq * sde.diffusion_sq * sp.diff(p, x_sde, 2) / 2
    scale = p if per_density else 1
    return Relation(f"{label}: p_(T-s) solves the reverse-time Fokker-Planck equation", lhs / scale, rhs / scale)


def reverse_steps(score_weight: sp.Expr, noise_scale_sq: sp.Expr, mixture: bool) -> tuple[Relation, ...]:
    cases = CASES_MIXTURE if mixture else CASES_GAUSSIAN
    data = mixture_data(1) if mixture else gaussian_data(1)
    return tuple(reverse_relation(name, build(), data, score_weight, noise_scale_sq,
                                  _label(name, 1, "mixture" if mixture else "Gaussian"), per_density=not mixture)
                 for name, build, _ in cases)


def _forward_time_drift(score_weight: sp.Expr) -> sp.Expr:
    """The reverse drift in the forward-time convention dX = [f - c g^2 score] dt + ... (dt < 0)."""
    return f_fp - score_weight * g_fp**2 * score_fp


@derivation(
    id="fp.reverse_sde",
    title="Reverse-time SDE (Anderson): drift f - g^2 score keeps the marginals p_{T-s}",
    statement=r"$dX = [f - g^2\nabla\log p_t]\,dt + g\,d\bar W$ (time running backwards), i.e. "
    r"$dY_s = [-f + g^2\nabla\log p_{T-s}](Y_s)\,ds + g\,dW_s$ for $Y_s = X_{T-s}$, has marginals $p_{T-s}$: "
    r"the weight $1$ of $g^2\nabla\log p$ is solved from the reversed Fokker-Planck equation for any $p, f, g$, "
    r"then checked by substituting the Gaussian-data marginals of VP, sub-VP, VE and OU.",
    tier=Tier.EXACT,
    assumptions=(r"$p_t > 0$ smooth, decaying with its derivatives at infinity",),
    references=(ANDERSON_1982, HAUSSMANN_PARDOUX, SONG_2021),
)
def reverse_sde() -> Body:
    weight = solve_score_weight(sp.Integer(1))
    return Body(
        steps=(Relation("solved score weight (noise g)", weight, 1),) + reverse_steps(weight, sp.Integer(1), False),
        results=(Result("drift", _forward_time_drift(weight), "reverse drift, forward-time convention"),
                 Result("score_weight", weight, "weight of g^2 grad log p in the reverse drift")),
        claims=(Claim("drift", f_fp - g_fp**2 * score_fp, "Song et al. (2021), eq. (6)"),),
        wrong_variants=(
            WrongVariant("drift", f_fp + g_fp**2 * score_fp, "+g^2 score (sign flipped)"),
            WrongVariant("drift", f_fp - g_fp**2 * score_fp / 2, "probability-flow weight 1/2 with noise g"),
            WrongVariant("drift", f_fp - g_fp * score_fp, "g in place of g^2"),
        ),
    )


@derivation(
    id="fp.reverse_family",
    title="Reverse-time family: drift f - (1 + lambda^2)/2 g^2 score, noise lambda g, for every lambda >= 0",
    statement=r"$dX = [f - \tfrac12(1+\lambda^2)g^2\nabla\log p_t]\,dt + \lambda g\,d\bar W$ has marginals "
    r"$p_{T-s}$ for every $\lambda \ge 0$: the weight $\tfrac12(1+\lambda^2)$ is solved from the reversed "
    r"Fokker-Planck equation with noise $\lambda g$, then substituted for Gaussian data.",
    tier=Tier.EXACT,
    assumptions=(r"$\lambda \ge 0$; $p_t > 0$ smooth, decaying at infinity",),
    references=(SONG_2021, "D. Karras et al., Elucidating the Design Space of Diffusion-Based Generative "
                "Models, NeurIPS 2022, eq. (6)"),
)
def reverse_family() -> Body:
    weight = solve_score_weight(lam_rev**2)
    return Body(
        steps=(Relation(r"solved weight at $\lambda = 1$ is Anderson's", weight.subs(lam_rev, 1),
                        get("fp.reverse_sde").result("score_weight")),)
        + reverse_steps(weight, lam_rev**2, False),
        results=(Result("drift", _forward_time_drift(weight), "reverse drift, forward-time convention"),
                 Result("diffusion", lam_rev * g_fp, "reverse diffusion coefficient"),
                 Result("score_weight", weight, "weight of g^2 grad log p")),
        claims=(Claim("score_weight", (1 + lam_rev**2) / 2, "Karras et al. (2022), eq. (6) with beta = lambda^2/2"),),
        wrong_variants=(
            WrongVariant("score_weight", (1 + lam_rev) / 2, "lambda in place of lambda^2"),
            WrongVariant("score_weight", 1 + lam_rev**2, "missing 1/2"),
            WrongVariant("diffusion", lam_rev**2 * g_fp, "lambda^2 g as the diffusion"),
        ),
    )


@derivation(
    id="fp.pf_ode",
    title="Probability-flow ODE: drift f - g^2 score / 2 transports p_t (continuity equation)",
    statement=r"$dx/dt = f - \tfrac12 g^2\nabla\log p_t$ (the $\lambda = 0$ member) satisfies "
    r"$\partial_t p = -\nabla\cdot\big((f - \tfrac12 g^2\nabla\log p)\,p\big)$, the continuity equation; "
    r"substituted for Gaussian data.",
    tier=Tier.EXACT,
    assumptions=(r"$p_t > 0$ smooth",),
    references=(SONG_2021,),
)
def pf_ode() -> Body:
    weight = get("fp.reverse_family").result("score_weight").subs(lam_rev, 0)
    return Body(
        steps=(Relation(r"$\lambda = 0$ weight solved directly", solve_score_weight(sp.Integer(0)), weight),)
        + reverse_steps(weight, sp.Integer(0), False),
        results=(Result("drift", _forward_time_drift(weight), "probability-flow velocity"),
                 Result("score_weight", weight, "weight of g^2 grad log p")),
        claims=(Claim("drift", f_fp - g_fp**2 * score_fp / 2, "Song et al. (2021), eq. (13)"),),
        wrong_variants=(
            WrongVariant("drift", f_fp - g_fp**2 * score_fp, "g^2 in place of g^2 / 2"),
            WrongVariant("drift", f_fp + g_fp**2 * score_fp / 2, "sign flipped"),
        ),
    )


@derivation(
    id="fp.reverse_mixture",
    title="Reverse-time SDEs, the lambda-family and the probability-flow ODE keep Gaussian-mixture marginals",
    statement=r"For data $w\,\mathcal N(\mu_1, v_1) + (1-w)\,\mathcal N(\mu_2, v_2)$ and the VP, sub-VP and OU "
    r"processes, $p_{T-s}$ solves the Fokker-Planck equation of the reverse process with drift "
    r"$-f + \tfrac12(1+\lambda^2) g^2\nabla\log p$ and diffusion $\lambda g$, for $\lambda = 1$ (Anderson's "
    r"reverse SDE), general $\lambda \ge 0$ and $\lambda = 0$ (probability-flow ODE); 1-D.",
    tier=Tier.NUMERIC,
    assumptions=(r"$0 < w < 1$, $v_k > 0$; the weights are the ones derived for arbitrary densities in "
                 "`fp.reverse_sde`, `fp.reverse_family` and `fp.pf_ode`",
                 "the substituted residuals are too long for SymPy's simplifiers: 50-digit agreement at random "
                 "admissible points"),
    references=(RISKEN, SONG_2021),
)
def reverse_mixture() -> Body:
    weight = get("fp.reverse_family").result("score_weight")
    members = ((r"$\lambda = 1$", weight.subs(lam_rev, 1), sp.Integer(1)),
               (r"general $\lambda$", weight, lam_rev**2),
               (r"$\lambda = 0$", weight.subs(lam_rev, 0), sp.Integer(0)))
    steps = tuple(
        reverse_relation(name, build(), mixture_data(1), member_weight, noise_scale_sq,
                         f"{label}, {_label(name, 1, 'mixture')}", per_density=False)
        for label, member_weight, noise_scale_sq in members for name, build, _ in CASES_MIXTURE)
    return Body(
        steps=steps,
        results=(Result("score_weight", weight, "weight of g^2 grad log p, as for Gaussian data"),),
        wrong_variants=(
            WrongVariant("score_weight", (1 + lam_rev) / 2, "lambda in place of lambda^2"),
            WrongVariant("score_weight", 1 + lam_rev**2, "missing 1/2"),
        ),
    )


@derivation(
    id="fp.ve_mixture",
    title="VE SDE with Gaussian-mixture data: forward Fokker-Planck and the reverse-time family",
    statement=r"For data $w\,\mathcal N(\mu_1, v_1) + (1-w)\,\mathcal N(\mu_2, v_2)$ and the VE SDE "
    r"($f = 0$, $g^2 = d\sigma^2/dt$), $p_t = \sum_k w_k\mathcal N(\mu_k, v_k + \sigma(t)^2 - \sigma_{\min}^2)$ "
    r"solves $\partial_t p = \tfrac12 g^2\partial_x^2 p$, and $p_{T-s}$ solves the Fokker-Planck equation of the "
    r"reverse process with drift $\tfrac12(1+\lambda^2)g^2\partial_x\log p$ and noise $\lambda g$ for "
    r"$\lambda = 1$, general $\lambda \ge 0$ and $\lambda = 0$; 1-D.",
    tier=Tier.NUMERIC,
    assumptions=(r"$0 < w < 1$, $v_k > 0$, $0 < \sigma_{\min} < \sigma_{\max}$",
                 r"the residuals, in powers $(\sigma_{\max}/\sigma_{\min})^{2t}$, take SymPy's simplifiers "
                 "longer than the suite allows: 50-digit agreement at random admissible points"),
    references=(RISKEN, SONG_2021),
)
def ve_mixture() -> Body:
    sde, data = ve_sde(), mixture_data(1)
    weight = get("fp.reverse_family").result("score_weight")
    members = ((r"$\lambda = 1$", weight.subs(lam_rev, 1), sp.Integer(1)),
               (r"general $\lambda$", weight, lam_rev**2),
               (r"$\lambda = 0$", weight.subs(lam_rev, 0), sp.Integer(0)))
    forward = forward_relation("VE", sde, data, COORDS_1D, _label("VE", 1, "mixture"), per_density=False)
    reverse = tuple(reverse_relation("VE", sde, data, member_weight, noise_scale_sq,
                                     f"{label}, {_label('VE', 1, 'mixture')}", per_density=False)
                    for label, member_weight, noise_scale_sq in members)
    p = marginal(sde, data, COORDS_1D)
    unit = sp.sqrt(2 * sp.pi)  # cancels term by term: the closed form has no constant square roots

    def scaled_rate(diffusion_sq: sp.Expr) -> sp.Expr:
        return _numeric_constants(sp.expand(unit * fokker_planck_rhs(p, [0], sp.Matrix([[diffusion_sq]]), COORDS_1D)))

    return Body(
        steps=tuple(replace(relation, attempt_exact=False) for relation in (forward,) + reverse),
        results=(Result("density_rate", _numeric_constants(sp.expand(unit * sde.d_dt(p))),
                        "sqrt(2 pi) d/dt p_t(x) of the VE marginal of 1-D mixture data"),
                 Result("score_weight", weight, "weight of g^2 grad log p, as for Gaussian data")),
        wrong_variants=(
            WrongVariant("density_rate", scaled_rate(2 * sde.diffusion_sq), "diffusion term without the 1/2"),
            WrongVariant("density_rate", scaled_rate(sp.sqrt(sde.diffusion_sq)), "g in place of g^2"),
            WrongVariant("score_weight", (1 + lam_rev) / 2, "lambda in place of lambda^2"),
            WrongVariant("score_weight", sp.Integer(1), "Anderson's weight 1 for every lambda"),
        ),
    )
