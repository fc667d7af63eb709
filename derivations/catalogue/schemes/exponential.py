"""Exponential integrators: the linear part solved exactly, the noise prediction or the score frozen."""

from __future__ import annotations

from derivations.catalogue import PIERRET_GALERNE, ZHANG_CHEN, Column, Scheme, register, variant
from derivations.catalogue import pieces
from derivations.core.registry import Claim, WrongVariant


def exponential_eps(ops, x, lam):
    r"""Linear part exact, :math:`\hat\varepsilon` frozen: with :math:`\rho = \sqrt v/m`,
    :math:`x' = \frac{m'}{m}x + (1+\lambda^2) m'(\rho' - \rho)\hat\varepsilon`,
    noise :math:`\lambda^2 m'^2(\rho^2 - \rho'^2)`."""
    now, nxt = ops.now, ops.next
    rho, rho_next = ops.sqrt(now.var) / now.mean_coef, ops.sqrt(nxt.var) / nxt.mean_coef
    eps = pieces.eps_hat(ops, now, x)
    x_next = nxt.mean_coef / now.mean_coef * x + (1 + lam**2) * nxt.mean_coef * (rho_next - rho) * eps
    return x_next + ops.noise(x, lam**2 * nxt.mean_coef**2 * (rho**2 - rho_next**2))


def exponential_score(ops, x):
    r"""Reverse SDE, linear part exact, score frozen: :math:`x' = e^h x + 2(e^h - 1) s`, noise
    :math:`e^{2h} - 1`, where :math:`e^h = m_{t'}/m_t`; exact integrals when :math:`g^2 = -2f` (VP)."""
    now, nxt = ops.now, ops.next
    growth = nxt.mean_coef / now.mean_coef
    return growth * x + 2 * (growth - 1) * now.score(x) + ops.noise(x, growth**2 * now.var - nxt.var)


def _exponential_claims():
    s = pieces.vocabulary()
    rho, rho_next = s.sqrt(s.v_now) / (s.a * s.m_next), s.sqrt(s.v_next) / s.m_next
    return (Claim("gain", 1 / s.a - (1 + s.lam**2) * s.sqrt(s.v_next) * (rho / rho_next - 1) * s.sqrt(s.v_now) * s.p_k,
                  "Lu et al. (2022), DPM-Solver-1: x' = (m'/m) x - sigma'(e^h - 1) eps, weight 1 + lambda^2"),
            Claim("noise_var", s.lam**2 * s.b / s.a**2, "DEIS: lambda^2 m'^2 (rho^2 - rho'^2)"))


def _exponential_wrong():
    s = pieces.vocabulary()
    return (WrongVariant("noise_var", s.lam * s.b / s.a**2, "lambda not squared in the noise"),
            WrongVariant("gain", 1 / s.a + (1 + s.lam**2) * s.sqrt(s.v_next) * s.sqrt(s.v_now) * s.p_k,
                         "e^h - 1 replaced by -1 (the step's log-SNR gain dropped)"))


register(Scheme(
    "exponential_integrator", "Exponential integrator with the noise prediction frozen", exponential_eps,
    r"x' = \frac{m_{t'}}{m_t}x + (1+\lambda^2) m_{t'}(\rho_{t'} - \rho_t)\hat\varepsilon + "
    r"\lambda m_{t'}\sqrt{\rho_t^2 - \rho_{t'}^2}\,z,\ \rho = \sqrt v/m",
    ZHANG_CHEN, "the reverse lambda-family, linear part exact, noise prediction frozen", "vp",
    variants=(variant({"lam": 0.0}, 800, 5000), variant({"lam": 1.0}, 800, 5000)),
    claims=_exponential_claims, wrong_variants=_exponential_wrong,
    deterministic_when={"lam": 0.0}, options=(pieces.LAM,), reverse_family=True,
))


def _score_frozen_claims():
    s = pieces.vocabulary()
    return (Claim("gain", 1 / s.a - 2 * (1 / s.a - 1) * s.p_k,
                  "Pierret & Galerne (2025): e^h - 2 (e^h - 1) Sigma^{-1}, e^h = m_t'/m_t"),
            Claim("noise_var", s.b / s.a**2, "Pierret & Galerne (2025): e^{2h} - 1 (= b/a^2 on VP)"))


def _score_frozen_wrong():
    s = pieces.vocabulary()
    return (WrongVariant("noise_var", 2 * s.b / s.a**2, "gamma_2 without the factor 1/2"),
            WrongVariant("gain", 1 + (1 - 2 * s.p_k) / s.a, "gamma_1 = e^h (missing -1)"))


register(Scheme(
    "exponential_integrator_score", "Exponential integrator on the reverse SDE with the score frozen",
    exponential_score,
    r"x' = e^{h_k} x + 2(e^{h_k} - 1)\,s_t(x) + \sqrt{e^{2h_k} - 1}\,z,\ e^{h_k} = m_{t'}/m_t",
    PIERRET_GALERNE, "the reverse SDE, linear part exact, score frozen", "vp",
    variants=(variant({}, 800, 5000),),
    claims=_score_frozen_claims, wrong_variants=_score_frozen_wrong,
    table=(Column("EI"),), reverse_family=True,
    assumptions=(r"variance-preserving process ($g^2 = -2f$), where the frozen score's weight "
                 r"$\int (m_{t'}/m_u) g_u^2\,du$ is $2(m_{t'}/m_t - 1)$",),
))
