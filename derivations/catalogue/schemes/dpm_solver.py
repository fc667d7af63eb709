r"""DPM-Solver (Lu et al. 2022): exponential integrators of the probability-flow ODE in the half-log-SNR
:math:`\lambda = \log(m/\sqrt v)`, derived in :mod:`derivations.families.dpm_solver`.

The intermediate point is the step's midpoint in time, at :math:`\lambda_{s} = \lambda_t + r_1h`
with :math:`r_1 = (\lambda_s - \lambda_t)/h` read off the schedule (Lu et al.'s DPM-Solver-2 with
a general :math:`r_1`; :math:`r_1 = 1/2` where time and :math:`\lambda` are proportional over the step).
"""

from __future__ import annotations

from derivations.catalogue import Column, Scheme, register, variant
from derivations.catalogue import pieces
from derivations.core.registry import Claim, WrongVariant

LU = "Lu et al. (2022), DPM-Solver, Algorithm 1 and its general-r_1 form"
LU_PP = "Lu et al. (2022b), DPM-Solver++, Algorithm 1 (DPM-Solver++(2S)) with a general r"


def _exp_lambda(ops, at):
    r""":math:`e^\lambda = m/\sqrt v` at a time of the step."""
    return at.mean_coef / ops.sqrt(at.var)


def _first_order(ops, at_from, at_to, x, eps):
    r"""DPM-Solver-1 written as DDIM (:math:`\eta = 0`), which stays finite onto :math:`v = 0`."""
    return at_to.mean_coef * (x - ops.sqrt(at_from.var) * eps) / at_from.mean_coef + ops.sqrt(at_to.var) * eps


def dpm_solver_2(ops, x):
    r""":math:`u = \frac{m_s}{m_t}x - \sqrt{v_s}(e^{r_1h} - 1)\hat\varepsilon_t`,
    :math:`x' = \frac{m_{t'}}{m_t}x - \sqrt{v_{t'}}(e^h - 1)\hat\varepsilon_t - \frac{\sqrt{v_{t'}}}{2r_1}(e^h - 1)
    (\hat\varepsilon_s(u) - \hat\varepsilon_t)`; DPM-Solver-1 on the last step (onto :math:`v = 0` the
    half-log-SNR step is infinite)."""
    now, mid, nxt = ops.now, ops.mid, ops.next
    eps = pieces.eps_hat(ops, now, x)
    if ops.last:
        return _first_order(ops, now, nxt, x, eps)
    growth = _exp_lambda(ops, nxt) / _exp_lambda(ops, now)  # e^h
    growth_mid = _exp_lambda(ops, mid) / _exp_lambda(ops, now)  # e^{r_1 h}
    r = ops.log(growth_mid) / ops.log(growth)
    u = _first_order(ops, now, mid, x, eps)
    correction = pieces.eps_hat(ops, mid, u) - eps
    return (nxt.mean_coef / now.mean_coef * x - ops.sqrt(nxt.var) * (growth - 1) * eps
            - ops.sqrt(nxt.var) / (2 * r) * (growth - 1) * correction)


def _named_ratio(name: str, tex: str, ratio, description: str):
    r"""A ratio of :math:`e^\lambda` the claims print by its name (its definition listed on the page), so
    that the claimed gain reads as Lu et al. write it rather than as a wall of square roots."""
    from derivations.core.work import named

    return named(name, tex, ratio, description=description)


