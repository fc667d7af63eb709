r"""edm.*: the preconditioning of Karras, Aittala, Aila, Laine (2022), derived from unit-variance requirements.

The denoiser is :math:`D(x; \sigma) = c_{\rm skip}x + c_{\rm out}F(c_{\rm in}x; c_{\rm noise})` on
:math:`x = y + n`, :math:`y` of variance :math:`\sigma_{\rm data}^2`, :math:`n \sim \mathcal N(0, \sigma^2)`
independent. Requirements (their appendix B.6): the network's input has unit variance; its training
target :math:`(y - c_{\rm skip}x)/c_{\rm out}` has unit variance; :math:`c_{\rm skip}` makes
:math:`c_{\rm out}` as small as possible (the least amplification of the network's errors); the loss
weight :math:`\lambda(\sigma) = 1/c_{\rm out}^2` gives every noise level a unit-weighted loss on :math:`F`.
"""

from __future__ import annotations

import sympy as sp

from derivations.core import work
from derivations.core.notation import sigma_data_edm, sigma_edm
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation

KARRAS_2022 = ("T. Karras, M. Aittala, T. Aila, S. Laine, Elucidating the Design Space of Diffusion-Based "
               "Generative Models, NeurIPS 2022, eq. (7), Table 1 and appendix B.6")


@derivation(
    id="edm.preconditioning",
    title="EDM's c_in, c_skip, c_out and loss weight from unit-variance requirements",
    statement=r"$\mathrm{Var}(c_{\rm in}x) = 1$ gives $c_{\rm in} = 1/\sqrt{\sigma^2 + \sigma_{\rm data}^2}$; "
    r"the target $(y - c_{\rm skip}x)/c_{\rm out}$ has unit variance when "
    r"$c_{\rm out}^2 = (1 - c_{\rm skip})^2\sigma_{\rm data}^2 + c_{\rm skip}^2\sigma^2$, smallest at "
    r"$c_{\rm skip} = \sigma_{\rm data}^2/(\sigma^2 + \sigma_{\rm data}^2)$, where "
    r"$c_{\rm out} = \sigma\sigma_{\rm data}/\sqrt{\sigma^2 + \sigma_{\rm data}^2}$; the loss weight "
    r"$\lambda(\sigma) = 1/c_{\rm out}^2 = (\sigma^2 + \sigma_{\rm data}^2)/(\sigma\sigma_{\rm data})^2$.",
    tier=Tier.EXACT,
    assumptions=(r"$y$ and $n$ independent, $E[y] = 0$ (only second moments enter); $c_{\rm in}, c_{\rm out} > 0$",),
    references=(KARRAS_2022,),
)
def preconditioning() -> Body:
    from sympy import stats

    data = stats.Normal("y", 0, sigma_data_edm)  # only its variance enters
    noise = stats.Normal("n", 0, sigma_edm)
    c_in, c_skip, c_out = sp.symbols("c_in c_skip c_out", positive=True)
    input_var = sp.simplify(stats.variance(c_in * (data + noise)))
    c_in_solved = next(s for s in sp.solve(sp.Eq(input_var, 1), c_in) if s.is_positive)
    target_var_times_out_sq = sp.expand(stats.variance(data - c_skip * (data + noise)))  # = c_out^2 at unit variance
    c_skip_solved = sp.solve(sp.diff(target_var_times_out_sq, c_skip), c_skip)[0]
    curvature = sp.diff(target_var_times_out_sq, c_skip, 2)
    c_out_solved = sp.sqrt(sp.factor(target_var_times_out_sq.subs(c_skip, c_skip_solved)))
    weight = sp.factor(1 / c_out_solved**2)
    return Body(
        steps=(
            Relation(r"$\mathrm{Var}(c_{\rm in}(y + n))$ at the solved $c_{\rm in}$ is 1",
                     work.variance(c_in_solved * (data + noise)), 1),
            Relation(r"$c_{\rm out}^2$: at $c_{\rm skip} = 0$ the target is $y$, variance $\sigma_{\rm data}^2$",
                     work.at(work.variance(data - c_skip * (data + noise), target_var_times_out_sq), {c_skip: 0}),
                     sigma_data_edm**2),
            Relation(r"the minimum over $c_{\rm skip}$ is a minimum: the second derivative "
                     r"$2(\sigma^2 + \sigma_{\rm data}^2) > 0$", curvature, 2 * (sigma_edm**2 + sigma_data_edm**2)),
            Relation(r"the target $(y - c_{\rm skip}x)/c_{\rm out}$ has unit variance at the solved values",
                     stats.variance((data - c_skip_solved * (data + noise)) / c_out_solved), 1),
        ),
        results=(
            Result("c_in", c_in_solved, "input scaling"),
            Result("c_skip", c_skip_solved, "skip connection weight"),
            Result("c_out", c_out_solved, "output scaling"),
            Result("loss_weight", weight, "lambda(sigma) = 1 / c_out^2"),
        ),
        claims=(
            Claim("c_in", 1 / sp.sqrt(sigma_edm**2 + sigma_data_edm**2), "Karras et al. (2022), Table 1"),
            Claim("c_skip", sigma_data_edm**2 / (sigma_edm**2 + sigma_data_edm**2), "Karras et al. (2022), Table 1"),
            Claim("c_out", sigma_edm * sigma_data_edm / sp.sqrt(sigma_data_edm**2 + sigma_edm**2),
                  "Karras et al. (2022), Table 1"),
            Claim("loss_weight", (sigma_edm**2 + sigma_data_edm**2) / (sigma_edm * sigma_data_edm) ** 2,
                  "Karras et al. (2022), Table 1"),
        ),
        wrong_variants=(
            WrongVariant("c_in", 1 / sigma_edm, "the data variance left out of the input's"),
            WrongVariant("c_skip", sigma_edm**2 / (sigma_edm**2 + sigma_data_edm**2), "sigma and sigma_data swapped"),
            WrongVariant("c_out", sigma_edm * sigma_data_edm / (sigma_edm**2 + sigma_data_edm**2), "square root missing"),
            WrongVariant("loss_weight", (sigma_edm**2 + sigma_data_edm**2) / (sigma_edm * sigma_data_edm),
                         "1/c_out for 1/c_out^2"),
        ),
    )


