r"""inverse.*: linear inverse problems :math:`y = A x_0 + n`, :math:`n \sim \mathcal N(0, \sigma_y^2)`, exactly.

For a Gaussian prior :math:`x_0 \sim \mathcal N(\mu_0, \sigma_0^2)` the posterior is Gaussian
(``gaussian.linear_bayes``'s rule), and so is every noised quantity: under the kernel
:math:`\mathcal N(m_t x_0, v_t)`, :math:`x_0 \mid x_t \sim \mathcal N(\hat x_0(x_t), r_t^2)` and

.. math::
    p(y \mid x_t) = \mathcal N\big(y;\ A\hat x_0(x_t),\ A^2 r_t^2 + \sigma_y^2\big),

so the posterior score is :math:`\nabla\log p_t(x_t) + \nabla\log p(y\mid x_t)`. ΠGDM's Gaussian approximation
is this likelihood with its :math:`r_t^2`: exact for Gaussian data when :math:`r_t^2 = \mathrm{Var}[x_0\mid x_t]`,
and the paper's :math:`v_t/(m_t^2+v_t)` is that variance only for :math:`\sigma_0^2 = 1`. DPS replaces
:math:`p(y\mid x_t)` by :math:`p(y\mid\hat x_0)`: its gradient is the exact one times
:math:`(A^2r_t^2 + \sigma_y^2)/\sigma_y^2 > 1`, and its constant step :math:`\zeta` matches the exact posterior
step only at one derived, step-dependent value. Both samplers (:mod:`derivations.catalogue.posterior`) are affine
in the state on Gaussian data; their step maps are read off the rules.
"""

from __future__ import annotations

from types import SimpleNamespace

import sympy as sp