def _dpm2_gain(s, growth_sign: int = 1, correction_factor: bool = True):
    """The gain of Lu et al.'s update in the step maps' vocabulary (score -prec y, so eps = sqrt(v) prec y)."""
    m_now, v_now = s.a * s.m_next, s.v_now
    exp_lam = _named_ratio("E_h", r"\mathcal E_h", (s.m_next / s.sqrt(s.v_next)) / (m_now / s.sqrt(v_now)),
                           r"$e^{h} = e^{\lambda_{t'} - \lambda_t}$, $e^\lambda = m/\sqrt v$")
    exp_lam_mid = _named_ratio("E_s", r"\mathcal E_s", (s.m_mid / s.sqrt(s.v_mid)) / (m_now / s.sqrt(v_now)),
                               r"$e^{r_1 h} = e^{\lambda_s - \lambda_t}$ at the midpoint $s$")
    r = s.log(exp_lam_mid) / s.log(exp_lam)
    growth = exp_lam**growth_sign
    eps = s.sqrt(v_now) * s.p_k
    u = s.m_mid / m_now - s.sqrt(s.v_mid) * (exp_lam_mid - 1) * eps
    eps_u = s.sqrt(s.v_mid) * s.p_mid * u
    factor = (growth - 1) if correction_factor else 1
    return 1 / s.a - s.sqrt(s.v_next) * (growth - 1) * eps - s.sqrt(s.v_next) / (2 * r) * factor * (eps_u - eps)


def _ddim_last_gain(s, keep_noise_term: bool = True):
    """Both solvers take a first-order (DDIM, eta = 0) step onto the last level: its gain."""
    data_part = (1 - s.v_now * s.p_k) / s.a
    return data_part + s.sqrt(s.v_next) * s.sqrt(s.v_now) * s.p_k if keep_noise_term else data_part


def _ddim_last_claim(s, source: str) -> Claim:
    return Claim("gain_last", _ddim_last_gain(s), source)


def _ddim_last_wrong(s) -> WrongVariant:
    return WrongVariant("gain_last", _ddim_last_gain(s, keep_noise_term=False),
                        "last step: the term sqrt(v_{t'}) eps dropped (the rescaled data prediction alone)")


def _dpm2_claims():
    s = pieces.vocabulary()
    return (Claim("gain", _dpm2_gain(s), LU),
            _ddim_last_claim(s, "Lu et al. (2022), eq. (3.7) = DDIM (eta = 0) onto the last level"))


def _dpm2_wrong():
    s = pieces.vocabulary()
    return (WrongVariant("gain", _dpm2_gain(s, growth_sign=-1), "e^{-h} for e^{h}"),
            WrongVariant("gain", _dpm2_gain(s, correction_factor=False), "the factor (e^h - 1) of the correction missing"),
            _ddim_last_wrong(s))


register(Scheme(
    "dpm_solver_2", "DPM-Solver-2 (single step, intermediate point at the time midpoint)", dpm_solver_2,
    r"u = \frac{m_s}{m_t}x - \sqrt{v_s}(e^{r_1h} - 1)\hat\varepsilon_t(x),\ "
    r"x' = \frac{m_{t'}}{m_t}x - \sqrt{v_{t'}}(e^{h} - 1)\hat\varepsilon_t(x) - \frac{\sqrt{v_{t'}}}{2r_1}(e^{h} - 1)"
    r"(\hat\varepsilon_s(u) - \hat\varepsilon_t(x)),\ e^{h} = \frac{m_{t'}\sqrt{v_t}}{m_t\sqrt{v_{t'}}}",
    LU, "the probability-flow ODE", "vp",
    variants=(variant({}, 64),),
    claims=_dpm2_claims, wrong_variants=_dpm2_wrong,
    weak_order=2.0, deterministic_when={}, table=(Column("DPM-Solver-2", nfe_per_point=2),), reverse_family=True,
    # On VP to t = 1e-3 the lambda-step of the steps near the end stays O(1) until the time step is well
    # below 1e-3: the fitted slope climbs 1.63, 1.77 over 64..4096 steps; to 1e-2 it is 2.04.
    order_t_end=1e-2,
))


