r"""inpaint.*: inpainting 2-D Gaussian data, exactly: the true conditional, the replacement method, RePaint.

Data :math:`(x, y) \sim \mathcal N\big((\mu_0, \mu_{0,y}), \begin{psmallmatrix} s_x^2 & \rho_0 s_x s_y \\
\rho_0 s_x s_y & s_y^2\end{psmallmatrix}\big)`; the first coordinate is observed, :math:`x = x_{\mathrm o}`,
the second is inpainted. The true conditional comes from ``gaussian.linear_bayes``'s rule (the joint
written as a linear-Gaussian pair). A reverse step of the replacement method (Song et al. 2021; RePaint,
Lugmayr et al. 2022) is the catalogue's DDPM ancestral rule applied to the 2-D state with the exact
2-D score :math:`-\Sigma_t^{-1}(z - m_t\mu)`, :math:`\Sigma_t = m_t^2\Sigma_0 + v_t I`, after which the
known coordinate is replaced by a fresh draw from :math:`q(x_{t'} \mid x_{\mathrm o}) =
\mathcal N(m_{t'}x_{\mathrm o}, v_{t'})`. The unknown coordinate's update is affine in the state and the
normals, so the joint law of (known, unknown) stays Gaussian; RePaint's resampling re-noises the
state with the forward kernel :math:`\mathcal N(a z, b I)` from :math:`t'` to :math:`t`, also affine.
"""

from __future__ import annotations

import sympy as sp

from derivations import catalogue
from derivations.core.notation import (
    a_st,
    alpha_bar_t,
    b_st,
    corr_data,
    lookup,
    m_next_st,
    mean_data,
    mean_data_y,
    obs_inp,
    std_data_x,
    std_data_y,
    v_next_st,
    x_0,
    x_sde,
    y_sde,
)
from derivations.core.proof import Tier
from derivations.core import work
from derivations.core.registry import Body, Claim, Relation, Result, WrongVariant, derivation, get
from derivations.core.work import named
from derivations.families.gauss_exact import NORMALS, SymbolicOps
from derivations.families.gaussian import condition

LUGMAYR = ("A. Lugmayr, M. Danelljan, A. Romero, F. Yu, R. Timofte, L. Van Gool, RePaint: Inpainting using "
           "Denoising Diffusion Probabilistic Models, CVPR 2022, eq. (8) and Algorithm 1")
SONG_2021 = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, Appendix I.2 (imputation)"
BISHOP = "C. M. Bishop, Pattern Recognition and Machine Learning (2006), §2.3.1-2.3.3"


def data_covariance() -> sp.Matrix:
    return sp.Matrix([[std_data_x**2, corr_data * std_data_x * std_data_y],
                      [corr_data * std_data_x * std_data_y, std_data_y**2]])


def data_mean() -> sp.Matrix:
    return sp.Matrix([mean_data, mean_data_y])