from derivations import catalogue
from derivations.catalogue import posterior
from derivations.core import work
from derivations.core.notation import (
    a_st,
    corr_data,
    b_st,
    kernel_mean_coef,
    kernel_var,
    lookup,
    m_next_st,
    mean_data,
    obs_inv,
    op_inv,
    v_next_st,
    var_data,
    var_obs_inv,
    x_0,
    x_sde,
    x_t,
    y_pg,
    y_sde,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation, get
from derivations.families.gauss_exact import SymbolicOps
from derivations.families.gaussian import condition, log_density, push_forward
from derivations.families.guidance import noised_gaussian_score

BISHOP = "C. M. Bishop, Pattern Recognition and Machine Learning (2006), §2.3.3 (eqs. 2.116-2.117)"
KALMAN = "the Kalman update: gain K = sigma_0^2 A / (A^2 sigma_0^2 + sigma_y^2), mean mu_0 + K (y - A mu_0), variance (1 - K A) sigma_0^2"
OBSERVATION = SimpleNamespace(op=op_inv, value=obs_inv, var=var_obs_inv)


@derivation(
    id="inverse.posterior",
    title="Linear inverse problem with a Gaussian prior: the exact posterior (Kalman update)",
    statement=r"$x_0 \sim \mathcal N(\mu_0, \sigma_0^2)$, $y = A x_0 + n$, $n \sim \mathcal N(0, \sigma_y^2)$: "
    r"Bayes' rule (``gaussian.linear_bayes``) gives $x_0 \mid y \sim \mathcal N\big(\mu_0 + K(y_{\mathrm{obs}} - A\mu_0),"
    r"\ (1 - KA)\sigma_0^2\big)$ with $K = \sigma_0^2 A/(A^2\sigma_0^2 + \sigma_y^2)$, and $y \sim "
    r"\mathcal N(A\mu_0, A^2\sigma_0^2 + \sigma_y^2)$.",
    tier=Tier.EXACT,
    assumptions=(r"$\sigma_0^2 > 0$, $\sigma_y^2 > 0$, $A > 0$; one coordinate (a matrix $A$ with commuting "
                 r"covariances is this coordinate-wise in an eigenbasis)",),
    references=(BISHOP,),
)
def posterior_body() -> Body:
    mean, var = condition(mean_data, var_data, op_inv, 0, var_obs_inv, obs_inv, x_0)
    evidence_mean, evidence_var = push_forward(mean_data, var_data, op_inv, 0, var_obs_inv)
    bayes = get("gaussian.linear_bayes")
    to_ours = {lookup("mu_x").symbol: mean_data, lookup("var_x").symbol: var_data, lookup("gain").symbol: op_inv,
               lookup("offset").symbol: 0, lookup("var_noise").symbol: var_obs_inv, lookup("y").symbol: obs_inv}
    kalman_gain = var_data * op_inv / (op_inv**2 * var_data + var_obs_inv)
    return Body(
        steps=(
            Relation(r"``gaussian.linear_bayes``'s posterior mean at $a = A$, $b = 0$, $s^2 = \sigma_y^2$",
                     work.at(bayes.result("posterior_mean"), to_ours), mean),
            Relation(r"``gaussian.linear_bayes``'s posterior variance, same substitution",
                     work.at(bayes.result("posterior_var"), to_ours), var),
            Relation(r"precisions add: $1/\mathrm{Var}[x_0\mid y] = 1/\sigma_0^2 + A^2/\sigma_y^2$", 1 / var,
                     work.held_sum(1 / var_data, op_inv**2 / var_obs_inv)),
        ),
        results=(
            Result("post_mean", mean, "E[x_0 | y]"),
            Result("post_var", var, "Var[x_0 | y]"),
            Result("evidence_mean", evidence_mean, "E[y] = A mu_0"),
            Result("evidence_var", evidence_var, "Var[y] = A^2 sigma_0^2 + sigma_y^2"),
        ),
        claims=(
            Claim("post_mean", mean_data + kalman_gain * (obs_inv - op_inv * mean_data), KALMAN),
            Claim("post_var", (1 - kalman_gain * op_inv) * var_data, KALMAN),
        ),
        wrong_variants=(
            WrongVariant("post_mean", mean_data + (obs_inv - op_inv * mean_data) / op_inv,
                         r"$\sigma_y^2$ missing from the gain: $K = 1/A$ (the pseudo-inverse)"),
            WrongVariant("post_var", var_data * var_obs_inv / (var_data + var_obs_inv), r"$A^2$ missing from the evidence"),
            WrongVariant("post_mean", mean_data + var_data / (op_inv**2 * var_data + var_obs_inv) * (obs_inv - op_inv * mean_data),
                         "Kalman gain without its factor A"),
        ),
    )


class _KernelAt:
    r"""The kernel :math:`\mathcal N(m_t x_0, v_t)` at one time with the noised prior's score, for the rules' pieces."""

    mean_coef, var = kernel_mean_coef, kernel_var

    def __init__(self, mean: sp.Expr = mean_data, var: sp.Expr = var_data):
        self._mean, self._var = mean, var

    def score(self, x: sp.Expr) -> sp.Expr:
        return noised_gaussian_score(self._mean, self._var).xreplace({x_t: x})

    def score_slope(self, x: sp.Expr) -> sp.Expr:
        return sp.diff(noised_gaussian_score(self._mean, self._var), x_t).xreplace({x_t: x})


@derivation(
    id="inverse.likelihood_score",
    title="p(y | x_t) for a Gaussian prior; ΠGDM's guidance is exact with Tweedie's r_t^2, DPS's is not",
    statement=r"Under $\mathcal N(m_t x_0, v_t)$: $x_0 \mid x_t \sim \mathcal N(\hat x_0, r_t^2)$ with Tweedie's "
    r"$\hat x_0 = (x_t + v_t s_t)/m_t$, $r_t^2 = (v_t/m_t^2)(1 + v_t\partial_x s_t) = \sigma_0^2 v_t/(m_t^2\sigma_0^2 + v_t)$, "
    r"so $p(y\mid x_t) = \mathcal N(A\hat x_0, A^2r_t^2 + \sigma_y^2)$ and $s_t + \nabla\log p(y\mid x_t)$ is the score of "
    r"the noised posterior. ΠGDM's term with Tweedie's $r_t^2$ is $\nabla\log p(y\mid x_t)$ exactly; with the paper's "
    r"$r_t^2 = v_t/(m_t^2 + v_t)$ it differs by $v_t^2(1 - \sigma_0^2)/((m_t^2+v_t)(m_t^2\sigma_0^2+v_t))$ in $r_t^2$ "
    r"(exact iff $\sigma_0^2 = 1$). DPS's $\nabla\log\mathcal N(y; A\hat x_0, \sigma_y^2)$ is the exact term times "
    r"$(A^2r_t^2 + \sigma_y^2)/\sigma_y^2$, exact only as $v_t \to 0$.",
    tier=Tier.EXACT,
    assumptions=(r"$m_t > 0$, $v_t > 0$; one coordinate; the gradient of ΠGDM's log-likelihood is taken through "
                 r"its mean (its variance does not depend on $x_t$ for Gaussian data)",),
    references=(posterior.SONG_PIGDM, posterior.CHUNG, BISHOP),
)
def likelihood_score() -> Body:
    x0_mean, x0_var = condition(mean_data, var_data, kernel_mean_coef, 0, kernel_var, x_t, x_0)
    at = _KernelAt()
    tweedie_mean, tweedie_slope = posterior.x0_hat(at, x_t), posterior.x0_hat_slope(at, x_t)
    tweedie_r2, paper_r2 = posterior.r2(at, x_t, "tweedie"), posterior.r2(at, x_t, "paper")
    lik_mean, lik_var = push_forward(x0_mean, x0_var, op_inv, 0, var_obs_inv)
    exact = sp.diff(log_density(obs_inv, lik_mean, lik_var), x_t)
    prior_score = at.score(x_t)
    post = get("inverse.posterior")
    posterior_score = noised_gaussian_score(post.result("post_mean"), post.result("post_var"))
    pigdm = posterior.pigdm_guidance(OBSERVATION, at, x_t, "tweedie")
    pigdm_paper = posterior.pigdm_guidance(OBSERVATION, at, x_t, "paper")
    dps_term = sp.diff(log_density(obs_inv, op_inv * tweedie_mean, var_obs_inv), x_t)
    dps_ratio = (op_inv**2 * x0_var + var_obs_inv) / var_obs_inv
    r2_gap = sp.factor(paper_r2 - x0_var)
    return Body(
        steps=(
            Relation(r"Tweedie: $(x_t + v_t s_t(x_t))/m_t$ is the conditional mean of $x_0$ (Bayes on the kernel)",
                     tweedie_mean, x0_mean),
            Relation(r"second-order Tweedie: $(v_t/m_t^2)(1 + v_t\partial_x s_t)$ is the conditional variance",
                     tweedie_r2, x0_var),
            Relation(r"Bayes: prior score plus $\nabla\log p(y\mid x_t)$ is the score of the posterior noised by the kernel",
                     work.held_sum(prior_score, exact), posterior_score),
            Relation(r"ΠGDM's term with Tweedie's $r_t^2$ is $\nabla\log p(y\mid x_t)$", pigdm, exact),
            Relation(r"the paper's $r_t^2$ minus the exact one", sp.Add(paper_r2, -x0_var, evaluate=False),
                     kernel_var**2 * (1 - var_data) / ((kernel_mean_coef**2 + kernel_var)
                                                       * (kernel_mean_coef**2 * var_data + kernel_var))),
            Relation(r"with unit-variance data the paper's ΠGDM term is exact", pigdm_paper.subs(var_data, 1),
                     exact.subs(var_data, 1)),
            Relation(r"DPS's term over the exact one: $(A^2 r_t^2 + \sigma_y^2)/\sigma_y^2$",
                     sp.Mul(dps_term, sp.Pow(exact, -1), evaluate=False), dps_ratio),
            Relation(r"$\hat x_0$'s slope is $m_t r_t^2/v_t$", tweedie_slope, kernel_mean_coef * x0_var / kernel_var),
        ),
        results=(
            Result("x0_mean", x0_mean, "E[x_0 | x_t] (Tweedie)"),
            Result("x0_var", x0_var, "Var[x_0 | x_t] = r_t^2"),
            Result("lik_mean", lik_mean, "mean of p(y | x_t): A x0_hat"),
            Result("lik_var", lik_var, "variance of p(y | x_t): A^2 r_t^2 + sigma_y^2"),
            Result("likelihood_score", exact, "grad log p(y | x_t)"),
            Result("pigdm_guidance", pigdm, "ΠGDM's term, Tweedie's r_t^2"),
            Result("pigdm_paper_guidance", pigdm_paper, "ΠGDM's term, r_t^2 = v_t / (m_t^2 + v_t)"),
            Result("dps_guidance", dps_term, "DPS's term grad log N(y; A x0_hat, sigma_y^2)"),
            Result("r2_gap", r2_gap, "paper's r_t^2 minus Var[x_0 | x_t]"),
            Result("r2_unit", x0_var.subs(var_data, 1), "Var[x_0 | x_t] for unit-variance data"),
        ),
        claims=(
            Claim("r2_unit", kernel_var / kernel_mean_coef**2 / (1 + kernel_var / kernel_mean_coef**2),
                  r"ΠGDM: $r_t^2 = \sigma_t^2/(1 + \sigma_t^2)$, $\sigma_t^2 = v_t/m_t^2$ (data of unit variance)"),
            Claim("lik_var", op_inv**2 * x0_var + var_obs_inv, r"ΠGDM: $r_t^2AA^\top + \sigma_y^2 I$"),
        ),
        wrong_variants=(
            WrongVariant("pigdm_guidance", -pigdm, "the guidance's sign flipped (descending the likelihood)"),
            WrongVariant("lik_var", op_inv**2 * x0_var, r"$\sigma_y^2$ missing from the likelihood's variance"),
            WrongVariant("likelihood_score", dps_term, r"DPS's $p(y\mid\hat x_0)$ taken as $p(y\mid x_t)$"),
            WrongVariant("r2_gap", sp.Integer(0), "the paper's r_t^2 taken as exact for any data variance"),
        ),
    )


class _ObservedAt:
    r"""A step's time with the step maps' score :math:`-\Sigma^{-1}(y - \mu)` and its slope."""

    def __init__(self, at):
        self._at = at
        self.mean_coef, self.var, self.drift_coef, self.diffusion_sq = at.mean_coef, at.var, at.drift_coef, at.diffusion_sq

    def score(self, y: sp.Expr) -> sp.Expr:
        return self._at.score(y)

    def score_slope(self, y: sp.Expr) -> sp.Expr:
        return sp.diff(self._at.score(y_pg), y_pg).xreplace({y_pg: y})


class ObservedOps(SymbolicOps):
    """The catalogue's SymPy ``ops`` with the observation and the score's slope (the posterior rules read them)."""

    def __init__(self, flags: frozenset[str] = frozenset()):
        super().__init__(flags)
        self.now, self.next, self.mid = (_ObservedAt(t) for t in (self.now, self.next, self.mid))
        self.observation = OBSERVATION


def symbolic_options(scheme: posterior.PosteriorScheme, choice: dict) -> dict:
    """Numeric options as their notation symbols, choices as given."""
    return {o.name: lookup(o.symbol).symbol if o.symbol else choice.get(o.name, o.default) for o in scheme.options}


def choices(scheme: posterior.PosteriorScheme) -> list[dict]:
    chosen = [o for o in scheme.options if o.choices]
    return [{o.name: value} for o in chosen for value in o.choices] if chosen else [{}]


def step_body(scheme: posterior.PosteriorScheme, short: work.Abbreviations) -> tuple[Body, dict[str, sp.Expr]]:
    r"""The rule on the state :math:`y`: :math:`y' = a y + d + \sum_j B_j z_j`, coefficients read off by
    differentiation; results shown through ``short``'s named intermediates, and the written-out forms by name."""
    steps, results, written = [], [], {}
    for choice in choices(scheme):
        tag = tuple(str(v) for v in choice.values())
        for flags in scheme.kinds:
            ops = ObservedOps(flags)
            update = sp.sympify(scheme.rule(ops, y_pg, **symbolic_options(scheme, choice)))
            normals = tuple(ops.normals)
            quiet = {z: 0 for z in normals}
            gain, *draws = (sp.simplify(sp.diff(update, v).subs(quiet)) for v in (y_pg, *normals))
            offset = sp.simplify(update.subs({y_pg: 0, **quiet}))
            noise_var = sp.simplify(sum((c**2 for c in draws), sp.Integer(0)))
            kind = ", ".join((*tag, *sorted(flags))) or "every step"
            names = {base: catalogue.result_name(base, tag, flags) for base in ("gain", "offset", "noise_var")}
            shown = work.held_sum(work.held_product(short(gain), y_pg), short(offset),
                                  *(work.held_product(short(c), z) for c, z in zip(draws, normals)))
            steps.append(Relation(f"{kind}: the rule applied to $y$ is affine in $y$ and the normals, "
                                  "coefficients read off by differentiation", short(update), shown))
            results += [Result(names["gain"], short(gain), f"a ({kind}): y' = a y + d + noise"),
                        Result(names["offset"], short(offset), f"d ({kind})"),
                        Result(names["noise_var"], short(noise_var), f"b ({kind}): variance injected by the step")]
            written |= {names["gain"]: gain, names["offset"]: offset, names["noise_var"]: noise_var}
    return Body(steps=tuple(steps), results=tuple(results)), written


# The prior's noised marginal at a step's start in the step-map vocabulary (one coordinate).
def prior_at_start() -> dict[sp.Symbol, sp.Expr]:
    m_now, v_now = a_st * m_next_st, a_st**2 * v_next_st + b_st
    return {lookup("prec_k_pg").symbol: 1 / (m_now**2 * var_data + v_now), lookup("mu_k_st").symbol: m_now * mean_data}


@derivation(
    id="inverse.step_dps",
    title="One DPS step on Gaussian data: affine update, and the step size at which it is the exact posterior step",
    statement=r"The rule $x' = \mathrm{DDPM}(x) - \zeta\nabla_x\lVert y_{\mathrm{obs}} - A\hat x_0(x)\rVert^2$ "
    r"(``derivations.catalogue.posterior.dps``) with the exact score $-\Sigma^{-1}(y - \mu)$ is affine: "
    r"$y' = a y + d + \sum_j B_j z_j$. On the prior's noised marginal it is the DDPM step with the exact posterior "
    r"score only at $\zeta^* = v_{t|t'}/(2a_{t|t'}(A^2r_t^2 + \sigma_y^2))$, a value that moves with the step and "
    r"with $t$: a constant $\zeta$ is biased.",
    tier=Tier.EXACT,
    assumptions=(r"the kernel from $t'$ to $t$ is $\mathcal N(a x, b)$: $m_t = a m_{t'}$, $v_t = a^2 v_{t'} + b$",
                 r"$z_j \sim \mathcal N(0, 1)$ independent of the state"),
    references=(posterior.CHUNG, "Ho, Jain, Abbeel (2020), Algorithm 2"),
)
def step_dps() -> Body:
    scheme = posterior.get("dps")
    short = work.Abbreviations(max_chars=150)
    body, written = step_body(scheme, short)
    # zeta*: the DPS correction equals the DDPM step's share b/a of the exact likelihood score.
    ops = ObservedOps()
    prior = prior_at_start()
    m_now, v_now = a_st * m_next_st, a_st**2 * v_next_st + b_st
    lik = get("inverse.likelihood_score")
    kernel = {kernel_mean_coef: m_now, kernel_var: v_now, x_t: y_pg}
    exact_share = b_st / a_st * lik.result("likelihood_score").xreplace(kernel)
    correction = posterior.dps_correction(OBSERVATION, ops.now, y_pg, lookup("zeta_dps").symbol).xreplace(prior)
    zeta_star = sp.simplify(sp.solve(sp.Eq(correction, exact_share), lookup("zeta_dps").symbol)[0])
    r2_now = lik.result("x0_var").xreplace(kernel)
    zeta_claim = b_st / (2 * a_st * (op_inv**2 * r2_now + var_obs_inv))
    steps = (*body.steps,
             Relation(r"at $\zeta^*$ the DPS correction is the DDPM step's $v_{t|t'}/a_{t|t'}$ times "
                      r"$\nabla\log p(y\mid x_t)$ (``inverse.likelihood_score``)",
                      short(correction.xreplace({lookup("zeta_dps").symbol: zeta_claim})), short(exact_share)))
    return Body(
        steps=steps,
        results=(*body.results, Result("zeta_exact", zeta_star, "the step size at which DPS is the exact posterior step")),
        claims=(Claim("zeta_exact", zeta_claim, r"$v_{t|t'}/(2a_{t|t'}(A^2r_t^2 + \sigma_y^2))$: "
                      r"DPS's $\zeta$ that puts the exact $\nabla\log p(y\mid x_t)$ into the DDPM step"),),
        wrong_variants=(
            WrongVariant("zeta_exact", b_st / (2 * a_st * var_obs_inv), r"DPS's own $\zeta = v_{t|t'}/(2a\sigma_y^2)$ "
                         r"(the step that adds $\nabla\log p(y\mid\hat x_0)$) taken as exact"),
            WrongVariant(catalogue.result_name("offset", ("beta",)),
                         short(written[catalogue.result_name("offset", ("beta",))].xreplace({obs_inv: -obs_inv})),
                         "the guidance's sign flipped"),
        ),
    )


@derivation(
    id="inverse.step_pigdm",
    title="One ΠGDM step (DDIM) on Gaussian data: affine update; with Tweedie's r_t^2 it is DDIM on the posterior",
    statement=r"The catalogue's DDIM rule with the score $s_t + A(y_{\mathrm{obs}} - A\hat x_0)\partial_x\hat x_0/"
    r"(r_t^2A^2 + \sigma_y^2)$ (``derivations.catalogue.posterior.pigdm``) is affine: $y' = a y + d + \sum_j B_j z_j$. "
    r"With Tweedie's $r_t^2$ and the prior's noised marginal it is ``gauss_exact.step_ddim`` run on the posterior "
    r"(``inverse.posterior``) noised by the kernel: the sampler is exact up to its discretization.",
    tier=Tier.EXACT,
    assumptions=(r"the kernel from $t'$ to $t$ is $\mathcal N(a x, b)$: $m_t = a m_{t'}$, $v_t = a^2 v_{t'} + b$",
                 r"$z_j \sim \mathcal N(0, 1)$ independent of the state"),
    references=(posterior.SONG_PIGDM, "Song, Meng, Ermon (2021), eq. (12)"),
)
def step_pigdm() -> Body:
    scheme = posterior.get("pigdm")
    short = work.Abbreviations(max_chars=150)
    body, written = step_body(scheme, short)
    prior = prior_at_start()
    post = get("inverse.posterior")
    m_now, v_now = a_st * m_next_st, a_st**2 * v_next_st + b_st
    on_posterior = {lookup("prec_k_pg").symbol: 1 / (m_now**2 * post.result("post_var") + v_now),
                    lookup("mu_k_st").symbol: m_now * post.result("post_mean")}
    ddim_maps = get(catalogue.get("ddim").derivation_id)
    ddim = {n: work.expand_named(ddim_maps.result(n)) for n in ("gain", "offset")}
    steps = (*body.steps,
             Relation(r"Tweedie's $r_t^2$ on the prior: the gain is DDIM's on the noised posterior",
                      short(written["gain_tweedie"].xreplace(prior)), short(ddim["gain"].xreplace(on_posterior))),
             Relation(r"and so is the offset", short(written["offset_tweedie"].xreplace(prior)),
                      short(ddim["offset"].xreplace(on_posterior))))
    return Body(
        steps=steps,
        results=body.results,
        wrong_variants=(
            WrongVariant("offset_tweedie", short(written["offset_tweedie"].xreplace({obs_inv: -obs_inv})),
                         "the guidance's sign flipped"),
            WrongVariant("gain_tweedie", body.results[3].expr, "the paper's r_t^2 taken as Tweedie's"),
        ),
    )


@derivation(
    id="inverse.posterior_2d",
    title="Linear inverse problem in 2-D with a matrix A: the posterior by completing the square, and the Schur form",
    statement=r"$x_0 \sim \mathcal N(\mu, \Sigma)$ in 2-D (the data of ``inpaint.conditional``), one measurement "
    r"$y = \mathbf a^\top x_0 + n$ of both coordinates with $\mathbf a = (A, A)$, $n \sim \mathcal N(0, \sigma_y^2)$: "
    r"the log-joint's Hessian in $x_0$ gives the posterior precision $\Sigma^{-1} + \mathbf a\mathbf a^\top/\sigma_y^2$ "
    r"and its stationary point the mean; both equal the Schur (Kalman) forms $\mu + \Sigma\mathbf a(y - \mathbf a^\top\mu)"
    r"/(\mathbf a^\top\Sigma\mathbf a + \sigma_y^2)$ and $\Sigma - \Sigma\mathbf a\mathbf a^\top\Sigma/"
    r"(\mathbf a^\top\Sigma\mathbf a + \sigma_y^2)$.",
    tier=Tier.EXACT,
    assumptions=(r"$|\rho_0| < 1$, $s_x, s_y > 0$, $\sigma_y^2 > 0$",),
    references=(BISHOP,),
)
def posterior_2d() -> Body:
    from derivations.families.inpaint import data_covariance, data_mean

    cov, mu = data_covariance(), data_mean()
    row = sp.Matrix([[op_inv, op_inv]])
    state = sp.Matrix([x_sde, y_sde])  # the two coordinates of x_0
    residual = state - mu
    log_joint = -(residual.T * cov.inv() * residual)[0, 0] / 2 - (obs_inv - (row * state)[0, 0]) ** 2 / (2 * var_obs_inv)
    hessian = sp.hessian(log_joint, tuple(state))
    precision = -hessian
    stationary = sp.solve([sp.diff(log_joint, v) for v in state], tuple(state), dict=True)[0]
    mean = sp.Matrix([sp.factor(stationary[v]) for v in state])
    post_cov = precision.inv().applyfunc(sp.factor)
    evidence = (row * cov * row.T)[0, 0] + var_obs_inv
    schur_mean = mu + cov * row.T * (obs_inv - (row * mu)[0, 0]) / evidence
    schur_cov = cov - cov * row.T * row * cov / evidence
    return Body(
        steps=(
            Relation(r"the posterior precision is minus the log-joint's Hessian: $\Sigma^{-1} + \mathbf a\mathbf a^\top/\sigma_y^2$, "
                     "entry (1, 1)", -work.derivative(log_joint, (state[0], 2)), (cov.inv() + row.T * row / var_obs_inv)[0, 0]),
            Relation("entry (1, 2)", -work.derivative(log_joint, state[0], state[1]),
                     (cov.inv() + row.T * row / var_obs_inv)[0, 1]),
            Relation("the stationary point's first coordinate is the Schur (Kalman) mean's", mean[0], schur_mean[0]),
            Relation("and its second", mean[1], schur_mean[1]),
            Relation(r"the inverse precision is the Schur covariance: entry (1, 1)", post_cov[0, 0], schur_cov[0, 0]),
            Relation("entry (1, 2)", post_cov[0, 1], schur_cov[0, 1]),
            Relation("entry (2, 2)", post_cov[1, 1], schur_cov[1, 1]),
        ),
        results=(
            Result("post_mean_1", mean[0], "E[x_1 | y]"),
            Result("post_mean_2", mean[1], "E[x_2 | y]"),
            Result("post_var_1", post_cov[0, 0], "Var[x_1 | y]"),
            Result("post_cov_12", post_cov[0, 1], "Cov[x_1, x_2 | y]"),
            Result("post_var_2", post_cov[1, 1], "Var[x_2 | y]"),
        ),
        claims=(Claim("post_cov_12", schur_cov[0, 1], BISHOP + r": $\Sigma - \Sigma A^\top(A\Sigma A^\top + \sigma_y^2)^{-1}A\Sigma$"),),
        wrong_variants=(
            WrongVariant("post_cov_12", cov[0, 1], "the prior covariance kept (the measurement couples the coordinates)"),
            WrongVariant("post_var_1", cov[0, 0] - (cov * row.T)[0, 0] ** 2 / ((row * cov * row.T)[0, 0]),
                         r"$\sigma_y^2$ missing from the evidence"),
            WrongVariant("post_mean_1", schur_mean[0].xreplace({corr_data: 0}), "the prior correlation dropped"),
        ),
    )