@derivation(
    id="edm.rho_schedule",
    title="EDM's ρ-schedule of noise levels: endpoints, monotonicity, and its geometric limit",
    statement=r"$\sigma_k = \big(\sigma_{\max}^{1/\rho} + \tfrac{k}{N-1}(\sigma_{\min}^{1/\rho} - "
    r"\sigma_{\max}^{1/\rho})\big)^\rho$, $k = 0..N-1$: linear interpolation in $\sigma^{1/\rho}$. It starts at "
    r"$\sigma_{\max}$, ends at $\sigma_{\min}$, decreases ($d\sigma_k/dk = \frac{\rho}{N-1}\sigma_k^{1 - 1/\rho}"
    r"(\sigma_{\min}^{1/\rho} - \sigma_{\max}^{1/\rho}) < 0$), and as $\rho \to \infty$ tends to the geometric "
    r"spacing $\sigma_{\max}(\sigma_{\min}/\sigma_{\max})^{k/(N-1)}$; $\rho = 1$ is uniform spacing.",
    tier=Tier.NUMERIC,
    assumptions=(r"$0 < \sigma_{\min} < \sigma_{\max}$, $\rho > 0$, $N \ge 2$",),
    references=(KARRAS_2022.replace("eq. (7), Table 1 and appendix B.6", "section 3 and Table 1 (time steps)"),),
)
def rho_schedule() -> Body:
    from derivations.core.notation import index_edm, rho_edm, sigma_max, sigma_min, steps_edm
    from derivations.core.registry import AT_MOST

    fraction = index_edm / (steps_edm - 1)
    root = lambda s: s ** (1 / rho_edm)  # noqa: E731 - sigma^(1/rho)
    level = (root(sigma_max) + fraction * (root(sigma_min) - root(sigma_max))) ** rho_edm
    slope = sp.diff(level, index_edm)
    geometric = sp.limit(level.subs(rho_edm, 1 / sp.Symbol("r", positive=True)), sp.Symbol("r", positive=True), 0)
    return Body(
        steps=(
            Relation(r"$k = 0$: the largest level", work.at(level, {index_edm: 0}), sigma_max),
            Relation(r"$k = N - 1$: the smallest level", work.at(level, {index_edm: steps_edm - 1}), sigma_min),
            Relation(r"differentiate in $k$", work.derivative(level, index_edm),
                     rho_edm / (steps_edm - 1) * level ** (1 - 1 / rho_edm) * (root(sigma_min) - root(sigma_max))),
            Relation(r"the slope is negative: $\sigma_{\min}^{1/\rho} < \sigma_{\max}^{1/\rho}$", slope, 0,
                     kind=AT_MOST),
            Relation(r"$\rho \to \infty$ (written $\rho = 1/r$, $r \to 0^+$): geometric spacing",
                     work.limit(level.subs(rho_edm, 1 / sp.Symbol("r", positive=True)), sp.Symbol("r", positive=True),
                                0), sigma_max * (sigma_min / sigma_max) ** fraction),
        ),
        results=(
            Result("sigma_level", level, "the k-th noise level sigma_k"),
            Result("slope", slope, "d sigma_k / dk"),
            Result("geometric_limit", geometric, "sigma_k as rho -> infinity"),
        ),
        claims=(
            Claim("sigma_level", (sigma_max ** (1 / rho_edm) + index_edm / (steps_edm - 1)
                                  * (sigma_min ** (1 / rho_edm) - sigma_max ** (1 / rho_edm))) ** rho_edm,
                  "Karras et al. (2022), Table 1, time steps sigma_{i<N} (index i for k)"),
        ),
        wrong_variants=(
            WrongVariant("sigma_level", (sigma_max ** (1 / rho_edm) + index_edm / steps_edm
                                         * (sigma_min ** (1 / rho_edm) - sigma_max ** (1 / rho_edm))) ** rho_edm,
                         "k/N for k/(N - 1): the last level misses sigma_min"),
            WrongVariant("sigma_level", (sigma_max ** rho_edm + index_edm / (steps_edm - 1)
                                         * (sigma_min ** rho_edm - sigma_max ** rho_edm)) ** (1 / rho_edm),
                         "the exponents rho and 1/rho swapped"),
            WrongVariant("geometric_limit", sigma_min * (sigma_max / sigma_min) ** fraction,
                         "the geometric spacing run from sigma_min up"),
        ),
    )


