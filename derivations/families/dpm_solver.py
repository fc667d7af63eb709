r"""dpm_solver.*: DPM-Solver and DPM-Solver++ (Lu et al. 2022a, 2022b) derived from the probability-flow ODE.

For a forward kernel :math:`q(x_t \mid x_0) = \mathcal N(\alpha_t x_0, \sigma_t^2)` the
probability-flow ODE with the noise prediction :math:`\varepsilon(x, t) = -\sigma_t\nabla\log p_t`
is :math:`\dot x = f x + \frac{g^2}{2\sigma}\varepsilon`, :math:`f = \frac{d\log\alpha}{dt}`,
:math:`g^2 = \frac{d\sigma^2}{dt} - 2f\sigma^2`. In the half-log-SNR
:math:`\lambda = \log(\alpha/\sigma)` it is the semi-linear ODE

.. math::
    \frac{dx}{d\lambda} = \frac{d\log\alpha}{d\lambda}\,x - \sigma_\lambda\,\varepsilon(x_\lambda, \lambda),

whose variation-of-constants solution from :math:`\lambda_{t_{i-1}}` to
:math:`\lambda_{t_i} = \lambda_{t_{i-1}} + h_i` is

.. math::
    x_{t_i} = \frac{\alpha_{t_i}}{\alpha_{t_{i-1}}}x_{t_{i-1}} - \alpha_{t_i}\int_{\lambda_{t_{i-1}}}^{\lambda_{t_i}}
    e^{-\lambda}\varepsilon\,d\lambda
    = \frac{\sigma_{t_i}}{\sigma_{t_{i-1}}}x_{t_{i-1}} + \sigma_{t_i}\int_{\lambda_{t_{i-1}}}^{\lambda_{t_i}}
    e^{\lambda}\hat x_0\,d\lambda

(the second with the data prediction :math:`\hat x_0 = (x - \sigma\varepsilon)/\alpha`). The solvers
Taylor-expand the prediction along the trajectory in :math:`\lambda - \lambda_{t_{i-1}}`, integrate
the exponential weights exactly, and replace the derivative by a finite difference. The
integrands are written here as Taylor polynomials of degree 2 with free coefficients
(:math:`\varepsilon^{(1)}`, :math:`\varepsilon^{(2)}`, ...), which is all the local orders read.

Local errors: the step started on the exact trajectory, with the prediction near it modelled as
:math:`\varepsilon(x, \lambda) = \varepsilon(x^*_\lambda, \lambda) + J_\varepsilon\,(x - x^*_\lambda)`
(any smooth prediction agrees with this to second order in the state, which the orders proved
here do not see); the :math:`\alpha`'s enter as bounded factors.
"""

from __future__ import annotations

import sympy as sp

from derivations.core.notation import (
    alpha_s_dpm,
    alpha_t_dpm,
    alpha_u2_dpm,
    alpha_u_dpm,
    data_d1_dpm,
    data_d2_dpm,
    data_prev_dpm,
    data_s_dpm,
    eps_d1_dpm,
    eps_d2_dpm,
    eps_s_dpm,
    eps_u_dpm,
    eps_u2_dpm,
    h_dpm,
    jac_dpm,
    lam_s_dpm,
    lam_t_dpm,
    r_dpm,
    ratio_dpm,
    sigma_s_dpm,
    sigma_t_dpm,
    sigma_u_dpm,
    sigma_u2_dpm,
    x_s_dpm,
    expand_definitions,
)
from derivations.core import work
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation

LU_2022 = ("C. Lu, Y. Zhou, F. Bao, J. Chen, C. Li, J. Zhu, DPM-Solver: A Fast ODE Solver for Diffusion "
           "Probabilistic Model Sampling in Around 10 Steps, NeurIPS 2022 (arXiv:2206.00927)")
LU_2022B = ("C. Lu, Y. Zhou, F. Bao, J. Chen, C. Li, J. Zhu, DPM-Solver++: Fast Solver for Guided Sampling of "
            "Diffusion Probabilistic Models (arXiv:2211.01095, 2022)")
SONG_DDIM = "J. Song, C. Meng, S. Ermon, Denoising Diffusion Implicit Models, ICLR 2021, eq. (12)"

ORDER_TERMS = 4  # local errors are expanded to h^3: the orders proved here are at most 3

# Integration variables, bound inside the integrals (never free in a result).
_tau = sp.Symbol("tau", real=True)  # lambda - lambda_{t_{i-1}}
_lam = sp.Symbol("lambda", real=True)


def eps_along(tau: sp.Expr) -> sp.Expr:
    r"""The noise prediction along the exact trajectory, Taylor polynomial of degree 2 in
    :math:`\tau = \lambda - \lambda_{t_{i-1}}`."""
    return eps_s_dpm + tau * eps_d1_dpm + tau**2 / 2 * eps_d2_dpm


def data_along(tau: sp.Expr) -> sp.Expr:
    r"""The data prediction along the exact trajectory, Taylor polynomial of degree 2 in :math:`\tau`."""
    return data_s_dpm + tau * data_d1_dpm + tau**2 / 2 * data_d2_dpm


def eps_flow(alpha_end: sp.Expr, step: sp.Expr, integrand=eps_along) -> sp.Expr:
    r""":math:`\frac{\alpha_{end}}{\alpha_{t_{i-1}}}x - \alpha_{end}\int_0^{step} e^{-\lambda_{t_{i-1}}-\tau}
    \varepsilon(\tau)\,d\tau`: variation of constants over ``step`` in :math:`\lambda`."""
    weight = sp.integrate(sp.exp(-lam_s_dpm - _tau) * integrand(_tau), (_tau, 0, step))
    return alpha_end / alpha_s_dpm * x_s_dpm - alpha_end * weight


