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

A page shows each substitution through named intermediates: the marginal
:math:`p_t(x)` (and, for mixtures, its components :math:`\mathcal N_k` with
moments :math:`m_k, v_k`) with its definition, and the equation with the
derivatives held; the proof substitutes the definitions and differentiates.

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
from derivations.core import notation
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Equivalent, Relation, Result, WrongVariant, derivation, get
from derivations.core.work import at, derivative, held_product, held_sum, named
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
    """The dsolve solutions substituted back into the OU moment ODEs in t and their initial values."""
    sde = ou_sde()
    mean = sde.mean_coef * x_0 + sde.mean_offset
    return (
        Relation(r"OU mean (`dsolve`), substituted back: $\dot m = \kappa(\theta - m)$", derivative(mean, time),
                 kappa_ou * (theta_ou - mean)),
        Relation(r"OU variance (`dsolve`), substituted back: $\dot v = -2\kappa v + \sigma^2$", derivative(sde.var, time),
                 held_sum(-2 * kappa_ou * sde.var, sigma_ou**2)),
        Relation("OU moments at t = 0: the mean starts at $x_0$", at(mean, {time: 0}), x_0),
        Relation("OU moments at t = 0: the variance starts at 0", at(sde.var, {time: 0}), 0),
    )


# --- densities ----------------------------------------------------------------------------------

def gaussian_density(coords: Sequence[sp.Symbol], mean: Sequence[sp.Expr], cov: sp.Matrix,
                     det: sp.Expr | None = None) -> sp.Expr:
    r""":math:`\mathcal N(x; \mu, \Sigma)` in ``len(coords)`` dimensions (``det``: :math:`|\Sigma|` if already known)."""
    centred = sp.Matrix([c - m for c, m in zip(coords, mean)])
    det = sp.factor(cov.det(method="berkowitz")) if det is None else det
    # The adjugate keeps the inverse a plain rational expression (Matrix.inv() simplifies, slowly).
    quad = (centred.T * cov.adjugate() * centred)[0, 0] / det
    return sp.exp(-quad / 2) / sp.sqrt((2 * sp.pi) ** len(coords) * det)


@dataclass(frozen=True)
class Component:
    """A Gaussian data component N(mean, cov) with its weight."""

    weight: sp.Expr
    mean: tuple[sp.Expr, ...]
    cov: sp.Matrix


def _component_moments(sde: LinearSDE, comp: Component, coords: Sequence[sp.Symbol]) -> tuple[list[sp.Expr], sp.Matrix]:
    r"""Mean :math:`A\mu_k + c` and covariance :math:`A^2\Sigma_k + V I` of a pushed component."""
    mean = [push_forward(m, 0, sde.mean_coef, sde.mean_offset, 0)[0] for m in comp.mean]
    cov = comp.cov.applyfunc(lambda entry: push_forward(0, entry, sde.mean_coef, 0, 0)[1])
    return mean, cov + sde.var * sp.eye(len(coords))


def marginal(sde: LinearSDE, data: Sequence[Component], coords: Sequence[sp.Symbol]) -> sp.Expr:
    r"""Density of :math:`X_t` for data :math:`\sum_k w_k \mathcal N(\mu_k, \Sigma_k)`: each component
    pushed through the Gaussian transition, :math:`\mathcal N(A\mu_k + c, A^2\Sigma_k + V I)`."""
    total = sp.Integer(0)
    for comp in data:
        mean, cov = _component_moments(sde, comp, coords)
        total += comp.weight * gaussian_density(coords, mean, cov)
    return total


def _coordinate_tex(coords: Sequence[sp.Symbol]) -> list[str]:
    return [notation.lookup(c.name).latex for c in coords]


