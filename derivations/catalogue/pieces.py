r"""The pieces the rules share, and the vocabulary their claims are written in.

Rules call these through the module (``pieces.eps_hat(...)``), so that every rule reads
one definition of each piece.
"""

from __future__ import annotations

from derivations.catalogue.record import Option

# The lambda-family's option (0: the probability-flow ODE, 1: the reverse SDE), shared by its rules.
LAM = Option("lam", 1.0, symbol="lam_rev", low=0.0)

def drift(at, x, lam=1):
    r"""Reverse :math:`\lambda`-family drift :math:`f x - \tfrac12(1+\lambda^2) g^2 s(x)` (Song et al. 2021,
    eq. (13) generalized); :math:`\lambda = 0` is the probability-flow ODE."""
    return at.drift_coef * x - (1 + lam**2) * at.diffusion_sq * at.score(x) / 2


def eps_hat(ops, at, x):
    r"""The noise prediction :math:`\hat\varepsilon = -\sqrt{v}\, s(x)`."""
    return -ops.sqrt(at.var) * at.score(x)


def langevin(ops, at, x, step):
    """One Langevin step :math:`x + \\epsilon s + \\sqrt{2\\epsilon} z` at the level ``at``."""
    return x + step * at.score(x) + ops.noise(x, 2 * step)


def euler(ops, x):
    return x + ops.h * drift(ops.now, x, 0)


def heun(ops, x):
    slope = drift(ops.now, x, 0)
    return x + ops.h / 2 * (slope + drift(ops.next, x + ops.h * slope, 0))


def rk4(ops, x):
    h = ops.h
    k1 = drift(ops.now, x, 0)
    k2 = drift(ops.mid, x + h / 2 * k1, 0)
    k3 = drift(ops.mid, x + h / 2 * k2, 0)
    k4 = drift(ops.next, x + h * k3, 0)
    return x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def lambda_em(ops, x, lam):
    """Euler–Maruyama on the :math:`\\lambda`-family: drift :math:`b_\\lambda`, noise variance
    :math:`\\lambda^2 g^2 |h|`."""
    return x + ops.h * drift(ops.now, x, lam) + ops.noise(x, -lam**2 * ops.now.diffusion_sq * ops.h)


# --------------------------------------------------------------------------
# Claims read the step maps' vocabulary (derivations.core.notation, "_st"): the kernel N(a x, b)
# from t' to t (a = m_t / m_{t'}, b = v_{t|t'}), v_t = a^2 v_{t'} + b, the SDE's f and g^2, the precisions prec of p_t, the step
# Delta = t - t' > 0; "rate" r = -(f + g^2 prec / 2) is the probability-flow ODE's y'/y in
# reversed time, so an Euler step multiplies y by 1 + Delta r.
# --------------------------------------------------------------------------

def vocabulary():
    """The claims' vocabulary, built on first use (no SymPy work at import)."""
    import sympy as sp

    from derivations.core import notation as n

    class S:
        a, b, m_next, v_next, dt = n.a_st, n.b_st, n.m_next_st, n.v_next_st, n.dt_pg
        v_now = n.a_st**2 * n.v_next_st + n.b_st
        p_k, p_next, p_mid = n.prec_k_pg, n.prec_next_pg, n.prec_mid_pg
        m_mid, v_mid = n.m_mid_st, n.v_mid_st
        r_k = -(n.f_k_st + n.g2_k_st * n.prec_k_pg / 2)
        r_next = -(n.f_next_st + n.g2_next_st * n.prec_next_pg / 2)
        r_mid = -(n.f_mid_st + n.g2_mid_st * n.prec_mid_pg / 2)
        f_k, g2_k, eta, lam, snr, ratio = n.f_k_st, n.g2_k_st, n.eta_ddim, n.lam_rev, n.snr_st, n.ratio_st
        zero, sqrt, log = sp.Integer(0), sp.sqrt, sp.log

    return S


def heun_gain(s, weight: int = 1, predicted: bool = True):
    return 1 + s.dt / 2 * weight * (s.r_k + s.r_next * (1 + s.dt * s.r_k if predicted else 1))


def rk4_gain(s, weights=(1, 2, 2, 1), scale=6, last_at_mid=False):
    r1 = s.r_k
    r2 = s.r_mid * (1 + s.dt / 2 * r1)
    r3 = s.r_mid * (1 + s.dt / 2 * r2)
    r4 = (s.r_mid if last_at_mid else s.r_next) * (1 + s.dt * r3)
    return 1 + s.dt / scale * sum(w * r for w, r in zip(weights, (r1, r2, r3, r4)))