def data_flow(integrand=data_along) -> sp.Expr:
    r""":math:`\frac{\sigma_{t_i}}{\sigma_{t_{i-1}}}x + \sigma_{t_i}\int_0^{h} e^{\lambda_{t_{i-1}}+\tau}
    \hat x_0(\tau)\,d\tau`."""
    weight = sp.integrate(sp.exp(lam_s_dpm + _tau) * integrand(_tau), (_tau, 0, h_dpm))
    return sigma_t_dpm / sigma_s_dpm * x_s_dpm + sigma_t_dpm * weight


def h_coefficients(expr: sp.Expr, terms: int = ORDER_TERMS) -> list[sp.Expr]:
    """Coefficients of h^0 .. h^(terms-1) of the Taylor series of ``expr`` in the step h."""
    series = sp.series(expand_definitions(expr), h_dpm, 0, terms).removeO()
    return [sp.simplify(sp.expand(series).coeff(h_dpm, k)) for k in range(terms)]


def local_order(error: sp.Expr) -> int:
    """The power of h of the first non-zero coefficient of a local error (ORDER_TERMS if none below)."""
    return next((k for k, c in enumerate(h_coefficients(error)) if c != 0), ORDER_TERMS)


def _vp_alpha(lam: sp.Expr) -> sp.Expr:
    r"""The variance-preserving kernel's :math:`\alpha(\lambda)`: :math:`\alpha^2 + \sigma^2 = 1`,
    :math:`\alpha/\sigma = e^\lambda`."""
    return 1 / sp.sqrt(1 + sp.exp(-2 * lam))


def lambda_ode() -> tuple[sp.Expr, sp.Expr]:
    r"""(linear coefficient, coefficient of :math:`\varepsilon`) of the probability-flow ODE in
    :math:`\lambda`, from :math:`f = d\log\alpha/dt`, :math:`g^2 = d\sigma^2/dt - 2f\sigma^2`
    (each multiplied by :math:`dt/d\lambda`), for an undefined :math:`\alpha(\lambda)`."""
    alpha = sp.Function("alpha", positive=True)(_lam)
    sigma = alpha * sp.exp(-_lam)
    drift = sp.diff(sp.log(alpha), _lam)
    diffusion_sq = sp.diff(sigma**2, _lam) - 2 * drift * sigma**2
    return drift, sp.simplify(diffusion_sq / (2 * sigma))


def _vp_residual(solution_of_h: sp.Expr, prediction_eps) -> tuple[sp.Expr, sp.Expr]:
    r"""(:math:`\frac{d}{dh}\tilde x(h)` held, right side of the VP :math:`\lambda`-ODE at :math:`\tilde x(h)`):
    the solution is shown as the named intermediate :math:`\tilde x(h)`, with :math:`\alpha_{t_i}` the named
    VP :math:`\alpha(\lambda_{t_{i-1}} + h)`; :math:`\varepsilon` is given as a function of the solution, of
    :math:`\tau = h` and of :math:`\alpha(\lambda)` (applied, replaced by VP's). The start's
    :math:`\alpha_{t_{i-1}}` stays free: it scales the homogeneous solution only."""
    drift, noise = lambda_ode()
    alpha = sp.Function("alpha", positive=True)
    lam_end = lam_s_dpm + h_dpm
    alpha_end = work.named("alpha_vp", r"\alpha_{t_i}", _vp_alpha(lam_end), args=(h_dpm, lam_s_dpm),
                           description=r"variance-preserving $\alpha$ at $\lambda_{t_i} = \lambda_{t_{i-1}} + h_i$")
    solution = work.named("x_vp", r"\tilde x(h_i)", expand_definitions(solution_of_h).subs(alpha_t_dpm, alpha_end),
                          description=r"the variation-of-constants solution at $\lambda_{t_{i-1}} + h_i$")

    def at_end(coefficient: sp.Expr) -> sp.Expr:  # a coefficient of the ODE, VP, at the step's end
        return sp.simplify(coefficient.subs(alpha(_lam), _vp_alpha(_lam)).doit().subs(_lam, lam_end))

    prediction = prediction_eps(solution, h_dpm).subs(alpha(_lam), alpha_end).subs(_lam, lam_end)
    rhs = work.held_sum(work.held_product(at_end(drift), solution), work.held_product(at_end(noise), prediction))
    return work.derivative(solution, h_dpm), rhs


def _coefficient_steps(exact: sp.Expr, update: sp.Expr, below: int, last: str) -> tuple[Relation, ...]:
    r"""One step per power :math:`h^k`, :math:`k <` ``below``: the Taylor coefficient of the exact step minus
    that of the update (each computed on its own), zero."""
    exact_coefs, update_coefs = h_coefficients(exact, below), h_coefficients(update, below)
    return tuple(
        Relation(f"$h^{k}$ coefficient of the exact step minus that of the update" + (last if k == below - 1 else ""),
                 sp.Add(exact_coefs[k], -update_coefs[k], evaluate=False), 0)
        for k in range(below))


