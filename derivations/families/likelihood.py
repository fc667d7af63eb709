r"""likelihood.*: VDM's continuous-time bound, and the exact likelihood of the probability-flow ODE.

* VDM (Kingma et al. 2021): a forward kernel :math:`q(z_t \mid x) = \mathcal N(\alpha_t x, \sigma_t^2)`,
  :math:`\mathrm{SNR}(t) = \alpha_t^2/\sigma_t^2` decreasing from :math:`\mathrm{SNR}_{\max}` at
  :math:`t = 0` to :math:`\mathrm{SNR}_{\min}` at :math:`t = 1`, :math:`T` steps :math:`s = t - 1/T \to t`.
  The per-step KL of the bound at the posterior variance is ``elbo.weights``' :math:`x_0` weight
  :math:`\tfrac12(\mathrm{SNR}_{t-1} - \mathrm{SNR}_t)` times :math:`\|x - \hat x(z_t, t)\|^2`; the diffusion
  loss :math:`\sum_i` of these tends, as :math:`T \to \infty`, to
  :math:`-\tfrac12\int_0^1 \mathrm{SNR}'(t)\,\|x - \hat x(z_t, t)\|^2\,dt`, which in the variable
  :math:`v = \mathrm{SNR}` depends on the schedule only through its endpoints.
* The probability-flow ODE :math:`\dot x = f(x, t)` carries :math:`\log p_t` along its trajectories
  by the instantaneous change of variables :math:`\frac{d}{dt}\log p_t(x_t) = -\nabla\cdot f`; for the VP
  SDE :math:`f = -\tfrac12\beta x - \tfrac12\beta\nabla\log p_t`. For Gaussian data the ODE is linear,
  its flow map and log-determinant are explicit, and the likelihood it gives is exactly the
  data's Gaussian log-density.
* For Gaussian data, the bound with the optimal denoiser (discrete :math:`T` and continuous) against
  the exact log-likelihood: :func:`gap_table`.
"""

from __future__ import annotations

import math

import sympy as sp

