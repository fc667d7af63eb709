r"""Guided samplers run by the engine, against the derived step maps.

``guidance.classifier_mixture``: mixture data, class = the first component. DDPM ancestral sampling
driven by classifier guidance at scale :math:`\gamma = 1`, :math:`s(x) + \nabla\log p_t(c\mid x)` built
from the mixture's score and the classifier's gradient (``guidance.bayes_score``), must sample the class
law: by Bayes the field *is* the class's Gaussian score, so the output law is the class data's law under
the derived step maps ``gauss_exact.step_ddpm_ancestral`` (no discretization bias to allow for). A wrong
classifier gradient (the conditional score, marginal not subtracted) adds the mixture's score and moves
the output by far more than the threshold.

``guidance.cfg_gaussian``: classifier-free guidance at :math:`\omega = 1` of Gaussian class and unconditional
laws. The field (``guidance.tilted``'s ``guided_score``) is affine at each time, with precision and mean
:func:`derivations.families.guidance.cfg` of the two noised laws' (``mixture.noised_score``); the sampler's
output law is the step maps iterated with them. Both checks: per-coordinate mean and variance and the four
standardized moments, one false-alarm probability (:mod:`checks.core.stats`).
"""

from __future__ import annotations

import torch

from derivations import catalogue
from derivations.families.guidance import cfg

from checks.core import stats
from checks.core.registry import CheckContext, check
from checks.sim import Grid, get, processes
from checks.sim.data import GaussianData
from checks.sim.engine import simulate_moments
from checks.sim.exact import StepMaps, derived_law, gaussian_step_values

MIXTURE = dict(mix_weight=0.3, mix_mean_1=-1.5, mix_mean_2=1.0, mix_var_1=0.25, mix_var_2=0.5)
CLASS, UNCONDITIONAL = (1.0, 0.5), (0.0, 1.0)  # (mean, variance): x | y = 2 for x ~ N(0, 1), y = x + N(0, 1)
GUIDANCE = 1.0
SAMPLER, OPTIONS = "ddpm_ancestral", {"variance": "beta"}
STEPS = 50
SAMPLES = 20_000
MAPS = StepMaps.of(catalogue.get(SAMPLER), OPTIONS)


def _grid() -> Grid:
    return Grid.uniform(processes.named(catalogue.get(SAMPLER).process), STEPS)


def _kernel(grid: Grid, t: float, like: torch.Tensor) -> dict[str, torch.Tensor]:
    c = grid.process.at(t)
    return {"kernel_mean_coef": torch.as_tensor(c.mean_coef, dtype=like.dtype, device=like.device),
            "kernel_var": torch.as_tensor(c.var, dtype=like.dtype, device=like.device)}


def _gaussian(ctx: CheckContext, mean: float, var: float, dtype=None) -> GaussianData:
    return GaussianData(torch.tensor([mean], dtype=dtype or ctx.dtype, device=ctx.device),
                        torch.tensor([var], dtype=dtype or ctx.dtype, device=ctx.device))


def _run(ctx: CheckContext, model, start_law: GaussianData) -> stats.RunningMoments:
    grid = _grid()
    start = lambda size, gen: start_law.sample_marginal(grid.process, grid.times[0], size, gen)  # noqa: E731
    return simulate_moments(get(SAMPLER), OPTIONS, model, grid, start, ctx.n_samples, ctx.generator())


def _estimates(moments: stats.RunningMoments, mean: torch.Tensor, var: torch.Tensor) -> list[stats.Estimate]:
    return (stats.mean_estimates("output", moments, mean) + stats.variance_estimates("output", moments, var)
            + stats.standard_normal_moment_estimates("standardized output", moments, mean, var))


# --------------------------------------------------------------------------
# Classifier guidance on mixture data
# --------------------------------------------------------------------------

def simulate_classifier(ctx: CheckContext) -> stats.RunningMoments:
    field = ctx.quantity("guidance.bayes_score", "classifier_guided")
    grid = _grid()
    params = {k: ctx.tensor(v) for k, v in MIXTURE.items()} | {"cls_scale": ctx.tensor(1.0)}

    def model(x: torch.Tensor, t: float) -> torch.Tensor:
        return field(x_t=x, **params, **_kernel(grid, t, x))

    return _run(ctx, model, _gaussian(ctx, MIXTURE["mix_mean_1"], MIXTURE["mix_var_1"]))


