r"""Every registered sampler on Gaussian-mixture data: ``samplers.<sampler>[.<option>].mixture``.

Data: the 1-D mixture :data:`MIXTURE`, two well-separated modes; the model is
its exact noised score (``mixture.noised_score``, responsibilities times
component scores). Each variant of the sampler registry runs from the exact
:math:`p_T` on the process of its Gaussian check, and its output is tested
against :math:`p_{t_\mathrm{end}}` of the mixture (for the discrete chain: the
last discrete step, :math:`t = 0`):

* the mean and variance (``mixture.noised_score``: ``marginal_mean``, ``marginal_var``);
* the whole law: the proportions below the fixed points :data:`POINTS` (one in
  the first mode, the valley, one in the second mode) against the mixture's
  distribution function (``mixture.noised_cdf``), binomial standard errors. The
  valley proportion is the weight of the first mode: a sampler that moves mass
  between modes fails it even when its mean and variance are close.

The mixture score is not affine, so no exact law of the discretized scheme
exists: the check compares with the continuous-time law, and its plan (steps,
samples, extra options: the catalogue's :class:`~derivations.catalogue.MixturePlan`)
keeps the discretization bias below :data:`BIAS_FRACTION` of each statistic's
detectable error. For a sampler with a declared weak order :math:`p` this is
verified by a coupled step sweep (same start, same Brownian path, :math:`N/2` and
:math:`N` steps: the bias at :math:`N` is the paired difference over :math:`2^p - 1`)
in ``tests/test_samplers.py``. Samplers with no order (predictor–corrector, annealed
Langevin: the Langevin step keeps an :math:`O(\epsilon)` bias at each level) state a
bias measured with many more samples (the record's ``measured_bias``) in their law;
the tests bound it again with fewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from checks.core import stats
from checks.core.registry import CheckContext, check
from checks.sim import Grid, Sampler, processes, variant_label
from checks.sim import all as all_samplers
from checks.sim.data import MixtureData
from checks.sim.engine import simulate_moments
from checks.suite.samplers.gaussian import check_id

MIXTURE = dict(weights=(0.3, 0.7), means=(-2.0, 1.5), variances=(0.2, 0.3))
POINTS = (-1.8, -0.25, 1.5)
# A quarter standard error is about 3 % of the detectable error (z_alarm + z_power ~ 7.8 SE). The
# threshold allows for a bias this large (stats.allow_bias): it costs a little power, not false alarms
# (unallowed, a quarter SE would about double a statistic's false-alarm probability at z ~ 5.5).
BIAS_FRACTION = 0.03
MEAN, VAR, CDF = ("mixture.noised_score", "marginal_mean"), ("mixture.noised_score", "marginal_var"), \
    ("mixture.noised_cdf", "cdf")


@dataclass(frozen=True)
class MixtureSetting:
    """What one mixture check runs: the sampler variant, its process and plan."""

    sampler: Sampler
    options: dict
    process_name: str
    steps: int
    samples: int
    measured_bias: float | None = None  # |bias| / SE measured offline, for samplers with no declared order
    wrap_model: Callable = field(default=lambda model, grid: model)

    @property
    def process(self) -> processes.Process:
        return processes.named(self.process_name)

    def grid(self, steps: int | None = None) -> Grid:
        return Grid.uniform(self.process, steps or self.steps)


def mixture_data(ctx: CheckContext) -> MixtureData:
    return MixtureData(*(ctx.tensor(MIXTURE[k]) for k in ("weights", "means", "variances")))


def with_indicators(x: torch.Tensor) -> torch.Tensor:
    """Columns ``x`` and :math:`1\\{x < a_j\\}` for each point :math:`a_j`: one moment sum tests both."""
    points = torch.as_tensor(POINTS, dtype=x.dtype, device=x.device)
    return torch.cat([x, (x < points).to(x.dtype)], dim=1)


def run_sampler(setting: MixtureSetting, data: MixtureData, x_init: torch.Tensor, noise,
                steps: int | None = None) -> torch.Tensor:
    """One batch of the setting's sampler from ``x_init`` (``noise``: a generator or a noise source)."""
    grid = setting.grid(steps)
    model = setting.wrap_model(data.score(setting.process), grid)
    return setting.sampler(model, grid, x_init, noise, **setting.options)


