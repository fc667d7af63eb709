r"""Every registered sampler against Gaussian data: ``samplers.<sampler>[.<option>]``.

The sampler runs from the exact :math:`p_T` of :data:`GAUSSIAN_MEAN`, :data:`GAUSSIAN_EIGENVALUES`
with its exact score, :data:`STEPS` steps on the process its record names. The law it must
have is the *derived* one: the step maps ``gauss_exact.step_<sampler>`` (read through
``ctx.quantity``, so a wrong variant can be fed in) iterated along the grid
(:func:`checks.sim.exact.derived_law`). Two comparisons, one check:

* **exact**: with Gaussian data the sampler's own law needs no sampling: the real torch
  step run on probe rows with scripted noise, the affine recursion carried in float64
  (:func:`checks.sim.exact.output_law`). Its means and variances must equal the derived
  ones at float64 resolution: the "standard error" of these comparisons is
  :data:`EXACT_RESOLUTION` (relative), far above the round-off of a few dozen affine
  steps (about 1e-14) and far below any error of a formula, so an error of
  :math:`8 \times 10^{-9}` (relative) is detected and no false alarm can occur;
* **Monte Carlo**, for what only sampling shows (the noise's independence, scale and
  law): per-coordinate sample means and variances (Bonferroni) and the pooled
  standardized moments 1-4 against the same derived law.

``samplers.ddim.marginals``: DDIM with :math:`\eta \in \{0, 0.5, 1\}`, 10 steps out of 1000,
driven by the score of :math:`q(x_t \mid x_0)`, keeps every marginal of ``ddpm.marginal``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import torch

from derivations.core import schedules

from checks.core import stats
from checks.core.registry import CheckContext, check
from checks.sim import Grid, Sampler, exact, get, processes, variant_label, variants
from checks.sim.data import GaussianData
from checks.sim.engine import simulate_moments

GAUSSIAN_MEAN = (0.5, -1.0, 0.0)
GAUSSIAN_EIGENVALUES = (0.25, 1.0, 2.5)
STEPS = 20
SAMPLES = 20_000
# Relative "standard error" of the exact comparisons: float64 round-off over STEPS affine steps is
# about 1e-14 relative; errors of formulas are orders of magnitude above this.
EXACT_RESOLUTION = 1e-9
SCORE = ("mixture.noised_score", "component_score")


@dataclass(frozen=True)
class Setting:
    """What one sampler check runs: the sampler variant, its process and the derived maps it must follow."""

    sampler: Sampler
    options: dict
    process_name: str
    maps: exact.StepMaps

    @functools.cached_property
    def grid(self) -> Grid:
        return Grid.uniform(processes.named(self.process_name), STEPS)


def gaussian_data(ctx: CheckContext) -> GaussianData:
    return GaussianData(ctx.tensor(GAUSSIAN_MEAN), ctx.tensor(GAUSSIAN_EIGENVALUES))


def _float64(ctx: CheckContext) -> GaussianData:
    """The data in float64 on the check's device: exact laws are computed in float64 whatever the run's dtype."""
    return GaussianData(*(torch.as_tensor(v, dtype=torch.float64, device=ctx.device)
                          for v in (GAUSSIAN_MEAN, GAUSSIAN_EIGENVALUES)))


def simulate(setting: Setting, ctx: CheckContext) -> tuple[stats.RunningMoments, torch.Tensor, torch.Tensor]:
    """Monte Carlo moments of the sampler's output, and its exact law (scripted noise, float64)."""
    data, grid = gaussian_data(ctx), setting.grid
    model = data.score(grid.process, ctx.quantity)
    start = lambda size, gen: data.sample_marginal(grid.process, grid.times[0], size, gen)  # noqa: E731
    moments = simulate_moments(setting.sampler, setting.options, model, grid, start, ctx.n_samples,
                               ctx.generator(), transform=data.to_eigen)
    exact_data = _float64(ctx)
    law = exact.output_law(setting.sampler, setting.options, exact_data.score(grid.process, ctx.quantity), grid,
                           *exact_data.marginal(grid.process, grid.times[0]))
    return moments, *law


def derived_law(ctx: CheckContext, setting: Setting) -> tuple[torch.Tensor, torch.Tensor]:
    """The law of the derived step maps iterated from the exact :math:`p_T` (float64)."""
    data, grid = _float64(ctx), setting.grid
    return exact.derived_law(setting.maps, ctx.quantity, grid, data, *data.marginal(grid.process, grid.times[0]))


def exact_estimates(mean: torch.Tensor, var: torch.Tensor, expected_mean: torch.Tensor,
                    expected_var: torch.Tensor) -> list[stats.Estimate]:
    """The sampler's exact law against the derived one, at relative resolution :data:`EXACT_RESOLUTION`."""
    out = []
    for j, (m, v, em, ev) in enumerate(zip(mean, var, expected_mean, expected_var)):
        # A mean's error is measured against the law's spread, a variance's against itself.
        out.append(stats.Estimate(f"exact mean[{j}]", float(m), float(em), EXACT_RESOLUTION * float(ev.sqrt()),
                                  kind=stats.EXACT_LAW))
        out.append(stats.Estimate(f"exact var[{j}]", float(v), float(ev), EXACT_RESOLUTION * float(ev),
                                  kind=stats.EXACT_LAW))
    return out


