r"""Exact output law of the replacement method and of RePaint on 2-D Gaussian data.

The state (known :math:`x`, unknown :math:`y`) stays Gaussian: a reverse step maps the unknown coordinate by
the derived affine update of ``inpaint.replacement_step`` (the catalogue's DDPM ancestral rule on the 2-D
state, exact score), the known coordinate is then replaced by a fresh draw from
:math:`\mathcal N(m_{t'}x_{\mathrm o}, v_{t'})` (independent of the state); RePaint walks the levels
down and, every :math:`j` levels, back up :math:`j` levels by the forward kernel
:math:`z \mapsto a z + \sqrt b\,\xi` on the whole state, :math:`U - 1` times (:func:`jump_schedule`;
:math:`j = 1`: each step repeated :math:`U` times). Chain: the DDPM linear schedule on 1000 levels, respaced to ``steps``
levels; :math:`m = \sqrt{\bar\alpha}`, :math:`v = 1 - \bar\alpha`. Started from :math:`\mathcal N(0, I)`.
The output law of :math:`y` is compared with the true conditional (``inpaint.conditional``) by
``gaussian.w2``. The score evaluations are the walk's reverse steps (``steps * U`` at :math:`j = 1`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

import derivations
from derivations import catalogue
from derivations.core import schedules

LEVELS = 1000
RESAMPLINGS = (1, 2, 5, 10)
STEPS = (10, 50, 250, 1000)


@dataclass(frozen=True)
class PlaneData:
    """2-D Gaussian data and the observed first coordinate."""

    mean_x: float = 0.0
    mean_y: float = 0.0
    std_x: float = 1.0
    std_y: float = 1.0
    corr: float = 0.8
    observed: float = 1.5

    def values(self) -> dict[str, float]:
        return {"mean_data": self.mean_x, "mean_data_y": self.mean_y, "std_data_x": self.std_x,
                "std_data_y": self.std_y, "corr_data": self.corr, "obs_inp": self.observed}


def true_conditional(data: PlaneData) -> tuple[float, float]:
    d = derivations.get("inpaint.conditional")
    return float(d.function("cond_mean")(**data.values())), float(d.function("cond_var")(**data.values()))


@functools.lru_cache(maxsize=None)
def step_maps() -> dict:
    """The compiled results of ``inpaint.replacement_step``, by name."""
    d = derivations.get("inpaint.replacement_step")
    return {r: d.function(r) for r in d.results}


def _levels(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Kernel coefficients m, v at the respaced levels, from the clean level 0 up."""
    alpha_bar = schedules.make("linear", LEVELS).alpha_bar
    levels = np.unique(np.round(np.linspace(0, LEVELS, steps + 1)).astype(int))
    return np.sqrt(alpha_bar[levels]), 1 - alpha_bar[levels]


def jump_schedule(steps: int, resamplings: int = 1, jump: int = 1) -> list[int]:
    r"""RePaint's walk over the respaced levels ``steps`` (top) down to 0: after arriving at a level :math:`k`
    that is a multiple of the jump length :math:`j` with :math:`k \le \text{steps} - j`, go back up :math:`j`
    levels and down again, :math:`U - 1` times (Lugmayr et al. 2022, §4.2 and the schedule of their code);
    :math:`j = 1` resamples after every step, :math:`U = 1` is the replacement method."""
    remaining = {k: resamplings - 1 for k in range(0, steps - jump + 1, jump)}
    level, walk = steps, [steps]
    while level > 0:
        level -= 1
        walk.append(level)
        if remaining.get(level, 0) > 0:
            remaining[level] -= 1
            for _ in range(jump):
                level += 1
                walk.append(level)
    return walk


def inpaint_law(steps: int, resamplings: int = 1, data: PlaneData = PlaneData(), variance: str = "beta_tilde",
                jump: int = 1) -> tuple[float, float]:
    """Mean and variance of the inpainted coordinate after RePaint's walk (:func:`jump_schedule`) over
    ``steps`` respaced levels: a reverse step then the known coordinate replaced on every way down, the
    forward kernel on the whole state on every way up."""
    m, v = _levels(steps)
    maps, values = step_maps(), data.values()
    mean, cov = np.zeros(2), np.eye(2)
    walk = jump_schedule(len(m) - 1, resamplings, jump)
    for here, there in zip(walk, walk[1:]):
        top, bottom = max(here, there), min(here, there)
        a = m[top] / m[bottom]
        b = v[top] - a * a * v[bottom]
        if there > here:  # re-noise the whole state from level `here` to the level above
            mean, cov = a * mean, a * a * cov + b * np.eye(2)
            continue
        flags = frozenset({"clean"}) if v[there] == 0 else frozenset()
        step = values | {"a_st": a, "b_st": b, "m_next_st": m[there], "v_next_st": v[there]}
        gain_x, gain_y, offset, noise_var = (
            float(maps[catalogue.result_name(base, (variance,), flags)](**step))
            for base in ("gain_known", "gain_unknown", "offset", "noise_var"))
        row = np.array([gain_x, gain_y])
        mean_y, var_y = row @ mean + offset, row @ cov @ row + noise_var
        mean = np.array([m[there] * data.observed, mean_y])
        cov = np.diag([v[there], var_y])
    return float(mean[1]), float(cov[1, 1])


def score_evaluations(steps: int, resamplings: int = 1, jump: int = 1) -> int:
    """The reverse steps RePaint's walk takes (one score evaluation each)."""
    walk = jump_schedule(steps, resamplings, jump)
    return sum(there < here for here, there in zip(walk, walk[1:]))


def w2_to_conditional(steps: int, resamplings: int, data: PlaneData = PlaneData(), jump: int = 1) -> float:
    mean, var = inpaint_law(steps, resamplings, data, jump=jump)
    target = true_conditional(data)
    w2_sq = derivations.get("gaussian.w2").function("w2_sq")
    return float(np.sqrt(w2_sq(mean_p=mean, var_p=var, mean_q=target[0], var_q=target[1])))


def repaint_table(step_counts=STEPS, resamplings=RESAMPLINGS, data: PlaneData = PlaneData(), jumps=(1,)
                  ) -> list[dict[str, float]]:
    rows = []
    target = true_conditional(data)
    for steps in step_counts:
        for jump in jumps:
            for u in resamplings:
                mean, var = inpaint_law(steps, u, data, jump=jump)
                rows.append({"steps": steps, "U": u, "j": jump, "nfe": score_evaluations(steps, u, jump),
                             "mean": mean, "var": var, "target_mean": target[0], "target_var": target[1],
                             "w2": w2_to_conditional(steps, u, data, jump)})
    return rows