@derivation(
    id="edm.ode_sde",
    title="EDM's probability-flow ODE in s(t), σ(t) and its SDE family, derived from the score SDE",
    statement=r"The kernel $\mathcal N(s x_0, s^2\sigma^2)$ is that of $dx = f x\,dt + g\,dW$ with $f = \dot s/s$, "
    r"$g^2 = \frac{d}{dt}(s^2\sigma^2) - 2fs^2\sigma^2 = 2s^2\dot\sigma\sigma$; the marginal is $p_t(x) = p(x/s; "
    r"\sigma)/s$, so the probability-flow ODE $dx = [fx - \tfrac12g^2\nabla_x\log p_t]dt$ is "
    r"$dx = [\frac{\dot s}{s}x - s^2\dot\sigma\sigma\nabla_x\log p(x/s; \sigma)]dt$ (Karras et al. eq. (4); "
    r"$\nabla_x\log p(x/s; \sigma) = \psi/s$, $\psi$ the score of $p(\cdot; \sigma)$ at $x/s$). Adding the Langevin "
    r"exchange $\pm\beta\sigma^2\nabla\log p\,dt + \sqrt{2\beta}\sigma\,dW$, which leaves $p(\cdot; \sigma)$ invariant "
    r"(its Fokker-Planck term vanishes), gives the SDE family of eq. (6) ($s = 1$).",
    tier=Tier.EXACT,
    assumptions=(r"one dimension; $s > 0$, $\sigma > 0$ differentiable, $s(0) = 1$; $p(y; \sigma)$ the data "
                 r"convolved with $\mathcal N(0, \sigma^2)$",),
    references=(KARRAS_2022.replace("eq. (7), Table 1 and appendix B.6", "eqs. (4), (6) and appendix B.1-B.2"),
                "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, eqs. (5), (13)"),
)
def ode_sde() -> Body:
    from derivations.core.notation import (dscale_edm, dsigma_edm, rate_lgv_edm, scale_edm, score_edm, sigma_t_edm,
                                           time, x_sde)

    s_fn, sigma_fn = sp.Function("s", positive=True)(time), sp.Function("sigma", positive=True)(time)
    density = sp.Function("p", positive=True)
    drift_coef = sp.simplify(sp.diff(sp.log(s_fn), time))
    kernel_var = s_fn**2 * sigma_fn**2
    diffusion_sq = sp.factor(sp.diff(kernel_var, time) - 2 * drift_coef * kernel_var)
    marginal = density(x_sde / s_fn, sigma_fn) / s_fn
    score_t = sp.diff(sp.log(marginal), x_sde)
    ode = drift_coef * x_sde - diffusion_sq / 2 * score_t
    karras = drift_coef * x_sde - s_fn**2 * sp.Derivative(sigma_fn, time) * sigma_fn * work.derivative(
        sp.log(density(x_sde / s_fn, sigma_fn)), x_sde)
    # The results at one time, in the jet of s, sigma and the score psi of p(.; sigma) at x/s.
    jet = {sp.Derivative(s_fn, time): dscale_edm, sp.Derivative(sigma_fn, time): dsigma_edm}
    def to_jet(expr: sp.Expr) -> sp.Expr:  # p'(y)/p(y) at y = x/s is psi: the derivative atom is psi p
        expr = expr.replace(lambda e: isinstance(e, sp.Subs), lambda e: score_edm * density(x_sde / s_fn, sigma_fn))
        return sp.simplify(expr.subs(jet).subs({s_fn: scale_edm, sigma_fn: sigma_t_edm}))
    # Langevin exchange at a fixed sigma: its Fokker-Planck term on p(.; sigma) vanishes.
    p_sigma = sp.Function("p", positive=True)(x_sde)
    langevin_flux = rate_lgv_edm * sigma_t_edm**2 * p_sigma * sp.diff(sp.log(p_sigma), x_sde)
    fokker_planck = work.held_sum(-work.derivative(langevin_flux, x_sde),
                                  rate_lgv_edm * sigma_t_edm**2 * work.derivative(p_sigma, x_sde, 2))
    ode_drift = sp.expand(to_jet(ode))
    return Body(
        steps=(
            Relation(r"drift coefficient of the linear SDE whose kernel mean is $s(t)x_0$: $f = d\log s/dt$",
                     work.derivative(sp.log(s_fn), time), drift_coef),
            Relation(r"$g^2 = \frac{d}{dt}(s^2\sigma^2) - 2fs^2\sigma^2$ (the kernel variance's ODE)",
                     work.held_sum(work.derivative(kernel_var, time), -2 * drift_coef * kernel_var), diffusion_sq),
            Relation(r"the score of $p_t(x) = p(x/s; \sigma)/s$: the factor $1/s$ drops out of $\nabla_x\log$",
                     work.derivative(sp.log(marginal), x_sde),
                     work.derivative(sp.log(density(x_sde / s_fn, sigma_fn)), x_sde)),
            Relation(r"the probability-flow drift $fx - \tfrac12g^2\nabla_x\log p_t$ in $s$, $\sigma$: Karras eq. (4)",
                     work.held_sum(work.held_product(drift_coef, x_sde),
                                   -diffusion_sq / 2 * work.derivative(sp.log(marginal), x_sde)),
                     karras),
            Relation(r"the Langevin exchange $\beta\sigma^2\nabla\log p\,dt + \sqrt{2\beta}\sigma\,dW$ leaves "
                     r"$p(\cdot; \sigma)$ invariant: its Fokker-Planck term vanishes", fokker_planck, 0),
        ),
        results=(
            Result("drift_coef", to_jet(drift_coef), "f(t) = s'/s"),
            Result("diffusion_sq", to_jet(diffusion_sq), "g(t)^2 = 2 s^2 sigma' sigma"),
            Result("ode_drift", ode_drift, "dx/dt of EDM's probability-flow ODE"),
            Result("sde_drift_forward", -dsigma_edm * sigma_t_edm * score_edm
                   + rate_lgv_edm * sigma_t_edm**2 * score_edm, "drift of eq. (6)'s dx_+ at s = 1"),
            Result("sde_drift_backward", -dsigma_edm * sigma_t_edm * score_edm
                   - rate_lgv_edm * sigma_t_edm**2 * score_edm, "drift of eq. (6)'s dx_- at s = 1"),
            Result("sde_noise_sq", 2 * rate_lgv_edm * sigma_t_edm**2, "squared noise coefficient of eq. (6)"),
        ),
        claims=(
            Claim("ode_drift", dscale_edm / scale_edm * x_sde - scale_edm**2 * dsigma_edm * sigma_t_edm
                  * score_edm / scale_edm, "Karras et al. (2022), eq. (4), with grad_x log p(x/s; sigma) = psi/s"),
            Claim("diffusion_sq", 2 * scale_edm**2 * dsigma_edm * sigma_t_edm,
                  "Karras et al. (2022), appendix B.2: g(t) = s(t) sqrt(2 sigma' sigma)"),
        ),
        wrong_variants=(
            WrongVariant("ode_drift", dscale_edm / scale_edm * x_sde - scale_edm**2 * dsigma_edm * sigma_t_edm
                         * score_edm, "the chain-rule factor 1/s of grad_x log p(x/s) lost"),
            WrongVariant("ode_drift", dscale_edm / scale_edm * x_sde - scale_edm * dsigma_edm * score_edm,
                         "sigma' for sigma' sigma"),
            WrongVariant("diffusion_sq", 2 * scale_edm * dsigma_edm * sigma_t_edm, "s for s^2"),
            WrongVariant("sde_noise_sq", 2 * rate_lgv_edm * sigma_t_edm, "sigma for sigma^2 in the noise"),
        ),
    )