@derivation(
    id="inpaint.conditional",
    title="Inpainting 2-D Gaussian data: the exact conditional of the unknown coordinate, and q(x_t | known)",
    statement=r"Writing the joint as $y \sim \mathcal N(\mu_{0,y}, s_y^2)$, $x \mid y \sim \mathcal N(a y + b, s^2)$ with "
    r"$a = \rho_0 s_x/s_y$, $b = \mu_0 - a\mu_{0,y}$, $s^2 = s_x^2(1-\rho_0^2)$ (the same joint), Bayes' rule gives "
    r"$y \mid x = x_{\mathrm o} \sim \mathcal N\big(\mu_{0,y} + \rho_0\frac{s_y}{s_x}(x_{\mathrm o} - \mu_0),\ "
    r"s_y^2(1 - \rho_0^2)\big)$. The known coordinate at level $t$ of the DDPM chain is drawn from "
    r"$q(x_t \mid x_0) = \mathcal N(\sqrt{\bar\alpha_t}\,x_0, 1 - \bar\alpha_t)$ (``ddpm.marginal``).",
    tier=Tier.EXACT,
    assumptions=(r"$|\rho_0| < 1$, $s_x, s_y > 0$",),
    references=(BISHOP, LUGMAYR),
)
def conditional() -> Body:
    gain_ = corr_data * std_data_x / std_data_y
    offset_ = mean_data - gain_ * mean_data_y
    noise_var = std_data_x**2 * (1 - corr_data**2)
    mean, var = condition(mean_data_y, std_data_y**2, gain_, offset_, noise_var, obs_inp, y_sde)
    marginal = get("ddpm.marginal")
    known_mean = marginal.result("mean").xreplace({x_0: obs_inp})
    known_var = marginal.result("var")
    return Body(
        steps=(
            Relation(r"the pair has the data's variance of $x$: $a^2 s_y^2 + s^2 = s_x^2$",
                     gain_**2 * std_data_y**2 + noise_var, std_data_x**2),
            Relation("conditional variance = Schur complement of the covariance",
                     var, data_covariance()[1, 1] - data_covariance()[0, 1] ** 2 / data_covariance()[0, 0]),
        ),
        results=(
            Result("cond_mean", mean, "E[y | x = x_o]"),
            Result("cond_var", var, "Var[y | x = x_o]"),
            Result("known_mean", known_mean, "mean of the known coordinate at level t: sqrt(alpha_bar_t) x_o"),
            Result("known_var", known_var, "its variance 1 - alpha_bar_t"),
        ),
        claims=(
            Claim("cond_mean", mean_data_y + corr_data * std_data_y / std_data_x * (obs_inp - mean_data), BISHOP),
            Claim("cond_var", std_data_y**2 * (1 - corr_data**2), BISHOP),
            Claim("known_mean", sp.sqrt(alpha_bar_t) * obs_inp,
                  r"RePaint, eq. (8): $x^{\mathrm{known}} \sim \mathcal N(\sqrt{\bar\alpha_t}\,x_0, (1-\bar\alpha_t)I)$, "
                  r"read at the level whose $\bar\alpha$ it prints (the paper labels the left side $x_{t-1}$)"),
            Claim("known_var", 1 - alpha_bar_t, r"RePaint, eq. (8): variance $(1 - \bar\alpha_t)$"),
        ),
        wrong_variants=(
            WrongVariant("cond_mean", mean_data_y + corr_data * std_data_x / std_data_y * (obs_inp - mean_data),
                         "standard deviations' ratio inverted"),
            WrongVariant("cond_var", std_data_y**2 * (1 - corr_data), "correlation not squared"),
            WrongVariant("known_mean", alpha_bar_t * obs_inp, "alpha_bar without square root"),
            WrongVariant("known_var", 1 - sp.sqrt(alpha_bar_t), "square root in the variance"),
        ),
    )


class _PlaneAt:
    r"""One time of a step for the 2-D state: the exact score :math:`-\Sigma_t^{-1}(z - m\mu)`; with a
    ``time`` glyph the precision's entries are named intermediates :math:`\Lambda^{(t)}_{ij}` (what a page
    shows), else written out (what results are read from)."""

    def __init__(self, scalar, time: str = ""):
        self.mean_coef, self.var = scalar.mean_coef, scalar.var
        self.drift_coef, self.diffusion_sq = scalar.drift_coef, scalar.diffusion_sq
        self.time = time

    def precision(self) -> sp.Matrix:
        cov = self.mean_coef**2 * data_covariance() + self.var * sp.eye(2)
        inverse = cov.inv()
        if not self.time:
            return inverse
        tag = "now" if self.time == "t" else "next"
        entries = {(i, j): named(f"Lambda_{tag}_{i + 1}{j + 1}", rf"\Lambda^{{({self.time})}}_{{{i + 1}{j + 1}}}",
                                 sp.factor(inverse[i, j]),
                                 description=rf"entry of the precision $\Sigma^{{-1}}$ of the noised data at ${self.time}$")
                   for i in range(2) for j in range(i, 2)}
        return sp.Matrix(2, 2, lambda i, j: entries[(min(i, j), max(i, j))])

    def score(self, z: sp.Matrix) -> sp.Matrix:
        return -self.precision() * (z - self.mean_coef * data_mean())


class PlaneOps(SymbolicOps):
    """The catalogue's ``ops`` over SymPy for a 2-D state (known, unknown): each noise draw is two
    new standard normals."""

    def __init__(self, flags: frozenset[str] = frozenset(), shown: bool = False):
        super().__init__(flags)
        self.now, self.next = _PlaneAt(self.now, "t" if shown else ""), _PlaneAt(self.next, "t'" if shown else "")

    def noise(self, z, var):
        var = sp.sympify(var)
        if var == 0:
            return sp.zeros(2, 1)
        draws = NORMALS[len(self.normals):len(self.normals) + 2]
        self.normals.extend(draws)
        return sp.sqrt(var) * sp.Matrix(draws)


SCHEME = "ddpm_ancestral"