def dpmpp_2s(ops, x):
    r"""Data prediction :math:`D = (x - \sqrt v\,\hat\varepsilon)/m`:
    :math:`u = \frac{\sqrt{v_s}}{\sqrt{v_t}}x - m_s(e^{-r_1h} - 1)D_t`,
    :math:`x' = \frac{\sqrt{v_{t'}}}{\sqrt{v_t}}x - m_{t'}(e^{-h} - 1)\big((1 - \tfrac1{2r_1})D_t + \tfrac1{2r_1}D_s(u)\big)`;
    DDIM (= DPM-Solver++1) on the last step."""
    now, mid, nxt = ops.now, ops.mid, ops.next
    eps = pieces.eps_hat(ops, now, x)
    if ops.last:
        return _first_order(ops, now, nxt, x, eps)
    decay = _exp_lambda(ops, now) / _exp_lambda(ops, nxt)  # e^{-h}
    decay_mid = _exp_lambda(ops, now) / _exp_lambda(ops, mid)  # e^{-r_1 h}
    r = ops.log(decay_mid) / ops.log(decay)
    data = (x - ops.sqrt(now.var) * eps) / now.mean_coef
    u = ops.sqrt(mid.var) / ops.sqrt(now.var) * x - mid.mean_coef * (decay_mid - 1) * data
    data_mid = (u - ops.sqrt(mid.var) * pieces.eps_hat(ops, mid, u)) / mid.mean_coef
    return (ops.sqrt(nxt.var) / ops.sqrt(now.var) * x
            - nxt.mean_coef * (decay - 1) * ((1 - 1 / (2 * r)) * data + data_mid / (2 * r)))


def _dpmpp_2s_gain(s, decay_sign: int = 1, half: bool = True):
    """Lu et al.'s 2S update in the step maps' vocabulary (D = (y - v s)/m with s = -prec y)."""
    m_now, v_now = s.a * s.m_next, s.v_now
    exp_lam_now = m_now / s.sqrt(v_now)
    decay_h = _named_ratio("D_h", r"\mathcal D_h", exp_lam_now / (s.m_next / s.sqrt(s.v_next)),
                           r"$e^{-h} = e^{\lambda_t - \lambda_{t'}}$, $e^\lambda = m/\sqrt v$")
    decay = decay_h ** decay_sign
    decay_mid = _named_ratio("D_s", r"\mathcal D_s", exp_lam_now / (s.m_mid / s.sqrt(s.v_mid)),
                             r"$e^{-r_1 h} = e^{\lambda_t - \lambda_s}$ at the midpoint $s$")
    r = s.log(decay_mid) / s.log(decay_h)
    weight = 1 / (2 * r) if half else 1 / r
    data = (1 - v_now * s.p_k) / m_now
    u = s.sqrt(s.v_mid) / s.sqrt(v_now) - s.m_mid * (decay_mid - 1) * data
    data_mid = (1 - s.v_mid * s.p_mid) * u / s.m_mid
    return s.sqrt(s.v_next) / s.sqrt(v_now) - s.m_next * (decay - 1) * ((1 - weight) * data + weight * data_mid)


def _dpmpp_2s_claims():
    s = pieces.vocabulary()
    return (Claim("gain", _dpmpp_2s_gain(s), LU_PP),
            _ddim_last_claim(s, "Lu et al. (2022b), DPM-Solver++1 = DDIM (eta = 0) onto the last level"))


def _dpmpp_2s_wrong():
    s = pieces.vocabulary()
    return (WrongVariant("gain", _dpmpp_2s_gain(s, decay_sign=-1), "e^{h} for e^{-h}"),
            WrongVariant("gain", _dpmpp_2s_gain(s, half=False), "1/r for 1/(2r)"),
            _ddim_last_wrong(s))


register(Scheme(
    "dpmpp_2s", "DPM-Solver++(2S): data prediction, single step, intermediate point at the time midpoint",
    dpmpp_2s,
    r"D = \frac{x - \sqrt{v_t}\hat\varepsilon_t(x)}{m_t},\ u = \frac{\sqrt{v_s}}{\sqrt{v_t}}x - m_s(e^{-r_1h} - 1)D,\ "
    r"x' = \frac{\sqrt{v_{t'}}}{\sqrt{v_t}}x - m_{t'}(e^{-h} - 1)\big((1 - \tfrac{1}{2r_1})D + \tfrac{1}{2r_1}D_s(u)\big)",
    LU_PP, "the probability-flow ODE", "vp",
    variants=(variant({}, 64),),
    claims=_dpmpp_2s_claims, wrong_variants=_dpmpp_2s_wrong,
    weak_order=2.0, deterministic_when={}, table=(Column("DPM-Solver++2S", nfe_per_point=2),), reverse_family=True,
    order_t_end=1e-2,  # as DPM-Solver-2
))