@derivation(
    id="edm.churn",
    title="EDM's churn: the raised level's exact law, its fresh noise t̂² − t², and the cap γ ≤ √2 − 1",
    statement=r"Algorithm 2 raises the noise level $t$ to $\hat t = (1 + \gamma)t$ by adding independent noise "
    r"of variance $\hat t^2 - t^2 = \gamma(2 + \gamma)t^2$: $x + \sqrt{\hat t^2 - t^2}\,e$ with $x = y + n$, "
    r"$n \sim \mathcal N(0, t^2)$, is $y + \mathcal N(0, \hat t^2)$, exactly the noised data at level $\hat t$ "
    r"(its variance $\sigma_{\rm data}^2 + \hat t^2$ shown), so the churn adds no error with an exact denoiser. "
    r"The fresh noise never exceeds the noise already present, $\hat t^2 - t^2 \le t^2$, exactly when "
    r"$\gamma^2 + 2\gamma - 1 \le 0$, i.e. $\gamma \le \sqrt2 - 1$: Karras et al.'s clamp of $\gamma_i$.",
    tier=Tier.EXACT,
    assumptions=(r"$s(t) = 1$, $\sigma(t) = t$ (EDM's own parameterization); $y$, $n$ and the fresh noise "
                 r"$e \sim \mathcal N(0, 1)$ independent; $\gamma \ge 0$; only second moments of $y$ enter",),
    references=(KARRAS_2022.replace("eq. (7), Table 1 and appendix B.6", "section 4 and Algorithm 2"),),
)
def churn() -> Body:
    from sympy import stats
    from derivations.core.notation import gamma_churn, level_churn

    data = stats.Normal("y", 0, sigma_data_edm)
    noise = stats.Normal("n", 0, level_churn)
    fresh = stats.Normal("e", 0, 1)
    raised = (1 + gamma_churn) * level_churn
    added = sp.factor(sp.expand(raised**2 - level_churn**2))
    churned = data + noise + sp.sqrt(added) * fresh
    cap = next(r for r in sp.solve(sp.expand(added - level_churn**2), gamma_churn) if r.is_positive)
    return Body(
        steps=(
            Relation(r"the fresh variance $\hat t^2 - t^2$ at $\hat t = (1 + \gamma)t$",
                     work.held_sum(work.held_power(raised, 2), -level_churn**2), added),
            Relation(r"the churned state's variance is that of the noised data at $\hat t$",
                     work.variance(churned), sigma_data_edm**2 + raised**2),
            Relation(r"at $\gamma = \sqrt2 - 1$ the fresh variance equals the present $t^2$",
                     work.at(added, {gamma_churn: cap}), level_churn**2),
            Relation(r"below it the fresh variance is smaller: its derivative in $\gamma$ is $2(1 + \gamma)t^2 > 0$",
                     work.derivative(added, gamma_churn), 2 * (1 + gamma_churn) * level_churn**2),
        ),
        results=(
            Result("fresh_var", added, "variance of the fresh noise, t_hat^2 - t^2"),
            Result("churned_var", sp.expand(stats.variance(churned)), "variance of the churned state"),
            Result("gamma_cap", cap, "the largest gamma whose fresh noise does not exceed the present noise"),
            Result("fresh_var_at_cap", added.subs(gamma_churn, cap), "the fresh variance at the cap"),
        ),
        claims=(
            Claim("fresh_var", ((1 + gamma_churn) * level_churn) ** 2 - level_churn**2,
                  "Karras et al. (2022), Algorithm 2, line 6: sqrt(t_hat^2 - t^2)"),
            Claim("gamma_cap", sp.sqrt(2) - 1, "Karras et al. (2022), Algorithm 2, line 5: min(S_churn/N, sqrt(2) - 1)"),
        ),
        wrong_variants=(
            WrongVariant("fresh_var", (1 + gamma_churn) * level_churn - level_churn,
                         "t_hat - t for t_hat^2 - t^2 (the standard deviations subtracted)"),
            WrongVariant("fresh_var_at_cap", added.subs(gamma_churn, 1),
                         "gamma capped at 1: up to three times the present noise added"),
            WrongVariant("churned_var", sigma_data_edm**2 + level_churn**2 + gamma_churn * level_churn,
                         "the churned law with noise t_hat - t: not the noised data at t_hat"),
        ),
    )