@derivation(
    id="inpaint.replacement_step",
    title="One replacement (RePaint) step on 2-D Gaussian data: the unknown coordinate's affine update",
    statement=r"The catalogue's DDPM ancestral rule on the state $z = (x, y)$ with the exact 2-D score gives "
    r"$y' = A_x x + A_y y + d + \sum_j B_j z_j$; the known coordinate is then replaced by a draw from "
    r"$\mathcal N(m_{t'}x_{\mathrm o}, v_{t'})$. RePaint's resampling maps the state back to level $t$ by the "
    r"forward kernel $z \mapsto a z + \sqrt b\,\xi$. Both maps send a Gaussian law of $(x, y)$ to a Gaussian law "
    r"with the derived moments.",
    tier=Tier.EXACT,
    assumptions=(r"the kernel from $t'$ to $t$ is $\mathcal N(a z, b I)$: $m_t = a m_{t'}$, $v_t = a^2 v_{t'} + b$",
                 r"$z_j \sim \mathcal N(0, 1)$ independent of the state"),
    references=(LUGMAYR, SONG_2021, "Ho, Jain, Abbeel (2020), Algorithm 2"),
)
def replacement_step() -> Body:
    scheme = catalogue.get(SCHEME)
    steps, results = [], []
    state = sp.Matrix([x_sde, y_sde])
    for choice in scheme.choices():
        tag = tuple(choice.values())
        for flags in catalogue.kinds(scheme, choice):
            ops = PlaneOps(flags)
            update = scheme.rule(ops, state, **choice)[1, 0]
            normals = tuple(ops.normals)
            quiet = {z: 0 for z in normals}
            gain_known, gain_unknown, *draws = (sp.diff(update, v).subs(quiet) for v in (x_sde, y_sde, *normals))
            offset = update.subs({x_sde: 0, y_sde: 0, **quiet})
            noise_var = sum((c**2 for c in draws), sp.Integer(0))
            kind = ", ".join((*tag, *sorted(flags))) or "every step"
            # The page shows the same update with the precision's entries named, its coefficients read off alike.
            shown = scheme.rule(PlaneOps(flags, shown=True), state, **choice)[1, 0]
            coefs = [sp.factor(sp.diff(shown, v).subs(quiet)) for v in (x_sde, y_sde, *normals)]
            steps.append(Relation(f"{kind}: the unknown coordinate's update is affine", shown, work.held_sum(
                *(work.held_product(c, v) for c, v in zip(coefs, (x_sde, y_sde, *normals)) if c != 0),
                sp.factor(shown.subs({x_sde: 0, y_sde: 0, **quiet})))))
            names = {base: catalogue.result_name(base, tag, flags)
                     for base in ("gain_known", "gain_unknown", "offset", "noise_var")}
            results += [Result(names["gain_known"], sp.simplify(gain_known), f"A_x ({kind})"),
                        Result(names["gain_unknown"], sp.simplify(gain_unknown), f"A_y ({kind})"),
                        Result(names["offset"], sp.simplify(offset), f"d ({kind})"),
                        Result(names["noise_var"], sp.simplify(noise_var), f"sum_j B_j^2 ({kind})")]
    # With independent coordinates (rho_0 = 0) the unknown coordinate's step is the 1-D step map.
    one_d = get(scheme.derivation_id)
    decoupled = {corr_data: 0}
    one_d_values = {"prec_k_pg": 1 / (a_st**2 * m_next_st**2 * std_data_y**2 + a_st**2 * v_next_st + b_st),
                    "mu_k_st": a_st * m_next_st * mean_data_y}
    subs_1d = {lookup(k).symbol: v for k, v in one_d_values.items()}
    steps += [
        Relation(r"$\rho_0 = 0$: the unknown's gain is the 1-D step map's (``gauss_exact.step_ddpm_ancestral``)",
                 results[1].expr.subs(decoupled), one_d.result(catalogue.result_name("gain", ("beta",))).xreplace(subs_1d)),
        Relation(r"$\rho_0 = 0$: and its offset", results[2].expr.subs(decoupled),
                 one_d.result(catalogue.result_name("offset", ("beta",))).xreplace(subs_1d)),
    ]
    resample_gain, resample_var = a_st, b_st
    return Body(
        steps=tuple(steps),
        results=(*results,
                 Result("resample_gain", resample_gain, "RePaint's re-noising t' -> t: z -> a z + sqrt(b) xi"),
                 Result("resample_var", resample_var, "its noise variance per coordinate")),
        wrong_variants=(
            WrongVariant(catalogue.result_name("gain_known", ("beta",)), sp.Integer(0),
                         "the known coordinate taken not to enter the unknown's update"),
            WrongVariant(catalogue.result_name("noise_var", ("beta",)), b_st**2, "noise b z without square root"),
        ),
    )
