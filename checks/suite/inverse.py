r"""Posterior samplers for a linear inverse problem :math:`y = A x_0 + n`, run by the engine.

``inverse.dps_gaussian``, ``inverse.pigdm_gaussian``: the rules of :mod:`derivations.catalogue.posterior` run in
torch (the denoiser's slope by automatic differentiation of the score model) on a Gaussian prior; their output
law is the derived step maps ``inverse.step_dps`` / ``inverse.step_pigdm`` iterated along the same grid from the
same start. A wrong sign of the guidance or a dropped :math:`\sigma_y^2` in the maps moves the law by far more
than the threshold.

``inverse.posterior_mixture``: mixture prior. DDPM ancestral sampling with the prior's score plus the exact
:math:`\nabla\log p(y\mid x_t)`, built from ``inverse.likelihood_score``'s per-component :math:`p(y\mid x_t, k) =
\mathcal N(A\hat x_{0,k}, A^2r_{t,k}^2 + \sigma_y^2)` and the components' responsibilities at :math:`x_t`
(``mixture.noised_score``), must sample the exact posterior: the mixture of the components' posteriors
(``inverse.posterior``) with weights :math:`\propto w_k\,\mathcal N(y; A\mu_k, A^2s_k^2 + \sigma_y^2)`. 1000 steps
with the forward variance keep the discretization bias below its share (the catalogue's plan for that variant).
Per statistic: mean, variance (and for the Gaussian checks the four standardized moments); one false-alarm
probability (:mod:`checks.core.stats`).
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from derivations import catalogue
from derivations.catalogue import posterior

from checks.core import stats
from checks.core.registry import CheckContext, check
from checks.sim import Grid, get, processes, steps
from checks.sim.data import GaussianData, MixtureData
from checks.sim.engine import simulate_moments
from checks.sim.exact import StepMaps, derived_law

PRIOR = (0.5, 2.0)  # (mean, variance) of the Gaussian prior
PROBLEM = {"op_inv": 1.0, "var_obs_inv": 0.25, "obs_inv": 2.0}
MIXTURE = dict(weights=(0.3, 0.7), means=(-1.5, 1.0), variances=(0.25, 0.5))
MIXTURE_PROBLEM = {"op_inv": 1.0, "var_obs_inv": 0.5, "obs_inv": -0.5}
GAUSSIAN_STEPS, GAUSSIAN_SAMPLES = 50, 20_000
MIXTURE_STEPS, MIXTURE_SAMPLES = 1000, 5_000
SETTINGS = {"dps": {"zeta": 0.2, "variance": "beta"}, "pigdm": {"eta": 1.0, "r2": "tweedie"}}


class _ObservedAt(steps.At):
    """A time of the engine's step with the score's slope (automatic differentiation, coordinate-wise)."""

    def score_slope(self, x: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            leaf = x.detach().requires_grad_(True)
            (slope,) = torch.autograd.grad(self.model(leaf, self.time).sum(), leaf)
        return slope


class ObservedTorchOps(steps.TorchOps):
    """The engine's ``ops`` with the observation and the scores' slopes (what the posterior rules read)."""

    def __init__(self, process, model, t, t_next, last, generator, observation):
        super().__init__(process, model, t, t_next, last, generator)
        self.now, self.next = _ObservedAt(process, model, t), _ObservedAt(process, model, t_next)
        self.observation = observation

    @property
    def mid(self) -> _ObservedAt:
        return _ObservedAt(self.process, self.model, self.t + 0.5 * self.h)


class PosteriorRun:
    """The engine's run of a posterior rule along a grid (the interface ``simulate_moments`` calls)."""

    def __init__(self, name: str, observation: dict[str, float]):
        self.name, self.scheme = name, posterior.get(name)
        self.observation = SimpleNamespace(op=observation["op_inv"], value=observation["obs_inv"],
                                           var=observation["var_obs_inv"])

    def __call__(self, model, grid: Grid, x: torch.Tensor, generator, **options) -> torch.Tensor:
        options = self.scheme.resolve(options)
        for k, (t, t_next) in enumerate(grid.pairs(), start=1):
            ops = ObservedTorchOps(grid.process, model, t, t_next, k == grid.steps, generator, self.observation)
            x = self.scheme.rule(ops, x, **options)
        return x