def simulator(setting: MixtureSetting) -> Callable[[CheckContext], stats.RunningMoments]:
    def simulate(ctx: CheckContext) -> stats.RunningMoments:
        data, grid = mixture_data(ctx), setting.grid()
        model = setting.wrap_model(data.score(setting.process), grid)
        start = lambda size, gen: data.sample_marginal(setting.process, grid.times[0], size, gen)  # noqa: E731
        return simulate_moments(setting.sampler, setting.options, model, grid, start, ctx.n_samples,
                                ctx.generator(), transform=with_indicators)

    return simulate


def estimates(ctx: CheckContext, setting: MixtureSetting, moments: stats.RunningMoments) -> list[stats.Estimate]:
    """Mean, variance and proportions of the output against :math:`p_{t_\\mathrm{end}}`."""
    c = setting.process.at(setting.grid().times[-1])
    args = dict(mix_weight=ctx.tensor(MIXTURE["weights"][0]), mix_mean_1=ctx.tensor(MIXTURE["means"][0]),
                mix_mean_2=ctx.tensor(MIXTURE["means"][1]), mix_var_1=ctx.tensor(MIXTURE["variances"][0]),
                mix_var_2=ctx.tensor(MIXTURE["variances"][1]), kernel_mean_coef=ctx.tensor(c.mean_coef),
                kernel_var=ctx.tensor(c.var))
    output = moments.columns(slice(0, 1))
    cdf = ctx.quantity(*CDF)(x_t=ctx.tensor(POINTS), **args)
    out = (stats.mean_estimates("output", output, ctx.quantity(*MEAN)(**args).reshape(1))
           + stats.variance_estimates("output", output, ctx.quantity(*VAR)(**args).reshape(1))
           + stats.proportion_estimates([f"P(x < {a})" for a in POINTS], moments.columns(slice(1, None)), cdf))
    return stats.allow_bias(out, bias_allowance_in_se(setting, len(out)))


def bias_allowance_in_se(setting: MixtureSetting, k: int) -> float:
    """The discretisation bias the threshold allows for, in SE: the measured bound of a sampler with no
    order, else :data:`BIAS_FRACTION` of the detectable error of a check with ``k`` statistics."""
    if setting.measured_bias is not None:
        return setting.measured_bias
    return BIAS_FRACTION * stats.detectable_multiple(k)


def _law(setting: MixtureSetting) -> str:
    law = (f"output of {variant_label(setting.sampler, setting.options)}, {setting.steps} steps "
           f"({setting.process_name}), from exact p_T of the mixture {MIXTURE}: mean, variance and "
           f"P(x < a) for a in {POINTS} of p_t_end (mixture.noised_score, mixture.noised_cdf); ")
    if setting.measured_bias is not None:
        return law + (f"no weak order: |bias| measured below {setting.measured_bias} SE of each statistic "
                      f"(upper bound from 40x the samples), allowed for in the threshold")
    return law + (f"discretization bias below {BIAS_FRACTION:.0%} of the detectable error (coupled step sweep), "
                  "allowed for in the threshold")


def mixture_check_id(sampler: Sampler, options: dict) -> str:
    return check_id(sampler, options) + ".mixture"


SETTINGS: dict[str, MixtureSetting] = {}


def _register(sampler: Sampler, variant) -> None:
    scheme = sampler.scheme
    options = {**variant.options, **variant.mixture.options}
    setting = MixtureSetting(sampler, options, scheme.process, variant.mixture.steps, variant.mixture.samples,
                             scheme.measured_bias if scheme.weak_order is None else None)
    check_id_ = mixture_check_id(sampler, options)
    SETTINGS[check_id_] = setting
    check(
        id=check_id_,
        title=f"{variant_label(sampler, options)}: output law, Gaussian-mixture data, {setting.steps} steps "
              f"({scheme.process})",
        law=_law(setting),
        tests=("mixture.noised_score", "mixture.noised_cdf")
        + (("fp.reverse_mixture",) if scheme.reverse_family else ()),
        uses=(MEAN, VAR, CDF),
        samples=setting.samples,
        simulate=simulator(setting),
    )(lambda ctx, moments: estimates(ctx, setting, moments))


for _sampler in all_samplers():
    for _variant in _sampler.scheme.variants:
        _register(_sampler, _variant)