def compare(setting: Setting, ctx: CheckContext, simulated) -> list[stats.Estimate]:
    moments, exact_mean, exact_var = simulated
    mean, var = derived_law(ctx, setting)
    return (exact_estimates(exact_mean, exact_var, mean, var)
            + stats.mean_estimates("output", moments, mean) + stats.variance_estimates("output", moments, var)
            + stats.standard_normal_moment_estimates("standardized output", moments, mean, var))


def check_id(sampler: Any, options: dict) -> str:
    return "samplers." + sampler.name + "".join(f".{k}_{v}" for k, v in sorted(options.items()))


SETTINGS: dict[str, Setting] = {}


def _register(sampler: Sampler, options: dict) -> None:
    scheme = sampler.scheme
    setting = Setting(sampler, options, scheme.process, exact.StepMaps.of(scheme, options))
    check_id_ = check_id(sampler, options)
    SETTINGS[check_id_] = setting
    step_id = setting.maps.derivation_id
    check(
        id=check_id_,
        title=f"{variant_label(sampler, options)}: output law, Gaussian data, {STEPS} steps ({scheme.process})",
        law=f"output of {variant_label(sampler, options)} from exact p_T of N({GAUSSIAN_MEAN}, "
            f"diag{GAUSSIAN_EIGENVALUES}) = the law of the derived step maps {step_id} iterated: exactly "
            f"(scripted noise, relative resolution {EXACT_RESOLUTION:g}) and by Monte Carlo",
        tests=(step_id, SCORE[0]),
        uses=tuple((step_id, name) for name in setting.maps.names()) + (SCORE,),
        samples=SAMPLES,
        simulate=functools.partial(simulate, setting),
    )(functools.partial(compare, setting))


for _sampler, _options in variants():
    _register(_sampler, _options)


# --- DDIM marginals (Song, Meng, Ermon 2021, Theorem 1), 10 of 1000 steps ---

DDIM_ETAS = (0.0, 0.5, 1.0)
DDIM_X0 = (1.5, -0.7)
DDIM_TIMES = tuple(float(t) for t in range(1000, -1, -100))


def _conditional_score(ctx: CheckContext, x0: torch.Tensor, process: processes.Process):
    # The score of q(x_t | x_0) is the one-point-data score: component_score with zero data variance.
    component_score = ctx.quantity(*SCORE)

    def model(x: torch.Tensor, t: float) -> torch.Tensor:
        c = process.at(t)
        return component_score(x_t=x, mix_mean_1=x0, mix_var_1=torch.zeros_like(x0),
                               kernel_mean_coef=ctx.tensor(c.mean_coef), kernel_var=ctx.tensor(c.var))

    return model


def simulate_ddim_marginals(ctx: CheckContext) -> dict[float, dict[float, torch.Tensor]]:
    process = processes.named("ddpm")
    grid = Grid(process, DDIM_TIMES)
    x0 = ctx.tensor(DDIM_X0)
    out = {}
    for eta in DDIM_ETAS:
        start = process.at(DDIM_TIMES[0])
        z = ctx.normal(ctx.n_samples, len(DDIM_X0))
        x_init = start.mean_coef * x0 + start.var ** 0.5 * z
        kept: dict[float, torch.Tensor] = {}
        get("ddim")(_conditional_score(ctx, x0, process), grid, x_init, ctx.generator(), eta=eta,
                    callback=lambda k, t, x: kept.__setitem__(t, x))
        out[eta] = kept
    return out


@check(
    id="samplers.ddim.marginals",
    title="DDIM (eta = 0, 0.5, 1; 10 of 1000 steps) keeps the marginals q(x_tau | x_0)",
    law=f"x_tau along DDIM driven by the score of q(x_t | x_0), x_0 = {DDIM_X0}: "
        "N(sqrt(alpha_bar_tau) x_0, 1 - alpha_bar_tau) at every skipped step tau (ddpm.marginal)",
    tests=("ddpm.marginal", "mixture.noised_score"),
    uses=(("ddpm.marginal", "mean_coef"), ("ddpm.marginal", "var"), SCORE),
    samples=20_000,
    simulate=simulate_ddim_marginals,
)
def ddim_marginals(ctx: CheckContext, kept: dict[float, dict[float, torch.Tensor]]) -> list[stats.Estimate]:
    mean_coef, var = ctx.quantity("ddpm.marginal", "mean_coef"), ctx.quantity("ddpm.marginal", "var")
    schedule = schedules.make("linear", 1000)
    x0 = ctx.tensor(DDIM_X0)
    out = []
    for eta, states in kept.items():
        for t in (900.0, 500.0, 100.0):
            at = {k: ctx.tensor(v) for k, v in schedule.at(int(t)).items()}  # every schedule quantity
            moments = stats.RunningMoments().update(states[t])
            out += stats.mean_estimates(f"eta={eta} t={int(t)}", moments, mean_coef(**at) * x0)
            out += stats.variance_estimates(f"eta={eta} t={int(t)}", moments, var(**at) * torch.ones_like(x0))
    return out