def _weight_steps(zeroth: sp.Expr, first: sp.Expr, c: sp.Expr, weights: str) -> tuple[Relation, Relation]:
    r"""The replaced first-order weight: :math:`c` zeroes the :math:`h^1` coefficient of :math:`c\,w_0 - w_1/h`,
    and with it the two weights' Taylor polynomials agree through :math:`h` (their difference starts at
    :math:`h^2`)."""
    c_free = sp.Symbol("c")

    def taylor(expr: sp.Expr, through: int) -> sp.Expr:
        return sp.expand(sp.series(expr, h_dpm, 0, through + 1).removeO())

    condition = work.held_sum(taylor(c_free * zeroth, 1).coeff(h_dpm, 1), -taylor(first / h_dpm, 1).coeff(h_dpm, 1))
    replaced, taylor_weight = taylor(c * zeroth, 2), taylor(first / h_dpm, 2)
    return (
        Relation(rf"$c = {sp.latex(c)}$: the $h^1$ coefficient of ${weights}$ vanishes there",
                 work.at(condition, {c_free: c}), 0),
        Relation(r"the replaced weight agrees with the Taylor weight to first order (their Taylor polynomials "
                 r"differ from $h^2$ on)", sp.Add(replaced, -taylor_weight, evaluate=False),
                 sp.expand(replaced - taylor_weight)),
    )


# --------------------------------------------------------------------------
# The exact solution in lambda
# --------------------------------------------------------------------------

@derivation(
    id="dpm_solver.exact_solution",
    title="The probability-flow ODE in the half-log-SNR λ, solved by variation of constants",
    statement=r"With $\lambda = \log(\alpha/\sigma)$ the probability-flow ODE is "
    r"$dx/d\lambda = (d\log\alpha/d\lambda)\,x - \sigma_\lambda\varepsilon$, and "
    r"$x_{t_i} = \frac{\alpha_{t_i}}{\alpha_{t_{i-1}}}x_{t_{i-1}} - \alpha_{t_i}\int_{\lambda_{t_{i-1}}}^{\lambda_{t_i}}"
    r"e^{-\lambda}\varepsilon\,d\lambda$. Along a Taylor expansion of $\varepsilon$ in "
    r"$\lambda - \lambda_{t_{i-1}}$ the weights are $\alpha_{t_i}\int e^{-\lambda}d\lambda = \sigma_{t_i}(e^{h_i} - 1)$ "
    r"and $\alpha_{t_i}\int e^{-\lambda}(\lambda - \lambda_{t_{i-1}})d\lambda = \sigma_{t_i}(e^{h_i} - 1 - h_i)$.",
    tier=Tier.EXACT,
    assumptions=(r"kernel $\mathcal N(\alpha_t x_0, \sigma_t^2)$ with $\lambda_t$ strictly monotone; "
                 r"$\varepsilon = -\sigma_t\nabla\log p_t$",
                 r"the residual check takes the variance-preserving $\alpha(\lambda)^2 = 1/(1 + e^{-2\lambda})$ "
                 r"and $\varepsilon$ a Taylor polynomial of degree 2 along the trajectory"),
    references=(LU_2022 + ", eqs. (2.4), (3.1)-(3.4) (Prop. 3.1)",),
)
def exact_solution() -> Body:
    drift, noise = lambda_ode()
    alpha = sp.Function("alpha", positive=True)
    noise_at_end = noise.subs(alpha(_lam), alpha_t_dpm).subs(_lam, lam_t_dpm)
    solution = eps_flow(alpha_t_dpm, h_dpm)
    weight_0 = alpha_t_dpm * sp.integrate(sp.exp(-lam_s_dpm - _tau), (_tau, 0, h_dpm))
    weight_1 = alpha_t_dpm * sp.integrate(sp.exp(-lam_s_dpm - _tau) * _tau, (_tau, 0, h_dpm))
    slope, rhs = _vp_residual(solution, lambda x, tau: eps_along(tau))
    # the homogeneous equation, solved by dsolve: x = C alpha(lambda)
    homogeneous = sp.Function("x")
    general = sp.dsolve(sp.Eq(homogeneous(_lam).diff(_lam), drift * homogeneous(_lam)), homogeneous(_lam)).rhs
    gain = (general.subs(_lam, lam_t_dpm) / general.subs(_lam, lam_s_dpm)).subs(
        {alpha(lam_t_dpm): alpha_t_dpm, alpha(lam_s_dpm): alpha_s_dpm})
    homogeneous_gain = work.held("dsolve_gain", r"\frac{x(\lambda_{t_i})}{x(\lambda_{t_{i-1}})}\ \text{for}\ "
                                 r"\frac{dx}{d\lambda} = @0\,x", (drift,), gain)
    return Body(
        steps=(
            Relation(r"in $\lambda$ the coefficient of $\varepsilon$, $g^2\frac{dt}{d\lambda}/(2\sigma)$ with "
                     r"$g^2 = \frac{d\sigma^2}{dt} - 2\frac{d\log\alpha}{dt}\sigma^2$, is $-\sigma$", noise_at_end,
                     -sigma_t_dpm),
            Relation(r"dsolve of the linear part $dx/d\lambda = (d\log\alpha/d\lambda)x$ (its solution "
                     r"$C\alpha(\lambda)$): the gain from $\lambda_{t_{i-1}}$ to $\lambda_{t_i}$", homogeneous_gain,
                     alpha_t_dpm / alpha_s_dpm),
            Relation(r"variation of constants solves the ODE (VP $\alpha$, $\varepsilon$ a Taylor polynomial): "
                     r"$d x/dh$ equals the right side", slope, rhs),
            Relation(r"and starts at $\tilde x_{t_{i-1}}$ ($h_i = 0$, where $\alpha_{t_i} = \alpha_{t_{i-1}}$)",
                     work.at(expand_definitions(solution), {h_dpm: 0, alpha_t_dpm: alpha_s_dpm}), x_s_dpm),
        ),
        results=(
            Result("noise_coef", noise_at_end, "coefficient of epsilon in the lambda-ODE at t_i"),
            Result("solution", solution, "x_{t_i} for epsilon a Taylor polynomial of degree 2 in lambda"),
            Result("weight_0", weight_0, "alpha_{t_i} int e^{-lambda} d lambda over the step"),
            Result("weight_1", weight_1, "alpha_{t_i} int e^{-lambda} (lambda - lambda_{t_{i-1}}) d lambda"),
        ),
        claims=(
            Claim("noise_coef", -sigma_t_dpm, "Lu et al. (2022), eq. (3.4) via g^2 = -2 sigma^2 d lambda/dt"),
            Claim("weight_0", sigma_t_dpm * (sp.exp(h_dpm) - 1), "Lu et al. (2022), eq. (3.7)"),
            Claim("weight_1", sigma_t_dpm * (sp.exp(h_dpm) - 1 - h_dpm),
                  "Lu et al. (2022), the n = 1 term of eq. (3.6)"),
        ),
        wrong_variants=(
            WrongVariant("weight_0", sigma_t_dpm * (sp.exp(-h_dpm) - 1), "e^{-h} for e^{h}"),
            WrongVariant("weight_0", alpha_t_dpm * (sp.exp(h_dpm) - 1), "alpha_{t_i} for sigma_{t_i}"),
            WrongVariant("weight_1", sigma_t_dpm * (sp.exp(h_dpm) - 1), "the -h of the first-order weight dropped"),
            WrongVariant("noise_coef", -alpha_t_dpm, "alpha for sigma in the lambda-ODE"),
        ),
    )


