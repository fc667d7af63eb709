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
from sympy import stats

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
