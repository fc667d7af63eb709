r"""EDM's stochastic sampler (Karras, Aittala, Aila, Laine 2022, Algorithm 2): churn, then Heun.

At a step :math:`t_i \to t_{i+1}` the level is first raised to :math:`\hat t_i = (1 + \gamma_i)t_i`,
:math:`\gamma_i = \min(S_{\rm churn}/N, \sqrt2 - 1)` when :math:`t_i \in [S_{t\min}, S_{t\max}]` and 0
otherwise (:func:`derivations.core.step_vocabulary.churn_gamma`), by the forward kernel from
:math:`t_i` to :math:`\hat t_i`:

.. math:: \hat x = \frac{m_{\hat t}}{m_t}x + S_{\rm noise}\sqrt{v_{\hat t} - (m_{\hat t}/m_t)^2 v_t}\;z,

which on EDM's own parameterization :math:`m = s = 1`, :math:`v = \sigma^2 = t^2` is Algorithm 2's
line 6, :math:`\hat x = x + \sqrt{\hat t^2 - t^2}\,S_{\rm noise} z`, and in general its scaled form
:math:`\frac{s(\hat t)}{s(t)}x + s(\hat t)\sqrt{\sigma(\hat t)^2 - \sigma(t)^2}\,S_{\rm noise} z`. Then one
Heun step of the probability-flow ODE from :math:`\hat t_i` to :math:`t_{i+1}` (lines 7-11), Euler on
the last step (line 9: no correction onto :math:`\sigma = 0`).

The raise is taken in the process's own time variable: on :math:`\sigma(t) = t` that is Karras et al.'s
:math:`\hat t = t + \gamma t`; on another process (the VP process of the exact W2 table) it is the same
rule read in that process's time, not a raise of :math:`\sigma` by :math:`1 + \gamma`.

Defaults: :math:`S_{\rm churn} = 30`, :math:`S_{t\min} = 0.01`, :math:`S_{t\max} = 1`, Karras et al.'s
CIFAR-10 values (appendix E, Table 5), here read in the process's time. :math:`S_{\rm noise} = 1`, not
their 1.007: a noise scale above 1 offsets a trained denoiser's errors; with the exact score it adds
:math:`(S_{\rm noise}^2 - 1)(\hat t^2 - t^2)` at every churned step, a bias that does not vanish as the
steps shrink (the total churn :math:`\sum_i\gamma_i \approx S_{\rm churn}` stays fixed).

With exact scores the churn maps :math:`p_t` exactly onto :math:`p_{\hat t}` (``edm.churn``), so the
only error is Heun's over :math:`[\hat t_i, t_{i+1}]`, a step of :math:`O(1/N)`: weak order 2, as
Algorithm 1, which is the case :math:`S_{\rm churn} = 0`.
"""

from __future__ import annotations

from derivations.catalogue import Column, Option, Scheme, register, variant
from derivations.catalogue import pieces
from derivations.core.registry import Claim, WrongVariant

KARRAS_2 = "Karras, Aittala, Aila, Laine (2022), Algorithm 2 and Table 5 (CIFAR-10: S_churn 30, S_tmin 0.01, S_tmax 1)"


def edm_churn(ops, x, churn, churn_t_min, churn_t_max, noise_scale):
    r"""Raise :math:`t \to \hat t` by the forward kernel with fresh noise, then Heun from :math:`\hat t` to
    :math:`t'` (Euler on the last step)."""
    now, raised = ops.now, ops.raised(churn, churn_t_min, churn_t_max)
    gain = raised.mean_coef / now.mean_coef
    x_hat = gain * x + ops.noise(x, noise_scale**2 * (raised.var - gain**2 * now.var))
    h = ops.h - raised.rise  # t' - t_hat
    slope = pieces.drift(raised, x_hat, 0)
    predicted = x_hat + h * slope
    if ops.last:
        return predicted
    return x_hat + h / 2 * (slope + pieces.drift(ops.next, predicted, 0))


def _vocabulary_hat():
    from derivations.core import notation as n

    s = pieces.vocabulary()
    rate_hat = -(n.f_hat_st + n.g2_hat_st * n.prec_hat_pg / 2)
    return s, n.a_hat_st, n.b_hat_st, n.rise_st, n.noise_scale_edm, rate_hat