# --------------------------------------------------------------------------
# DPM-Solver-1 (= DDIM, eta = 0)
# --------------------------------------------------------------------------

def dpm_solver_1_update(alpha_end: sp.Expr = alpha_t_dpm, step: sp.Expr = h_dpm) -> sp.Expr:
    """The Taylor expansion of the integrand truncated at order 0: epsilon frozen at the step's start."""
    return eps_flow(alpha_end, step, lambda tau: eps_s_dpm)


@derivation(
    id="dpm_solver.dpm_solver_1",
    title="DPM-Solver-1: the integrand frozen at the step's start; it is DDIM with η = 0",
    statement=r"Truncating the Taylor expansion of $\varepsilon$ at order 0 gives "
    r"$\tilde x_{t_i} = \frac{\alpha_{t_i}}{\alpha_{t_{i-1}}}\tilde x_{t_{i-1}} - \sigma_{t_i}(e^{h_i} - 1)"
    r"\varepsilon_{t_{i-1}}$, identical to DDIM's deterministic update "
    r"$\alpha_{t_i}\frac{\tilde x_{t_{i-1}} - \sigma_{t_{i-1}}\varepsilon_{t_{i-1}}}{\alpha_{t_{i-1}}} + "
    r"\sigma_{t_i}\varepsilon_{t_{i-1}}$; its local error is $O(h_i^2)$ (first order).",
    tier=Tier.EXACT,
    assumptions=(r"$\lambda_{t_i} = \lambda_{t_{i-1}} + h_i$, $h_i > 0$; the step starts on the exact trajectory",),
    references=(LU_2022 + ", eq. (3.7) and section 4.1", SONG_DDIM),
)
def dpm_solver_1() -> Body:
    update = dpm_solver_1_update()
    error = eps_flow(alpha_t_dpm, h_dpm) - update
    coefs = h_coefficients(error)
    shown = _coefficient_steps(eps_flow(alpha_t_dpm, h_dpm), update, 2, ": the local error is O(h^2)")
    ddim = alpha_t_dpm * (x_s_dpm - sigma_s_dpm * eps_s_dpm) / alpha_s_dpm + sigma_t_dpm * eps_s_dpm
    return Body(
        steps=shown,
        results=(
            Result("update", update, "DPM-Solver-1 step"),
            Result("local_error_h2", coefs[2], "coefficient of h^2 of the local error"),
        ),
        claims=(
            Claim("update", alpha_t_dpm / alpha_s_dpm * x_s_dpm - sigma_t_dpm * (sp.exp(h_dpm) - 1) * eps_s_dpm,
                  "Lu et al. (2022), eq. (3.7)"),
            Claim("update", ddim, "Song, Meng, Ermon (2021), eq. (12) with sigma_t = 0 (Lu et al. 2022, section 4.1)"),
        ),
        wrong_variants=(
            WrongVariant("update", alpha_t_dpm / alpha_s_dpm * x_s_dpm - sigma_t_dpm * (sp.exp(-h_dpm) - 1) * eps_s_dpm,
                         "e^{-h} for e^{h}"),
            WrongVariant("update", alpha_t_dpm / alpha_s_dpm * x_s_dpm - alpha_t_dpm * (sp.exp(h_dpm) - 1) * eps_s_dpm,
                         "alpha_{t_i} for sigma_{t_i}"),
            WrongVariant("update", sigma_t_dpm / sigma_s_dpm * x_s_dpm - sigma_t_dpm * (sp.exp(h_dpm) - 1) * eps_s_dpm,
                         "the data-prediction gain sigma_{t_i}/sigma_{t_{i-1}} on the state"),
        ),
    )


# --------------------------------------------------------------------------
# DPM-Solver-2 (single step, intermediate point at lambda_{t_{i-1}} + r_1 h_i)
# --------------------------------------------------------------------------

def half_weight(first_order_weight: sp.Expr, zeroth_order_weight: sp.Expr) -> sp.Expr:
    r"""The constant :math:`c` for which :math:`c\,w_0` matches :math:`w_1/h` to first order in :math:`h`
    (:math:`w_0, w_1` the weights of the Taylor terms of order 0 and 1): the solvers' replacement
    of the first-order weight by a multiple of the zeroth's."""
    c = sp.Symbol("c")
    difference = sp.series(c * zeroth_order_weight - first_order_weight / h_dpm, h_dpm, 0, 2).removeO()
    return sp.solve(sp.expand(difference).coeff(h_dpm, 1), c)[0]


