r"""ito.*: Itô's formula, the Itô isometry, the :math:`\lambda`-integral, GBM, Stratonovich.

Itô's formula is derived, not quoted: :func:`ito_differential` expands
:math:`f(t + dt, X + dX)` to second order with :math:`dX = b\,dt + s\,dW` and
applies the multiplication table :math:`dW^2 = dt`,
:math:`dt^2 = dt\,dW = 0` (``ito.formula`` proves the table's first entry in
mean square). Every other identity of the family is computed from discrete
sums of Gaussian increments with ``sympy.stats`` and a limit
:math:`h \to 0`, or from :func:`ito_differential`.

=================  ==========  ==============================================
code name          LaTeX       meaning
=================  ==========  ==============================================
``w_ito``          W_t         Brownian motion at time t
``x_sde``          x           state of an Itô process
``drift_ito``      b           drift at (t, x)
``diffusion_ito``  s           diffusion coefficient at (t, x)
``lam_ito``        \lambda     evaluation point of the Riemann sums
``h_sde``          h           time step of the sums
``mu_gbm`` ...     \mu, ...    GBM drift, volatility, initial value
=================  ==========  ==============================================
"""

from __future__ import annotations

import sympy as sp

from derivations.core.notation import (
    diffusion_ito,
    drift_ito,
    lam_ito,
    mu_gbm,
    rate_ito,
    t_grid,
    sigma_gbm,
    h_sde,
    time,
    u0_gbm,
    w_ito,
    x_sde,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Equivalent, Relation, Result, WrongVariant, derivation, get
from derivations.core.work import at, derivative, expectation, held_product, held_sum, limit, variance

OKSENDAL = "B. Øksendal, Stochastic Differential Equations, 6th ed. (2003)"
KLOEDEN_PLATEN = "P. E. Kloeden, E. Platen, Numerical Solution of Stochastic Differential Equations (1992)"

_dt, _dw = sp.symbols("dt dW")  # formal differentials; never in a result
_u = sp.Symbol("u", positive=True)  # integration variable
_k = sp.Symbol("k", integer=True, nonnegative=True)  # step index
_n = sp.Symbol("N", integer=True, positive=True)  # number of steps
_BROWNIAN_SRC = sp.Symbol("B_t")  # Oksendal's Brownian motion
_scale = sp.Symbol("epsilon", positive=True)  # dW = epsilon, dt = epsilon^2: the table dW^2 = dt built in


def ito_differential(f: sp.Expr, t: sp.Symbol, x: sp.Symbol, drift: sp.Expr, diffusion: sp.Expr
                     ) -> tuple[sp.Expr, sp.Expr]:
    r"""Drift and diffusion of :math:`f(t, X_t)` for :math:`dX = b\,dt + s\,dW`.

    Second-order Taylor expansion of :math:`f(t + dt, x + dX) - f(t, x)`, then
    :math:`dW^2 \to dt` and every monomial of order above one in :math:`dt` dropped:
    :math:`df = (f_t + b f_x + \tfrac12 s^2 f_{xx})\,dt + s f_x\,dW`.
    """
    dx = drift * _dt + diffusion * _dw
    taylor = (sp.diff(f, t) * _dt + sp.diff(f, x) * dx
              + (sp.diff(f, t, 2) * _dt**2 + 2 * sp.diff(f, t, x) * _dt * dx + sp.diff(f, x, 2) * dx**2) / 2)
    reduced = sp.Poly(sp.expand(taylor).subs(_dw**2, _dt), _dt, _dw)
    return reduced.coeff_monomial(_dt), reduced.coeff_monomial(_dw)


def _residual(expr: sp.Expr) -> sp.Expr:
    """``expr`` simplified; a relation ``residual == 0`` records a computation on undefined functions."""
    return sp.simplify(expr)


def _riemann_limit(summand_of_k: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    r"""The sum :math:`\sum_{k=0}^{N-1} \text{summand}(k)` on the grid :math:`t_k = kh`, :math:`N = t/h`,
    in closed form, and its limit :math:`h \to 0`.

    A geometric sum comes back as a ``Piecewise`` whose first branch is the
    ratio-one case :math:`e^{ch} = 1`, impossible for :math:`c, h > 0`; the
    generic branch is kept.
    """
    partial = sp.summation(summand_of_k, (_k, 0, _n - 1)).subs(_n, time / h_sde)
    generic = sp.simplify(partial.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[-1].expr))
    return generic, sp.simplify(sp.limit(generic, h_sde, 0, "+"))


def gaussian_expectation(polynomial: sp.Expr, variances: dict[sp.Symbol, sp.Expr]) -> sp.Expr:
    r""":math:`E[\text{polynomial}]` for independent centred Gaussians with the given variances.

    Each monomial factorizes; :math:`E[Z^p]` for :math:`Z \sim \mathcal N(0, v)` is
    :math:`v^{p/2} E[N(0,1)^p]`, the standard moment computed by ``sympy.stats``.
    """
    from sympy import stats

    standard = stats.Normal("Z", 0, 1)
    poly = sp.Poly(sp.expand(polynomial), *variances)
    total = sp.Integer(0)
    for powers, coefficient in poly.terms():
        term = coefficient
        for (symbol, var), p in zip(variances.items(), powers):
            term *= stats.E(standard**p) * var ** sp.Rational(p, 2)
        total += term
    return sp.expand(total)


@derivation(
    id="ito.formula",
    title="Itô's formula by second-order Taylor expansion with dW^2 = dt",
    statement=r"For $dX = b\,dt + s\,dW$ and $f \in C^{1,2}$: "
    r"$df(t, X_t) = \big(f_t + b f_x + \tfrac12 s^2 f_{xx}\big)dt + s f_x\,dW$. Examples: "
    r"$d(X^2) = (2bX + s^2)dt + 2sX\,dW$, $d e^{X} = e^X(b + \tfrac12 s^2)dt + s e^X dW$, "
    r"$d(tX^3) = (X^3 + 3tbX^2 + 3ts^2X)dt + 3tsX^2 dW$.",
    tier=Tier.EXACT,
    assumptions=(r"$b$, $s$ adapted; $f$ twice continuously differentiable in $x$, once in $t$",
                 r"$\sum_k \Delta W_k^2 \to t$ in mean square (proved below), so $dW^2 = dt$"),
    references=(OKSENDAL + ", Thm. 4.1.2", KLOEDEN_PLATEN + ", §3.3"),
)
def formula() -> Body:
    from sympy import stats

    f = sp.Function("f")(time, x_sde)
    drift, diffusion = ito_differential(f, time, x_sde, drift_ito, diffusion_ito)
    increment = stats.Normal("dW", 0, sp.sqrt(h_sde))
    steps_ = time / h_sde  # number of increments on [0, t]
    examples = {
        "drift_square": x_sde**2, "drift_exp": sp.exp(x_sde), "drift_time_cube": time * x_sde**3,
    }
    derived = {name: ito_differential(g, time, x_sde, drift_ito, diffusion_ito) for name, g in examples.items()}
    # f(t + dt, x + b dt + s dW) with dW = epsilon, dt = epsilon^2: the epsilon^2 coefficient is the dt term once
    # dW^2 = dt; dt^2 and dt dW are of higher order and drop out.
    expanded = sp.Function("f")(time + _scale**2, x_sde + drift_ito * _scale**2 + diffusion_ito * _scale)
    normal = stats.Normal("Z", 0, 1)

    def generator(g: sp.Expr) -> sp.Expr:
        r""":math:`\lim_{h\to0}(E[g(x + bh + s\sqrt h Z)] - g(x))/h` (constant coefficients), held."""
        moved = g.subs(x_sde, x_sde + drift_ito * h_sde + diffusion_ito * sp.sqrt(h_sde) * normal)
        return limit(held_product(held_sum(expectation(moved), -g), 1 / h_sde), h_sde, 0)

    # Oksendal, Theorem 4.1.2: dY = dg/dt dt + dg/dx dX + 1/2 d^2g/dx^2 (dX)^2 with (dX)^2 = s^2 dt.
    g_src = sp.Function("g")(time, x_sde)
    printed_drift = (sp.Derivative(g_src, time) + drift_ito * sp.Derivative(g_src, x_sde)
                     + diffusion_ito**2 * sp.Derivative(g_src, (x_sde, 2)) / 2)
    return Body(
        steps=(
            Relation(r"integrate: $E[\Delta W^2] = h$ for $\Delta W \sim \mathcal N(0, h)$", expectation(increment**2),
                     h_sde),
            Relation(r"integrate: $\mathrm{Var}[\Delta W^2] = 2h^2$", variance(increment**2), 2 * h_sde**2),
            Relation(r"the $t/h$ independent squares have variance $(t/h)\,2h^2 \to 0$: $\sum_k \Delta W_k^2 \to t$ "
                     r"in mean square, the table entry $dW^2 = dt$",
                     limit(held_product(steps_, variance(increment**2)), h_sde, 0), 0),
            Relation(r"expand $f(t + dt, x + b\,dt + s\,dW)$ to second order with $dW = \epsilon$, $dt = \epsilon^2$ "
                     r"(so $dW^2 = dt$ and $dt^2, dt\,dW$ are of higher order): the $dt$ coefficient, for any $f$",
                     held_product(sp.Rational(1, 2), at(derivative(expanded, (_scale, 2)), {_scale: 0})), drift),
            Relation(r"the $dW$ coefficient (first order in $\epsilon$), for any $f$",
                     at(derivative(expanded, _scale), {_scale: 0}), diffusion),
            Relation(r"example $f = e^x$: the $dt$ coefficient is the generator "
                     r"$\lim_{h\to0}(E f(x + bh + s\sqrt h Z) - f(x))/h$ (constant $b$, $s$)",
                     generator(sp.exp(x_sde)), derived["drift_exp"][0]),
            Relation(r"example $f = x^2$: the same check", generator(x_sde**2), derived["drift_square"][0]),
        ),
        results=tuple(Result(name, derived[name][0], f"dt coefficient of d({g})") for name, g in examples.items())
        + (Result("diffusion_square", derived["drift_square"][1], "dW coefficient of d(x^2)"),),
        claims=(
            Claim.as_printed("drift_square", printed_drift, "B. Øksendal, Stochastic Differential Equations (2003)",
                             r"Theorem 4.1.2 (Itô formula) with $(dX)^2 = s^2\,dt$, for $g = x^2$", {g_src: x_sde**2}),
            Claim.as_printed("drift_exp", printed_drift, "B. Øksendal, Stochastic Differential Equations (2003)",
                             r"Theorem 4.1.2 (Itô formula) with $(dX)^2 = s^2\,dt$, for $g = e^x$",
                             {g_src: sp.exp(x_sde)}),
        ),
        wrong_variants=(
            WrongVariant("drift_square", 2 * drift_ito * x_sde, "Itô correction dropped (ordinary chain rule)"),
            WrongVariant("drift_square", 2 * drift_ito * x_sde + diffusion_ito**2 / 2, "correction s^2/2 for f'' = 2"),
            WrongVariant("drift_exp", sp.exp(x_sde) * (drift_ito + diffusion_ito**2),
                         "correction without the factor 1/2"),
        ),
    )


@derivation(
    id="ito.isometry",
    title="Itô isometry for deterministic integrands, from the discrete sums",
    statement=r"$E\big[(\int_0^t f\,dW)^2\big] = \int_0^t f(u)^2\,du$: the Riemann sums "
    r"$\sum_k f(t_k)\Delta W_k$ have second moment $\sum_k f(t_k)^2 h$ since "
    r"$E[\Delta W_j\Delta W_k] = h\,\delta_{jk}$, and the limit $h \to 0$ is the integral. Examples: "
    r"$f(u) = u$ gives $t^3/3$, $f(u) = e^{ru}$ gives $(e^{2rt} - 1)/(2r)$, and the random integrand "
    r"$W_u$ gives $\int_0^t E[W_u^2]\,du = t^2/2$.",
    tier=Tier.EXACT,
    assumptions=(r"$f$ deterministic and continuous on $[0, t]$; $t_k = kh$, $h = t/N$",),
    references=(OKSENDAL + ", Lemma 3.1.5 and Cor. 3.1.7",),
)
def isometry() -> Body:
    from sympy import stats

    increments = [stats.Normal(f"dW_{k}", 0, sp.sqrt(h_sde)) for k in range(4)]  # independent N(0, h)
    # Four increments with arbitrary deterministic weights f(t_k): only the diagonal of the double sum survives.
    f = sp.Function("f")
    weights = [f(k * h_sde) for k in range(4)]
    grid_point = _k * h_sde
    linear_sum, linear = _riemann_limit(grid_point**2 * h_sde)
    exponential_sum, exponential = _riemann_limit(sp.exp(2 * rate_ito * grid_point) * h_sde)
    _, brownian = _riemann_limit(grid_point * h_sde)  # E[W_{t_k}^2] = t_k; W_{t_k} independent of dW_k
    lam_integral = get("ito.lambda_integral")
    riemann = lambda summand: limit(sp.Sum(summand, (_k, 0, time / h_sde - 1)), h_sde, 0)  # noqa: E731
    return Body(
        steps=(
            Relation(r"independent increments: $E[\Delta W_j \Delta W_k] = 0$, $j \ne k$",
                     expectation(increments[0] * increments[1]), 0),
            Relation(r"$E[\Delta W_k^2] = h$", expectation(increments[0] ** 2), h_sde),
            Relation(r"expand the square of a Riemann sum with deterministic weights $f(t_k)$: only the diagonal "
                     r"survives (four increments)", expectation(sum(w * d for w, d in zip(weights, increments)) ** 2),
                     held_product(h_sde, sum(w**2 for w in weights))),
            Relation(r"$f(u) = u$: the sum $\sum_k t_k^2 h$ tends to $\int_0^t u^2 du$", riemann(grid_point**2 * h_sde),
                     sp.Integral(_u**2, (_u, 0, time))),
            Relation(r"$f(u) = e^{ru}$: the geometric sum $\sum_k e^{2rt_k} h$ (summed in closed form) tends to "
                     r"$\int_0^t e^{2ru} du$", limit(exponential_sum, h_sde, 0),
                     sp.Integral(sp.exp(2 * rate_ito * _u), (_u, 0, time))),
            Relation(r"integrand $W$ ($E[W_u^2] = u$): the isometry's $\int_0^t E[W_u^2]\,du$ agrees with "
                     r"$E[(\int W dW)^2] = \mathrm{Var} + \mathrm{mean}^2$ of `ito.lambda_integral` at $\lambda = 0$",
                     sp.Integral(_u, (_u, 0, time)),
                     at(held_sum(lam_integral.result("var"), lam_integral.result("mean") ** 2), {lam_ito: 0})),
        ),
        results=(
            Result("second_moment_linear", linear, "E[(int_0^t u dW)^2]"),
            Result("second_moment_exp", exponential, "E[(int_0^t e^{ru} dW)^2]"),
            Result("second_moment_brownian", brownian, "E[(int_0^t W dW)^2] (random integrand W)"),
            Result("second_moment_linear_bias", sp.factor(linear_sum - linear),
                   "E[(sum_k t_k dW_k)^2] - t^3/3: the Riemann sums' bias"),
            Result("second_moment_exp_bias", exponential_sum - exponential,
                   "E[(sum_k e^{r t_k} dW_k)^2] minus its limit: the Riemann sums' bias"),
        ),
        equivalents=(
            Equivalent("second_moment_linear", time**3 / 3, r"$\int_0^t u^2 du$"),
            Equivalent("second_moment_exp", (sp.exp(2 * rate_ito * time) - 1) / (2 * rate_ito), r"$\int_0^t e^{2ru} du$"),
            Equivalent("second_moment_brownian", time**2 / 2, r"$\int_0^t u\,du$"),
        ),
        wrong_variants=(
            WrongVariant("second_moment_linear", time**4 / 4, "square of the integral (int u du)^2"),
            WrongVariant("second_moment_linear", time**2 / 2, "int f du instead of int f^2 du"),
            WrongVariant("second_moment_exp", ((sp.exp(rate_ito * time) - 1) / rate_ito) ** 2,
                         "square of the integral"),
            WrongVariant("second_moment_brownian", time**2, "E[W_u^2] = 2u"),
        ),
    )


def _lambda_step() -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    r"""Moments of one term of :math:`\sum_k W_{t_k + \lambda h}\,\Delta W_k`.

    With :math:`A = W_{t_k+\lambda h} - W_{t_k} \sim \mathcal N(0, \lambda h)` and
    :math:`B = W_{t_{k+1}} - W_{t_k + \lambda h} \sim \mathcal N(0, (1-\lambda)h)`
    independent: :math:`E[A(A+B)]`, :math:`E[A^2(A+B)^2]`, :math:`E[A^2 - B^2]`,
    :math:`\mathrm{Var}[A^2 - B^2]`.
    """
    a, b = sp.symbols("A B", real=True)
    law = {a: lam_ito * h_sde, b: (1 - lam_ito) * h_sde}
    difference_mean = gaussian_expectation(a**2 - b**2, law)
    return (gaussian_expectation(a * (a + b), law), gaussian_expectation(a**2 * (a + b) ** 2, law),
            difference_mean, sp.expand(gaussian_expectation((a**2 - b**2) ** 2, law) - difference_mean**2))


@derivation(
    id="ito.lambda_integral",
    title="The integral of W dW with evaluation point lambda, from the Riemann sums",
    statement=r"$S_N = \sum_{k<N} W_{t_k + \lambda h}(W_{t_{k+1}} - W_{t_k}) = \tfrac12 W_t^2 + "
    r"\tfrac12\sum_k (A_k^2 - B_k^2)$ (telescoping), so $S_N \to \int_0^t W\,d_\lambda W = \tfrac12 W_t^2 + "
    r"(\lambda - \tfrac12)t$ in mean square: $\lambda = 0$ Itô, $\tfrac12$ Stratonovich. "
    r"$E = \lambda t$ (also for every $N$), $\mathrm{Var} = t^2/2$; for finite $h$, "
    r"$\mathrm{Var}[S_N] = t^2/2 + th(\lambda^2 + \lambda - \tfrac12)$.",
    tier=Tier.EXACT,
    assumptions=(r"$0 \le \lambda \le 1$; uniform grid $t_k = kh$, $N = t/h$",),
    references=(OKSENDAL + ", Example 3.1.9 and Exercise 3.1", KLOEDEN_PLATEN + ", §3.1"),
)
def lambda_integral() -> Body:
    from sympy import stats

    step_mean, step_second, difference_mean, difference_var = _lambda_step()
    # Pathwise identity (W + A)(A + B) = ((W + A + B)^2 - W^2)/2 + (A^2 - B^2)/2: the sum telescopes.
    w, a, b = (stats.Normal(name, 0, 1) for name in ("W_{t_k}", "A_k", "B_k"))
    n_steps = time / h_sde
    a_k = stats.Normal("A", 0, sp.sqrt(lam_ito * h_sde))  # W_{t_k + lambda h} - W_{t_k}
    b_k = stats.Normal("B", 0, sp.sqrt((1 - lam_ito) * h_sde))  # W_{t_{k+1}} - W_{t_k + lambda h}
    remainder_mean = sp.simplify(n_steps * difference_mean / 2)
    integral = w_ito**2 / 2 + sp.limit(remainder_mean, h_sde, 0)
    mean = sp.simplify(gaussian_expectation(integral, {w_ito: time}))
    var = sp.simplify(gaussian_expectation(integral**2, {w_ito: time}) - mean**2)
    # Second moment of S_k by recursion: S_{k+1} = S_k + (W_k + A)(A + B) with E[W_k^2] = kh,
    # E[S_k] = k E[A(A+B)], E[S_k W_k (A+B)] = 0.
    mean_k = _k * step_mean
    second_increment = 2 * mean_k * step_mean + _k * h_sde * h_sde + step_second
    second_n = sp.summation(sp.expand(second_increment), (_k, 0, _n - 1))
    var_discrete = sp.expand((second_n - (_n * step_mean) ** 2).subs(_n, n_steps))
    var_bias = sp.factor(sp.expand(var_discrete - var))
    return Body(
        steps=(
            Relation(r"telescoping: each term of $S_N$ is $(W + A)(A + B) = \tfrac12((W + A + B)^2 - W^2) + "
                     r"\tfrac12(A^2 - B^2)$ (pathwise)", (w + a) * (a + b),
                     held_sum(((w + a + b) ** 2 - w**2) / 2, (a**2 - b**2) / 2)),
            Relation(r"$E[\tfrac12\sum_k (A_k^2 - B_k^2)] = (\lambda - \tfrac12)t$ for every $h$ ($t/h$ terms, "
                     r"$A \sim \mathcal N(0, \lambda h)$, $B \sim \mathcal N(0, (1-\lambda)h)$)",
                     held_product(n_steps, expectation((a_k**2 - b_k**2) / 2, difference_mean / 2)),
                     (lam_ito - sp.Rational(1, 2)) * time),
            Relation(r"$\mathrm{Var}[\tfrac12\sum_k (A_k^2 - B_k^2)] \to 0$ as $h \to 0$ (independent terms)",
                     limit(held_product(n_steps, variance((a_k**2 - b_k**2) / 2, difference_var / 4)), h_sde, 0), 0),
            Relation(r"$E[S_N] = (t/h)\,E[A(A + B)] = \lambda t$ exactly: no discretization bias in the mean",
                     held_product(n_steps, expectation(a_k * (a_k + b_k), step_mean)), mean),
            Relation(r"$\mathrm{Var}[S_N] \to t^2/2$ as $h \to 0$ (second moment by the recursion over $k$)",
                     limit(var_discrete, h_sde, 0), var),
        ),
        results=(
            Result("integral", integral, "int_0^t W d_lambda W as a function of W_t"),
            Result("mean", mean, "E[int_0^t W d_lambda W]"),
            Result("var", var, "Var[int_0^t W d_lambda W]"),
            Result("var_bias", var_bias, "Var[S_N] - Var[limit]: the discretization bias of the variance"),
            Result("integral_ito", integral.subs(lam_ito, 0), "the Ito integral int_0^t W dW (lambda = 0)"),
        ),
        claims=(
            # Oksendal, Example 3.1.9: int_0^t B_s dB_s = B_t^2/2 - t/2.
            Claim.as_printed("integral_ito", _BROWNIAN_SRC**2 / 2 - time / 2,
                             "B. Øksendal, Stochastic Differential Equations (2003)", "Example 3.1.9",
                             {_BROWNIAN_SRC: w_ito}),
        ),
        equivalents=(
            Equivalent("integral", w_ito**2 / 2 + (lam_ito - sp.Rational(1, 2)) * time,
                       r"$\tfrac12 W_t^2 + (\lambda - \tfrac12)t$"),
            Equivalent("var_bias", time * h_sde * (lam_ito**2 + lam_ito - sp.Rational(1, 2)),
                       r"$th(\lambda^2 + \lambda - \tfrac12)$"),
        ),
        wrong_variants=(
            WrongVariant("integral", w_ito**2 / 2, "ordinary calculus: correction term dropped"),
            WrongVariant("integral", w_ito**2 / 2 + (sp.Rational(1, 2) - lam_ito) * time, "sign of the correction"),
            WrongVariant("mean", (lam_ito - sp.Rational(1, 2)) * time, "E[W_t^2/2] forgotten"),
            WrongVariant("var", time**2, "Var[W_t^2 / 2] taken as Var[W_t^2]/2"),
            WrongVariant("var", time**2 / 4, "Var[W_t^2] taken as t^2"),
        ),
    )


def exponential_expectation(expr: sp.Expr, w: sp.Symbol, var: sp.Expr) -> sp.Expr:
    r""":math:`E[C e^{a W}] = C\,M_W(a)` for :math:`W \sim \mathcal N(0, \text{var})`, with the
    moment generating function :math:`M_W` from ``sympy.stats``; ``expr`` must be log-linear in ``w``."""
    from sympy import stats

    log_expr = sp.expand_log(sp.log(expr), force=True)
    if sp.diff(log_expr, w, 2) != 0:
        raise ValueError("exponential_expectation needs C * exp(a * w)")
    generating = stats.moment_generating_function(stats.Normal("W", 0, sp.sqrt(var)))
    return sp.simplify(expr.subs(w, 0) * generating(sp.diff(log_expr, w)))


def gbm_solution() -> sp.Expr:
    r""":math:`U_0 \exp((\mu - \sigma^2/2)t + \sigma W_t)`, from Itô's formula on :math:`\log U`."""
    log_drift, log_diffusion = ito_differential(sp.log(x_sde), time, x_sde, mu_gbm * x_sde, sigma_gbm * x_sde)
    # d log U has constant coefficients: integrate from 0 to t.
    return u0_gbm * sp.exp(sp.simplify(log_drift) * time + sp.simplify(log_diffusion) * w_ito)


@derivation(
    id="ito.gbm",
    title="Geometric Brownian motion: solution by Itô's formula, moments, Euler-Maruyama bias",
    statement=r"$dU = \mu U\,dt + \sigma U\,dW$: $d\log U = (\mu - \tfrac12\sigma^2)dt + \sigma dW$ gives "
    r"$U_t = U_0\exp((\mu - \tfrac12\sigma^2)t + \sigma W_t)$, $E[U_t] = U_0e^{\mu t}$, "
    r"$\mathrm{Var}[U_t] = U_0^2e^{2\mu t}(e^{\sigma^2 t} - 1)$. Euler-Maruyama with step $h$ has "
    r"$E = U_0(1 + \mu h)^{t/h}$, $E[U^2] = U_0^2((1 + \mu h)^2 + \sigma^2 h)^{t/h}$.",
    tier=Tier.EXACT,
    assumptions=(r"$U_0 > 0$ deterministic", r"$t/h$ an integer for the Euler-Maruyama law"),
    references=(OKSENDAL + ", Example 5.1.1", KLOEDEN_PLATEN + ", §4.4 and §9.1"),
)
def gbm() -> Body:
    from sympy import stats

    solution = gbm_solution()
    drift, diffusion = ito_differential(solution, time, w_ito, 0, 1)
    mean = exponential_expectation(solution, w_ito, time)
    second = exponential_expectation(solution**2, w_ito, time)
    var = sp.factor(sp.simplify(second - mean**2))
    # Euler-Maruyama: U_{k+1} = U_k (1 + mu h + sigma sqrt(h) Z), independent factors.
    factor = 1 + mu_gbm * h_sde + sigma_gbm * sp.sqrt(h_sde) * stats.Normal("Z", 0, 1)
    n_steps = time / h_sde
    mean_em = u0_gbm * sp.simplify(stats.E(factor)) ** n_steps
    second_em = u0_gbm**2 * sp.expand(stats.E(sp.expand(factor**2))) ** n_steps
    mean_bias, var_bias = mean_em - mean, (second_em - mean_em**2) - var
    second_drift, _ = ito_differential(x_sde**2, time, x_sde, mu_gbm * x_sde, sigma_gbm * x_sde)
    # Oksendal (5.1.6): X_t = X_0 exp((r - alpha^2/2) t + alpha B_t) for dX = r X dt + alpha X dB.
    x0_src, r_src, alpha_src = sp.symbols("X_0 r alpha")
    return Body(
        steps=(
            Relation(r"Itô's formula on the solution as a function of $W_t$: drift $\mu U_t$", drift, mu_gbm * solution),
            Relation(r"Itô's formula on the solution: diffusion $\sigma U_t$", diffusion, sigma_gbm * solution),
            Relation(r"the mean $E[U_t]$ (moment generating function of $W_t$) solves $\dot m = \mu m$",
                     derivative(mean, time), held_product(mu_gbm, mean)),
            Relation(r"$d(U^2)$ has drift $(2\mu + \sigma^2)U^2$ (Itô's formula), so $E[U^2]$ solves its moment ODE",
                     derivative(second, time), held_product(second_drift.subs(x_sde, 1), second)),
            Relation(r"Euler-Maruyama mean bias $\to 0$ as $h \to 0$", limit(mean_bias, h_sde, 0), 0),
            Relation(r"Euler-Maruyama variance bias $\to 0$ as $h \to 0$", limit(var_bias, h_sde, 0), 0),
        ),
        results=(
            Result("solution", solution, "U_t as a function of W_t"),
            Result("mean", mean, "E[U_t]"),
            Result("var", var, "Var[U_t]"),
            Result("mean_em_bias", mean_bias, "Euler-Maruyama mean minus E[U_t]"),
            Result("var_em_bias", var_bias, "Euler-Maruyama variance minus Var[U_t]"),
        ),
        claims=(
            Claim.as_printed("solution", x0_src * sp.exp((r_src - alpha_src**2 / 2) * time + alpha_src * _BROWNIAN_SRC),
                             "B. Øksendal, Stochastic Differential Equations (2003)", "eq. (5.1.6)",
                             {x0_src: u0_gbm, r_src: mu_gbm, alpha_src: sigma_gbm, _BROWNIAN_SRC: w_ito}),
        ),
        equivalents=(
            Equivalent("var", u0_gbm**2 * sp.exp(2 * mu_gbm * time) * (sp.exp(sigma_gbm**2 * time) - 1),
                       "the log-normal variance"),
        ),
        wrong_variants=(
            WrongVariant("solution", u0_gbm * sp.exp(mu_gbm * time + sigma_gbm * w_ito), "Itô correction dropped"),
            WrongVariant("mean", u0_gbm * sp.exp((mu_gbm - sigma_gbm**2 / 2) * time), "the median as the mean"),
            WrongVariant("var", u0_gbm**2 * sp.exp(2 * mu_gbm * time) * sp.exp(sigma_gbm**2 * time),
                         "second moment as the variance"),
            WrongVariant("var", u0_gbm**2 * sp.exp(2 * mu_gbm * time) * (sp.exp(sigma_gbm * time) - 1),
                         "volatility not squared"),
        ),
    )


def stratonovich_correction(coefficient: sp.Expr, x: sp.Symbol, state_diffusion: sp.Expr | None = None) -> sp.Expr:
    r"""Itô drift minus Stratonovich drift of :math:`dY = \ldots + g(X)\circ dW`.

    The midpoint rule evaluates :math:`g` at :math:`X + \tfrac12\Delta X`,
    :math:`\Delta X = b h + \sigma\Delta W` (:math:`\sigma` = ``state_diffusion``,
    by default :math:`g` itself, i.e. :math:`Y = X`); to first order
    :math:`E[g(X + \tfrac12\Delta X)\Delta W] = \tfrac12 g'\sigma h + o(h)`, which the
    Itô form must carry as drift.
    """
    from sympy import stats

    sigma = coefficient if state_diffusion is None else state_diffusion
    increment = stats.Normal("dW", 0, sp.sqrt(h_sde))
    drift = sp.Symbol("b_strat", real=True)
    midpoint = coefficient + sp.diff(coefficient, x) * (drift * h_sde + sigma * increment) / 2
    expected = sp.expand(stats.E(sp.expand(midpoint * increment)))
    return sp.simplify(sp.limit(expected / h_sde, h_sde, 0))


@derivation(
    id="ito.stratonovich",
    title="Stratonovich to Itô drift conversion",
    statement=r"$dX = \underline b\,dt + \sigma(X)\circ dW$ is $dX = b\,dt + \sigma\,dW$ with "
    r"$b = \underline b + \tfrac12\sigma'\sigma$. Examples: $\sigma(x) = \sigma x$ (GBM) gives "
    r"$\tfrac12\sigma^2 x$; the integrand $W$ gives $\int W\circ dW = \int W\,dW + t/2$.",
    tier=Tier.EXACT,
    assumptions=(r"$\sigma \in C^1$; midpoint (Stratonovich) Riemann sums",),
    references=(OKSENDAL + ", eq. (6.1.3)", KLOEDEN_PLATEN + ", §3.3, eq. (3.3.10)"),
)
def stratonovich() -> Body:
    from sympy import stats

    sigma = sp.Function("sigma")(x_sde)
    increment = stats.Normal("dW", 0, sp.sqrt(h_sde))
    strat_drift_symbol = sp.Symbol("b_strat", real=True)
    midpoint = sigma + sp.diff(sigma, x_sde) * (strat_drift_symbol * h_sde + sigma * increment) / 2
    gbm_correction = stratonovich_correction(sigma_gbm * x_sde, x_sde)
    sqrt_correction = stratonovich_correction(sp.sqrt(1 + x_sde**2), x_sde)
    lam_integral = get("ito.lambda_integral").result("integral")
    strat_gbm_solution = u0_gbm * sp.exp(mu_gbm * time + sigma_gbm * w_ito)
    strat_drift, _ = ito_differential(strat_gbm_solution, time, w_ito, 0, 1)
    # Oksendal, eq. (6.1.3): the Stratonovich equation corresponds to the Ito drift b + 1/2 sigma'(x) sigma(x).
    sigma_src = sp.Function("sigma")(x_sde)
    printed = sp.Derivative(sigma_src, x_sde) * sigma_src / 2
    return Body(
        steps=(
            Relation(r"midpoint rule: $\lim_{h\to0} E[\sigma(X + \tfrac12\Delta X)\,\Delta W]/h$ to first order, "
                     r"for any $\sigma$ (the drift $b$ drops out)",
                     limit(held_product(expectation(midpoint * increment), 1 / h_sde), h_sde, 0),
                     sp.diff(sigma, x_sde) * sigma / 2),
            Relation(r"integrate the correction $\tfrac12$ of the integrand $W$ (state $W$, diffusion 1): "
                     r"$\int W\circ dW - \int W\,dW = t/2$, as `ito.lambda_integral` at $\lambda = \tfrac12$ and $0$",
                     sp.Integral(stratonovich_correction(x_sde, x_sde, sp.Integer(1)), (_u, 0, time)),
                     held_sum(at(lam_integral, {lam_ito: sp.Rational(1, 2)}), -at(lam_integral, {lam_ito: 0}))),
            Relation(r"Stratonovich GBM $dU = \mu U dt + \sigma U\circ dW$ is solved by $U_0e^{\mu t + \sigma W_t}$: "
                     r"its Itô drift is $\mu U + \tfrac12\sigma^2 U$", strat_drift,
                     (mu_gbm + gbm_correction.subs(x_sde, 1)) * strat_gbm_solution),
        ),
        results=(
            Result("correction_linear", gbm_correction, "b - b_strat for sigma(x) = sigma x"),
            Result("correction_sqrt", sqrt_correction, "b - b_strat for sigma(x) = sqrt(1 + x^2)"),
            Result("ito_drift_gbm", mu_gbm * x_sde + gbm_correction, "Itô drift of dU = mu U dt + sigma U o dW"),
        ),
        claims=(
            Claim.as_printed("correction_linear", printed, "B. Øksendal, Stochastic Differential Equations (2003)",
                             r"eq. (6.1.3), $\sigma(x) = \sigma x$", {sigma_src: sigma_gbm * x_sde}),
            Claim.as_printed("correction_sqrt", printed, "B. Øksendal, Stochastic Differential Equations (2003)",
                             r"eq. (6.1.3), $\sigma(x) = \sqrt{1 + x^2}$", {sigma_src: sp.sqrt(1 + x_sde**2)}),
        ),
        wrong_variants=(
            WrongVariant("correction_linear", sigma_gbm**2 * x_sde, "factor 1/2 missing"),
            WrongVariant("ito_drift_gbm", mu_gbm * x_sde - sigma_gbm**2 * x_sde / 2,
                         "conversion in the wrong direction"),
            WrongVariant("correction_sqrt", sp.sqrt(1 + x_sde**2) / 2, "sigma/2 instead of sigma sigma'/2"),
        ),
    )


@derivation(
    id="ito.lambda_summand",
    title="One Riemann summand of the lambda-integral: evaluation point, mean and variance",
    statement=r"On the grid $t_k = kh$ the $\lambda$-integral's summand is $W_{\tau_k}(W_{t_{k+1}} - W_{t_k})$ with "
    r"the evaluation point $\tau_k = (1-\lambda)t_k + \lambda t_{k+1} = t_k + \lambda h$. With "
    r"$W_{\tau_k} = W_{t_k} + A$, $W_{t_{k+1}} - W_{t_k} = A + B$ ($W_{t_k}$, $A \sim \mathcal N(0, \lambda h)$, "
    r"$B \sim \mathcal N(0, (1-\lambda)h)$ independent): $E = \lambda h$, "
    r"$\mathrm{Var} = t_k h + \lambda(1 + \lambda)h^2$; the $t/h$ summands' means add to $\lambda t$, the mean of the limit "
    r"(`ito.lambda_integral`).",
    tier=Tier.EXACT,
    assumptions=(r"$0 \le \lambda \le 1$; uniform grid $t_k = kh$, $N = t/h$ steps",),
    references=(OKSENDAL + ", Exercise 3.1", KLOEDEN_PLATEN + ", §3.1"),
)
def lambda_summand() -> Body:
    from sympy import stats

    point = sp.Symbol("tau")  # solved for
    (eval_point,) = sp.solve(sp.Eq(point - t_grid, lam_ito * ((t_grid + h_sde) - t_grid)), point)
    w_k, a_k, b_k = (stats.Normal(name, 0, sp.sqrt(var)) for name, var in
                     (("W_{t_k}", t_grid), ("A", lam_ito * h_sde), ("B", (1 - lam_ito) * h_sde)))
    w, a, b = sp.symbols("W A B", real=True)
    law = {w: t_grid, a: lam_ito * h_sde, b: (1 - lam_ito) * h_sde}
    summand = (w + a) * (a + b)
    mean = gaussian_expectation(summand, law)
    var = sp.expand(gaussian_expectation(summand**2, law) - mean**2)
    sum_mean = sp.simplify(sp.summation(mean, (_k, 0, time / h_sde - 1)))
    return Body(
        steps=(
            Relation(r"the evaluation point divides $[t_k, t_{k+1}]$ in the ratio $\lambda$: "
                     r"$(1-\lambda)t_k + \lambda t_{k+1}$ with $t_{k+1} = t_k + h$",
                     held_sum(held_product(1 - lam_ito, t_grid), held_product(lam_ito, t_grid + h_sde)), eval_point),
            Relation(r"the summand's mean (Gaussian moments of independent $W_{t_k}, A, B$): only $E[A^2] = \lambda h$ "
                     r"survives",
                     expectation((w_k + a_k) * (a_k + b_k), mean), mean),
            Relation(r"its variance: $E[(W + A)^2(A + B)^2] - (\lambda h)^2$",
                     held_sum(expectation(((w_k + a_k) * (a_k + b_k)) ** 2, var + mean**2), -mean**2),
                     sp.factor(var)),
            Relation(r"the $t/h$ summands' means add to $\lambda t$, the mean of `ito.lambda_integral` (no bias)",
                     sp.Sum(mean, (_k, 0, time / h_sde - 1)), get("ito.lambda_integral").result("mean")),
        ),
        results=(
            Result("eval_point", eval_point, "tau_k = t_k + lambda h: where the integrand is read"),
            Result("summand_mean", mean, "E[W_tau_k (W_t_{k+1} - W_t_k)]"),
            Result("summand_var", var, "Var[W_tau_k (W_t_{k+1} - W_t_k)]"),
            Result("sum_mean", sum_mean, "E of the Riemann sum over t/h steps"),
        ),
        equivalents=(Equivalent("summand_var", t_grid * h_sde + lam_ito * (1 + lam_ito) * h_sde**2,
                                r"$t_k h + \lambda(1 + \lambda)h^2$"),),
        wrong_variants=(
            WrongVariant("eval_point", t_grid + (1 - lam_ito) * h_sde, "lambda measured from the right endpoint"),
            WrongVariant("summand_mean", (1 - lam_ito) * h_sde, "integrand read at the wrong end: t_{k+1} - lambda h"),
            WrongVariant("summand_mean", -lam_ito * h_sde, "increment reversed: W_t_k - W_t_{k+1}"),
            WrongVariant("summand_mean", h_sde / 2, "the Stratonovich midpoint for every lambda"),
            WrongVariant("summand_var", t_grid * h_sde, "the Ito variance for every lambda"),
        ),
    )
