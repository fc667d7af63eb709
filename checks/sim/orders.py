r"""Convergence orders: step-size sweeps on the exact law of the discretized scheme.

For Gaussian data the output law of a scheme with :math:`N` uniform steps is
computed exactly (:mod:`checks.sim.exact`, no sampling noise); its weak
error against :math:`p_{t_{\mathrm{end}}}` for the test functions :math:`x`
and :math:`x^2`, per eigen-coordinate,

.. math:: e(h) = \sum_j |E_h x_j - E x_j| + |\mathrm{Var}_h x_j - \mathrm{Var}\, x_j|,

behaves as :math:`C h^p` for a scheme of weak order :math:`p`. The slope of
:math:`\log e` on :math:`\log h` is fitted by least squares
(:func:`checks.core.stats.loglog_slope`) with its standard error.

Order rule: the fitted slope must lie within :data:`ORDER_RESOLUTION` of the
declared order. The errors are noise-free, so the only departure from
:math:`p` is the next term of the expansion, :math:`O(h)` relative; the sweeps
start where it is small, and a half-unit window keeps adjacent integer orders
apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from checks.core import stats
from checks.sim import exact, processes
from checks.sim.data import GaussianData
from checks.sim.processes import Process
from checks.sim.registry import Grid, Sampler

ORDER_RESOLUTION = 0.25
SWEEP_STEPS = (64, 128, 256, 512)
# Fourth order reaches round-off sooner: its sweep stops earlier.
SWEEP_STEPS_HIGH_ORDER = (32, 64, 128, 256)
ORDER_DATA = GaussianData(torch.tensor([0.8, -0.3], dtype=torch.float64), torch.tensor([0.3, 1.7], dtype=torch.float64))


@dataclass(frozen=True)
class OrderFit:
    label: str
    step_sizes: tuple[float, ...]
    errors: tuple[float, ...]
    slope: float
    slope_se: float
    declared: float | None

    @property
    def matches(self) -> bool:
        return self.declared is not None and abs(self.slope - self.declared) <= ORDER_RESOLUTION


def order_process(sampler: Sampler) -> Process:
    """The process an order is fitted on: the record's, or VP for a discrete chain (its steps cannot shrink),
    ending at the record's ``order_t_end`` where it has one."""
    process = processes.named(sampler.scheme.process)
    process = process if process.continuous else processes.named("vp")
    t_end = sampler.scheme.order_t_end
    return process if t_end is None else dataclasses.replace(process, t_end=t_end)


def weak_error(sampler: Sampler, options: dict, process: Process, steps: int, data: GaussianData = ORDER_DATA,
               model=None) -> float:
    """:math:`e(h)` for ``steps`` uniform steps, started from the exact :math:`p_T`."""
    grid = Grid.uniform(process, steps)
    init_mean, init_var = data.marginal(process, grid.times[0])
    mean, var = exact.output_law(sampler, options, model or data.score(process), grid, init_mean, init_var)
    true_mean, true_var = data.marginal(process, grid.times[-1])
    return float((mean - true_mean).abs().sum() + (var - true_var).abs().sum())


def fit_order(sampler: Sampler, options: dict, process: Process, steps: tuple[int, ...] | None = None,
              label: str = "") -> OrderFit:
    if steps is None:
        steps = SWEEP_STEPS_HIGH_ORDER if (sampler.weak_order or 0) > 2 else SWEEP_STEPS
    sizes = [(process.t_start - process.t_end) / n for n in steps]
    errors = [weak_error(sampler, options, process, n) for n in steps]
    slope, se = stats.loglog_slope(sizes, errors)
    return OrderFit(label or sampler.name, tuple(sizes), tuple(errors), slope, se, sampler.weak_order)