def named_components(sde: LinearSDE, data: Sequence[Component], coords: Sequence[sp.Symbol] = COORDS_1D
                     ) -> list[tuple[sp.Expr, sp.Expr, list[sp.Expr], sp.Expr]]:
    r"""(weight, :math:`\mathcal N_k`, mean coordinates :math:`m_k`, variance :math:`v_k`) of a mixture marginal
    with isotropic components, each a named intermediate."""
    tag, key = sde.name, sde.name.replace("-", "").replace(" ", "")
    texs = _coordinate_tex(coords)
    parts = []
    for k, comp in enumerate(data, 1):
        mean, cov = _component_moments(sde, comp, coords)
        suffix = (lambda i: "") if len(coords) == 1 else (lambda i: f",{texs[i]}")
        means = [named(f"m{k}{i}_{key}", rf"m^{{\mathrm{{{tag}}}}}_{{{k}{suffix(i)}}}", m,
                       description=f"mean of component {k} at time t" + (f", coordinate {texs[i]}" if len(coords) > 1 else ""))
                 for i, m in enumerate(mean)]
        # Factored, as the determinant of the unnamed density is: the proofs' simplifiers then meet one form.
        v_k = named(f"v{k}_{key}", rf"v^{{\mathrm{{{tag}}}}}_{k}", sp.factor(cov[0, 0]),
                    description=f"variance of component {k} at time t (per coordinate)")
        density = named(f"N{k}_{key}", rf"\mathcal N^{{\mathrm{{{tag}}}}}_{k}({', '.join(texs)})",
                        gaussian_density(coords, means, v_k * sp.eye(len(coords))), description=f"component {k}")
        parts.append((comp.weight, density, means, v_k))
    return parts


def named_moments(sde: LinearSDE, comp: Component, coords: Sequence[sp.Symbol]
                  ) -> tuple[list[sp.Expr], sp.Matrix, sp.Expr]:
    """Mean, covariance and its determinant of one pushed Gaussian component, each entry a named intermediate."""
    tag, key = sde.name, sde.name.replace("-", "").replace(" ", "")
    texs = _coordinate_tex(coords)
    mean, cov = _component_moments(sde, comp, coords)
    means = [named(f"mu{i}_{key}", rf"\mu^{{\mathrm{{{tag}}}}}_{{{texs[i]}}}", m, description="mean at time t")
             for i, m in enumerate(mean)]
    entries = {}
    for i in range(len(coords)):
        for j in range(i, len(coords)):
            entries[i, j] = entries[j, i] = named(
                f"S{i}{j}_{key}", rf"\Sigma^{{\mathrm{{{tag}}}}}_{{{texs[i]}{texs[j]}}}", cov[i, j],
                description="covariance at time t")
    det = named(f"det_{key}", rf"|\Sigma^{{\mathrm{{{tag}}}}}|", sp.factor(cov.det(method="berkowitz")),
                description="determinant of the covariance at time t")
    return means, sp.Matrix(len(coords), len(coords), lambda i, j: entries[i, j]), det


def named_marginal(sde: LinearSDE, data: Sequence[Component], coords: Sequence[sp.Symbol]) -> sp.Expr:
    r"""The marginal of :func:`marginal` as a named intermediate :math:`p_t` (per process): a 1-D Gaussian
    as it stands; in 2-D with its mean and covariance entries named; a mixture through its named components."""
    tag, key = sde.name, sde.name.replace("-", "").replace(" ", "")
    at_point = ", ".join(_coordinate_tex(coords))
    if len(data) == 1:
        definition = (marginal(sde, data, coords) if len(coords) == 1
                      else gaussian_density(coords, *named_moments(sde, data[0], coords)))
    else:
        definition = sum(weight * density for weight, density, _, _ in named_components(sde, data, coords))
    return named(f"p_{key}", rf"p^{{\mathrm{{{tag}}}}}_t({at_point})", definition,
                 description=f"marginal density of the {tag} process")


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
                      coords: Sequence[sp.Symbol], held: bool = False) -> sp.Expr:
    r""":math:`-\sum_i \partial_i(f_i p) + \tfrac12\sum_{ij}\partial_i\partial_j(D_{ij} p)`, :math:`D = GG^\top`
    (``held``: the derivatives shown unevaluated)."""
    diff = derivative if held else sp.diff
    transport = -sum(diff(f * density, c) for f, c in zip(drift, coords) if f != 0)
    spread = sum(diff(diffusion[i, j] * density, ci, cj)
                 for i, ci in enumerate(coords) for j, cj in enumerate(coords) if diffusion[i, j] != 0) / 2
    return transport + spread


def score(density: sp.Expr, coord: sp.Symbol) -> sp.Expr:
    return sp.diff(density, coord) / density