def _raise_var(s, a_hat, b_hat, root: bool = False):
    """Karras et al.'s t_hat^2 - t^2 in scaled form, s(t_hat)^2 (sigma_hat^2 - sigma^2) with s = m, sigma^2 = v/m^2;
    ``root``: the misprint s(t_hat)^2 (sigma_hat - sigma), t_hat - t for t_hat^2 - t^2."""
    m_now = s.a * s.m_next
    m_hat, v_hat = a_hat * m_now, a_hat**2 * s.v_now + b_hat
    if root:
        return m_hat**2 * (s.sqrt(v_hat) / m_hat - s.sqrt(s.v_now) / m_now)
    return m_hat**2 * (v_hat / m_hat**2 - s.v_now / m_now**2)


def _heun_gain(s, span, rate_hat, corrected: bool = True):
    """Heun (or Euler) over [t', t_hat], span t_hat - t', on y' = r y in reversed time."""
    euler = 1 + span * rate_hat
    return 1 + span / 2 * (rate_hat + s.r_next * euler) if corrected else euler


def _claims():
    s, a_hat, b_hat, rise, scale, rate_hat = _vocabulary_hat()
    span = s.dt + rise
    gain, heun, euler = a_hat, _heun_gain(s, span, rate_hat), _heun_gain(s, span, rate_hat, False)
    noise = scale**2 * _raise_var(s, a_hat, b_hat)
    return (Claim("gain", gain * heun, KARRAS_2 + ": lines 5-11, the churn's forward kernel then Heun from t_hat"),
            Claim("noise_var", heun**2 * noise, KARRAS_2 + ": line 6, fresh noise of variance t_hat^2 - t^2"),
            Claim("gain_last", gain * euler, KARRAS_2 + ": line 9, Euler onto sigma = 0"),
            Claim("noise_var_last", euler**2 * noise, KARRAS_2 + ": line 6 on the last step"))


def _wrong():
    s, a_hat, b_hat, rise, scale, rate_hat = _vocabulary_hat()
    span = s.dt + rise
    gain, heun = a_hat, _heun_gain(s, span, rate_hat)
    return (WrongVariant("noise_var", heun**2 * scale**2 * _raise_var(s, a_hat, b_hat, root=True),
                         "fresh noise of variance t_hat - t for t_hat^2 - t^2"),
            WrongVariant("noise_var", heun**2 * scale**2 * (a_hat**2 * s.v_now + b_hat),
                         "fresh noise of the whole variance t_hat^2 at t_hat (the state's own noise counted twice)"),
            WrongVariant("gain", gain * _heun_gain(s, s.dt, rate_hat),
                         "Heun over t' - t from t_hat: the step not lengthened by the churn"),
            WrongVariant("gain_last", gain * heun, "the second-order correction kept on the last step"))


register(Scheme(
    "edm_churn", "EDM's stochastic sampler: churn to t_hat = (1 + gamma) t, then a Heun step", edm_churn,
    r"\hat x = \frac{m_{\hat t}}{m_t}x + S_{\rm noise}\sqrt{v_{\hat t} - \tfrac{m_{\hat t}^2}{m_t^2}v_t}\,z,\ "
    r"\tilde x = \hat x + (t' - \hat t)\,b_0(\hat t, \hat x),\ "
    r"x' = \hat x + \tfrac{t' - \hat t}{2}(b_0(\hat t, \hat x) + b_0(t', \tilde x)) \text{ (} \tilde x \text{ on the last "
    r"step)},\ \hat t = (1 + \gamma_i)t,\ \gamma_i = \min(S_{\rm churn}/N, \sqrt2 - 1)",
    KARRAS_2, "a reverse SDE of EDM's family (eq. 6): the probability-flow ODE with churn; its marginals p_t", "vp",
    # The checks run S_churn = 10: gamma = S_churn/N stays below the cap from the order sweep's coarsest grid
    # (64 steps) on, so the fitted slope sees the regime gamma ~ 1/N (at 30 the coarsest grid is capped and the
    # slope over 64..512 steps reads 1.69). The W2 table's column runs the paper's 30.
    variants=(variant({"churn": 10.0}, 64),),
    claims=_claims, wrong_variants=_wrong,
    options=(Option("churn", 30.0, low=0.0), Option("churn_t_min", 0.01, low=0.0), Option("churn_t_max", 1.0, low=0.0),
             Option("noise_scale", 1.0, symbol="noise_scale_edm", low=0.0)),
    weak_order=2.0, deterministic_when={"churn": 0.0}, table=(Column("EDM-churn", {"noise_scale": 1.0}),), reverse_family=True,
))