def _grid(base: str, count: int) -> Grid:
    return Grid.uniform(processes.named(catalogue.get(base).process), count)


def _maps(name: str) -> StepMaps:
    scheme, options = posterior.get(name), SETTINGS[name]
    resolved = scheme.resolve(options)
    values = tuple((o.symbol, float(resolved[o.name])) for o in scheme.options if o.symbol) + tuple(PROBLEM.items())
    return StepMaps(scheme.derivation_id, scheme.choice(options), scheme.kinds, values)


def _prior(ctx: CheckContext, dtype=None) -> GaussianData:
    return GaussianData(torch.tensor([PRIOR[0]], dtype=dtype or ctx.dtype, device=ctx.device),
                        torch.tensor([PRIOR[1]], dtype=dtype or ctx.dtype, device=ctx.device))


def _gaussian_check(name: str):
    scheme = posterior.get(name)
    maps = _maps(name)

    def simulate(ctx: CheckContext) -> stats.RunningMoments:
        grid, prior = _grid(scheme.base, GAUSSIAN_STEPS), _prior(ctx)
        start = lambda size, gen: prior.sample_marginal(grid.process, grid.times[0], size, gen)  # noqa: E731
        return simulate_moments(PosteriorRun(name, PROBLEM), SETTINGS[name], prior.score(grid.process), grid, start,
                                ctx.n_samples, ctx.generator())

    def compare(ctx: CheckContext, moments: stats.RunningMoments) -> list[stats.Estimate]:
        grid, prior = _grid(scheme.base, GAUSSIAN_STEPS), _prior(ctx, torch.float64)
        mean, var = derived_law(maps, ctx.quantity, grid, prior, *prior.marginal(grid.process, grid.times[0]))
        return (stats.mean_estimates("output", moments, mean) + stats.variance_estimates("output", moments, var)
                + stats.standard_normal_moment_estimates("standardized output", moments, mean, var))

    options = ", ".join(f"{k} = {v}" for k, v in SETTINGS[name].items())
    check(
        id=f"inverse.{name}_gaussian",
        title=f"{scheme.title} on a Gaussian prior: engine output = the derived step maps' law",
        law=f"prior N{PRIOR} (mean, variance), y = A x_0 + n with {PROBLEM}; {name} ({options}), {GAUSSIAN_STEPS} "
        f"of 1000 DDPM levels from the prior's p_T: output = {maps.derivation_id} iterated",
        tests=(maps.derivation_id,),
        uses=tuple((maps.derivation_id, n) for n in maps.names()),
        samples=GAUSSIAN_SAMPLES,
        simulate=simulate,
    )(compare)


for _name in SETTINGS:
    _gaussian_check(_name)


# --------------------------------------------------------------------------
# The exact posterior score on a mixture prior
# --------------------------------------------------------------------------

def _mixture(ctx: CheckContext, dtype=None) -> MixtureData:
    return MixtureData(*(torch.tensor(MIXTURE[k], dtype=dtype or ctx.dtype, device=ctx.device)
                         for k in ("weights", "means", "variances")))


