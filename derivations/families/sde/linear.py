r"""sde.linear_reverse: the reverse drift of a linear SDE with its coefficients written apart.

For :math:`dX = \mu(t)X\,dt + \sigma(t)\,dW` (drift :math:`f = \mu x`, diffusion :math:`g = \sigma`), the
reverse SDE of ``fp.reverse_sde`` has, in forward time, the drift :math:`\mu x - \sigma^2\nabla\log p_t(x)`.
The VP SDE is :math:`\mu = -\tfrac12\beta`, :math:`\sigma = \sqrt\beta`; the VE SDE is :math:`\mu = 0`,
:math:`\sigma^2 = d[\sigma(t)^2]/dt`. For a Gaussian marginal :math:`\mathcal N(0, V(t))` (data
:math:`\mathcal N(0, V(0))`), whose variance solves :math:`\dot V = 2\mu V + \sigma^2`, the reversed process
:math:`Y_s = X_{T-s}` with that drift keeps the variance :math:`V(T-s)`: a relation checks it.
"""

from __future__ import annotations

import sympy as sp

from derivations.core.notation import beta_now, f_fp, g_fp, mu_lin, score_fp, sigma_lin, sigma_ve, time, var_lin, x_sde
from derivations.core.proof import Tier
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation, get
from derivations.core.work import at, derivative, held_product, held_sum
from derivations.families.gaussian import log_density

SONG_2021 = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, eqs. (6), (9), (11)"
SARKKA_SOLIN = "S. Särkkä, A. Solin, Applied Stochastic Differential Equations, CUP 2019, §6.1 (linear SDEs)"


@derivation(
    id="sde.linear_reverse",
    title="Reverse drift of a linear SDE dX = mu X dt + sigma dW, and its VP and VE cases",
    statement=r"For $dX = \mu(t)X\,dt + \sigma_{\mathrm{lin}}(t)\,dW$ the reverse SDE (forward-time convention) has "
    r"drift $\mu(t)x - \sigma_{\mathrm{lin}}(t)^2\nabla\log p_t(x)$ (`fp.reverse_sde` with $f = \mu x$, "
    r"$g = \sigma_{\mathrm{lin}}$). VP: $\mu = -\tfrac12\beta(t)$, $\sigma_{\mathrm{lin}} = \sqrt{\beta(t)}$ give "
    r"$-\tfrac12\beta(t)x - \beta(t)\nabla\log p_t$; VE: $\mu = 0$, $\sigma_{\mathrm{lin}}^2 = d[\sigma(t)^2]/dt = "
    r"2\sigma(t)^2\log(\sigma_{\max}/\sigma_{\min})$ (`sde.ve`, $\sigma(t)$ its noise level) give "
    r"$-2\sigma(t)^2\log(\sigma_{\max}/\sigma_{\min})\nabla\log p_t$. For a Gaussian marginal "
    r"$\mathcal N(0, V(t))$, $\dot V = 2\mu V + \sigma_{\mathrm{lin}}^2$, the reversed process keeps the variance "
    r"$V(T-s)$.",
    tier=Tier.EXACT,
    assumptions=(r"$\sigma(t) > 0$; $p_t > 0$ smooth",
                 r"the variance check: zero-mean Gaussian data, one dimension"),
    references=(SONG_2021, SARKKA_SOLIN),
)
def linear_reverse() -> Body:
    general = get("fp.reverse_sde").result("drift")
    drift = general.xreplace({f_fp: mu_lin * x_sde, g_fp: sigma_lin})
    vp = {mu_lin: -beta_now / 2, sigma_lin: sp.sqrt(beta_now)}
    ve_sq = get("sde.ve").result("diffusion_sq")  # d[sigma(t)^2]/dt, derived there
    ve = {mu_lin: 0, sigma_lin: sp.sqrt(ve_sq)}
    vp_drift, ve_drift = drift.xreplace(vp), drift.xreplace(ve)
    # The variance check: score of N(0, V), and the reverse-time variance ODE of Y_s = X_{T-s}.
    gaussian_score = sp.diff(log_density(x_sde, 0, var_lin), x_sde)
    reverse_time_drift = -drift.xreplace({score_fp: gaussian_score})  # ds = -dt
    gain = sp.diff(reverse_time_drift, x_sde)
    forward_rate = 2 * mu_lin * var_lin + sigma_lin**2  # dV/dt of the forward process
    ve_level = sigma_ve
    return Body(
        steps=(
            Relation(r"the reverse drift of `fp.reverse_sde` at $f = \mu(t)x$, $g = \sigma_{\mathrm{lin}}(t)$",
                     at(general, {f_fp: mu_lin * x_sde, g_fp: sigma_lin}), drift),
            Relation(r"VP: $\mu = -\tfrac12\beta(t)$, $\sigma_{\mathrm{lin}} = \sqrt{\beta(t)}$",
                     held_sum(held_product(-beta_now / 2, x_sde), -held_product(sp.sqrt(beta_now) ** 2, score_fp)),
                     vp_drift),
            Relation(r"VE: $\sigma_{\mathrm{lin}}^2 = d[\sigma(t)^2]/dt$, differentiated", derivative(ve_level**2, time), ve_sq),
            Relation(r"the reversed process keeps the Gaussian marginal: $\frac{d}{ds}V(T-s) = -\dot V = "
                     r"-(2\mu V + \sigma_{\mathrm{lin}}^2)$ equals $2\,\partial_y b\,V + \sigma_{\mathrm{lin}}^2$ for the "
                     r"reverse-time drift $b = -(\mu y - \sigma_{\mathrm{lin}}^2\partial_y\log\mathcal N(y; 0, V))$",
                     -forward_rate, held_sum(held_product(2, gain, var_lin), sigma_lin**2)),
        ),
        results=(
            Result("reverse_drift", drift, "mu x - sigma^2 score: reverse drift, forward-time convention"),
            Result("vp_reverse_drift", vp_drift, "the VP case mu = -beta/2, sigma = sqrt(beta)"),
            Result("ve_diffusion_sq", ve_sq, "sigma^2 = d[sigma(t)^2]/dt of the VE SDE"),
            Result("ve_reverse_drift", ve_drift, "the VE case mu = 0, sigma^2 = d[sigma(t)^2]/dt"),
            Result("reverse_time_gain", gain, "slope in y of the reverse-time drift for the Gaussian marginal"),
        ),
        claims=(
            Claim.as_printed("vp_reverse_drift", -beta_now * x_sde / 2 - beta_now * score_fp, "Song et al. (2021)",
                             "eq. (6) with the VP SDE of eq. (11)"),
            Claim.as_printed("ve_reverse_drift", -ve_sq * score_fp, "Song et al. (2021)",
                             "eq. (6) with the VE SDE of eq. (9)"),
        ),
        wrong_variants=(
            WrongVariant("reverse_drift", mu_lin * x_sde - sigma_lin * score_fp, "sigma in place of sigma^2"),
            WrongVariant("reverse_drift", mu_lin * x_sde + sigma_lin**2 * score_fp, "sign of the score term flipped"),
            WrongVariant("vp_reverse_drift", -beta_now * x_sde / 2 - sp.sqrt(beta_now) * score_fp,
                         "sqrt(beta) in place of beta: sigma for sigma^2"),
            WrongVariant("ve_reverse_drift", -ve_level**2 * score_fp, "sigma(t)^2 in place of d[sigma(t)^2]/dt"),
            WrongVariant("reverse_time_gain", -mu_lin - sigma_lin / var_lin, "sigma in place of sigma^2"),
        ),
    )