def dpm_solver_2_parts() -> dict[str, sp.Expr]:
    """Intermediate point, the replaced weight, and the update in terms of the intermediate prediction."""
    intermediate = dpm_solver_1_update(alpha_u_dpm, r_dpm * h_dpm)
    zeroth = sp.exp(h_dpm) - 1
    first = sp.simplify(sp.integrate(sp.exp(h_dpm - _tau) * _tau, (_tau, 0, h_dpm)))  # w_1 e^{lambda_t}/alpha_t
    c = half_weight(first, zeroth)
    # epsilon^(1) ~ (eps_u - eps_s)/(r h): the weight of the first-order term over r h, replaced by c(e^h - 1)/r.
    update = (dpm_solver_1_update() - sigma_t_dpm * c * zeroth / r_dpm * (eps_u_dpm - eps_s_dpm))
    return {"intermediate": intermediate, "c": c, "first": first, "zeroth": zeroth, "update": update}


def dpm_solver_2_read(update: sp.Expr, intermediate: sp.Expr) -> sp.Expr:
    r"""A DPM-Solver-2 update that reads :math:`\varepsilon_{s_i}`, with
    :math:`\varepsilon_{s_i} = \varepsilon(x^*_{s_i}) + J_\varepsilon(u_i - x^*_{s_i})`."""
    exact_mid = eps_flow(alpha_u_dpm, r_dpm * h_dpm)
    eps_mid = eps_along(r_dpm * h_dpm) + jac_dpm * (intermediate - exact_mid)
    return update.subs(eps_u_dpm, eps_mid)


def dpm_solver_2_error(update: sp.Expr, intermediate: sp.Expr) -> sp.Expr:
    """Local error of a DPM-Solver-2 update: the exact solution minus the update (:func:`dpm_solver_2_read`)."""
    return eps_flow(alpha_t_dpm, h_dpm) - dpm_solver_2_read(update, intermediate)


@derivation(
    id="dpm_solver.dpm_solver_2",
    title="DPM-Solver-2: first-order Taylor term by a finite difference at an intermediate point; local error O(h³)",
    statement=r"With $u_i = \frac{\alpha_{s_i}}{\alpha_{t_{i-1}}}\tilde x_{t_{i-1}} - \sigma_{s_i}(e^{r_1h_i} - 1)"
    r"\varepsilon_{t_{i-1}}$ (DPM-Solver-1 to $\lambda_{s_i} = \lambda_{t_{i-1}} + r_1h_i$) and "
    r"$\varepsilon^{(1)} \approx (\varepsilon_{s_i} - \varepsilon_{t_{i-1}})/(r_1h_i)$, the first-order weight "
    r"$\sigma_{t_i}(e^{h_i} - 1 - h_i)/h_i$ is replaced by $c\,\sigma_{t_i}(e^{h_i} - 1)$ with $c = 1/2$ (the $c$ that "
    r"agrees to first order): $\tilde x_{t_i} = \frac{\alpha_{t_i}}{\alpha_{t_{i-1}}}\tilde x_{t_{i-1}} - "
    r"\sigma_{t_i}(e^{h_i} - 1)\varepsilon_{t_{i-1}} - \frac{\sigma_{t_i}}{2r_1}(e^{h_i} - 1)"
    r"(\varepsilon_{s_i} - \varepsilon_{t_{i-1}})$; at $r_1 = 1/2$, $-\sigma_{t_i}(e^{h_i} - 1)\varepsilon_{s_i}$. "
    r"Its local error is $O(h_i^3)$ (second order) for every $r_1$.",
    tier=Tier.EXACT,
    assumptions=(r"the step starts on the exact trajectory; near it $\varepsilon(x, \lambda) = "
                 r"\varepsilon(x^*_\lambda, \lambda) + J_\varepsilon(x - x^*_\lambda)$",
                 r"$0 < r_1 < 1$; the $\alpha$'s are bounded factors of the expansion in $h_i$"),
    references=(LU_2022 + ", Algorithm 1 and Theorem 3.2",),
)
def dpm_solver_2() -> Body:
    parts = dpm_solver_2_parts()
    update, intermediate, c = parts["update"], parts["intermediate"], parts["c"]
    coefs = h_coefficients(dpm_solver_2_error(update, intermediate))
    midpoint = update.subs(r_dpm, sp.Rational(1, 2))
    weights = _weight_steps(parts["zeroth"], parts["first"], c, r"c(e^{h} - 1) - (e^{h} - 1 - h)/h")
    return Body(
        steps=(
            *weights,
            *_coefficient_steps(eps_flow(alpha_t_dpm, h_dpm), dpm_solver_2_read(update, intermediate), 3,
                                r" (the update reads $\varepsilon_{s_i}$ at $u_i$): the local error is O(h^3)"),
        ),
        results=(
            Result("intermediate", intermediate, "u_i: DPM-Solver-1 from t_{i-1} to s_i"),
            Result("update", update, "DPM-Solver-2 step, in the prediction eps_{s_i} at u_i"),
            Result("update_mid", midpoint, "DPM-Solver-2 step with r_1 = 1/2"),
            Result("local_error_h3", coefs[3], "coefficient of h^3 of the local error"),
        ),
        claims=(
            Claim("intermediate", alpha_u_dpm / alpha_s_dpm * x_s_dpm - sigma_u_dpm * (sp.exp(r_dpm * h_dpm) - 1)
                  * eps_s_dpm, "Lu et al. (2022), Algorithm 1 (r_1 = 1/2) and its general-r_1 form (appendix)"),
            Claim("update", alpha_t_dpm / alpha_s_dpm * x_s_dpm - sigma_t_dpm * (sp.exp(h_dpm) - 1) * eps_s_dpm
                  - sigma_t_dpm / (2 * r_dpm) * (sp.exp(h_dpm) - 1) * (eps_u_dpm - eps_s_dpm),
                  "Lu et al. (2022), DPM-Solver-2 with general r_1 (appendix)"),
            Claim("update_mid", alpha_t_dpm / alpha_s_dpm * x_s_dpm - sigma_t_dpm * (sp.exp(h_dpm) - 1) * eps_u_dpm,
                  "Lu et al. (2022), Algorithm 1"),
        ),
        wrong_variants=(
            WrongVariant("update_mid", alpha_t_dpm / alpha_s_dpm * x_s_dpm
                         - sigma_t_dpm * (sp.exp(-h_dpm) - 1) * eps_u_dpm, "e^{-h} for e^{h}"),
            WrongVariant("update_mid", alpha_t_dpm / alpha_s_dpm * x_s_dpm
                         - alpha_t_dpm * (sp.exp(h_dpm) - 1) * eps_u_dpm, "alpha_{t_i} for sigma_{t_i}"),
            WrongVariant("update", alpha_t_dpm / alpha_s_dpm * x_s_dpm - sigma_t_dpm * (sp.exp(h_dpm) - 1) * eps_s_dpm
                         - sigma_t_dpm / (2 * r_dpm) * (eps_u_dpm - eps_s_dpm),
                         "the factor (e^{h} - 1) of the correction missing"),
            WrongVariant("intermediate", alpha_u_dpm / alpha_s_dpm * x_s_dpm - sigma_u_dpm * (sp.exp(h_dpm) - 1)
                         * eps_s_dpm, "the intermediate point with the full step e^{h}"),
        ),
    )


