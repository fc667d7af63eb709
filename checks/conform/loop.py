r"""The sampling loop a step is carried through: one call per timestep reads its kernel and carries
the exact laws of the Gaussian data (:mod:`checks.conform.law`); then the textbook laws on the same
grid and the :math:`W_2` distances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from checks.conform import derived, kernel, law, textbook
from checks.conform.reference import Reference


@dataclass(frozen=True)
class Walk:
    a: np.ndarray
    b: np.ndarray
    s: np.ndarray
    offset: np.ndarray
    affine_residual: float  # over the steps with finite outputs
    nonfinite_steps: int
    laws: list[law.Law]  # the output laws, one per data law, from N(0, 1)


def walk(step: kernel.StepFn, alphas_cumprod: np.ndarray, timesteps: Sequence[int], prediction: str,
         data: Sequence[law.GaussianData] = law.DATA, dtype: torch.dtype = torch.float64) -> Walk:
    """Run ``step`` down ``timesteps`` from :math:`N(0, 1)` with the exact model of each data law."""
    laws = [law.Law(0.0, 1.0) for _ in data]
    element_data = [d for d in data for _ in range(3)]  # law.probe gives each law three elements
    kernels = []
    for t in timesteps:
        alpha_bar = float(alphas_cumprod[t])
        x_law, z_law = law.probe(laws)
        y_law = law.exact_output(element_data, alpha_bar, prediction, x_law)
        x, y, z = (torch.tensor(np.concatenate([probe, own]), dtype=dtype) for probe, own in
                   ((kernel.X, x_law), (kernel.Y, y_law), (kernel.Z, z_law)))
        out = step(x, y, int(t), z).detach().to(torch.float64).reshape(-1).numpy()
        kernels.append(kernel.from_outputs(out[:5]))
        laws = law.advance(laws, out[5:])
    a, b, s, offset = (np.array([getattr(k, name) for k in kernels]) for name in ("a", "b", "s", "offset"))
    residuals = np.array([k.affine_residual for k in kernels])
    finite = np.isfinite(a + b + s + offset + residuals)
    return Walk(a, b, s, offset, float(np.max(residuals[finite], initial=0.0)), int(np.sum(~finite)), laws)


def implied_previous(w: Walk, alphas_cumprod: np.ndarray, timesteps: Sequence[int], prediction: str) -> list[int]:
    """The training timestep each step lands on (-1: the clean level), from its gain on :math:`x_t`."""
    with np.errstate(invalid="ignore"):
        implied = derived.implied_alpha_bar_prev(w.a, w.b, alphas_cumprod[list(timesteps)], prediction)
    return [derived.nearest_timestep(float(v), alphas_cumprod) if np.isfinite(v) else -2 for v in implied]


def w2_table(reference: Reference, alpha_bars: Sequence[float], data: Sequence[law.GaussianData],
             laws: Sequence[law.Law]) -> dict[str, dict[str, float]]:
    r""":math:`W_2` to each data law of the sampler's output, of the textbook rule on ``alpha_bars``
    (the grid, ending on the level it lands on) from :math:`N(0, 1)` and from the exact :math:`q(x_T)`,
    and between the sampler's and the textbook's outputs."""
    scheme, options = reference.scheme
    data = list(data)
    starts = [law.Law(0.0, 1.0)] * len(data) + [law.noised(d, alpha_bars[0]) for d in data]
    ends = textbook.run(scheme, options, alpha_bars, data + data, starts)
    out = {}
    for d, own, from_unit, from_exact in zip(data, laws, ends[:len(data)], ends[len(data):]):
        out[d.label] = {"sampler": law.w2(own, d), "textbook": law.w2(from_unit, d),
                        "textbook, exact start": law.w2(from_exact, d),
                        "sampler vs textbook": law.w2_between(own, from_unit)}
    return out