@derivation(
    id="edm.c_noise",
    title="EDM's noise conditioning c_noise(σ) = ¼ ln σ: what is derived and what is a convention",
    statement=r"Unit variance fixes $c_{\rm in}$, $c_{\rm skip}$, $c_{\rm out}$ (`edm.preconditioning`) but not "
    r"$c_{\rm noise}$: the network only needs some injective function of $\sigma$. Karras et al. take it affine in "
    r"$\ln\sigma$, the variable their training distribution is Gaussian in, $\ln\sigma \sim "
    r"\mathcal N(P_{\rm mean}, P_{\rm std}^2)$; then $c_{\rm noise} = k\ln\sigma$ has mean $kP_{\rm mean}$ and standard "
    r"deviation $kP_{\rm std}$, of order one for any $k$ of order $1/P_{\rm std}$. Their $k = \tfrac14$ (appendix B.6: "
    r"chosen empirically) is a convention, not forced: with $P_{\rm mean} = -1.2$, $P_{\rm std} = 1.2$ it gives "
    r"mean $-0.3$ and standard deviation $0.3$. Claims are compared with that convention.",
    tier=Tier.EXACT,
    assumptions=(r"$\ln\sigma \sim \mathcal N(P_{\rm mean}, P_{\rm std}^2)$ (Karras et al.'s training distribution, "
                 r"Table 1); the scale $k = \tfrac14$ is the stated convention",),
    references=(KARRAS_2022,),
)
def c_noise() -> Body:
    from sympy import stats
    from derivations.core.notation import c_noise_edm, p_mean_edm, p_std_edm

    scale = sp.Rational(1, 4)  # the convention of Karras et al., Table 1 (not derived)
    log_sigma = stats.Normal("l", p_mean_edm, p_std_edm)
    conditioning = scale * sp.log(sigma_edm)
    input_mean = stats.E(scale * log_sigma)
    input_std = sp.sqrt(stats.variance(scale * log_sigma))
    at_defaults = {p_mean_edm: sp.Rational(-6, 5), p_std_edm: sp.Rational(6, 5)}
    return Body(
        steps=(
            Relation(r"the mean of $c_{\rm noise} = \tfrac14 l$, $l = \ln\sigma$, under the training distribution",
                     work.expectation(scale * log_sigma), p_mean_edm / 4),
            Relation(r"its variance", work.variance(scale * log_sigma), p_std_edm**2 / 16),
            Relation(r"at $P_{\rm mean} = -1.2$, $P_{\rm std} = 1.2$: mean $-0.3$",
                     work.at(input_mean, at_defaults), sp.Rational(-3, 10)),
            Relation(r"and standard deviation $0.3$", work.at(input_std, at_defaults), sp.Rational(3, 10)),
        ),
        results=(
            Result("c_noise", conditioning, "the network's noise input c_noise(sigma) (convention k = 1/4)"),
            Result("input_mean", input_mean, "E[c_noise] under ln sigma ~ N(P_mean, P_std^2)"),
            Result("input_std", input_std, "standard deviation of c_noise under the training distribution"),
        ),
        claims=(
            Claim("c_noise", sp.log(sigma_edm) / 4, "Karras et al. (2022), Table 1: c_noise(sigma) = 1/4 ln(sigma)"),
            Claim("input_std", p_std_edm / 4, "P_std / 4 = 0.3 at P_std = 1.2"),
        ),
        wrong_variants=(
            WrongVariant("c_noise", sp.log(sigma_edm), "ln(sigma) without the factor 1/4"),
            WrongVariant("c_noise", sp.log(sigma_edm) / 2, "1/2 ln(sigma) for 1/4 ln(sigma)"),
            WrongVariant("c_noise", sp.log(sigma_edm) / (4 * sp.log(10)), "the base-10 logarithm for the natural one"),
        ),
    )