# --------------------------------------------------------------------------
# DPM-Solver++(2M): data prediction, multistep
# --------------------------------------------------------------------------

def dpmpp_2m_parts() -> dict[str, sp.Expr]:
    r"""The data-prediction weights and the 2M update; :math:`\hat x_0^{(1)} \approx
    (\hat x_{0|t_{i-1}} - \hat x_{0|t_{i-2}})/(r_i h_i)` (backward difference over the previous step)."""
    zeroth = sp.simplify(sp.integrate(sp.exp(_tau - h_dpm), (_tau, 0, h_dpm)))  # sigma_t int e^lambda / alpha_t
    first = sp.simplify(sp.integrate(sp.exp(_tau - h_dpm) * _tau, (_tau, 0, h_dpm)))
    c = half_weight(first, zeroth)
    update = (data_flow(lambda tau: data_s_dpm)
              + alpha_t_dpm * c * zeroth / ratio_dpm * (data_s_dpm - data_prev_dpm))
    return {"zeroth": zeroth, "first": first, "c": c, "update": update}


def dpmpp_2m_error(update: sp.Expr) -> sp.Expr:
    """Local error of a 2M update: the previous prediction taken on the exact trajectory at lambda - r_i h_i."""
    return data_flow() - update.subs(data_prev_dpm, data_along(-ratio_dpm * h_dpm))