@check(
    id="guidance.classifier_mixture",
    title="Classifier guidance (scale 1) on mixture data samples the class: DDPM ancestral, 50 steps",
    law=f"data {MIXTURE['mix_weight']} N({MIXTURE['mix_mean_1']}, {MIXTURE['mix_var_1']}) + "
    f"{1 - MIXTURE['mix_weight']:.1f} N({MIXTURE['mix_mean_2']}, {MIXTURE['mix_var_2']}), class = first component; "
    f"{SAMPLER} ({OPTIONS['variance']}) with s(x) + grad log p_t(c | x), {STEPS} of 1000 DDPM levels, from the "
    "class's p_T: output = the class law under the derived step maps",
    tests=("guidance.bayes_score", MAPS.derivation_id),
    uses=(("guidance.bayes_score", "classifier_guided"),) + tuple((MAPS.derivation_id, n) for n in MAPS.names()),
    samples=SAMPLES,
    simulate=simulate_classifier,
)
def classifier_mixture(ctx: CheckContext, moments: stats.RunningMoments) -> list[stats.Estimate]:
    grid, law = _grid(), _gaussian(ctx, MIXTURE["mix_mean_1"], MIXTURE["mix_var_1"], torch.float64)
    mean, var = derived_law(MAPS, ctx.quantity, grid, law, *law.marginal(grid.process, grid.times[0]))
    return _estimates(moments, mean, var)


# --------------------------------------------------------------------------
# Classifier-free guidance of Gaussian laws
# --------------------------------------------------------------------------

def guided_law(ctx: CheckContext, grid: Grid) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The step maps iterated with the CFG field's precision :math:`(1+\omega)/V_c - \omega/V_u` and mean
    (precision-weighted, :func:`cfg` of the noised laws' :math:`M/V`), from the class's :math:`p_T`."""
    class_law, unconditional = (_gaussian(ctx, *law, torch.float64) for law in (CLASS, UNCONDITIONAL))
    options = dict(MAPS.values)
    mean, var = class_law.marginal(grid.process, grid.times[0])
    for k, (t, t_next) in enumerate(grid.pairs(), start=1):
        values = gaussian_step_values(grid.process, class_law, t, t_next) | options
        for time, prec_name, mean_name in ((t, "prec_k_pg", "mu_k_st"), (t_next, "prec_next_pg", "mu_next_st")):
            (m_c, v_c), (m_u, v_u) = (law.marginal(grid.process, time) for law in (class_law, unconditional))
            prec = cfg(1 / v_c, 1 / v_u, GUIDANCE)
            values[prec_name], values[mean_name] = prec, cfg(m_c / v_c, m_u / v_u, GUIDANCE) / prec
        values = {n: torch.as_tensor(v, dtype=torch.float64, device=ctx.device) for n, v in values.items()}
        kind = MAPS.kind(last=k == grid.steps, clean=grid.process.at(t_next).var == 0)
        gain, offset, noise = (ctx.quantity(MAPS.derivation_id, catalogue.result_name(base, MAPS.choice, kind))(**values)
                               for base in ("gain", "offset", "noise_var"))
        mean, var = gain * mean + offset, gain**2 * var + noise
    return mean, var


def simulate_cfg(ctx: CheckContext) -> stats.RunningMoments:
    field = ctx.quantity("guidance.tilted", "guided_score")
    grid = _grid()
    params = {"mean_cls": CLASS[0], "var_cls": CLASS[1], "mean_unc": UNCONDITIONAL[0], "var_unc": UNCONDITIONAL[1],
              "guide_w": GUIDANCE}
    params = {k: ctx.tensor(v) for k, v in params.items()}

    def model(x: torch.Tensor, t: float) -> torch.Tensor:
        return field(x_t=x, **params, **_kernel(grid, t, x))

    return _run(ctx, model, _gaussian(ctx, *CLASS))


@check(
    id="guidance.cfg_gaussian",
    title="Classifier-free guidance (w = 1) of Gaussian laws: DDPM ancestral output = the guided step maps' law",
    law=f"class N{CLASS}, unconditional N{UNCONDITIONAL} (mean, variance), field (1 + w) s(x | c) - w s(x), "
    f"w = {GUIDANCE}; {SAMPLER} ({OPTIONS['variance']}), {STEPS} of 1000 DDPM levels, from the class's p_T: output = "
    "the step maps iterated with the field's precision and mean",
    tests=("guidance.tilted", MAPS.derivation_id),
    uses=(("guidance.tilted", "guided_score"),) + tuple((MAPS.derivation_id, n) for n in MAPS.names()),
    samples=SAMPLES,
    simulate=simulate_cfg,
)
def cfg_gaussian(ctx: CheckContext, moments: stats.RunningMoments) -> list[stats.Estimate]:
    return _estimates(moments, *guided_law(ctx, _grid()))
