r"""Monte Carlo checks of every registered reverse sampler, driven by exact scores.

* ``samplers.<sampler>[.<option>]``: Gaussian data, the sampler started from
  the exact :math:`p_T`; its output is compared with the exact law of the
  *discretized* scheme (:mod:`checks.sim.exact`), so the check has no
  discretization bias to absorb: per-coordinate means and variances
  (Bonferroni) and the pooled standardized moments 1-4 (whole law).
* ``samplers.ddim.marginals``: DDIM with :math:`\eta \in \{0, 0.5, 1\}`, 10 steps out
  of 1000, driven by the score of :math:`q(x_t \mid x_0)`, keeps every marginal
  :math:`\mathcal N(\sqrt{\bar\alpha_\tau}x_0, 1 - \bar\alpha_\tau)` of ``ddpm.marginal``.
* ``samplers.<sampler>[.<option>].mixture``: every variant again on Gaussian-mixture
  data, against the continuous-time law (:mod:`checks.suite.samplers.gaussian.mixture`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from derivations.core import schedules

from checks.core import stats
from checks.core.registry import CheckContext, check
from checks.sim import Grid, exact, processes, variant_label, variants
from checks.sim.data import GaussianData
from checks.sim.engine import simulate_moments

GAUSSIAN_MEAN = (0.5, -1.0, 0.0)
GAUSSIAN_EIGENVALUES = (0.25, 1.0, 2.5)
STEPS = 20
SAMPLES = 20_000
SCORE = ("mixture.noised_score", "component_score")


def _process_for(sampler) -> processes.Process:
    if "discrete" in sampler.processes:
        return processes.ddpm()
    if sampler.name in ("ve_ancestral", "annealed_langevin"):
        return processes.ve()
    return processes.vp()


@dataclass(frozen=True)
class Setting:
    """What one sampler check runs: the sampler variant, its grid and data."""

    sampler: Any
    options: dict
    grid: Grid
    data: GaussianData
    wrap_model: Callable = field(default=lambda model, grid: model)


def _data(ctx: CheckContext) -> GaussianData:
    return GaussianData(ctx.tensor(GAUSSIAN_MEAN), ctx.tensor(GAUSSIAN_EIGENVALUES))


def simulator(setting: Setting) -> Callable[[CheckContext], stats.RunningMoments]:
    """The simulate phase of a sampler check (``setting.wrap_model`` lets a test plant a bug)."""

    def simulate(ctx: CheckContext) -> stats.RunningMoments:
        data = _data(ctx)
        model = setting.wrap_model(data.score(setting.grid.process, ctx.quantity), setting.grid)
        start = lambda size, gen: data.sample_marginal(setting.grid.process, setting.grid.times[0], size, gen)  # noqa: E731
        return simulate_moments(setting.sampler, setting.options, model, setting.grid, start, ctx.n_samples,
                                ctx.generator(), transform=data.to_eigen)

    return simulate


def expected_law(ctx: CheckContext, setting: Setting) -> tuple[torch.Tensor, torch.Tensor]:
    data = _data(ctx).diagonal()
    init_mean, init_var = data.marginal(setting.grid.process, setting.grid.times[0])
    model = data.score(setting.grid.process, ctx.quantity)
    return exact.output_law(setting.sampler, setting.options, model, setting.grid, init_mean, init_var)


def _compare_with(setting: Setting):
    def compare(ctx: CheckContext, moments: stats.RunningMoments) -> list[stats.Estimate]:
        mean, var = expected_law(ctx, setting)
        return (stats.mean_estimates("output", moments, mean) + stats.variance_estimates("output", moments, var)
                + stats.standard_normal_moment_estimates("standardized output", moments, mean, var))

    return compare


def check_id(sampler, options: dict) -> str:
    return "samplers." + sampler.name + "".join(f".{k}_{v}" for k, v in sorted(options.items()))


SETTINGS: dict[str, Setting] = {}

for _sampler, _options in variants():
    _process = _process_for(_sampler)
    _setting = Setting(_sampler, _options, Grid.uniform(_process, STEPS), None)
    _id = check_id(_sampler, _options)
    SETTINGS[_id] = _setting
    check(
        id=_id,
        title=f"{variant_label(_sampler, _options)}: output law, Gaussian data, {STEPS} steps ({_process.name})",
        law=f"output of {variant_label(_sampler, _options)} from exact p_T of N({GAUSSIAN_MEAN}, "
            f"diag{GAUSSIAN_EIGENVALUES}) = the Gaussian law of the discretized scheme (exact recursion)",
        tests=("mixture.noised_score",),
        uses=(SCORE,),
        samples=SAMPLES,
        simulate=simulator(_setting),
    )(_compare_with(_setting))


# --- DDIM marginals (Song, Meng, Ermon 2021, Theorem 1), 10 of 1000 steps ---

DDIM_ETAS = (0.0, 0.5, 1.0)
DDIM_X0 = (1.5, -0.7)
DDIM_SCHEDULE = schedules.make("linear", 1000)
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
    from checks.sim import get

    process = processes.ddpm()
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
    x0 = ctx.tensor(DDIM_X0)
    out = []
    for eta, states in kept.items():
        for t in (900.0, 500.0, 100.0):
            at = {k: ctx.tensor(v) for k, v in DDIM_SCHEDULE.at(int(t)).items()}  # every schedule quantity
            moments = stats.RunningMoments().update(states[t])
            out += stats.mean_estimates(f"eta={eta} t={int(t)}", moments, mean_coef(**at) * x0)
            out += stats.variance_estimates(f"eta={eta} t={int(t)}", moments, var(**at) * torch.ones_like(x0))
    return out

