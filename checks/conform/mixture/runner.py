"""The statistics of a run (same grid and data law) and the run itself (:func:`run`)."""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from checks.conform.mixture.cases import Case, cases, models_for, noise_sampler, sigma_levels
from checks.conform.mixture.law import (FINE_FRACTION, REFINE, STATISTICS, BrownianPath, data_law, mixture_data,
                                        responsibility)
from checks.core import stats
from checks.core.registry import seed_for


def _values(name: str, x: torch.Tensor) -> torch.Tensor:
    x = x.reshape(-1).to(torch.float64)
    if name == "mean":
        return x
    if name == "variance":
        return (x - x.mean()) ** 2
    return responsibility(x)


def _estimate(name: str, x: torch.Tensor) -> float:
    """The statistic: the mean of the values (for the variance, with the unbiased n - 1)."""
    values = _values(name, x)
    return float(values.sum() / (len(values) - (name == "variance")))


def rounding_allowance(name: str, x: torch.Tensor, shift: float) -> float:
    """The largest change of the statistic when every output moves by at most ``shift`` (bound of the
    rounding), to first order: the mean moves by ``shift``; the variance by :math:`4\\,\\text{shift}\\,E|x - \\bar x|`
    (each centred value moves by up to twice the shift); the weight by :math:`E|r_1(x \\pm \\text{shift}) - r_1(x)|`."""
    x = x.reshape(-1).to(torch.float64)
    if name == "mean":
        return shift
    if name == "variance":
        return float(4 * shift * (x - x.mean()).abs().mean() + 4 * shift**2)
    r = responsibility(x)
    return float(torch.maximum((responsibility(x + shift) - r).abs(), (responsibility(x - shift) - r).abs()).mean())


def paired(name: str, a: torch.Tensor, b: torch.Tensor) -> tuple[float, float, float]:
    """(statistic of ``a``, of ``b``, SE of the difference) over paths paired row by row."""
    differences = _values(name, a) - _values(name, b)
    return _estimate(name, a), _estimate(name, b), float(differences.std() / math.sqrt(len(differences)))


def same_grid_estimates(out: torch.Tensor, ref: torch.Tensor, label: str, tolerance: float) -> list[stats.Estimate]:
    """The library's statistics against the reference's on the same paths, a rounding allowance each."""
    ref_flat = ref.reshape(-1).to(torch.float64)
    scale = math.sqrt(float(ref_flat.mean()) ** 2 + float(ref_flat.var()))
    shift = tolerance * scale
    estimates = []
    for name in STATISTICS:
        lib_value, ref_value, se = paired(name, out, ref)
        allowance = rounding_allowance(name, ref, shift)
        # Outputs equal to the last bit have no spread: the rounding's own spread per path is the floor.
        se = max(se, allowance / math.sqrt(out.shape[0]))
        estimates.append(stats.Estimate(f"{name}, vs {label} (same grid, same noise)", lib_value, ref_value, se,
                                        bias_allowance=allowance))
    return estimates


def bias_bounds(coarse: torch.Tensor, fine: torch.Tensor, order: float, critical: float) -> dict[str, float]:
    r""":math:`(|\hat\Delta| + c\,\mathrm{SE}_\Delta)\,K^p/(K^p - 1)` per statistic, :math:`\hat\Delta` the
    coarse-minus-fine statistic over coupled paths."""
    factor = REFINE**order / (REFINE**order - 1)
    out = {}
    for name in STATISTICS:
        c, f, se = paired(name, coarse, fine)
        out[name] = (abs(c - f) + critical * se) * factor
    return out


def data_law_estimates(out: torch.Tensor, bias: dict[str, float]) -> list[stats.Estimate]:
    exact = data_law()
    x = out.reshape(-1, 1).to(torch.float64)
    made = [stats.mean("mean", x, exact["mean"]), stats.variance("variance", x, exact["variance"]),
            stats.mean("first-mode weight", responsibility(x), exact["first-mode weight"])]
    return [dataclasses.replace(e, name=f"{e.name}, vs data law", bias_allowance=bias[e.name]) for e in made]


@dataclass(frozen=True)
class Result:
    case: Case
    reference: str | None  # the same-grid reference's label
    statistics: tuple[stats.Statistic, ...]
    samples: int
    fine_samples: int
    seed: int
    wall_time_s: float

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.statistics)


def run(case: Case, samples: int | None = None, seed_offset: int = 0, sampler=None,
        false_alarm: float = stats.FALSE_ALARM_PER_CHECK) -> Result:
    """Run ``case`` (or ``sampler`` in place of its library loop: a planted bug) and test its statistics."""
    n = samples or case.samples
    if n < FINE_FRACTION * stats.MIN_SAMPLES:
        raise ValueError(f"{case.check_id}: at least {FINE_FRACTION * stats.MIN_SAMPLES} samples are needed")
    start = time.perf_counter()
    seed = seed_for(case.check_id, seed_offset)
    generator = torch.Generator().manual_seed(seed)
    models, levels, fine = models_for(case), case.grid(case.steps), case.fine()
    x_init = mixture_data().sample_marginal(case.process(), float(levels[0]), n, generator)
    path = BrownianPath(np.concatenate([levels, fine]), n, generator) if case.stochastic else None
    with torch.no_grad():
        out = (sampler or case.sampler(case.steps))(models.library, x_init.clone(), noise_sampler(path))
        reference = case.reference()
        ref_out = None if reference is None else reference.run(models, levels, x_init.clone(), path)
        m = n // FINE_FRACTION
        if reference is not None:
            coarse = ref_out[:m]
            fine_out = reference.run(models, fine, x_init[:m].clone(), path)
        else:  # the library itself on both grids (its own loop, not a planted ``sampler``: the scheme it claims)
            coarse = out[:m] if sampler is None else case.sampler(case.steps)(models.library, x_init[:m].clone(),
                                                                                noise_sampler(path, m))
            fine_out = case.sampler(REFINE * case.steps)(models.library, x_init[:m].clone(), noise_sampler(path, m))
    k = 2 * len(STATISTICS) if reference is not None else len(STATISTICS)
    critical = stats.critical_value(false_alarm / k)
    estimates = []
    if reference is not None:
        from checks.conform.reference import loop_tolerance

        tolerance = loop_tolerance(sigma_levels(case, levels), case.resolution)
        estimates += same_grid_estimates(out, ref_out, reference.label, tolerance)
    estimates += data_law_estimates(out, bias_bounds(coarse, fine_out, case.order, critical))
    return Result(case, None if reference is None else reference.label, tuple(stats.test(estimates, false_alarm)),
                  n, m, seed, time.perf_counter() - start)


def run_all(library: str, samples: int | None = None) -> list[Result]:
    return [run(c, samples) for c in cases(library)]
