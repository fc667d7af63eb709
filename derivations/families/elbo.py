r"""elbo.*: the variational bound of diffusion models and its KL terms.

The forward chain :math:`q(x_t \mid x_{t-1}) = \mathcal N(\sqrt{\alpha_t}x_{t-1}, \beta_t)`, the reverse
model :math:`p(x_T) = \mathcal N(0, 1)`, :math:`p_\theta(x_{t-1} \mid x_t) = \mathcal N(a_t x_t + b_t, v_t)`,
and

.. math::

    \mathrm{ELBO} = E_q \log p_\theta(x_0 \mid x_1) - \mathrm{KL}(q(x_T\mid x_0)\,\|\,p(x_T))
    - \sum_{t\ge2} E_q \mathrm{KL}(q(x_{t-1}\mid x_t,x_0)\,\|\,p_\theta(x_{t-1}\mid x_t)).

Every term is built from the derived closed forms (``gaussian.kl``, ``gaussian.linear_bayes``,
``ddpm.posterior``) by :func:`bound_terms`, once with SymPy (``elbo.decomposition``, :math:`T = 2`)
and once with numpy float64 (any :math:`T`; ``tests/test_elbo.py`` uses :math:`T = 1000`).
Expectations of quadratics under a Gaussian use the two-point rule :func:`gauss_expect`.
``elbo.generic_t`` proves the decomposition for every horizon: by induction on :math:`T` with the Gaussian
log-densities, and for a symbolic :math:`T` with the sums held (:func:`aligned_sums` re-indexes them), and
derives the denoising term :math:`L_{t-1}` at a generic step.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import sympy as sp
from sympy.core.function import AppliedUndef

from derivations.families.gaussian import KL_REFERENCES, kl, log_density
from derivations.core.notation import (
    alpha_bar_prev,
    alpha_bar_t,
    alpha_t,
    beta_t,
    beta_tilde_t,
    cond_score_t,
    cond_score_ve,
    eps,
    eps_hat,
    expand_definitions,
    rev_gain_1,
    rev_gain_2,
    rev_offset_1,
    rev_gain_t,
    rev_offset_2,
    rev_offset_t,
    rev_var_1,
    rev_var_2,
    score_hat,
    snr_prev,
    snr_t,
    steps_T,
    v_hat,
    v_target,
    vae_mean,
    vae_std,
    var_model,
    var_ve_i,
    var_ve_prev,
    var_ve_step,
    x0_hat,
    x_0,
    x_t,
    x_prev,
    x_ve_i,
)
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Equivalent, Relation, Result, WrongVariant, derivation, get
from derivations.core.work import at, derivative, expectation, held, held_product, held_sum, named

HO_2020_ELBO = ("J. Ho, A. Jain, P. Abbeel, Denoising Diffusion Probabilistic Models, NeurIPS 2020, "
                "eqs. (3), (5), (8), (10)")
SOHL_DICKSTEIN_2015 = ("J. Sohl-Dickstein et al., Deep Unsupervised Learning using Nonequilibrium Thermodynamics, "
                       "ICML 2015, §2.4 and App. B")
KINGMA_2021 = ("D. P. Kingma, T. Salimans, B. Poole, J. Ho, Variational Diffusion Models, NeurIPS 2021, "
               "eq. (13) and App. E")
KINGMA_WELLING_2014 = "D. P. Kingma, M. Welling, Auto-Encoding Variational Bayes, ICLR 2014, App. B"
SALIMANS_HO_2022 = "T. Salimans, J. Ho, Progressive Distillation for Fast Sampling of Diffusion Models, ICLR 2022, §4"


# --- the bound's terms, for a SymPy or a numpy back end -----------------------------------------

class Backend:
    """Elementary functions and the derived closed forms, in SymPy or numpy."""

    def __init__(self, name: str):
        if name not in ("sympy", "numpy"):
            raise ValueError(f"unknown back end {name!r}; known: sympy, numpy")
        self.name = name
        if name == "sympy":
            self.sqrt, self.log, self.pi = sp.sqrt, sp.log, sp.pi
        else:
            import numpy as np  # here, not at the top: proving a claim of this module needs no numpy

            self.sqrt, self.log, self.pi = np.sqrt, np.log, np.pi

    def closed_form(self, derivation_id: str, result: str) -> Callable[..., Any]:
        """The derived ``result``, called with keyword values by notation name."""
        if self.name == "numpy":
            return get(derivation_id).function(result, "numpy")
        expr = get(derivation_id).result(result)
        by_name = {s.name: s for s in expr.free_symbols}
        return lambda **values: expr.xreplace({by_name[k]: sp.sympify(v) for k, v in values.items() if k in by_name})

    def log_normal(self, value: Any, mean: Any, var: Any) -> Any:
        return -self.log(2 * self.pi * var) / 2 - (value - mean) ** 2 / (2 * var)


def gauss_expect(f: Callable[[Any], Any], mean: Any, var: Any, backend: Backend) -> Any:
    r""":math:`E f(X)`, :math:`X \sim \mathcal N(m, v)`, by the two-point rule
    :math:`\tfrac12[f(m + \sqrt v) + f(m - \sqrt v)]`: its nodes :math:`\pm 1` with weights
    :math:`\tfrac12` match the standard normal's moments :math:`1, 0, 1, 0` of order 0..3, so it is
    exact for every polynomial of degree at most 3 (every log-density and KL here is quadratic)."""
    spread = backend.sqrt(var)
    return (f(mean + spread) + f(mean - spread)) / 2


def bound_terms(alphas: Sequence[Any], kernels: Sequence[tuple[Any, Any, Any]], x0: Any,
                backend: Backend) -> dict[str, Any]:
    r"""Every term of the bound at the data point ``x0``.

    ``alphas[t-1]`` is :math:`\alpha_t` and ``kernels[t-1]`` is :math:`(a_t, b_t, v_t)` of
    :math:`p_\theta(x_{t-1}\mid x_t)`, :math:`t = 1..T`. Returns ``log_evidence``
    (:math:`\log p_\theta(x_0)`), ``elbo_direct`` (:math:`E_q[\log p_\theta(x_{0:T}) - \log q(x_{1:T}\mid x_0)]`),
    ``reconstruction``, ``prior_kl``, ``step_kls`` (:math:`t = 2..T`), ``elbo`` (the decomposed form) and
    ``joint_kl`` (:math:`\mathrm{KL}(q(x_{1:T}\mid x_0)\,\|\,p_\theta(x_{1:T}\mid x_0))` by the chain rule).
    """
    steps = len(alphas)
    if steps < 1 or len(kernels) != steps:
        raise ValueError("need T >= 1 alphas and one reverse kernel per step")
    kl_ = backend.closed_form("gaussian.kl", "kl")
    post_x0 = backend.closed_form("ddpm.posterior", "coef_x0")
    post_xt = backend.closed_form("ddpm.posterior", "coef_xt")
    post_var = backend.closed_form("ddpm.posterior", "var")
    pushed_mean = backend.closed_form("gaussian.linear_bayes", "marginal_mean")
    pushed_var = backend.closed_form("gaussian.linear_bayes", "marginal_var")
    cond_mean = backend.closed_form("gaussian.linear_bayes", "posterior_mean")
    cond_var = backend.closed_form("gaussian.linear_bayes", "posterior_var")

    alpha_bar = [1]  # alpha_bar[t], t = 0..T
    for a in alphas:
        alpha_bar.append(alpha_bar[-1] * a)
    q_mean = [backend.sqrt(ab) * x0 for ab in alpha_bar]  # q(x_t | x_0), ddpm.marginal
    q_var = [1 - ab for ab in alpha_bar]

    model_mean, model_var = [None] * (steps + 1), [None] * (steps + 1)  # model marginals p_theta(x_t)
    model_mean[steps], model_var[steps] = 0, 1
    for t in range(steps, 0, -1):
        gain_, offset_, var_ = kernels[t - 1]
        push = dict(mu_x=model_mean[t], var_x=model_var[t], gain=gain_, offset=offset_, var_noise=var_)
        model_mean[t - 1], model_var[t - 1] = pushed_mean(**push), pushed_var(**push)

    def expect_pair(f: Callable[[Any, Any], Any], t: int) -> Any:
        """E f(x_{t-1}, x_t) along the forward chain: x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) z."""
        a = alphas[t - 1]
        return gauss_expect(lambda prev: gauss_expect(lambda noise: f(prev, backend.sqrt(a) * prev + noise),
                                                      0, 1 - a, backend), q_mean[t - 1], q_var[t - 1], backend)

    elbo_direct = gauss_expect(lambda xT: backend.log_normal(xT, 0, 1), q_mean[steps], q_var[steps], backend)
    joint_kl = 0
    for t in range(1, steps + 1):
        gain_, offset_, var_ = kernels[t - 1]
        a = alphas[t - 1]
        elbo_direct += expect_pair(lambda prev, cur: backend.log_normal(prev, gain_ * cur + offset_, var_)
                                   - backend.log_normal(cur, backend.sqrt(a) * prev, 1 - a), t)
        # p_theta(x_t | x_{t-1}): the model marginal of x_t conditioned on the kernel's output x_{t-1}.
        model = dict(mu_x=model_mean[t], var_x=model_var[t], gain=gain_, offset=offset_, var_noise=var_)
        joint_kl += gauss_expect(
            lambda prev: kl_(mean_p=backend.sqrt(a) * prev, var_p=1 - a,
                             mean_q=cond_mean(**model, y=prev), var_q=cond_var(**model)),
            q_mean[t - 1], q_var[t - 1], backend)

    gain_, offset_, var_ = kernels[0]
    reconstruction = gauss_expect(lambda x1: backend.log_normal(x0, gain_ * x1 + offset_, var_), q_mean[1], q_var[1],
                                  backend)
    prior_kl = kl_(mean_p=q_mean[steps], var_p=q_var[steps], mean_q=0, var_q=1)
    step_kls = []
    for t in range(2, steps + 1):
        gain_, offset_, var_ = kernels[t - 1]
        at = dict(alpha_t=alphas[t - 1], alpha_bar_prev=alpha_bar[t - 1], beta_t=1 - alphas[t - 1],
                  alpha_bar_t=alpha_bar[t])
        c0, ct, pv = post_x0(**at), post_xt(**at), post_var(**at)
        step_kls.append(gauss_expect(
            lambda xt, c0=c0, ct=ct, pv=pv, g=gain_, o=offset_, v=var_:
            kl_(mean_p=c0 * x0 + ct * xt, var_p=pv, mean_q=g * xt + o, var_q=v),
            q_mean[t], q_var[t], backend))
    elbo = reconstruction - prior_kl - sum(step_kls)
    return dict(log_evidence=backend.log_normal(x0, model_mean[0], model_var[0]), elbo_direct=elbo_direct,
                reconstruction=reconstruction, prior_kl=prior_kl, step_kls=step_kls, elbo=elbo, joint_kl=joint_kl)


def canonical_logs(expr: sp.Expr, points: int = 8) -> sp.Expr:
    r"""Rewrite each :math:`\log(\text{arg})` as :math:`\sum_k m_k \log f_k` over the irreducible
    factors of arg, each :math:`f_k` signed to be positive on the admissible domain, so logs of
    the same quantity reached by different routes become the same SymPy atoms.

    A factor whose sign changes over ``points`` random admissible points is left inside an
    unsplit log (the relations' numeric tier still checks the result either way)."""
    import random

    from derivations.core import notation

    rng = random.Random(0)

    def constant_sign(factor: sp.Expr) -> int:
        symbols = sorted(factor.free_symbols, key=lambda s: s.name)
        signs = {sp.sign(factor.evalf(30, subs=notation.random_point(symbols, rng))) for _ in range(points)}
        return signs.pop() if len(signs) == 1 else 0

    def split(arg: sp.Expr) -> sp.Expr:
        arg = notation.expand_definitions(arg)
        out, rest = sp.Integer(0), sp.Integer(1)
        for part, power in zip(sp.fraction(sp.factor(arg)), (1, -1)):
            constant, factors = sp.factor_list(part)
            out += power * sp.log(abs(constant))
            for factor, multiplicity in factors:
                sign = constant_sign(factor)
                if sign:
                    out += power * multiplicity * sp.log(sp.expand(sign * factor))
                else:
                    rest *= factor ** (power * multiplicity)
        return out + (sp.log(rest) if rest != 1 else 0)

    return sp.expand(expr).replace(lambda e: isinstance(e, sp.log), lambda e: split(e.args[0]))


# --- derivations --------------------------------------------------------------------------------

@derivation(
    id="elbo.vae_kl",
    title="KL of a Gaussian VAE encoder to the standard normal prior",
    statement=r"$\mathrm{KL}(\mathcal N(\mu, \mathrm{diag}\,\sigma^2)\,\|\,\mathcal N(0, I)) = "
    r"\tfrac12\sum_j(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2)$, from `gaussian.kl` (one coordinate; "
    r"the diagonal case is the sum over coordinates, as `gaussian.kl` shows).",
    tier=Tier.EXACT,
    assumptions=(r"$\sigma_j > 0$; diagonal encoder covariance",),
    references=(KINGMA_WELLING_2014, *KL_REFERENCES),
)
def vae_kl() -> Body:
    divergence = kl(vae_mean, vae_std**2, 0, 1)
    # Kingma & Welling print -KL = 1/2 sum_j (1 + log(sigma_j^2) - mu_j^2 - sigma_j^2), per coordinate here.
    mu_j, sigma_j = sp.symbols("mu_j sigma_j")
    return Body(
        steps=(
            Relation(r"evaluate at the prior, $\mu = 0$, $\sigma = 1$: the encoder equal to the prior costs nothing",
                     at(divergence, {vae_mean: 0, vae_std: 1}), 0),
            Relation(r"differentiate in $\sigma$: $\partial_\sigma \mathrm{KL} = \sigma - 1/\sigma$ vanishes at "
                     r"$\sigma = 1$, the minimum", derivative(divergence, vae_std), vae_std - 1 / vae_std),
        ),
        results=(Result("kl", divergence, "KL(N(mu, sigma^2) || N(0, 1)) per coordinate"),),
        claims=(Claim.as_printed("kl", -(1 + sp.log(sigma_j**2) - mu_j**2 - sigma_j**2) / 2, "Kingma & Welling (2014)",
                                 r"eq. (10) (derived in App. B), $-D_{KL}$ for one coordinate $j$",
                                 {mu_j: vae_mean, sigma_j: vae_std}),),
        wrong_variants=(
            WrongVariant("kl", (vae_mean**2 + vae_std**2 - 1) / 2, "missing the log term"),
            WrongVariant("kl", (vae_mean**2 + vae_std - 1 - sp.log(vae_std)) / 2, "sigma in place of sigma^2"),
            WrongVariant("kl", (vae_mean**2 + vae_std**2 - 1 + sp.log(vae_std**2)) / 2, "sign of the log flipped"),
        ),
    )


@derivation(
    id="elbo.prior_term",
    title="Prior term of the bound: KL(q(x_T | x_0) || N(0, 1))",
    statement=r"$\mathrm{KL}(q(x_T\mid x_0)\,\|\,\mathcal N(0, I)) = \tfrac12\big[\bar\alpha_T(\|x_0\|^2 - d) - "
    r"d\log(1-\bar\alpha_T)\big]$ (here per dimension, $\bar\alpha_t$ read at $t = T$). At $T = 1000$: "
    r"linear $\beta$ 1e-4..0.02 has $\bar\alpha_T = 4.036\times10^{-5}$, the term is "
    r"$4.072\times10^{-10} + 2.018\times10^{-5} x_0^2$; scaled-linear 0.00085..0.012 has "
    r"$\bar\alpha_T = 4.660\times10^{-3}$ and $5.446\times10^{-6} + 2.330\times10^{-3} x_0^2$ "
    r"(`tests/test_elbo.py` recomputes them).",
    tier=Tier.EXACT,
    assumptions=(r"$0 < \bar\alpha_T < 1$; prior $p(x_T) = \mathcal N(0, I)$",),
    references=(HO_2020_ELBO, *KL_REFERENCES),
)
def prior_term() -> Body:
    from derivations.families.ddpm import marginal_form

    mean, var = marginal_form(alpha_bar_t)
    divergence = kl(mean, var, 0, 1)
    at_zero = divergence.subs(x_0, 0)
    return Body(
        steps=(Relation(r"subtract the value at $x_0 = 0$: the term is $\bar\alpha_T x_0^2/2$ above it",
                        held_sum(divergence, -at(divergence, {x_0: 0})), alpha_bar_t * x_0**2 / 2),),
        results=(
            Result("kl", divergence, "KL(q(x_T | x_0) || N(0, 1)) per dimension"),
            Result("kl_at_zero", at_zero, "the term at x_0 = 0"),
        ),
        equivalents=(Equivalent("kl", (alpha_bar_t * (x_0**2 - 1) - sp.log(1 - alpha_bar_t)) / 2,
                                "gaussian.kl with the marginal of ddpm.marginal, terms collected"),),
        wrong_variants=(
            WrongVariant("kl", (alpha_bar_t * (x_0**2 - 1) - sp.log(alpha_bar_t)) / 2,
                         "log(alpha_bar_T) for log(1 - alpha_bar_T)"),
            WrongVariant("kl", (alpha_bar_t**2 * x_0**2 - alpha_bar_t - sp.log(1 - alpha_bar_t)) / 2,
                         "mean coefficient alpha_bar_T without the square root"),
            WrongVariant("kl_at_zero", -sp.log(1 - alpha_bar_t) / 2, "missing the trace term -alpha_bar_T/2"),
        ),
    )


@derivation(
    id="elbo.decomposition",
    title="The gap of the diffusion ELBO is the KL to the model's posterior; the bound's three terms",
    statement=r"$\log p_\theta(x_0) - \mathrm{ELBO} = \mathrm{KL}(q(x_{1:T}\mid x_0)\,\|\,p_\theta(x_{1:T}\mid x_0)) "
    r"\ge 0$ with $\mathrm{ELBO} = E_q\log p_\theta(x_0\mid x_1) - \mathrm{KL}(q(x_T\mid x_0)\,\|\,p(x_T)) - "
    r"\sum_{t\ge2} E_q\mathrm{KL}(q(x_{t-1}\mid x_t,x_0)\,\|\,p_\theta(x_{t-1}\mid x_t))$. Proved for $T = 2$ "
    r"with symbolic schedule ($\alpha_1 = \bar\alpha_1$ is `alpha_bar_prev`, $\alpha_2$ is `alpha_t`) and "
    r"symbolic linear-Gaussian reverse kernels $p_\theta(x_{t-1}\mid x_t) = \mathcal N(a_t x_t + b_t, v_t)$, "
    r"at every $x_0$ (hence for any data law); the joint KL is computed by the chain rule through the "
    r"model's own forward conditionals $p_\theta(x_t\mid x_{t-1})$ (`gaussian.linear_bayes`), so it is a sum "
    r"of expected KLs and non-negative. `tests/test_elbo.py` repeats the identity exactly for $T = 3$ and in "
    r"float64 for $T = 1000$ (linear schedule, data $\mathcal N(m, s^2)$).",
    tier=Tier.EXACT,
    assumptions=(r"$0 < \alpha_t < 1$; prior $p(x_T) = \mathcal N(0, 1)$; reverse kernels with $v_t > 0$",
                 r"one dimension (coordinate-wise for diagonal models)"),
    references=(SOHL_DICKSTEIN_2015, HO_2020_ELBO, KINGMA_2021),
)
def decomposition() -> Body:
    from sympy import stats

    alphas = [alpha_bar_prev, alpha_t]  # T = 2: alpha_bar_1 = alpha_1
    kernels = [(rev_gain_1, rev_offset_1, rev_var_1), (rev_gain_2, rev_offset_2, rev_var_2)]
    terms = bound_terms(alphas, kernels, x_0, Backend("sympy"))
    (a_1, b_1, v_1), (a_2, b_2, v_2) = kernels

    # The model's marginals: x_2 ~ N(0, 1), x_1 ~ N(b_2, V_1), x_0 ~ N(a_1 b_2 + b_1, V_0).
    var_1 = named("V_1", "V_1", a_2**2 + v_2, description=r"variance of $x_1$ under the model")
    var_0 = named("V_0", "V_0", a_1**2 * var_1 + v_1, description=r"variance of $x_0$ under the model")
    log_evidence = log_density(x_0, a_1 * b_2 + b_1, var_0)
    # The forward posterior q(x_1 | x_2, x_0) of ddpm.posterior (T = 2: alpha_bar_prev is alpha_bar_1).
    posterior = get("ddpm.posterior")
    c_0 = named("c_0", r"\tilde c_0", posterior.result("coef_x0"),
                description=r"coefficient of $x_0$ in the posterior mean $\tilde\mu_2$ (`ddpm.posterior`)")
    c_2 = named("c_2", r"\tilde c_2", posterior.result("coef_xt"),
                description=r"coefficient of $x_2$ in $\tilde\mu_2$ (`ddpm.posterior`)")

    # Each term in closed form: a Gaussian expectation of a quadratic is its value at the mean plus the
    # curvature times the variance; x_1 ~ N(sqrt(ab_1) x_0, 1 - ab_1), x_2 ~ N(sqrt(ab_2) x_0, 1 - ab_2).
    reconstruction = (-sp.log(2 * sp.pi * v_1) / 2
                      - ((x_0 - a_1 * sp.sqrt(alpha_bar_prev) * x_0 - b_1) ** 2 + a_1**2 * (1 - alpha_bar_prev)) / (2 * v_1))
    prior_kl = kl(sp.sqrt(alpha_bar_t) * x_0, 1 - alpha_bar_t, 0, 1)
    mean_gap = lambda x_2: c_0 * x_0 + c_2 * x_2 - a_2 * x_2 - b_2  # noqa: E731 - tilde mu_2 - mu_theta at x_2
    spread = (c_2 - a_2) ** 2 * (1 - alpha_bar_t)
    step_kl = ((sp.log(v_2 / beta_tilde_t) + beta_tilde_t / v_2 - 1) / 2
               + (mean_gap(sp.sqrt(alpha_bar_t) * x_0) ** 2 + spread) / (2 * v_2))
    swapped = ((sp.log(beta_tilde_t / v_2) + v_2 / beta_tilde_t - 1) / 2
               + (mean_gap(sp.sqrt(alpha_bar_t) * x_0) ** 2 + spread) / (2 * beta_tilde_t))
    term_rec = named("L_rec", r"\mathcal R", reconstruction,
                     description=r"reconstruction $E_q\log p_\theta(x_0\mid x_1)$")
    term_prior = named("L_2", "L_2", prior_kl, description=r"prior term $\mathrm{KL}(q(x_2\mid x_0)\,\|\,p(x_2))$")
    term_step = named("L_1", "L_1", step_kl, description=r"step term $E_q\mathrm{KL}(q(x_1\mid x_2,x_0)\,\|\,"
                      r"p_\theta(x_1\mid x_2))$")
    elbo = held_sum(term_rec, -term_prior, -term_step)

    # The joint KL by the chain rule through the model's own forward conditionals (gaussian.linear_bayes):
    # p_theta(x_1 | x_0) = N(b_2 + k_1 (x_0 - a_1 b_2 - b_1), V_1 v_1 / V_0), k_1 = a_1 V_1 / V_0, and
    # p_theta(x_2 | x_1) = N(k_2 (x_1 - b_2), v_2 / V_1), k_2 = a_2 / V_1.
    gain_1, gain_2 = a_1 * var_1 / var_0, a_2 / var_1
    kl_1 = kl(sp.sqrt(alpha_bar_prev) * x_0, 1 - alpha_bar_prev,
              b_2 + gain_1 * (x_0 - a_1 * b_2 - b_1), var_1 * v_1 / var_0)
    slope = sp.sqrt(alpha_t) - gain_2
    kl_2 = ((sp.log(v_2 / (var_1 * (1 - alpha_t))) + (1 - alpha_t) * var_1 / v_2 - 1) / 2
            + var_1 * ((slope * sp.sqrt(alpha_bar_prev) * x_0 + gain_2 * b_2) ** 2 + slope**2 * (1 - alpha_bar_prev))
            / (2 * v_2))
    joint_kl = held_sum(named("KL_1", r"K_1", kl_1, description=r"$\mathrm{KL}(q(x_1\mid x_0)\,\|\,"
                              r"p_\theta(x_1\mid x_0))$"),
                        named("KL_2", r"K_2", kl_2, description=r"$E_q\mathrm{KL}(q(x_2\mid x_1)\,\|\,"
                              r"p_\theta(x_2\mid x_1))$"))
    evidence = named("log_p", r"\log p_\theta(x_0)", log_evidence, description="log-likelihood of the two-step model")

    # The bound as an integral over the chain's own noises, by SymPy's probability integrals.
    x_1 = sp.sqrt(alpha_bar_prev) * x_0 + sp.sqrt(1 - alpha_bar_prev) * stats.Normal("Z1", 0, 1)
    x_2 = sp.sqrt(alpha_t) * x_1 + sp.sqrt(1 - alpha_t) * stats.Normal("Z2", 0, 1)
    log_ratio = (log_density(x_2, 0, 1) + log_density(x_1, a_2 * x_2 + b_2, v_2) + log_density(x_0, a_1 * x_1 + b_1, v_1)
                 - log_density(x_1, sp.sqrt(alpha_bar_prev) * x_0, 1 - alpha_bar_prev)
                 - log_density(x_2, sp.sqrt(alpha_t) * x_1, 1 - alpha_t))
    bound = r"\log p_\theta(x_{0:2}) - \log q(x_{1:2}\mid x_0)"
    integral = held("E_q", rf"E_q\left[{bound}\right]", (), stats.E(sp.expand(log_ratio)))
    two_point = held("T", rf"\mathcal T\left[{bound}\right]", (), terms["elbo_direct"])
    return Body(
        steps=(
            Relation(r"integrate the log-ratio over the chain's noises (`sympy.stats`): the bound is reconstruction "
                     r"$-$ prior term $-$ step term", integral, elbo),
            Relation(r"the two-point rule $\mathcal T$ of `bound_terms` (nodes $m \pm \sqrt v$), used at $T = 1000$, "
                     r"is exact on these quadratic integrands", two_point, integral),
            Relation(r"the step term of `bound_terms` (two-point rule over $x_2$) is the closed form $L_1$", term_step,
                     held("T_step", r"\mathcal T_{x_2}\left[\mathrm{KL}(q(x_1\mid x_2,x_0)\,\|\,"
                          r"p_\theta(x_1\mid x_2))\right]", (), terms["step_kls"][0])),
            Relation(r"the model's marginal of $x_0$: push $\mathcal N(0, 1)$ through both reverse kernels",
                     evidence, held("log_p_push", r"\log\mathcal N(x_0; \text{push-forward of }\mathcal N(0, 1))",
                                    (), terms["log_evidence"])),
            Relation(r"the gap is the KL from $q(x_{1:2}\mid x_0)$ to the model's posterior $p_\theta(x_{1:2}\mid x_0)$"
                     r", by the chain rule through $p_\theta(x_1\mid x_0)$ and $p_\theta(x_2\mid x_1)$",
                     held_sum(evidence, -elbo), joint_kl),
        ),
        results=(
            Result("log_evidence", evidence, "log p_theta(x_0) of the two-step model"),
            Result("elbo", elbo, "the bound, decomposed"),
            Result("reconstruction", term_rec, "E_q log p_theta(x_0 | x_1)"),
            Result("prior_kl", term_prior, "KL(q(x_2 | x_0) || N(0, 1))"),
            Result("step_kl", term_step, "E_q KL(q(x_1 | x_2, x_0) || p_theta(x_1 | x_2))"),
            Result("gap", held_sum(evidence, -elbo), "log p_theta(x_0) - ELBO"),
            Result("joint_kl", joint_kl, "KL(q(x_1, x_2 | x_0) || p_theta(x_1, x_2 | x_0))"),
        ),
        equivalents=(
            Equivalent("prior_kl", (alpha_bar_t * (x_0**2 - 1) - sp.log(1 - alpha_bar_t)) / 2, "elbo.prior_term at T = 2"),
        ),
        wrong_variants=(
            WrongVariant("elbo", held_sum(term_rec, -term_step), "prior term dropped"),
            WrongVariant("elbo", held_sum(term_rec, -term_prior, term_step), "step term added instead of subtracted"),
            WrongVariant("step_kl", swapped, "KL arguments swapped: KL(p_theta || q)"),
            WrongVariant("gap", held_sum(term_prior, term_step), "gap taken as the bound's own KL terms"),
        ),
    )


def _forward_moments(alphas: Sequence[sp.Expr], t: int) -> tuple[sp.Expr, sp.Expr]:
    r"""Mean and variance of :math:`q(x_t \mid x_0)` for the chain with ``alphas`` (``ddpm.marginal``)."""
    from derivations.families.ddpm import marginal_form

    return marginal_form(sp.Mul(*alphas[:t]))


def _tidy(expr: sp.Expr) -> sp.Expr:
    """Log terms kept apart, the rest over one factored denominator (for reading)."""
    terms = sp.Add.make_args(sp.expand(expr))
    logs = sp.Add(*[term for term in terms if term.has(sp.log)])
    return logs + sp.factor(sp.cancel(expand_definitions(sp.Add(*[term for term in terms if not term.has(sp.log)]))))


def _weight(kl_minus_const: sp.Expr, target: sp.Expr, prediction: sp.Expr) -> sp.Expr:
    r"""The coefficient :math:`w` in :math:`\mathrm{KL} - C = w\,(\text{target} - \text{prediction})^2`,
    read off as the coefficient of :math:`\text{target}^2` (a relation then proves the whole form)."""
    coefficient = sp.Poly(sp.expand(kl_minus_const), target, prediction).coeff_monomial(target**2)
    return sp.factor(sp.cancel(expand_definitions(coefficient)))


@derivation(
    id="elbo.weights",
    title="Per-step KL as a weighted regression loss in the x_0, eps, score and v parameterizations",
    statement=r"With $p_\theta(x_{t-1}\mid x_t) = \mathcal N(\mu_\theta, \sigma_t^2)$, "
    r"$\mathrm{KL}(q(x_{t-1}\mid x_t,x_0)\,\|\,p_\theta) = \frac{(\tilde\mu_t - \mu_\theta)^2}{2\sigma_t^2} + C$, "
    r"$C = \tfrac12[\log(\sigma_t^2/\tilde\beta_t) + \tilde\beta_t/\sigma_t^2 - 1]$ ($= 0$ at $\sigma_t^2 = \tilde\beta_t$). "
    r"With $\mu_\theta = \tilde\mu_t$ evaluated at the prediction, the weights of the squared errors are "
    r"$\frac{\bar\alpha_{t-1}\beta_t^2}{2\sigma_t^2(1-\bar\alpha_t)^2}$ ($x_0$), "
    r"$\frac{\beta_t^2}{2\sigma_t^2\alpha_t(1-\bar\alpha_t)}$ ($\varepsilon$), "
    r"$\frac{\beta_t^2}{2\sigma_t^2\alpha_t}$ (score), $\frac{\bar\alpha_{t-1}\beta_t^2}{2\sigma_t^2(1-\bar\alpha_t)}$ "
    r"($v = \sqrt{\bar\alpha_t}\varepsilon - \sqrt{1-\bar\alpha_t}x_0$). At $\sigma_t^2 = \tilde\beta_t$ the $x_0$ weight "
    r"is $\tfrac12(\mathrm{SNR}_{t-1} - \mathrm{SNR}_t)$ and the $\varepsilon$ weight $\tfrac12\lambda_t$, "
    r"$\lambda_t = \mathrm{SNR}_{t-1}/\mathrm{SNR}_t - 1$. VE (posterior of `ve.posterior`): "
    r"$\frac{(\sigma_i^2-\sigma_{i-1}^2)^2}{2\sigma_t^2\sigma_i^4}$ ($x_0$), times $\sigma_i^2$ ($\varepsilon$, "
    r"$x_0 = x_i - \sigma_i\varepsilon$), times $\sigma_i^4$ (score, $x_0 = x_i + \sigma_i^2 s$); at the posterior "
    r"variance the $x_0$ weight is $\tfrac12(1/\sigma_{i-1}^2 - 1/\sigma_i^2)$.",
    tier=Tier.EXACT,
    assumptions=(r"$t \ge 2$; one dimension (the squared norm sums coordinates)",
                 r"the model's mean is the posterior mean with the prediction in place of the truth"),
    references=(HO_2020_ELBO, KINGMA_2021, SALIMANS_HO_2022),
)
def weights() -> Body:
    post = get("ddpm.posterior")
    mean, mean_eps, post_var = post.result("mean"), post.result("mean_eps"), post.result("var")
    const = kl(0, post_var, 0, var_model)

    def excess(true_mean: sp.Expr, model_mean: sp.Expr, var: sp.Expr = post_var, c: sp.Expr = const) -> sp.Expr:
        return kl(true_mean, var, model_mean, var_model) - c

    def kl_minus_c(value: sp.Expr, posterior: str, prediction: str) -> sp.Expr:
        """KL - C shown as written, with the model's mean the posterior mean at the prediction."""
        return held("KLC", rf"\mathrm{{KL}}\left(q\,\|\,\mathcal N({posterior}|_{{{prediction}}}, \sigma_t^2)\right) - C",
                    (), value)

    kl_x0 = excess(mean, mean.subs(x_0, x0_hat))
    kl_eps = excess(mean_eps, mean_eps.subs(eps, eps_hat))
    to_score = {eps: -sp.sqrt(1 - alpha_bar_t) * cond_score_t}
    kl_score = excess(mean_eps.subs(to_score), mean_eps.subs(eps, -sp.sqrt(1 - alpha_bar_t) * score_hat))
    # x_0 from (x_t, v): solve x_t = sqrt(ab) x_0 + sqrt(1-ab) eps, v = sqrt(ab) eps - sqrt(1-ab) x_0.
    solved = sp.solve([sp.Eq(x_t, sp.sqrt(alpha_bar_t) * x_0 + sp.sqrt(1 - alpha_bar_t) * eps),
                       sp.Eq(v_target, sp.sqrt(alpha_bar_t) * eps - sp.sqrt(1 - alpha_bar_t) * x_0)], [x_0, eps], dict=True)[0]
    x0_from_v = sp.simplify(solved[x_0])
    kl_v = excess(mean.subs(x_0, x0_from_v), mean.subs(x_0, x0_from_v.subs(v_target, v_hat)))
    w_x0, w_eps = _weight(kl_x0, x_0, x0_hat), _weight(kl_eps, eps, eps_hat)
    w_score, w_v = _weight(kl_score, cond_score_t, score_hat), _weight(kl_v, v_target, v_hat)
    at_tilde = {var_model: post_var}

    ve = get("ve.posterior")
    ve_mean, ve_var = ve.result("mean"), ve.result("var")
    ve_const = kl(0, ve_var, 0, var_model)
    ve_x0 = excess(ve_mean, ve_mean.subs(x_0, x0_hat), ve_var, ve_const)
    from_eps = lambda e: x_ve_i - sp.sqrt(var_ve_i) * e  # noqa: E731 - x_0 = x_i - sigma_i eps
    from_score = lambda s: x_ve_i + var_ve_i * s  # noqa: E731 - x_0 = x_i + sigma_i^2 s
    ve_eps = excess(ve_mean.subs(x_0, from_eps(eps)), ve_mean.subs(x_0, from_eps(eps_hat)), ve_var, ve_const)
    ve_score = excess(ve_mean.subs(x_0, from_score(cond_score_ve)), ve_mean.subs(x_0, from_score(score_hat)),
                      ve_var, ve_const)
    wv_x0, wv_eps = _weight(ve_x0, x_0, x0_hat), _weight(ve_eps, eps, eps_hat)
    wv_score = _weight(ve_score, cond_score_ve, score_hat)
    noising = sp.sqrt(alpha_bar_t) * x_0 + sp.sqrt(1 - alpha_bar_t) * eps  # x_t, and v below, written out
    velocity = sp.sqrt(alpha_bar_t) * eps - sp.sqrt(1 - alpha_bar_t) * x_0
    # Ho et al. (2020), eq. (8): L_{t-1} = E_q[||mu_tilde - mu_theta||^2 / (2 sigma_t^2)] + C, with eq. (7)'s
    # coefficient of x_0; eq. (12): the weight beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t)) of ||eps - eps_theta||^2.
    sigma_t_sq = sp.Symbol("sigma_t^2")
    snr_s, snr_t_src = sp.symbols("SNR(s) SNR(t)")
    return Body(
        steps=(
            Relation(r"the Gaussian KL (`gaussian.kl`) at two variances $\tilde\beta_t$, $\sigma_t^2$, less its value "
                     r"$C$ at equal means, is the squared mean error over $2\sigma_t^2$",
                     held("KLC", r"\mathrm{KL}\left(\mathcal N(\tilde\mu_t, \tilde\beta_t)\,\|\,\mathcal N(\mu_\theta, "
                          r"\sigma_t^2)\right) - C", (), kl(x_0, post_var, x0_hat, var_model) - const),
                     (x_0 - x0_hat) ** 2 / (2 * var_model)),
            Relation(r"$x_0$ form: $\mu_\theta = \tilde\mu_t(x_t, \hat x_0)$; read off the weight $w_{x_0}$",
                     kl_minus_c(kl_x0, r"\tilde\mu_t", r"x_0 = \hat x_0"), w_x0 * (x_0 - x0_hat) ** 2),
            Relation(r"$\varepsilon$ form: $\mu_\theta = \tilde\mu_t(x_t, \hat\varepsilon)$ (`ddpm.posterior`, "
                     r"$\varepsilon$ form)", kl_minus_c(kl_eps, r"\tilde\mu_t", r"\varepsilon = \hat\varepsilon"),
                     w_eps * (eps - eps_hat) ** 2),
            Relation(r"score form: $\varepsilon = -\sqrt{1-\bar\alpha_t}\,s$", kl_minus_c(kl_score, r"\tilde\mu_t",
                     r"s = \hat s"), w_score * (cond_score_t - score_hat) ** 2),
            Relation(r"$v$ form: solve $x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\varepsilon$, "
                     r"$v = \sqrt{\bar\alpha_t}\varepsilon - \sqrt{1-\bar\alpha_t}x_0$ for $x_0 = \sqrt{\bar\alpha_t}x_t"
                     r" - \sqrt{1-\bar\alpha_t}v$; substituted back it returns $x_0$",
                     held_sum(held_product(sp.sqrt(alpha_bar_t), noising), -held_product(sp.sqrt(1 - alpha_bar_t), velocity)),
                     x_0),
            Relation(r"$v$ form: KL $- C = w_v(v - \hat v)^2$", kl_minus_c(kl_v, r"\tilde\mu_t", r"v = \hat v"),
                     w_v * (v_target - v_hat) ** 2),
            Relation(r"evaluate $C$ at $\sigma_t^2 = \tilde\beta_t$: it vanishes", at(const, at_tilde), 0),
            Relation(r"VE, $x_0$ form (posterior of `ve.posterior`)", kl_minus_c(ve_x0, r"\tilde\mu_i", r"x_0 = \hat x_0"),
                     wv_x0 * (x_0 - x0_hat) ** 2),
            Relation(r"VE, $\varepsilon$ form ($x_0 = x_i - \sigma_i\varepsilon$)",
                     kl_minus_c(ve_eps, r"\tilde\mu_i", r"\varepsilon = \hat\varepsilon"), wv_eps * (eps - eps_hat) ** 2),
            Relation(r"VE, score form ($x_0 = x_i + \sigma_i^2 s$)", kl_minus_c(ve_score, r"\tilde\mu_i", r"s = \hat s"),
                     wv_score * (cond_score_ve - score_hat) ** 2),
        ),
        results=(
            Result("kl_const", _tidy(canonical_logs(const)), "C: the KL at a perfect prediction"),
            Result("weight_x0", w_x0, "weight of (x_0 - x0_hat)^2"),
            Result("weight_eps", w_eps, "weight of (eps - eps_hat)^2"),
            Result("weight_score", w_score, "weight of (s - s_hat)^2"),
            Result("weight_v", w_v, "weight of (v - v_hat)^2"),
            Result("weight_x0_posterior_var", sp.factor(sp.cancel(expand_definitions(w_x0.subs(at_tilde)))),
                   "x_0 weight at sigma_t^2 = beta_tilde_t"),
            Result("lambda_t", sp.factor(sp.cancel(expand_definitions(2 * w_eps.subs(at_tilde)))),
                   "twice the eps weight at beta_tilde_t"),
            Result("weight_ve_x0", wv_x0, "VE weight of (x_0 - x0_hat)^2"),
            Result("weight_ve_eps", wv_eps, "VE weight of (eps - eps_hat)^2"),
            Result("weight_ve_score", wv_score, "VE weight of (s - s_hat)^2"),
            Result("weight_ve_x0_posterior_var", sp.factor(sp.cancel(wv_x0.subs(var_model, ve_var))),
                   "VE x_0 weight at the posterior variance"),
        ),
        claims=(
            Claim.as_printed("weight_x0", (sp.sqrt(alpha_bar_prev) * beta_t / (1 - alpha_bar_t)) ** 2 / (2 * sigma_t_sq),
                             "Ho et al. (2020)", r"eq. (8) (weight $1/(2\sigma_t^2)$) with the $x_0$ coefficient of eq. (7)",
                             {sigma_t_sq: var_model}),
            Claim.as_printed("weight_eps", beta_t**2 / (2 * sigma_t_sq * alpha_t * (1 - alpha_bar_t)), "Ho et al. (2020)",
                             "eq. (12)", {sigma_t_sq: var_model}),
            Claim.as_printed("weight_x0_posterior_var", (snr_s - snr_t_src) / 2, "Kingma et al. (2021)",
                             r"eq. (13), the weight of $\|x - \hat x_\theta\|^2$ per step, $s = t - 1$",
                             {snr_s: snr_prev, snr_t_src: snr_t}),
        ),
        equivalents=(
            Equivalent("kl_const", canonical_logs((sp.log(var_model / beta_tilde_t) + beta_tilde_t / var_model - 1) / 2),
                       "gaussian.kl with equal means"),
            Equivalent("weight_score", beta_t**2 / (2 * var_model * alpha_t), r"the $\varepsilon$ weight times "
                       r"$1 - \bar\alpha_t$"),
            Equivalent("weight_v", alpha_bar_prev * beta_t**2 / (2 * var_model * (1 - alpha_bar_t)),
                       r"the $x_0$ weight times $1 - \bar\alpha_t$"),
            Equivalent("lambda_t", snr_prev / snr_t - 1, r"the SNR ratio $\mathrm{SNR}_{t-1}/\mathrm{SNR}_t - 1$"),
            Equivalent("weight_ve_x0", var_ve_step**2 / (2 * var_model * var_ve_i**2),
                       r"the squared $x_0$ coefficient of `ve.posterior` over $2\sigma_t^2$"),
            Equivalent("weight_ve_score", var_ve_step**2 / (2 * var_model), r"the squared variance increment over "
                       r"$2\sigma_t^2$"),
            Equivalent("weight_ve_x0_posterior_var", (1 / var_ve_prev - 1 / var_ve_i) / 2,
                       r"half the SNR difference with $\mathrm{SNR} = 1/\sigma^2$"),
        ),
        wrong_variants=(
            WrongVariant("weight_x0", alpha_bar_prev * beta_t**2 / (2 * var_model**2 * (1 - alpha_bar_t) ** 2),
                         "squared variance in the weight"),
            WrongVariant("weight_x0", alpha_bar_prev * beta_t**2 / (2 * var_model * (1 - alpha_bar_t)),
                         "1 - alpha_bar_t not squared"),
            WrongVariant("weight_eps", beta_t**2 / (2 * var_model * (1 - alpha_bar_t)), "missing alpha_t"),
            WrongVariant("weight_eps", beta_t / (2 * var_model * alpha_t * (1 - alpha_bar_t)), "beta_t not squared"),
            WrongVariant("kl_const", (sp.log(beta_tilde_t / var_model) + beta_tilde_t / var_model - 1) / 2,
                         "log ratio inverted"),
            WrongVariant("lambda_t", snr_t / snr_prev - 1, "SNR ratio inverted"),
            WrongVariant("weight_x0_posterior_var", snr_prev - snr_t, "missing the factor 1/2"),
            WrongVariant("weight_ve_score", var_ve_step / (2 * var_model), "increment not squared"),
        ),
    )


def aligned_sums(expr: sp.Expr) -> sp.Expr:
    r"""``expr`` with every sum over the steps split into single terms, each re-indexed so that its
    summand reads at the index itself (:math:`\sum_{t=2}^T F(t-1) = \sum_{t=1}^{T-1} F(t)`) and written over
    :math:`1..T` plus its boundary terms: two sides whose sums differ only by re-indexing and endpoints then
    expand to the same terms (how a telescoping or a shifted sum is proved)."""
    expr = sp.sympify(expr).doit()

    def single_terms(total: sp.Sum) -> sp.Expr:
        (index, low, high), = total.limits
        out = sp.Integer(0)
        for term in sp.Add.make_args(sp.expand(total.function)):
            coefficient, rest = term.as_independent(index, as_Add=False)
            if isinstance(rest, AppliedUndef) and len(rest.args) == 1 and (rest.args[0] - index).is_Integer:
                shift = rest.args[0] - index
                out += coefficient * sp.Sum(rest.func(index), (index, low + shift, high + shift))
            else:
                out += coefficient * sp.Sum(rest, (index, low, high))
        return out

    def over_one_to_horizon(total: sp.Sum) -> sp.Expr:
        (index, low, high), = total.limits
        offset, horizon = high.as_coeff_Add()
        if not (low.is_Integer and offset.is_Integer and horizon != 0):
            return total
        term = lambda k: total.function.subs(index, k)  # noqa: E731
        out = sp.Sum(total.function, (index, 1, horizon))
        out += -sum((term(k) for k in range(1, int(low))), sp.Integer(0)) + sum((term(k) for k in range(int(low), 1)),
                                                                               sp.Integer(0))
        out += sum((term(horizon + k) for k in range(1, int(offset) + 1)), sp.Integer(0))
        out -= sum((term(horizon + k) for k in range(int(offset) + 1, 1)), sp.Integer(0))
        return out

    expr = sp.expand(expr.replace(lambda e: isinstance(e, sp.Sum), single_terms))
    return sp.expand(expr.replace(lambda e: isinstance(e, sp.Sum), over_one_to_horizon))


_step = sp.Symbol("t", integer=True, positive=True)  # index over the chain's steps, bound inside the sums
# The chain's log-densities as functions of the step, undefined: an identity over them holds for every model.
_log_one_step, _log_marginal, _log_posterior, _log_reverse, _log_prior = (
    sp.Function(name) for name in ("log_q_step", "log_q_marginal", "log_q_posterior", "log_p_reverse", "log_p_prior"))


def chain_log_densities(bayes: bool) -> dict[str, Callable[..., sp.Expr]]:
    r"""The chain's log-densities at a step ``k``, each shown as written (:math:`\log q(x_k\mid x_{k-1})`, ...).

    With ``bayes`` the one-step kernel stands for Bayes' rule, :math:`\log q(x_k\mid x_0)` at :math:`k = 1` and
    :math:`\log q(x_{k-1}\mid x_k,x_0) + \log q(x_k\mid x_0) - \log q(x_{k-1}\mid x_0)` beyond (proved for the
    Gaussian chain in ``elbo.generic_t``); without, it is a density of its own."""
    marginal = lambda k: held("lqm", r"\log q(x_{@0}\mid x_0)", (k,), _log_marginal(k))  # noqa: E731
    posterior = lambda k: held("lqp", r"\log q(x_{@1}\mid x_{@0},x_0)", (k, k - 1), _log_posterior(k))  # noqa: E731

    def one_step(k: sp.Expr) -> sp.Expr:
        if not bayes:
            value = _log_one_step(k)
        else:
            value = _log_marginal(k) if k == 1 else _log_posterior(k) + _log_marginal(k) - _log_marginal(k - 1)
        return held("lqs", r"\log q(x_{@0}\mid x_{@1})", (k, k - 1), value)

    return dict(one_step=one_step, marginal=marginal, posterior=posterior,
                reverse=lambda k: held("lpr", r"\log p_\theta(x_{@1}\mid x_{@0})", (k, k - 1), _log_reverse(k)),
                prior=lambda k: held("lpp", r"\log p(x_{@0})", (k,), _log_prior(k)))


LUO_2022 = "C. Luo, Understanding Diffusion Models: A Unified Perspective, arXiv:2208.11970 (2022), eqs. (34)-(45)"


@derivation(
    id="elbo.generic_t",
    title="The diffusion ELBO for every horizon T, and its denoising term at a generic step t",
    statement=r"For every $T \ge 1$, $\log\frac{p(x_T)\prod_{t=1}^T p_\theta(x_{t-1}\mid x_t)}{\prod_{t=1}^T "
    r"q(x_t\mid x_{t-1})} = \log p_\theta(x_0\mid x_1) + \log\frac{p(x_T)}{q(x_T\mid x_0)} + \sum_{t=2}^T "
    r"\log\frac{p_\theta(x_{t-1}\mid x_t)}{q(x_{t-1}\mid x_t,x_0)}$ pointwise, so "
    r"$\mathrm{ELBO} = E_q\log p_\theta(x_0\mid x_1) - \mathrm{KL}(q(x_T\mid x_0)\,\|\,p(x_T)) - \sum_{t=2}^T L_{t-1}$. "
    r"Proved by induction on $T$: the base case $T = 1$ (where $q(x_1\mid x_0)$ is both the one-step kernel and "
    r"the marginal), and the step $T \to T + 1$ (the new step is $t = T + 1$): the log of the product grows by "
    r"$\log p(x_t) + \log p_\theta(x_{t-1}\mid x_t) - \log q(x_t\mid x_{t-1}) - \log p(x_{t-1})$ (the consistency "
    r"form, read off the product), and the decomposed form by the new prior term less the old one plus the new "
    r"denoising term; the two increments agree by Bayes' rule for $q(x_{t-1}\mid x_t,x_0)$, which telescopes "
    r"$\sum_{t=2}^T[\log q(x_t\mid x_0) - \log q(x_{t-1}\mid x_0)]$. The same is proved for a symbolic $T$ "
    r"with the sums held (Bayes' rule substituted, the telescoping sum re-indexed), and so is the consistency "
    r"form $\log p_\theta(x_0\mid x_1) + \log\frac{p(x_T)}{q(x_T\mid x_{T-1})} + \sum_{t=1}^{T-1}\log\frac{p_\theta("
    r"x_t\mid x_{t+1})}{q(x_t\mid x_{t-1})}$ of the same product. The denoising term at a generic $t$ with "
    r"$p_\theta(x_{t-1}\mid x_t) = \mathcal N(a_t x_t + b_t, \sigma_t^2)$: $L_{t-1} = E_{q(x_t\mid x_0)}\mathrm{KL}(q(x_{t-1}"
    r"\mid x_t,x_0)\,\|\,p_\theta(x_{t-1}\mid x_t)) = \tfrac12[\log(\sigma_t^2/\tilde\beta_t) + \tilde\beta_t/\sigma_t^2 - 1] + "
    r"\frac{(\tilde c_0 x_0 + (\tilde c_t - a_t)\sqrt{\bar\alpha_t}x_0 - b_t)^2 + (\tilde c_t - a_t)^2(1-\bar\alpha_t)}"
    r"{2\sigma_t^2}$, $\tilde c_0, \tilde c_t$ the posterior mean's coefficients (`ddpm.posterior`).",
    tier=Tier.EXACT,
    assumptions=(r"$t \ge 2$; $0 < \alpha_s < 1$; prior $p(x_T) = \mathcal N(0, 1)$; reverse kernels with $\sigma_t^2 > 0$",
                 r"one dimension (coordinate-wise for diagonal models)"),
    references=(SOHL_DICKSTEIN_2015, HO_2020_ELBO, LUO_2022),
)
def generic_t() -> Body:
    from sympy import stats

    from derivations.families.ddpm import marginal_form

    posterior = get("ddpm.posterior")
    post_mean, post_var = posterior.result("mean"), posterior.result("var")
    model_mean = rev_gain_t * x_t + rev_offset_t

    def density(name: str, latex: str, value: sp.Expr, mean: sp.Expr, var: sp.Expr, what: str) -> sp.Expr:
        return named(name, latex, log_density(value, mean, var), description=what)

    one_step = density("log_q_step", r"\log q(x_t\mid x_{t-1})", x_t, sp.sqrt(alpha_t) * x_prev, beta_t,
                       r"the forward one-step kernel (`ddpm.one_step`)")
    prev_marginal = density("log_q_prev", r"\log q(x_{t-1}\mid x_0)", x_prev, *marginal_form(alpha_bar_prev),
                            r"the forward marginal at $t - 1$ (`ddpm.marginal`)")
    marginal = density("log_q_t", r"\log q(x_t\mid x_0)", x_t, *marginal_form(alpha_bar_t),
                       r"the forward marginal at $t$ (`ddpm.marginal`)")
    post = density("log_q_post", r"\log q(x_{t-1}\mid x_t,x_0)", x_prev, post_mean, post_var,
                   r"the forward posterior (`ddpm.posterior`)")
    reverse = density("log_p_rev", r"\log p_\theta(x_{t-1}\mid x_t)", x_prev, model_mean, var_model,
                      r"the reverse kernel $\mathcal N(a_t x_t + b_t, \sigma_t^2)$")
    prior_new = density("log_p_T1", r"\log p(x_t)", x_t, 0, 1, r"the prior $\mathcal N(0, 1)$ at the new horizon $t = T + 1$")
    prior_old = density("log_p_T", r"\log p(x_{t-1})", x_prev, 0, 1, r"the prior $\mathcal N(0, 1)$ at the old horizon $T$")

    # The increment of the log of the product when the horizon grows from T to t = T + 1 (x_T = x_{t-1}).
    increment = held_sum(prior_new, reverse, -one_step, -prior_old)
    decomposed = held_sum(held_sum(prior_new, -marginal), -held_sum(prior_old, -prev_marginal), held_sum(reverse, -post))
    # T = 1: q(x_1 | x_0) is the one-step kernel from x_0 and the marginal at alpha_bar_0 = 1.
    first = {alpha_bar_prev: 1}

    # L_{t-1}: the KL of gaussian.kl averaged over x_t ~ q(x_t | x_0) (exact two-point rule on a quadratic),
    # and, by a second route, the log-ratio integrated over the chain's noises by sympy.stats.
    sympy_backend = Backend("sympy")
    step_term = gauss_expect(lambda xt: kl(post_mean.subs(x_t, xt), post_var, model_mean.subs(x_t, xt), var_model),
                             sp.sqrt(alpha_bar_t) * x_0, 1 - alpha_bar_t, sympy_backend)
    c_0 = named("c_0", r"\tilde c_0", posterior.result("coef_x0"),
                description=r"coefficient of $x_0$ in the posterior mean $\tilde\mu_t$ (`ddpm.posterior`)")
    c_t = named("c_t", r"\tilde c_t", posterior.result("coef_xt"),
                description=r"coefficient of $x_t$ in $\tilde\mu_t$ (`ddpm.posterior`)")
    # The same value collected: the KL at the mean of x_t plus the curvature of its quadratic times the spread.
    collected = held_sum((sp.log(var_model / beta_tilde_t) + beta_tilde_t / var_model - 1) / 2,
                         ((c_0 * x_0 + (c_t - rev_gain_t) * sp.sqrt(alpha_bar_t) * x_0 - rev_offset_t) ** 2
                          + (c_t - rev_gain_t) ** 2 * (1 - alpha_bar_t)) / (2 * var_model))
    term = named("L_step", r"L_{t-1}", collected, description=r"the denoising term $E_q\mathrm{KL}(q(x_{t-1}\mid "
                 r"x_t,x_0)\,\|\,p_\theta(x_{t-1}\mid x_t))$ at step $t$")
    averaged = held("T_kl", r"\mathcal T_{x_t}\left[\mathrm{KL}(q(x_{t-1}\mid x_t,x_0)\,\|\,p_\theta(x_{t-1}\mid x_t))"
                    r"\right]", (), step_term)
    x_prev_rv = sp.sqrt(alpha_bar_prev) * x_0 + sp.sqrt(1 - alpha_bar_prev) * stats.Normal("Z1", 0, 1)
    x_t_rv = sp.sqrt(alpha_t) * x_prev_rv + sp.sqrt(beta_t) * stats.Normal("Z2", 0, 1)
    log_ratio = (log_density(x_prev, post_mean, post_var) - log_density(x_prev, model_mean, var_model)).xreplace(
        {x_prev: x_prev_rv, x_t: x_t_rv})
    sampled = held("E_q", r"E_{q(x_{t-1}, x_t\mid x_0)}\left[\log q(x_{t-1}\mid x_t,x_0) - \log p_\theta(x_{t-1}\mid x_t)"
                   r"\right]", (), stats.E(sp.expand(log_ratio)))
    coef_0, coef_t = posterior.result("coef_x0"), posterior.result("coef_xt")
    gap = coef_0 * x_0 + (coef_t - rev_gain_t) * sp.sqrt(alpha_bar_t) * x_0 - rev_offset_t
    printed = ((sp.log(var_model / beta_tilde_t) + beta_tilde_t / var_model - 1) / 2
               + (gap**2 + (coef_t - rev_gain_t) ** 2 * (1 - alpha_bar_t)) / (2 * var_model))
    swapped = ((sp.log(beta_tilde_t / var_model) + var_model / beta_tilde_t - 1) / 2
               + (gap**2 + (coef_t - rev_gain_t) ** 2 * (1 - alpha_bar_t)) / (2 * beta_tilde_t))
    # Every horizon at once: sums over t = 1..T of the chain's log-densities as functions of the step.
    bayes, plain = chain_log_densities(bayes=True), chain_log_densities(bayes=False)
    k = _step
    log_product = held_sum(bayes["prior"](steps_T), bayes["reverse"](1), -bayes["one_step"](1),
                           sp.Sum(bayes["reverse"](k) - bayes["one_step"](k), (k, 2, steps_T)))
    decomposed_any = held_sum(bayes["reverse"](1), held_sum(bayes["prior"](steps_T), -bayes["marginal"](steps_T)),
                              sp.Sum(bayes["reverse"](k) - bayes["posterior"](k), (k, 2, steps_T)))
    product = held_sum(plain["prior"](steps_T), sp.Sum(plain["reverse"](k) - plain["one_step"](k), (k, 1, steps_T)))
    consistency = held_sum(plain["reverse"](1), held_sum(plain["prior"](steps_T), -plain["one_step"](steps_T)),
                           sp.Sum(plain["reverse"](k + 1) - plain["one_step"](k), (k, 1, steps_T - 1)))
    return Body(
        steps=(
            Relation(r"base case $T = 1$: $q(x_1\mid x_0)$ is the one-step kernel from $x_0$ and the marginal at "
                     r"$\bar\alpha_0 = 1$, so the two forms of the bound agree (the sum over $t \ge 2$ is empty)",
                     at(one_step, {x_prev: x_0}), at(marginal, first)),
            Relation(r"induction step $T \to T + 1$ ($t = T + 1$, $x_T = x_{t-1}$): the decomposed form grows by the "
                     r"new prior term less the old one plus the denoising term; the log of the product grows by the "
                     r"consistency increment; Bayes' rule for $q(x_{t-1}\mid x_t,x_0)$ makes them equal",
                     decomposed, increment),
            Relation(r"Bayes' rule for the forward chain at a generic $t$ (the Gaussian log-densities): "
                     r"$\log q(x_t\mid x_{t-1}) = \log q(x_{t-1}\mid x_t,x_0) + \log q(x_t\mid x_0) - "
                     r"\log q(x_{t-1}\mid x_0)$", one_step, held_sum(post, marginal, -prev_marginal)),
            Relation(r"the telescoping sum, for a symbolic $T$ (any log-densities)",
                     sp.Sum(bayes["marginal"](_step) - bayes["marginal"](_step - 1), (_step, 2, steps_T)),
                     held_sum(bayes["marginal"](steps_T), -bayes["marginal"](1)), prepare=aligned_sums),
            Relation(r"every horizon $T$ at once (symbolic $T$): the log of the product, its $t = 1$ term split off "
                     r"($q(x_1\mid x_0)$ is the marginal, the base case) and Bayes' rule (above) substituted for "
                     r"$t \ge 2$, telescopes to the decomposed form", log_product, decomposed_any, prepare=aligned_sums),
            Relation(r"the consistency form for a symbolic $T$ (Luo's eq. (45) before the expectations): the same "
                     r"product regrouped, each reverse kernel $p_\theta(x_t\mid x_{t+1})$ paired with "
                     r"$q(x_t\mid x_{t-1})$, no Bayes' rule needed", consistency, product, prepare=aligned_sums),
            Relation(r"the denoising term at a generic $t$: average `gaussian.kl` between the posterior and the "
                     r"reverse kernel over $x_t \sim q(x_t\mid x_0)$ by the two-point rule $\mathcal T$ (exact on this "
                     r"quadratic in $x_t$)", averaged, term, prepare=canonical_logs),
            Relation(r"the same term by a second route: integrate the log-ratio over the chain's noises "
                     r"$x_{t-1} = \sqrt{\bar\alpha_{t-1}}x_0 + \sqrt{1-\bar\alpha_{t-1}}Z_1$, "
                     r"$x_t = \sqrt{\alpha_t}x_{t-1} + \sqrt{\beta_t}Z_2$ (`sympy.stats`); logarithms split into factors",
                     sampled, term, prepare=canonical_logs),
        ),
        results=(
            Result("log_one_step", one_step, "log q(x_t | x_{t-1})"),
            Result("log_prev_marginal", prev_marginal, "log q(x_{t-1} | x_0)"),
            Result("log_marginal", marginal, "log q(x_t | x_0)"),
            Result("log_posterior", post, "log q(x_{t-1} | x_t, x_0)"),
            Result("log_reverse", reverse, "log p_theta(x_{t-1} | x_t)"),
            Result("log_prior_new", prior_new, "log p(x_T+1) at x_t"),
            Result("log_prior_old", prior_old, "log p(x_T) at x_{t-1}"),
            Result("bound_increment", increment, "growth of the log of the product from horizon T to T + 1"),
            Result("step_integrand", held_sum(post, -reverse), "the log-ratio whose mean is L_{t-1}"),
            Result("step_term", term, "L_{t-1} = E_q KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t))"),
        ),
        claims=(
            Claim("step_term", printed, "Ho et al. (2020), eq. (5) with gaussian.kl and eq. (7)",
                  equation=r"$L_{t-1}$ for a Gaussian reverse kernel, averaged over $x_t$"),
            Claim("bound_increment", decomposed, "Luo (2022)", equation=r"eqs. (36)-(43), one step of the telescoping"),
        ),
        wrong_variants=(
            WrongVariant("bound_increment", held_sum(held_sum(prior_new, -marginal), -held_sum(prior_old, -prev_marginal),
                                                     held_sum(reverse, -one_step)),
                         "one-step kernel q(x_t | x_{t-1}) in place of the posterior q(x_{t-1} | x_t, x_0)"),
            WrongVariant("bound_increment", held_sum(held_sum(prior_new, -prev_marginal), -held_sum(prior_old, -marginal),
                                                     held_sum(reverse, -post)), "the two marginals exchanged"),
            WrongVariant("step_term", swapped, "KL arguments swapped: KL(p_theta || q)"),
            WrongVariant("step_term", printed.subs(beta_tilde_t, beta_t), "beta_t in place of beta_tilde_t"),
        ),
    )