def posterior_model(ctx: CheckContext, grid: Grid):
    r"""Prior score plus :math:`\nabla\log p(y\mid x_t)`, :math:`p(y\mid x_t) = \sum_k p(k\mid x_t)\,p(y\mid x_t, k)`."""
    lik_mean = ctx.quantity("inverse.likelihood_score", "lik_mean")
    lik_var = ctx.quantity("inverse.likelihood_score", "lik_var")
    log_component = ctx.quantity("mixture.noised_score", "component_log_density")
    data = _mixture(ctx)
    prior_score = data.score(grid.process)
    problem = {k: ctx.tensor(v) for k, v in MIXTURE_PROBLEM.items()}

    def log_likelihood(x: torch.Tensor, t: float) -> torch.Tensor:
        c = grid.process.at(t)
        kernel = {"kernel_mean_coef": ctx.tensor(c.mean_coef), "kernel_var": ctx.tensor(c.var)}
        parts = dict(x_t=x, mix_mean_1=data.means, mix_var_1=data.variances, **kernel)
        log_resp = torch.log_softmax(torch.log(data.weights) + log_component(**parts), dim=-1)
        mean = lik_mean(x_t=x, mean_data=data.means, var_data=data.variances, **kernel, **problem)
        var = lik_var(x_t=x, mean_data=data.means, var_data=data.variances, **kernel, **problem)
        log_normal = -0.5 * torch.log(2 * torch.pi * var) - (problem["obs_inv"] - mean) ** 2 / (2 * var)
        return torch.logsumexp(log_resp + log_normal, dim=-1)

    def model(x: torch.Tensor, t: float) -> torch.Tensor:
        with torch.enable_grad():
            leaf = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(log_likelihood(leaf, t).sum(), leaf)
        return prior_score(x, t) + grad

    return model


def posterior_mixture_moments(ctx: CheckContext) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance of the exact posterior: components' posteriors weighted by their evidence."""
    d = "inverse.posterior"
    data = _mixture(ctx, torch.float64)
    values = dict(mean_data=data.means, var_data=data.variances,
                  **{k: torch.tensor(v, dtype=torch.float64) for k, v in MIXTURE_PROBLEM.items()})
    means, variances = ctx.quantity(d, "post_mean")(**values), ctx.quantity(d, "post_var")(**values)
    e_mean, e_var = ctx.quantity(d, "evidence_mean")(**values), ctx.quantity(d, "evidence_var")(**values)
    y = values["obs_inv"]
    weights = torch.softmax(torch.log(data.weights) - 0.5 * torch.log(e_var) - (y - e_mean) ** 2 / (2 * e_var), dim=-1)
    mean = (weights * means).sum()
    return mean.reshape(1), ((weights * (variances + means**2)).sum() - mean**2).reshape(1)


def simulate_mixture(ctx: CheckContext) -> stats.RunningMoments:
    grid = _grid("ddpm_ancestral", MIXTURE_STEPS)
    data = _mixture(ctx)
    start = lambda size, gen: data.sample_marginal(grid.process, grid.times[0], size, gen)  # noqa: E731
    return simulate_moments(get("ddpm_ancestral"), {"variance": "beta"}, posterior_model(ctx, grid), grid, start,
                            ctx.n_samples, ctx.generator())


@check(
    id="inverse.posterior_mixture",
    title="Mixture prior: DDPM ancestral with the prior score plus the exact grad log p(y | x_t) samples the posterior",
    law=f"prior {MIXTURE}, y = A x_0 + n with {MIXTURE_PROBLEM}; ddpm_ancestral (beta), {MIXTURE_STEPS} steps, from "
    "the prior's p_T: output mean and variance = the posterior mixture's (inverse.posterior per component)",
    tests=("inverse.likelihood_score", "inverse.posterior", "mixture.noised_score"),
    uses=(("inverse.likelihood_score", "lik_mean"), ("inverse.likelihood_score", "lik_var"),
          ("inverse.posterior", "post_mean"), ("inverse.posterior", "post_var"),
          ("inverse.posterior", "evidence_mean"), ("inverse.posterior", "evidence_var"),
          ("mixture.noised_score", "component_log_density")),
    samples=MIXTURE_SAMPLES,
    simulate=simulate_mixture,
)
def posterior_mixture(ctx: CheckContext, moments: stats.RunningMoments) -> list[stats.Estimate]:
    mean, var = posterior_mixture_moments(ctx)
    return stats.mean_estimates("output", moments, mean) + stats.variance_estimates("output", moments, var)