# The 2-D substitutions (correlated Gaussian and mixture data) are in plane.py.
CASES_GAUSSIAN = (("VP", vp_sde, 1), ("sub-VP", subvp_sde, 1), ("VE", ve_sde, 1), ("OU", ou_sde, 1))
CASES_MIXTURE = (("VP", vp_sde, 1), ("sub-VP", subvp_sde, 1), ("OU", ou_sde, 1))


def _label(name: str, dim: int, data: str) -> str:
    return f"{name}, {dim}-D {data} data"


def time_derivative(sde: LinearSDE, density: sp.Expr) -> sp.Expr:
    r""":math:`\partial_t p` held: :math:`\dot\tau\,\partial_\tau p` through the process's clock (:math:`B(t)` or :math:`t`)."""
    return held_product(sde.clock_rate, derivative(density, sde.clock))


def forward_relation(name: str, sde: LinearSDE, data: Sequence[Component], coords: Sequence[sp.Symbol],
                     label: str, per_density: bool) -> Relation:
    r""":math:`\partial_t p = ` Fokker-Planck right side, with :math:`p` the named marginal and the derivatives
    held; both sides divided by :math:`p` when ``per_density``."""
    p = named_marginal(sde, data, coords)
    lhs = time_derivative(sde, p)
    rhs = fokker_planck_rhs(p, sde.drift(coords), sde.diffusion_sq * sp.eye(len(coords)), coords, held=True)
    if per_density:
        lhs, rhs = held_product(lhs, 1 / p), held_product(rhs, 1 / p)
    return Relation(f"{label}: substitute the marginal into the Fokker-Planck equation "
                    + ("(divided by $p$)" if per_density else "") , lhs, rhs)


# --- forward --------------------------------------------------------------------------------------