LU_3 = "Lu et al. (2022), DPM-Solver-3 (r_1 = 1/3, r_2 = 2/3), derived in dpm_solver.dpm_solver_3"


def dpm_solver_3(ops, x):
    r"""Intermediate points at :math:`\lambda_t + h/3` and :math:`\lambda_t + 2h/3` (``ops.at_lambda``), with
    :math:`r_1, r_2` read off the schedule: :math:`u_1` = DPM-Solver-1 to the first,
    :math:`u_2 = \frac{m_{s_2}}{m_t}x - \sqrt{v_{s_2}}(e^{r_2h} - 1)\hat\varepsilon_t
    - \sqrt{v_{s_2}}\frac{r_2}{r_1}\big(\frac{e^{r_2h} - 1}{r_2h} - 1\big)D_1`,
    :math:`x' = \frac{m_{t'}}{m_t}x - \sqrt{v_{t'}}(e^h - 1)\hat\varepsilon_t - \frac{\sqrt{v_{t'}}}{r_2}
    \big(\frac{e^h - 1}{h} - 1\big)D_2`, :math:`D_i = \hat\varepsilon_{s_i}(u_i) - \hat\varepsilon_t`;
    DPM-Solver-1 onto :math:`v = 0` only, where the half-log-SNR step is infinite: Lu et al. end at
    :math:`t = \varepsilon > 0` with third-order steps throughout (a first-order last step would cap the global
    order at 2)."""
    now, nxt = ops.now, ops.next
    eps = pieces.eps_hat(ops, now, x)
    if ops.lands_clean:
        return _first_order(ops, now, nxt, x, eps)
    first, second = ops.at_lambda(1 / 3), ops.at_lambda(2 / 3)
    growth = _exp_lambda(ops, nxt) / _exp_lambda(ops, now)  # e^h
    growth_2 = _exp_lambda(ops, second) / _exp_lambda(ops, now)  # e^{r_2 h}
    h = ops.log(growth)
    r_1, r_2 = ops.log(_exp_lambda(ops, first) / _exp_lambda(ops, now)) / h, ops.log(growth_2) / h
    u_1 = _first_order(ops, now, first, x, eps)
    diff_1 = pieces.eps_hat(ops, first, u_1) - eps
    u_2 = (second.mean_coef / now.mean_coef * x - ops.sqrt(second.var) * (growth_2 - 1) * eps
           - ops.sqrt(second.var) * r_2 / r_1 * ((growth_2 - 1) / (r_2 * h) - 1) * diff_1)
    diff_2 = pieces.eps_hat(ops, second, u_2) - eps
    return (nxt.mean_coef / now.mean_coef * x - ops.sqrt(nxt.var) * (growth - 1) * eps
            - ops.sqrt(nxt.var) / r_2 * ((growth - 1) / h - 1) * diff_2)