@derivation(
    id="dpm_solver.dpmpp_2m",
    title="DPM-Solver++(2M): the data-prediction solution and its second-order multistep update",
    statement=r"In the data prediction $\hat x_0 = (x - \sigma\varepsilon)/\alpha$ the exact step is "
    r"$x_{t_i} = \frac{\sigma_{t_i}}{\sigma_{t_{i-1}}}x_{t_{i-1}} + \sigma_{t_i}\int e^{\lambda}\hat x_0\,d\lambda$ "
    r"(weights $\alpha_{t_i}(1 - e^{-h_i})$ and $\alpha_{t_i}(h_i - 1 + e^{-h_i})$ for the Taylor terms of order 0 "
    r"and 1). With $\hat x_0^{(1)} \approx (\hat x_{0|t_{i-1}} - \hat x_{0|t_{i-2}})/(r_ih_i)$, "
    r"$r_i = h_{i-1}/h_i$, and the first-order weight replaced by $c\,\alpha_{t_i}(1 - e^{-h_i})$, $c = 1/2$: "
    r"$\tilde x_{t_i} = \frac{\sigma_{t_i}}{\sigma_{t_{i-1}}}\tilde x_{t_{i-1}} - \alpha_{t_i}(e^{-h_i} - 1)"
    r"\big((1 + \tfrac1{2r_i})\hat x_{0|t_{i-1}} - \tfrac1{2r_i}\hat x_{0|t_{i-2}}\big)$, local error $O(h_i^3)$.",
    tier=Tier.EXACT,
    assumptions=(r"both previous points on the exact trajectory (the local error of a multistep method); "
                 r"$r_i > 0$",
                 r"the residual check takes the variance-preserving $\alpha(\lambda)$ and $\hat x_0$ a Taylor "
                 r"polynomial of degree 2"),
    references=(LU_2022B + ", eq. (8) and Algorithm 2",),
)
def dpmpp_2m() -> Body:
    parts = dpmpp_2m_parts()
    update, c = parts["update"], parts["c"]
    solution = data_flow()
    # The data-prediction solution solves the same ODE: epsilon = (x - alpha x0)/sigma.
    alpha = sp.Function("alpha", positive=True)
    slope, rhs = _vp_residual(solution, lambda x, tau: (x - alpha(_lam) * data_along(tau)) / (alpha(_lam) * sp.exp(-_lam)))
    coefs = h_coefficients(dpmpp_2m_error(update))
    read = update.subs(data_prev_dpm, data_along(-ratio_dpm * h_dpm))
    weight_0 = alpha_t_dpm * parts["zeroth"]
    return Body(
        steps=(
            Relation(r"the data-prediction solution solves the $\lambda$-ODE with $\varepsilon = (x - \alpha\hat x_0)"
                     r"/\sigma$ (VP $\alpha$): $dx/dh$ equals the right side", slope, rhs),
            Relation(r"and starts at $\tilde x_{t_{i-1}}$ ($h_i = 0$, where $\alpha_{t_i} = \alpha_{t_{i-1}}$)",
                     work.at(expand_definitions(solution), {h_dpm: 0, alpha_t_dpm: alpha_s_dpm}), x_s_dpm),
            *_weight_steps(parts["zeroth"], parts["first"], c, r"c(1 - e^{-h}) - (h - 1 + e^{-h})/h"),
            *_coefficient_steps(solution, read, 3, r" (the previous prediction on the exact trajectory at "
                                r"$\lambda_{t_{i-1}} - r_ih_i$): the local error is O(h^3)"),
        ),
        results=(
            Result("solution_data", solution, "x_{t_i} for x0 a Taylor polynomial of degree 2 in lambda"),
            Result("weight_data_0", weight_0, "sigma_{t_i} int e^{lambda} d lambda over the step"),
            Result("update", update, "DPM-Solver++(2M) step"),
            Result("local_error_h3", coefs[3], "coefficient of h^3 of the local error"),
        ),
        claims=(
            Claim("weight_data_0", alpha_t_dpm * (1 - sp.exp(-h_dpm)), "Lu et al. (2022b), eq. (8): -alpha(e^{-h} - 1)"),
            Claim("update", sigma_t_dpm / sigma_s_dpm * x_s_dpm - alpha_t_dpm * (sp.exp(-h_dpm) - 1)
                  * ((1 + 1 / (2 * ratio_dpm)) * data_s_dpm - data_prev_dpm / (2 * ratio_dpm)),
                  "Lu et al. (2022b), Algorithm 2 (D_i)"),
        ),
        wrong_variants=(
            WrongVariant("update", sigma_t_dpm / sigma_s_dpm * x_s_dpm - alpha_t_dpm * (sp.exp(h_dpm) - 1)
                         * ((1 + 1 / (2 * ratio_dpm)) * data_s_dpm - data_prev_dpm / (2 * ratio_dpm)),
                         "e^{h} for e^{-h}"),
            WrongVariant("update", sigma_t_dpm / sigma_s_dpm * x_s_dpm - sigma_t_dpm * (sp.exp(-h_dpm) - 1)
                         * ((1 + 1 / (2 * ratio_dpm)) * data_s_dpm - data_prev_dpm / (2 * ratio_dpm)),
                         "sigma_{t_i} for alpha_{t_i}"),
            WrongVariant("update", sigma_t_dpm / sigma_s_dpm * x_s_dpm - alpha_t_dpm * (sp.exp(-h_dpm) - 1)
                         * ((1 + 1 / ratio_dpm) * data_s_dpm - data_prev_dpm / ratio_dpm),
                         "1/r_i for 1/(2 r_i)"),
            WrongVariant("update", alpha_t_dpm / alpha_s_dpm * x_s_dpm - alpha_t_dpm * (sp.exp(-h_dpm) - 1)
                         * ((1 + 1 / (2 * ratio_dpm)) * data_s_dpm - data_prev_dpm / (2 * ratio_dpm)),
                         "the noise-prediction gain alpha_{t_i}/alpha_{t_{i-1}} on the state"),
        ),
    )


# --------------------------------------------------------------------------
# DPM-Solver-3 (single step, intermediate points at lambda_{t_{i-1}} + h_i/3 and + 2 h_i/3)
# --------------------------------------------------------------------------

R1_3, R2_3 = sp.Rational(1, 3), sp.Rational(2, 3)


def phi_1(z: sp.Expr) -> sp.Expr:
    r""":math:`(e^z - 1)/z - 1`: the weight of the first-order Taylor term over that of the zeroth, times :math:`z`
    (:math:`\int_0^z e^{z - \tau}\tau\,d\tau / z = (e^z - 1)/z - 1`)."""
    return (sp.exp(z) - 1) / z - 1


def dpm_solver_3_parts() -> dict[str, sp.Expr]:
    r"""The two intermediate points and the update (Lu et al. 2022, DPM-Solver-3 with :math:`r_1 = 1/3`,
    :math:`r_2 = 2/3`): the differences :math:`D_1 = \varepsilon_{s_i} - \varepsilon_{t_{i-1}}`,
    :math:`D_2 = \varepsilon_{s'_i} - \varepsilon_{t_{i-1}}` stand for :math:`r h\,\varepsilon^{(1)}` and the
    first-order weights are integrated exactly (:func:`phi_1`)."""
    first = dpm_solver_1_update(alpha_u_dpm, R1_3 * h_dpm).subs(r_dpm, R1_3)
    sigma_u1 = sigma_u_dpm.subs(r_dpm, R1_3)
    second = (dpm_solver_1_update(alpha_u2_dpm, R2_3 * h_dpm)
              - sigma_u2_dpm * R2_3 / R1_3 * phi_1(R2_3 * h_dpm) * (eps_u_dpm - eps_s_dpm))
    update = dpm_solver_1_update() - sigma_t_dpm / R2_3 * phi_1(h_dpm) * (eps_u2_dpm - eps_s_dpm)
    return {"first": first, "second": second, "update": update, "sigma_u1": sigma_u1}