from derivations.core import work
from derivations.core.notation import (
    B_t,
    alpha_bar_prev,
    alpha_t,
    beta_now,
    dim_d,
    lap_log_p,
    mean_data,
    rate_err_vdm,
    snr_max_vdm,
    snr_min_vdm,
    snr_prev,
    snr_rate_vdm,
    snr_t,
    steps_T,
    time,
    var_data,
    var_noise,
    var_x,
    gain,
    x_0,
    x_sde,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Equivalent, Relation, Result, WrongVariant, derivation, get
from derivations.families.gaussian import log_density

KINGMA_2021 = ("D. P. Kingma, T. Salimans, B. Poole, J. Ho, Variational Diffusion Models, NeurIPS 2021 "
               "(arXiv:2107.00630): the discrete-time loss, its continuous-time limit T -> infinity, and the "
               "invariance of the continuous-time loss to the noise schedule")
SONG_2021 = ("Y. Song, J. Sohl-Dickstein, D. P. Kingma, A. Kumar, S. Ermon, B. Poole, Score-Based Generative "
             "Modeling through Stochastic Differential Equations, ICLR 2021, eq. (13) and appendix D.2")
CHEN_2018 = ("R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, Neural Ordinary Differential Equations, "
             "NeurIPS 2018, Theorem 1 (instantaneous change of variables)")
GRATHWOHL_2019 = ("W. Grathwohl, R. T. Q. Chen, J. Bettencourt, I. Sutskever, D. Duvenaud, FFJORD, ICLR 2019, "
                  "section 2.2 (Hutchinson's trace estimator)")

# An undefined schedule t -> SNR(t) (its values and derivatives are the proofs' free jet variables).
SNR = sp.Function("SNR", positive=True)
# Bound variables: the integration time u, the SNR v, the step index i.
_u = sp.Symbol("u", positive=True)
_v = sp.Symbol("v", positive=True)
_i = sp.Symbol("i", integer=True, positive=True)
_h = sp.Symbol("h", positive=True)


def log_linear_snr(u: sp.Expr) -> sp.Expr:
    r""":math:`\mathrm{SNR}_{\max}(\mathrm{SNR}_{\min}/\mathrm{SNR}_{\max})^u`: log-SNR linear in time
    (VDM's fixed schedule)."""
    return snr_max_vdm * (snr_min_vdm / snr_max_vdm) ** u


def linear_snr(u: sp.Expr) -> sp.Expr:
    r""":math:`\mathrm{SNR}_{\max} + (\mathrm{SNR}_{\min} - \mathrm{SNR}_{\max})u`: another schedule between
    the same endpoints."""
    return snr_max_vdm + (snr_min_vdm - snr_max_vdm) * u


def gaussian_mmse(snr: sp.Expr) -> sp.Expr:
    r""":math:`E\|x - E[x \mid z]\|^2` for :math:`x \sim \mathcal N(\mu_0, \sigma_0^2)`, :math:`z = \alpha x + \sigma
    \varepsilon`: the posterior variance of ``gaussian.linear_bayes`` for :math:`z/\sigma = \sqrt{\mathrm{SNR}}x +
    \varepsilon`."""
    return get("gaussian.linear_bayes").result("posterior_var").subs(
        {var_x: var_data, gain: sp.sqrt(snr), var_noise: 1})


def _series_limit(expr_in_h: sp.Expr) -> sp.Expr:
    r"""The limit :math:`h \to 0^+` of ``expr_in_h`` from its Taylor series (undefined functions allowed)."""
    return sp.series(expr_in_h, _h, 0, 1).removeO().doit()


def _taylor_limits(expr: sp.Expr) -> sp.Expr:
    r"""Every :math:`\lim_{T\to\infty}` in ``expr`` evaluated from the Taylor series in :math:`h = 1/T`
    (SymPy's ``limit`` does not take an undefined :math:`\mathrm{SNR}(t)`)."""
    return expr.replace(lambda e: isinstance(e, sp.Limit),
                        lambda e: _series_limit(e.args[0].subs(e.args[1], 1 / _h)))


# --------------------------------------------------------------------------
# VDM: the continuous-time diffusion loss
# --------------------------------------------------------------------------

@derivation(
    id="likelihood.vdm_continuous",
    title="VDM's continuous-time diffusion loss: the T → ∞ limit of the discrete bound, invariant to the schedule",
    statement=r"Per step $s = t - 1/T \to t$ the KL of the bound is $\tfrac12(\mathrm{SNR}(s) - \mathrm{SNR}(t))"
    r"\|x - \hat x(z_t, t)\|^2$ (`elbo.weights` with $\bar\alpha = \mathrm{SNR}/(1 + \mathrm{SNR})$), so the "
    r"diffusion loss is $\mathcal L_T = \tfrac T2 E_{i}[(\mathrm{SNR}(s) - \mathrm{SNR}(t))\|x - \hat x\|^2]$; "
    r"$T$ times the step weight tends to $-\tfrac12\mathrm{SNR}'(t)$, and $\mathcal L_\infty = -\tfrac12\int_0^1"
    r"\mathrm{SNR}'(t)\|x - \hat x(z_t, t)\|^2dt$ (a Riemann sum's limit, shown for a log-linear schedule and an "
    r"error curve $e^{-\kappa t}$). With $v = \mathrm{SNR}(t)$, $\mathcal L_\infty = \tfrac12\int_{\mathrm{SNR}_{\min}}"
    r"^{\mathrm{SNR}_{\max}}\|x - \tilde x(z_v, v)\|^2dv$: for Gaussian data and the optimal denoiser, two schedules "
    r"with the same endpoints give the same $\tfrac12\log\frac{1 + \sigma_0^2\mathrm{SNR}_{\max}}{1 + \sigma_0^2"
    r"\mathrm{SNR}_{\min}}$.",
    tier=Tier.NUMERIC,
    assumptions=(r"$\mathrm{SNR}$ differentiable in $t$; the error $\|x - \hat x(z_t, t)\|^2$ continuous in $t$ "
                 r"(the Riemann sums converge)",
                 r"the reverse kernel is $q(z_s \mid z_t, x = \hat x)$: the posterior variance, so the constant "
                 r"$C$ of `elbo.weights` vanishes",),
    references=(KINGMA_2021,),
)
def vdm_continuous() -> Body:
    snr_s, snr_t_fn = SNR(time - 1 / steps_T), SNR(time)
    weight = get("elbo.weights").result("weight_x0_posterior_var")
    alpha_bar = lambda snr: snr / (1 + snr)  # noqa: E731 - VP: alpha^2 = SNR / (1 + SNR)
    to_snr = {alpha_bar_prev: alpha_bar(snr_s), alpha_t: alpha_bar(snr_t_fn) / alpha_bar(snr_s)}
    step_weight = sp.factor(sp.cancel(weight.subs(to_snr)))
    per_time = steps_T * step_weight
    time_weight = _series_limit(per_time.subs(steps_T, 1 / _h))

    # A Riemann sum in closed form: log-linear schedule, error e^{-kappa t}; the sum is geometric.
    ratio = sp.Symbol("Q", positive=True)
    geometric = sp.Sum(ratio**_i, (_i, 1, steps_T)).doit()
    geometric = geometric.args[1][0] if isinstance(geometric, sp.Piecewise) else geometric
    rho = snr_min_vdm / snr_max_vdm
    closed_sum = snr_max_vdm * (rho ** (-1 / steps_T) - 1) / 2 * geometric.subs(ratio, (rho * sp.exp(-rate_err_vdm))
                                                                                   ** (1 / steps_T))
    integrand = -sp.diff(log_linear_snr(_u), _u) * sp.exp(-rate_err_vdm * _u) / 2

    # Invariance: the Gaussian optimal denoiser's error, in time for two schedules and in v = SNR.
    def loss_in_time(schedule) -> sp.Expr:
        return sp.Integral(-sp.diff(schedule(_u), _u) * gaussian_mmse(schedule(_u)) / 2, (_u, 0, 1))

    in_snr = sp.Integral(gaussian_mmse(_v) / 2, (_v, snr_min_vdm, snr_max_vdm))
    loss_gaussian = sp.expand_log(sp.simplify(in_snr.doit()), force=True)
    posterior = get("gaussian.linear_bayes").result("posterior_var")
    # The results in the values of the schedule at the step's ends and its rate (compiled as plain inputs).
    at_levels, at_rate = {snr_s: snr_prev, snr_t_fn: snr_t}, {sp.Derivative(snr_t_fn, time): snr_rate_vdm}
    return Body(
        steps=(
            Relation(r"`elbo.weights`' $x_0$ weight at the posterior variance, with $\bar\alpha_{t-1} = "
                     r"\mathrm{SNR}(s)/(1 + \mathrm{SNR}(s))$ and $\alpha_t = \bar\alpha_t/\bar\alpha_{t-1}$",
                     work.at(weight, to_snr), (snr_s - snr_t_fn) / 2),
            Relation(r"$T$ times the step weight as $T \to \infty$: with $T = 1/h$, the first-order Taylor term of "
                     r"$\mathrm{SNR}(t - h)$ in $h$", work.limit(per_time, steps_T, sp.oo, "-"),
                     -sp.Derivative(snr_t_fn, time) / 2, prepare=_taylor_limits),
            Relation(r"the discrete loss for a log-linear $\mathrm{SNR}$ and the error curve $e^{-\kappa t}$: its sum "
                     r"over $i = 1..T$ is geometric, $\sum_i Q^i = Q(1 - Q^T)/(1 - Q)$ with $Q = (e^{-\kappa}"
                     r"\mathrm{SNR}_{\min}/\mathrm{SNR}_{\max})^{1/T}$; as $T \to \infty$ it tends to the continuous loss",
                     work.limit(closed_sum, steps_T, sp.oo, "-"), sp.Integral(integrand, (_u, 0, 1))),
            Relation(r"the Gaussian optimal denoiser's error: the posterior variance of `gaussian.linear_bayes` for "
                     r"$z/\sigma = \sqrt{\mathrm{SNR}}\,x + \varepsilon$",
                     work.at(posterior, {var_x: var_data, gain: sp.sqrt(snr_t_fn), var_noise: 1}),
                     var_data / (1 + var_data * snr_t_fn)),
            Relation(r"change of variables $v = \mathrm{SNR}(t)$, log-linear schedule", loss_in_time(log_linear_snr),
                     in_snr),
            Relation(r"change of variables $v = \mathrm{SNR}(t)$, a schedule linear in $\mathrm{SNR}$ with the same "
                     r"endpoints: the same value", loss_in_time(linear_snr), in_snr),
            Relation(r"integrate over $v$", in_snr, loss_gaussian),
        ),
        results=(
            Result("step_weight", step_weight.subs(at_levels), "weight of ||x - x_hat||^2 of one step s = t - 1/T -> t"),
            Result("time_weight", time_weight.subs(at_rate), "limit of T times the step weight: the continuous-time "
                   "weight"),
            Result("mmse", posterior.subs({var_x: var_data, gain: sp.sqrt(snr_t), var_noise: 1}),
                   "E||x - E[x | z_t]||^2 for Gaussian data"),
            Result("loss_gaussian", loss_gaussian,
                   "continuous diffusion loss of Gaussian data with the optimal denoiser (per dimension)"),
        ),
        claims=(
            Claim.as_printed("time_weight", -snr_rate_vdm / 2, "Kingma et al. (2021)",
                             r"the continuous-time loss, weight $-\tfrac12\mathrm{SNR}'(t)$ of $\|x - \hat x_\theta"
                             r"(z_t; t)\|^2$"),
            Claim.as_printed("step_weight", (snr_prev - snr_t) / 2, "Kingma et al. (2021)",
                             r"the discrete-time loss, $\tfrac T2 E[(\mathrm{SNR}(s) - \mathrm{SNR}(t))\|x - \hat x_\theta"
                             r"\|^2]$ per step over $T$"),
            Claim.as_printed("loss_gaussian", in_snr, "Kingma et al. (2021)",
                             r"the invariance of the continuous-time loss: $\tfrac12\int_{\mathrm{SNR}_{\min}}"
                             r"^{\mathrm{SNR}_{\max}}\|x - \tilde x_\theta(z_v, v)\|^2dv$"),
        ),
        wrong_variants=(
            WrongVariant("time_weight", -snr_rate_vdm, "the factor 1/2 missing"),
            WrongVariant("time_weight", -snr_t / 2, "SNR(t) for its derivative SNR'(t)"),
            WrongVariant("time_weight", snr_rate_vdm / 2, "sign flipped (a negative weight: SNR decreases)"),
            WrongVariant("loss_gaussian", sp.log((1 + var_data * snr_max_vdm) / (1 + var_data * snr_min_vdm)),
                         "the factor 1/2 missing"),
            WrongVariant("loss_gaussian", (snr_max_vdm - snr_min_vdm) * var_data / 2,
                         "the error at SNR = 0 for the error at each SNR"),
        ),
    )


# --------------------------------------------------------------------------
# The probability-flow ODE: instantaneous change of variables, exact for Gaussian data
# --------------------------------------------------------------------------

def gaussian_flow() -> dict[str, sp.Expr]:
    r"""The VP probability-flow ODE for data :math:`\mathcal N(\mu_0, \sigma_0^2)` in the time :math:`B`
    (:math:`dB = \beta\,dt`): its drift, the variance :math:`\Sigma(B)` of :math:`p_B`, and the flow map, from
    the deviation :math:`x - m\mu_0`, which solves the homogeneous linear ODE with rate
    :math:`a(B) = -\tfrac12 + \tfrac1{2\Sigma(B)}`, whose integral ``log_gain`` is
    :math:`\tfrac12\log(\Sigma(B)/\sigma_0^2)` (its derivative is the rate and it vanishes at 0)."""
    vp = get("sde.vp")
    mean_coef, kernel_var = vp.result("mean_coef"), vp.result("var")
    marginal_var = mean_coef**2 * var_data + kernel_var
    marginal_mean = mean_coef * mean_data

    def drift(x: sp.Expr, b: sp.Expr = B_t) -> sp.Expr:  # f / beta at "time" B: -x/2 - score/2
        score = -(x - marginal_mean) / marginal_var
        return (-x / 2 - score / 2).subs(B_t, b)

    rate = sp.diff(drift(x_sde), x_sde)  # the divergence over beta (one dimension)
    # SymPy's antiderivative splits the log at sigma_0^2 = 1; the step "in closed form" proves this one equal.
    log_gain = sp.log(marginal_var / var_data) / 2
    flow = marginal_mean + sp.exp(log_gain) * (x_0 - mean_data)
    return {"drift": drift, "rate": rate, "log_gain": log_gain, "flow": flow, "marginal_var": marginal_var,
            "marginal_mean": marginal_mean}


@derivation(
    id="likelihood.pf_ode_exact",
    title="Exact log-likelihood by the probability-flow ODE: instantaneous change of variables, Gaussian data",
    statement=r"Along $\dot x = f(x, t)$, $\frac{d}{dt}\log p_t(x_t) = -\nabla\cdot f$, so $\log p_0(x_0) = "
    r"\log p_t(x_t) + \int_0^t\nabla\cdot f\,ds$. For the VP SDE $f = -\tfrac12\beta x - \tfrac12\beta\nabla\log p_t$ "
    r"and $\nabla\cdot f = -\tfrac d2\beta - \tfrac12\beta\Lambda_t$, $\Lambda_t = \Delta\log p_t$. For data $\mathcal N(\mu_0, \sigma_0^2)$, "
    r"$p_t = \mathcal N(m\mu_0, \Sigma)$, $m = e^{-B/2}$, $\Sigma = m^2\sigma_0^2 + 1 - m^2$; the flow map is "
    r"$x_t = m\mu_0 + \sqrt{\Sigma/\sigma_0^2}\,(x_0 - \mu_0)$, its log-determinant "
    r"$\tfrac12\log(\Sigma/\sigma_0^2) = \int_0^t\nabla\cdot f\,ds$, and $\log\mathcal N(x_t; m\mu_0, \Sigma) + "
    r"\tfrac12\log(\Sigma/\sigma_0^2) = \log\mathcal N(x_0; \mu_0, \sigma_0^2)$ exactly.",
    tier=Tier.EXACT,
    assumptions=(r"VP SDE $dx = -\tfrac12\beta x\,dt + \sqrt\beta\,dW$, $B(t) = \int_0^t\beta$ (`sde.vp`); the ODE "
                 r"is written in the time $B$, $dB = \beta\,dt$", "one dimension for Gaussian data (per coordinate, "
                 "or per eigenvalue of the covariance); d dimensions for the divergence"),
    references=(SONG_2021, CHEN_2018),
)
def pf_ode_exact() -> Body:
    parts = gaussian_flow()
    drift, flow, log_gain, marginal_var = parts["drift"], parts["flow"], parts["log_gain"], parts["marginal_var"]
    score_fn = sp.Function("s")(x_sde)
    general_drift = -beta_now * x_sde / 2 - beta_now * score_fn / 2
    divergence = -dim_d * beta_now / 2 - beta_now * lap_log_p / 2
    divergence_gaussian = sp.factor(beta_now * parts["rate"])
    log_det = log_gain
    log_likelihood = log_density(flow, parts["marginal_mean"], marginal_var) + log_det
    return Body(
        steps=(
            Relation(r"differentiate the drift in $x$ (one dimension): the divergence is $-\tfrac12\beta - "
                     r"\tfrac12\beta s'(x)$", work.derivative(general_drift, x_sde),
                     divergence.subs({dim_d: 1, lap_log_p: sp.Derivative(score_fn, x_sde)})),
            Relation(r"Gaussian data: the divergence over $\beta$ with the score $-(x - m\mu_0)/\Sigma$",
                     work.derivative(drift(x_sde), x_sde), parts["rate"]),
            Relation(r"the flow map solves the ODE in $B$: $dx/dB$ equals the drift at the flow map",
                     work.derivative(flow, B_t), drift(flow)),
            Relation(r"and starts at $x_0$", work.at(flow, {B_t: 0}), x_0),
            Relation(r"the antiderivative: $\frac{d}{dB}\tfrac12\log(\Sigma/\sigma_0^2)$ is the divergence over $\beta$",
                     work.derivative(log_gain, B_t), parts["rate"]),
            Relation(r"and it vanishes at $B = 0$, so it is the integrated divergence", work.at(log_gain, {B_t: 0}), 0),
            Relation(r"the flow map's log-determinant $\log\partial x_t/\partial x_0$ is that integrated divergence",
                     sp.log(work.derivative(flow, x_0)), log_gain),
            Relation(r"change of variables: $\log p_t(x_t)$ plus the integrated divergence is the data's "
                     r"log-density at $x_0$", work.held_sum(log_density(flow, parts["marginal_mean"], marginal_var),
                                                            log_gain),
                     log_density(x_0, mean_data, var_data)),
        ),
        results=(
            Result("divergence", divergence, "divergence of the VP probability-flow drift in d dimensions"),
            Result("divergence_gaussian", divergence_gaussian, "its value for Gaussian data (one dimension)"),
            Result("flow_map", flow, "x_t as a function of x_0 (Gaussian data)"),
            Result("log_det", log_det, "log of the flow map's derivative in x_0"),
            Result("log_likelihood", log_likelihood, "log p_t(x_t) + log-determinant: log p_0(x_0) by the ODE"),
        ),
        claims=(
            Claim("divergence", -dim_d * beta_now / 2 - beta_now * lap_log_p / 2,
                  "Song et al. (2021), eq. (13) with f = -beta x / 2, g^2 = beta, and appendix D.2"),
        ),
        equivalents=(
            Equivalent("log_likelihood", log_density(x_0, mean_data, var_data),
                       "the Gaussian log-density of the data at x_0"),
            Equivalent("divergence_gaussian", divergence.subs({dim_d: 1, lap_log_p: -1 / marginal_var}),
                       r"the divergence with $\Lambda_t = \Delta\log p_t = -1/\Sigma$"),
        ),
        wrong_variants=(
            WrongVariant("divergence", -dim_d * beta_now / 2 - beta_now * lap_log_p,
                         "the factor 1/2 of the score term missing"),
            WrongVariant("divergence", -dim_d * beta_now / 2 + beta_now * lap_log_p / 2, "sign of the score term"),
            WrongVariant("divergence", -beta_now * lap_log_p / 2, "the linear drift's divergence -d beta/2 dropped"),
            WrongVariant("log_likelihood", log_density(flow, parts["marginal_mean"], marginal_var) - log_det,
                         "the log-determinant subtracted"),
            WrongVariant("divergence_gaussian", beta_now * (-sp.Rational(1, 2) + 1 / marginal_var),
                         "the factor 1/2 of the score term missing"),
        ),
    )


# --------------------------------------------------------------------------
# Gaussian data: the bound against the exact likelihood
# --------------------------------------------------------------------------

# VDM's fixed schedule: log-SNR from 13.3 (t = 0) down to -5 (t = 1), log-linear in t.
VDM_LOG_SNR = (13.3, -5.0)
GAP_VARIANCES = (1.0, 0.1)
GAP_STEPS = (10, 100, 1000)


def gap_terms() -> dict[str, sp.Expr]:
    r"""The terms of the bound for data :math:`\mathcal N(\mu_0, \sigma_0^2)` and the optimal denoiser, each an
    expectation over the data (per dimension): prior KL of :math:`q(z_1 \mid x)` (``gaussian.kl``),
    reconstruction :math:`-E\log\mathcal N(x; z_0/\alpha_0, \sigma_0^2/\alpha_0^2)`, the continuous diffusion
    loss (``likelihood.vdm_continuous``) and the exact :math:`-E\log p(x)` (``likelihood.pf_ode_exact``)."""
    from sympy import stats

    from derivations.families.gaussian import kl

    data = stats.Normal("x", mean_data, sp.sqrt(var_data))
    noise = stats.Normal("z", 0, 1)
    alpha_sq = lambda snr: snr / (1 + snr)  # noqa: E731 - VP: alpha^2 = SNR/(1 + SNR), sigma^2 = 1/(1 + SNR)
    prior = work.expectation(kl(sp.sqrt(alpha_sq(snr_min_vdm)) * data, 1 - alpha_sq(snr_min_vdm), 0, 1))
    alpha_0, sigma_0 = sp.sqrt(alpha_sq(snr_max_vdm)), sp.sqrt(1 - alpha_sq(snr_max_vdm))
    z_0 = alpha_0 * data + sigma_0 * noise
    reconstruction = work.expectation(-log_density(data, z_0 / alpha_0, sigma_0**2 / alpha_0**2))
    exact = get("likelihood.pf_ode_exact").result("log_likelihood")
    entropy = work.expectation(-exact.subs(x_0, data))
    diffusion = get("likelihood.vdm_continuous").result("loss_gaussian")
    return {"prior": prior, "reconstruction": reconstruction, "diffusion": diffusion, "entropy": entropy}


@derivation(
    id="likelihood.elbo_gap",
    title="Gaussian data: the continuous-time bound against the exact likelihood, and the gap of T steps",
    statement=r"For data $\mathcal N(\mu_0, \sigma_0^2)$ and the optimal denoiser, $-E\log p(x) \le$ prior KL $+$ "
    r"reconstruction $+$ diffusion loss; the continuous-time gap is $\tfrac12[\log(1 + \sigma_0^2\mathrm{SNR}_{\max}) - "
    r"\log(\sigma_0^2\mathrm{SNR}_{\max})]$ $+\tfrac12[\alpha_1^2(\mu_0^2 + \sigma_0^2) - \log(1 + \sigma_0^2"
    r"\mathrm{SNR}_{\min}) + \log(1 + \mathrm{SNR}_{\min}) - \alpha_1^2]$ ($\alpha_1^2 = \mathrm{SNR}_{\min}/(1 + "
    r"\mathrm{SNR}_{\min})$), which vanishes as $\mathrm{SNR}_{\max} \to \infty$, $\mathrm{SNR}_{\min} \to 0$. "
    r"VDM's log-linear schedule ($\log\mathrm{SNR}$ from 13.3 to $-5$), $\mu_0 = 0$, in nats per dimension: "
    r"$\sigma_0^2 = 1$: gap $8.37\times10^{-7}$ (continuous), 0.0566 ($T = 1000$), 0.597 ($T = 100$), 11.06 "
    r"($T = 10$); $\sigma_0^2 = 0.1$: $1.75\times10^{-5}$, 0.0460, 0.485, 8.92: the discrete bound approaches the "
    r"continuous one from above as $T$ grows (`tests/test_likelihood.py` recomputes these with "
    r":func:`gap_table`; the discrete loss sums the exact per-step weights $\tfrac12(\mathrm{SNR}(s) - "
    r"\mathrm{SNR}(t))$ times the optimal error at $t$).",
    tier=Tier.EXACT,
    assumptions=(r"one dimension; the reverse kernels are $q(z_s \mid z_t, x = E[x \mid z_t])$ (`likelihood.vdm_continuous`)"
                 r"; decoder $p(x \mid z_0) = \mathcal N(z_0/\alpha_0, \sigma_0^2/\alpha_0^2)$ at $\mathrm{SNR}_{\max}$; "
                 r"prior $p(z_1) = \mathcal N(0, 1)$",),
    references=(KINGMA_2021, SONG_2021),
)
def elbo_gap() -> Body:
    terms = gap_terms()
    values = {k: sp.simplify(v.doit()) for k, v in terms.items()}
    # Displayed as two brackets (the first vanishes as SNR_max grows, the second as SNR_min -> 0); the last
    # step proves them equal to the sum of the derived terms.
    named_terms = (
        work.named("L_prior", r"\mathcal L_{\mathrm{prior}}", values["prior"], description="the prior term"),
        work.named("L_rec", r"\mathcal L_{\mathrm{rec}}", values["reconstruction"],
                   description="the reconstruction term"),
        work.named("L_diff", r"\mathcal L_{\infty}", values["diffusion"], description="the continuous diffusion loss"),
        -work.named("H_data", r"\mathcal H", values["entropy"], description=r"the exact $-E\log p(x)$"))
    alpha_1_sq = snr_min_vdm / (1 + snr_min_vdm)
    gap = (sp.log(1 + var_data * snr_max_vdm) - sp.log(var_data * snr_max_vdm)) / 2 \
        + (alpha_1_sq * (mean_data**2 + var_data) - sp.log(1 + var_data * snr_min_vdm) + sp.log(1 + snr_min_vdm)
           - alpha_1_sq) / 2
    return Body(
        steps=(
            Relation(r"the prior term: `gaussian.kl` of $q(z_1 \mid x)$ to $\mathcal N(0, 1)$, averaged over the data",
                     terms["prior"], values["prior"]),
            Relation(r"the reconstruction term: $x - z_0/\alpha_0 = -(\sigma_0/\alpha_0)\varepsilon$",
                     terms["reconstruction"], values["reconstruction"]),
            Relation(r"the exact $-E\log p(x)$ by the probability-flow ODE (`likelihood.pf_ode_exact`): the entropy",
                     terms["entropy"], values["entropy"]),
            Relation(r"prior term $+$ reconstruction $+$ diffusion loss (`likelihood.vdm_continuous`) $-$ entropy: the gap",
                     work.held_sum(*named_terms),
                     gap),
        ),
        results=(
            Result("prior_kl", values["prior"], "E KL(q(z_1 | x) || N(0, 1))"),
            Result("reconstruction", values["reconstruction"], "-E log p(x | z_0)"),
            Result("neg_log_likelihood", values["entropy"], "-E log p(x), exact"),
            Result("gap", gap, "bound minus -E log p(x) (continuous time), nats per dimension"),
        ),
        wrong_variants=(
            WrongVariant("gap", gap - values["prior"], "the prior term left out"),
            WrongVariant("gap", gap + values["diffusion"], "the diffusion loss without its factor 1/2"),
            WrongVariant("reconstruction", sp.log(2 * sp.pi / snr_max_vdm) / 2, "the squared error's 1/2 left out"),
        ),
    )


def _diffusion_loss(variance: float, steps: int | None) -> float:
    r"""The diffusion loss of the log-linear schedule :data:`VDM_LOG_SNR`: continuous (``steps`` None), else
    :math:`\sum_i \tfrac12(\mathrm{SNR}(s_i) - \mathrm{SNR}(t_i))\,\mathrm{mmse}(t_i)` (the step weight of
    ``likelihood.vdm_continuous`` and the Gaussian optimal error ``gaussian_mmse``)."""
    import numpy as np  # here, not at the top: proving a claim of this module needs no numpy

    log_hi, log_lo = VDM_LOG_SNR
    if steps is None:
        loss = get("likelihood.vdm_continuous").function("loss_gaussian")
        return float(loss(var_data=variance, snr_max_vdm=math.exp(log_hi), snr_min_vdm=math.exp(log_lo)))
    mmse = sp.lambdify(_v, gaussian_mmse(_v).subs(var_data, variance), "numpy")
    snr = np.exp(log_hi + (log_lo - log_hi) * np.arange(steps + 1) / steps)  # SNR(i/T), i = 0..T
    return float(np.sum((snr[:-1] - snr[1:]) / 2 * mmse(snr[1:])))


def gap_table(variances=GAP_VARIANCES, steps=GAP_STEPS) -> dict[float, dict[int | None, float]]:
    """Gap (nats per dimension) of the bound to the exact likelihood, Gaussian data with mean 0, per variance
    and number of steps (None: continuous time)."""
    d = get("likelihood.elbo_gap")
    log_hi, log_lo = VDM_LOG_SNR
    at = dict(mean_data=0.0, snr_max_vdm=math.exp(log_hi), snr_min_vdm=math.exp(log_lo))
    table: dict[float, dict[int | None, float]] = {}
    for variance in variances:
        continuous_gap = float(d.function("gap")(var_data=variance, **at))
        base = continuous_gap - _diffusion_loss(variance, None)
        table[variance] = {None: continuous_gap}
        table[variance].update({n: base + _diffusion_loss(variance, n) for n in steps})
    return table