def _vp_gaussian_rate() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(p, f, g^2) of the VP marginal of 1-D Gaussian data, schedule still undefined."""
    sde = vp_sde()
    return marginal(sde, gaussian_data(1), COORDS_1D), sde.drift(COORDS_1D)[0], sde.diffusion_sq


def _forward_wrong(p: sp.Expr, f: sp.Expr, g2: sp.Expr) -> tuple[WrongVariant, ...]:
    def rate(drift_sign: int, spread: sp.Expr) -> sp.Expr:
        return sp.cancel(sp.together(name_schedule_values((drift_sign * sp.diff(f * p, x_sde) + spread) / p)))

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
    clock = Relation(r"clock: differentiate $\log p$ at $B(t) = \int_0^t\beta$ ($\beta$ an undefined function), then "
                     r"name the values $B(t)$, $\beta(t)$: $\partial_t = \beta(t)\,\partial_B$",
                     derivative(log_p.subs(B_t, schedule_integral(time)), time),
                     held_product(beta_now, derivative(log_p, B_t)), prepare=name_schedule_values)
    # Risken (1989), eq. (4.94) for one variable: d_t W = [-d_x D1(x, t) + d_x^2 D2(x, t)] W, D2 = g^2 / 2.
    return Body(
        steps=(clock,) + ou_moment_steps() + steps,
        results=(
            Result("log_density_rate", sp.cancel(sp.together(rate)),
                   r"d/dt log p_t(x) of the VP marginal of N(m, var) data, at B(t) and beta(t)"),
            Result("log_density_rate_fp",
                   sp.cancel(sp.together(fokker_planck_rhs(p, [f], sp.Matrix([[g2]]), COORDS_1D) / p)),
                "the Fokker-Planck right side divided by p (equal to log_density_rate)"),
        ),
        equivalents=(Equivalent("log_density_rate_fp", sp.cancel(sp.together(name_schedule_values(rate))),
                                r"$\partial_t\log p$ computed directly from the marginal"),),
        wrong_variants=_forward_wrong(p, f, g2),
    )


def density_rate(sde: LinearSDE, data: Sequence[Component]) -> sp.Expr:
    r""":math:`\partial_t p` of a 1-D mixture marginal through its named components:
    :math:`\sum_k w_k\mathcal N_k\big[(x - m_k)\dot m_k/v_k + ((x - m_k)^2 - v_k)\dot v_k/(2v_k^2)\big]`, the
    moments' rates :math:`\dot m_k, \dot v_k` differentiated through the process's clock."""
    total = sp.Integer(0)
    for weight, density, (m_k,), v_k in named_components(sde, data):
        m_rate, v_rate = sde.d_dt(m_k.definition()), sde.d_dt(v_k.definition())
        log_rate = (x_sde - m_k) * m_rate / v_k + ((x_sde - m_k) ** 2 - v_k) * v_rate / (2 * v_k**2)
        total += weight * density * log_rate
    return total


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
    p = named_marginal(sde, mixture_data(1), COORDS_1D)
    rate = density_rate(sde, mixture_data(1))

    def operator(diffusion_factor: int, drift_sign: int) -> sp.Expr:
        drift = [drift_sign * f for f in sde.drift(COORDS_1D)]
        return fokker_planck_rhs(p, drift, sp.Matrix([[diffusion_factor * sde.diffusion_sq]]), COORDS_1D, held=True)

    return Body(
        steps=steps + (Relation(r"VP: the rate of the named components, $\sum_k w_k\mathcal N_k\,\partial_t\log\mathcal N_k$,"
                                r" is $\partial_t p$", rate, time_derivative(sde, p)),),
        results=(Result("density_rate", rate, "d/dt p_t(x) of the VP marginal of 1-D mixture data"),),
        wrong_variants=(
            WrongVariant("density_rate", operator(2, 1), "diffusion term without the 1/2"),
            WrongVariant("density_rate", operator(1, -1), "drift with the wrong sign"),
        ),
    )


# --- time reversal --------------------------------------------------------------------------------

_c = sp.Symbol("c")  # unknown weight of g^2 times the score in the reverse drift (solved for)
_p, _f, _g = sp.Function("p", positive=True)(time, x_sde), sp.Function("f")(time, x_sde), sp.Function("g")(time)


def _reverse_residual_sides(weight: sp.Expr, noise_scale_sq: sp.Expr, held: bool) -> tuple[sp.Expr, sp.Expr]:
    r"""Both sides of the reversed Fokker-Planck equation in reverse time for an undefined density
    :math:`p`, drift :math:`f` and diffusion :math:`g`, with :math:`\partial_t p` replaced by the forward
    right side: :math:`-(-\partial_x(fp) + \tfrac12 g^2\partial_x^2 p) = -\partial_x(bp) + \tfrac12\lambda^2g^2\partial_x^2 p`,
    :math:`b = -f + c\,g^2\partial_x\log p`."""
    diff = derivative if held else sp.diff
    forward_rate = fokker_planck_rhs(_p, [_f], sp.Matrix([[_g**2]]), COORDS_1D, held=held)
    reverse_drift = -_f + weight * _g**2 * diff(sp.log(_p), x_sde)
    rhs = fokker_planck_rhs(_p, [reverse_drift], sp.Matrix([[noise_scale_sq * _g**2]]), COORDS_1D, held=held)
    return -forward_rate, rhs


def solve_score_weight(noise_scale_sq: sp.Expr) -> sp.Expr:
    r"""The weight :math:`c` in the reverse drift :math:`-f + c\,g^2\partial_x\log p` (reverse time) for
    which :math:`q_s = p_{T-s}` solves the Fokker-Planck equation of :math:`dY = b\,ds + \sqrt{\text{scale}}\,g\,dW`.

    Density, drift and diffusion are undefined functions; :math:`\partial_t p` is replaced by the forward
    Fokker-Planck right side, and the residual is solved for :math:`c`.
    """
    lhs, rhs = _reverse_residual_sides(_c, noise_scale_sq, held=False)
    (weight,) = sp.solve(sp.expand(lhs - rhs), _c)
    return sp.factor(weight)


def reverse_identity(weight: sp.Expr, noise_scale_sq: sp.Expr, noise: str) -> Relation:
    r"""The solved weight in the reversed Fokker-Planck equation, for every density, drift and diffusion."""
    lhs, rhs = _reverse_residual_sides(weight, noise_scale_sq, held=True)
    return Relation(rf"substitute $\partial_t p$ from the forward Fokker-Planck equation into the reverse-time one "
                    rf"(drift $-f + c\,g^2\partial_x\log p$, noise {noise}); with the solved $c$ it holds for every "
                    r"density $p$, drift $f$ and diffusion $g$", lhs, rhs)


def reverse_relation(name: str, sde: LinearSDE, data: Sequence[Component], score_weight: sp.Expr,
                     noise_scale_sq: sp.Expr, label: str, per_density: bool) -> Relation:
    r""":math:`q_s = p_{T-s}` solves the Fokker-Planck equation of the reverse process (reverse time
    :math:`s`, :math:`\partial_s = -\partial_t`): drift :math:`-f + c g^2\partial\log p`, diffusion
    :math:`\text{scale}\cdot g^2`; the flux :math:`bp` written with :math:`(\partial_x\log p)\,p = \partial_x p`."""
    p = named_marginal(sde, data, COORDS_1D)
    flux = -sde.drift(COORDS_1D)[0] * p + score_weight * sde.diffusion_sq * derivative(p, x_sde)
    lhs = -time_derivative(sde, p)
    rhs = -derivative(flux, x_sde) + noise_scale_sq * sde.diffusion_sq * derivative(p, (x_sde, 2)) / 2
    if per_density:
        lhs, rhs = held_product(lhs, 1 / p), held_product(rhs, 1 / p)
    return Relation(f"{label}: substitute the marginal into the reverse-time Fokker-Planck equation"
                    + (" (divided by $p$)" if per_density else ""), lhs, rhs)


def reverse_steps(score_weight: sp.Expr, noise_scale_sq: sp.Expr, mixture: bool) -> tuple[Relation, ...]:
    cases = CASES_MIXTURE if mixture else CASES_GAUSSIAN
    data = mixture_data(1) if mixture else gaussian_data(1)
    return tuple(reverse_relation(name, build(), data, score_weight, noise_scale_sq,
                                  _label(name, 1, "mixture" if mixture else "Gaussian"), per_density=not mixture)
                 for name, build, _ in cases)


def _forward_time_drift(score_weight: sp.Expr) -> sp.Expr:
    """The reverse drift in the forward-time convention dX = [f - c g^2 score] dt + ... (dt < 0)."""
    return f_fp - score_weight * g_fp**2 * score_fp


SONG = "Song et al. (2021)"
# Song et al. (2021), eq. (6): dx = [f(x, t) - g(t)^2 grad_x log p_t(x)] dt + g(t) dw_bar; eq. (13): the
# probability-flow ODE dx = [f(x, t) - 1/2 g(t)^2 grad_x log p_t(x)] dt. The suite's f, g, score name theirs.


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
        steps=(reverse_identity(weight, sp.Integer(1), "$g$"),) + reverse_steps(weight, sp.Integer(1), False),
        results=(Result("drift", _forward_time_drift(weight), "reverse drift, forward-time convention"),
                 Result("score_weight", weight, "weight of g^2 grad log p in the reverse drift")),
        claims=(Claim.as_printed("drift", f_fp - g_fp**2 * score_fp, SONG, "eq. (6)"),),
        wrong_variants=(
            WrongVariant("drift", f_fp + g_fp**2 * score_fp, "+g^2 score (sign flipped)"),
            WrongVariant("drift", f_fp - g_fp**2 * score_fp / 2, "probability-flow weight 1/2 with noise g"),
            WrongVariant("drift", f_fp - g_fp * score_fp, "g in place of g^2"),
        ),
    )


KARRAS_2022 = ("T. Karras, M. Aittala, T. Aila, S. Laine, Elucidating the Design Space of Diffusion-Based "
               "Generative Models, NeurIPS 2022, eq. (6)")
_sigma = sp.Function("sigma", positive=True)(time)  # EDM's noise level sigma(t), undefined


def edm_match(weight: sp.Expr) -> tuple[sp.Expr, tuple[Relation, ...]]:
    r"""EDM's :math:`\beta(t)` for the :math:`\lambda`-family, by matching Karras et al. (2022), eq. (6)
    with :math:`s(t) = 1` (:math:`f = 0`, :math:`g^2 = d\sigma^2/dt = 2\sigma\dot\sigma`):
    :math:`dx_- = -\dot\sigma\sigma\nabla\log p\,dt - \beta\sigma^2\nabla\log p\,dt + \sqrt{2\beta}\sigma\,d\omega`
    against :math:`dX = [f - \tfrac12(1+\lambda^2)g^2\nabla\log p]dt + \lambda g\,d\bar W`.

    ``weight`` is the family's solved weight; returns :math:`\beta = \lambda^2\dot\sigma/\sigma` and the
    relations that derive and check it."""
    sigma_dot = sp.Derivative(_sigma, time)
    g_sq = 2 * _sigma * sigma_dot
    edm_beta = sp.Symbol("beta")
    (solved,) = sp.solve(sp.Eq(lam_rev**2 * g_sq, 2 * edm_beta * _sigma**2), edm_beta)
    steps = (
        Relation(r"EDM eq. (6) with $s(t) = 1$ is driven by $g^2 = d\sigma^2/dt$; chain rule", derivative(_sigma**2, time),
                 g_sq),
        Relation(r"match the noise variances $(\lambda g)^2 = (\sqrt{2\beta}\,\sigma)^2$ and solve for $\beta$: "
                 r"$\beta = \lambda^2\dot\sigma/\sigma$", lam_rev**2 * derivative(_sigma**2, time),
                 held_product(2, solved, _sigma**2)),
        Relation(r"with that $\beta$ the drifts agree: $-\tfrac12(1+\lambda^2)g^2 = -\dot\sigma\sigma - \beta\sigma^2$ "
                 r"(coefficients of $\nabla\log p$)", -held_product(weight, derivative(_sigma**2, time)),
                 held_sum(-sigma_dot * _sigma, -held_product(solved, _sigma**2))),
    )
    return solved, steps


@derivation(
    id="fp.reverse_family",
    title="Reverse-time family: drift f - (1 + lambda^2)/2 g^2 score, noise lambda g, for every lambda >= 0",
    statement=r"$dX = [f - \tfrac12(1+\lambda^2)g^2\nabla\log p_t]\,dt + \lambda g\,d\bar W$ has marginals "
    r"$p_{T-s}$ for every $\lambda \ge 0$: the weight $\tfrac12(1+\lambda^2)$ is solved from the reversed "
    r"Fokker-Planck equation with noise $\lambda g$, then substituted for Gaussian data. Karras et al. (2022), "
    r"eq. (6) (with $s(t) = 1$) is this family with $\beta(t) = \lambda^2\dot\sigma(t)/\sigma(t)$, i.e. "
    r"$\beta(t) = \lambda^2/t$ for $\sigma(t) = t$, derived below by matching the two SDEs.",
    tier=Tier.EXACT,
    assumptions=(r"$\lambda \ge 0$; $p_t > 0$ smooth, decaying at infinity",
                 r"EDM case: $f = 0$, $\sigma(t) > 0$ increasing, $g^2 = d\sigma^2/dt$"),
    references=(SONG_2021, KARRAS_2022),
)
def reverse_family() -> Body:
    weight = solve_score_weight(lam_rev**2)
    edm_beta, edm_steps = edm_match(weight)
    edm_beta_linear = edm_beta.subs(_sigma, time).doit()  # sigma(t) = t
    # EDM eq. (6), dx_-: drift -sigma_dot sigma s - beta sigma^2 s, noise sqrt(2 beta) sigma; with g^2 = 2 sigma
    # sigma_dot, i.e. sigma_dot = g^2 / (2 sigma), and the matched beta = lambda^2 sigma_dot / sigma.
    sigma_src, sigma_dot_src, beta_src, score_src = sp.symbols("sigma sigmadot beta nabla_x_log_p")
    to_suite = {sigma_dot_src: g_fp**2 / (2 * sigma_src), beta_src: lam_rev**2 * g_fp**2 / (2 * sigma_src**2),
                score_src: score_fp}
    sigma_src_positive = sp.Symbol("sigma", positive=True)
    return Body(
        steps=(reverse_identity(weight, lam_rev**2, r"$\lambda g$"),
               Relation(r"evaluate at $\lambda = 1$: Anderson's weight (`fp.reverse_sde`)", at(weight, {lam_rev: 1}),
                        get("fp.reverse_sde").result("score_weight")))
        + edm_steps + reverse_steps(weight, lam_rev**2, False),
        results=(Result("drift", _forward_time_drift(weight), "reverse drift, forward-time convention"),
                 Result("diffusion", lam_rev * g_fp, "reverse diffusion coefficient"),
                 Result("score_weight", weight, "weight of g^2 grad log p"),
                 Result("drift_without_forward_drift", _forward_time_drift(weight).subs(f_fp, 0),
                        "reverse drift for f = 0 (EDM's setting with s(t) = 1)"),
                 Result("edm_beta_sigma_t", edm_beta_linear, "EDM's beta(t) matching the family, sigma(t) = t")),
        claims=(
            Claim.as_printed("drift_without_forward_drift", -sigma_dot_src * sigma_src * score_src
                             - beta_src * sigma_src**2 * score_src, "Karras et al. (2022)",
                             r"eq. (6), $dx_-$ with $s(t) = 1$; $\dot\sigma = g^2/(2\sigma)$ and the matched "
                             r"$\beta = \lambda^2\dot\sigma/\sigma$", to_suite),
            Claim.as_printed("diffusion", sp.sqrt(2 * beta_src) * sigma_src_positive, "Karras et al. (2022)",
                             r"eq. (6), the noise coefficient $\sqrt{2\beta(t)}\,\sigma(t)$ with the matched $\beta$",
                             {beta_src: lam_rev**2 * g_fp**2 / (2 * sigma_src_positive**2)}),
        ),
        wrong_variants=(
            WrongVariant("score_weight", (1 + lam_rev) / 2, "lambda in place of lambda^2"),
            WrongVariant("score_weight", 1 + lam_rev**2, "missing 1/2"),
            WrongVariant("diffusion", lam_rev**2 * g_fp, "lambda^2 g as the diffusion"),
            WrongVariant("edm_beta_sigma_t", lam_rev**2 / 2, "beta = lambda^2 / 2 (not matched through sigma)"),
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
    family_weight = get("fp.reverse_family").result("score_weight")
    weight = solve_score_weight(sp.Integer(0))
    return Body(
        steps=(reverse_identity(weight, sp.Integer(0), "0"),
               Relation(r"the $\lambda = 0$ member of `fp.reverse_family` is this weight", at(family_weight, {lam_rev: 0}),
                        weight))
        + reverse_steps(weight, sp.Integer(0), False),
        results=(Result("drift", _forward_time_drift(weight), "probability-flow velocity"),
                 Result("score_weight", weight, "weight of g^2 grad log p")),
        claims=(Claim.as_printed("drift", f_fp - g_fp**2 * score_fp / 2, SONG, "eq. (13)"),),
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
    tier=Tier.EXACT,
    assumptions=(r"$0 < w < 1$, $v_k > 0$; the weights are the ones derived for arbitrary densities in "
                 "`fp.reverse_sde`, `fp.reverse_family` and `fp.pf_ode`",),
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
    p = named_marginal(sde, data, COORDS_1D)
    rate = density_rate(sde, data)

    def operator(diffusion_sq: sp.Expr) -> sp.Expr:
        return fokker_planck_rhs(p, [0], sp.Matrix([[diffusion_sq]]), COORDS_1D, held=True)

    rate_step = Relation(r"the rate of the named components, $\sum_k w_k\mathcal N_k\,\partial_t\log\mathcal N_k$, is "
                         r"$\partial_t p$", rate, time_derivative(sde, p))
    return Body(
        steps=tuple(replace(relation, attempt_exact=False) for relation in (forward,) + reverse) + (rate_step,),
        results=(Result("density_rate", rate, "d/dt p_t(x) of the VE marginal of 1-D mixture data"),
                 Result("score_weight", weight, "weight of g^2 grad log p, as for Gaussian data")),
        wrong_variants=(
            WrongVariant("density_rate", operator(2 * sde.diffusion_sq), "diffusion term without the 1/2"),
            WrongVariant("density_rate", operator(sp.sqrt(sde.diffusion_sq)), "g in place of g^2"),
            WrongVariant("score_weight", (1 + lam_rev) / 2, "lambda in place of lambda^2"),
            WrongVariant("score_weight", sp.Integer(1), "Anderson's weight 1 for every lambda"),
        ),
    )