def _dpm3_gain(s, last_weight: str = "r2", first_correction: bool = True):
    """Lu et al.'s DPM-Solver-3 gain in the step maps' vocabulary (eps = sqrt(v) prec y on centred data)."""
    from derivations.core import notation as n

    m_now, v_now = s.a * s.m_next, s.v_now
    exp_now = m_now / s.sqrt(v_now)
    growth = _named_ratio("E_h", r"\mathcal E_h", (s.m_next / s.sqrt(s.v_next)) / exp_now,
                          r"$e^{h} = e^{\lambda_{t'} - \lambda_t}$, $e^\lambda = m/\sqrt v$")
    growth_1 = _named_ratio("E_1", r"\mathcal E_1", (n.m_s1_st / s.sqrt(n.v_s1_st)) / exp_now,
                            r"$e^{r_1 h}$ at $\lambda_t + h/3$")
    growth_2 = _named_ratio("E_2", r"\mathcal E_2", (n.m_s2_st / s.sqrt(n.v_s2_st)) / exp_now,
                            r"$e^{r_2 h}$ at $\lambda_t + 2h/3$")
    h = s.log(growth)
    r_1 = _named_ratio("R_1", r"\varrho_1", s.log(growth_1) / h, r"$r_1 = (\lambda_{s_1} - \lambda_t)/h$")
    r_2 = _named_ratio("R_2", r"\varrho_2", s.log(growth_2) / h, r"$r_2 = (\lambda_{s_2} - \lambda_t)/h$")
    eps = s.sqrt(v_now) * s.p_k
    u_1 = n.m_s1_st / m_now - s.sqrt(n.v_s1_st) * (growth_1 - 1) * eps
    diff_1 = s.sqrt(n.v_s1_st) * n.prec_s1_pg * u_1 - eps
    u_2 = n.m_s2_st / m_now - s.sqrt(n.v_s2_st) * (growth_2 - 1) * eps
    if first_correction:
        u_2 -= s.sqrt(n.v_s2_st) * r_2 / r_1 * ((growth_2 - 1) / (r_2 * h) - 1) * diff_1
    diff_2 = s.sqrt(n.v_s2_st) * n.prec_s2_pg * u_2 - eps
    weight = {"r2": 1 / r_2, "r1": 1 / r_1}[last_weight]
    return 1 / s.a - s.sqrt(s.v_next) * (growth - 1) * eps - s.sqrt(s.v_next) * weight * ((growth - 1) / h - 1) * diff_2


def _dpm3_claims():
    s = pieces.vocabulary()
    return (Claim("gain", _dpm3_gain(s), LU_3),
            Claim("gain_clean", _ddim_last_gain(s), "Lu et al. (2022), eq. (3.7) = DDIM (eta = 0) onto v = 0"))


def _dpm3_wrong():
    s = pieces.vocabulary()
    return (WrongVariant("gain", _dpm3_gain(s, last_weight="r1"), "1/r_1 for 1/r_2 in the last correction"),
            WrongVariant("gain", _dpm3_gain(s, first_correction=False), "the second point without its D_1 correction"),
            WrongVariant("gain_clean", _ddim_last_gain(s, keep_noise_term=False),
                         "onto v = 0: the term sqrt(v_{t'}) eps dropped (the rescaled data prediction alone)"))


register(Scheme(
    "dpm_solver_3", "DPM-Solver-3 (single step, intermediate points at a third and two thirds of the step in lambda)",
    dpm_solver_3,
    r"u_1 = \frac{m_{s_1}}{m_t}x - \sqrt{v_{s_1}}(e^{r_1h} - 1)\hat\varepsilon_t,\ "
    r"u_2 = \frac{m_{s_2}}{m_t}x - \sqrt{v_{s_2}}(e^{r_2h} - 1)\hat\varepsilon_t - \sqrt{v_{s_2}}\frac{r_2}{r_1}"
    r"\big(\frac{e^{r_2h} - 1}{r_2h} - 1\big)D_1,\ "
    r"x' = \frac{m_{t'}}{m_t}x - \sqrt{v_{t'}}(e^{h} - 1)\hat\varepsilon_t - \frac{\sqrt{v_{t'}}}{r_2}"
    r"\big(\frac{e^{h} - 1}{h} - 1\big)D_2,\ D_i = \hat\varepsilon_{s_i}(u_i) - \hat\varepsilon_t,\ "
    r"\lambda_{s_i} = \lambda_t + \tfrac i3 h",
    LU_3, "the probability-flow ODE", "vp",
    variants=(variant({}, 64),),
    claims=_dpm3_claims, wrong_variants=_dpm3_wrong,
    weak_order=3.0, deterministic_when={}, table=(Column("DPM-Solver-3", nfe_per_point=3),), reverse_family=True,
    order_t_end=1e-2,  # as DPM-Solver-2
))