def dpm_solver_3_read(update: sp.Expr, second: sp.Expr, first: sp.Expr) -> sp.Expr:
    r"""The update reading :math:`\varepsilon_{s_i}` at :math:`u_i` and :math:`\varepsilon_{s'_i}` at :math:`u'_i`
    (which itself reads :math:`\varepsilon_{s_i}`), each the prediction on the exact trajectory plus
    :math:`J_\varepsilon` times the point's distance from it."""
    eps_first = eps_along(R1_3 * h_dpm) + jac_dpm * (first - eps_flow(alpha_u_dpm, R1_3 * h_dpm))
    second_read = second.subs(eps_u_dpm, eps_first)
    eps_second = eps_along(R2_3 * h_dpm) + jac_dpm * (second_read - eps_flow(alpha_u2_dpm, R2_3 * h_dpm))
    return update.subs(eps_u2_dpm, eps_second)


@derivation(
    id="dpm_solver.dpm_solver_3",
    title="DPM-Solver-3: two intermediate points at h/3 and 2h/3; local error O(h⁴)",
    statement=r"With $u_i$ = DPM-Solver-1 to $\lambda_{t_{i-1}} + h_i/3$, "
    r"$u'_i = \frac{\alpha_{s'_i}}{\alpha_{t_{i-1}}}\tilde x_{t_{i-1}} - \sigma_{s'_i}(e^{2h_i/3} - 1)"
    r"\varepsilon_{t_{i-1}} - 2\sigma_{s'_i}\big(\frac{e^{2h_i/3} - 1}{2h_i/3} - 1\big)D_1$ and "
    r"$\tilde x_{t_i} = \frac{\alpha_{t_i}}{\alpha_{t_{i-1}}}\tilde x_{t_{i-1}} - \sigma_{t_i}(e^{h_i} - 1)"
    r"\varepsilon_{t_{i-1}} - \tfrac32\sigma_{t_i}\big(\frac{e^{h_i} - 1}{h_i} - 1\big)D_2$, "
    r"$D_1 = \varepsilon_{s_i} - \varepsilon_{t_{i-1}}$, $D_2 = \varepsilon_{s'_i} - \varepsilon_{t_{i-1}}$: the Taylor "
    r"coefficients of the local error vanish through $h_i^3$, so the local error is $O(h_i^4)$ (third order).",
    tier=Tier.EXACT,
    assumptions=(r"the step starts on the exact trajectory; near it $\varepsilon(x, \lambda) = "
                 r"\varepsilon(x^*_\lambda, \lambda) + J_\varepsilon(x - x^*_\lambda)$; $\varepsilon$ along it a "
                 r"Taylor polynomial of degree 2 (the $h^3$ coefficients involve no higher derivative)",),
    references=(LU_2022 + ", DPM-Solver-3 (r_1 = 1/3, r_2 = 2/3) and Theorem 3.2",),
)
def dpm_solver_3() -> Body:
    parts = dpm_solver_3_parts()
    first, second, update = parts["first"], parts["second"], parts["update"]
    read = dpm_solver_3_read(update, second, first)
    diff_1, diff_2 = eps_u_dpm - eps_s_dpm, eps_u2_dpm - eps_s_dpm
    weight = lambda z: (sp.exp(z) - 1) / z - 1  # noqa: E731 - as printed
    return Body(
        steps=_coefficient_steps(eps_flow(alpha_t_dpm, h_dpm), read, 4,
                                 r" (the update reads $\varepsilon_{s_i}$, $\varepsilon_{s'_i}$ at $u_i$, $u'_i$): "
                                 r"the local error is O(h^4)"),
        results=(
            Result("intermediate_1", first, "u_i: DPM-Solver-1 from t_{i-1} to lambda + h/3"),
            Result("intermediate_2", second, "u'_i at lambda + 2h/3"),
            Result("update", update, "DPM-Solver-3 step"),
        ),
        claims=(
            Claim("intermediate_2", alpha_u2_dpm / alpha_s_dpm * x_s_dpm
                  - sigma_u2_dpm * (sp.exp(2 * h_dpm / 3) - 1) * eps_s_dpm
                  - sigma_u2_dpm * R2_3 / R1_3 * weight(2 * h_dpm / 3) * diff_1,
                  "Lu et al. (2022), DPM-Solver-3, u_{2i} with r_1 = 1/3, r_2 = 2/3"),
            Claim("update", alpha_t_dpm / alpha_s_dpm * x_s_dpm - sigma_t_dpm * (sp.exp(h_dpm) - 1) * eps_s_dpm
                  - sigma_t_dpm / R2_3 * weight(h_dpm) * diff_2, "Lu et al. (2022), DPM-Solver-3, the step's end"),
        ),
        wrong_variants=(
            WrongVariant("update", alpha_t_dpm / alpha_s_dpm * x_s_dpm - sigma_t_dpm * (sp.exp(h_dpm) - 1) * eps_s_dpm
                         - sigma_t_dpm / R1_3 * weight(h_dpm) * diff_2, "1/r_1 for 1/r_2 in the last correction"),
            WrongVariant("update", alpha_t_dpm / alpha_s_dpm * x_s_dpm - sigma_t_dpm * (sp.exp(h_dpm) - 1) * eps_s_dpm
                         - sigma_t_dpm / R2_3 * weight(h_dpm) * diff_1, "the last correction from D_1, not D_2"),
            WrongVariant("intermediate_2", alpha_u2_dpm / alpha_s_dpm * x_s_dpm
                         - sigma_u2_dpm * (sp.exp(2 * h_dpm / 3) - 1) * eps_s_dpm,
                         "the second point without its D_1 correction"),
        ),
    )
