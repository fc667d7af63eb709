r"""The exact law of a discretized linear scheme, from the scheme's own step.

With Gaussian data in its eigenbasis the exact score is affine in :math:`x`
coordinate by coordinate, so every sampler here maps the start and its noise
draws affinely: :math:`x_{\mathrm{out}} = A x_{\mathrm{init}} + c + \sum_j B_j z_j`.
Running the sampler itself on a few probe rows with *scripted* noise reads
:math:`A`, :math:`c` and every :math:`B_j` off without a second copy of any
formula, and then

.. math:: x_{\mathrm{init}} \sim \mathcal N(\mu_0, \operatorname{diag} c_0) \Rightarrow
          x_{\mathrm{out}} \sim \mathcal N(A\mu_0 + c,\ A^2 c_0 + \textstyle\sum_j B_j^2).

This is the law of the *discretized* scheme: a Monte Carlo run must match it
with no discretization bias, and its distance to :math:`p_{t_{\mathrm{end}}}`
is the scheme's bias.
"""

from __future__ import annotations

import torch

from checks.sim.registry import Grid, Sampler

_AFFINE_ROWS = (0.0, 1.0, -1.5)  # starts of the noise-free probe rows: offset, gain, affinity check


class ScriptedNoise:
    """A noise source for probes: at draw ``j`` row ``first_row + j`` gets 1, every other entry 0."""

    def __init__(self, first_row: int):
        self.first_row = first_row
        self.draws = 0

    def normal_like(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros_like(x)
        row = self.first_row + self.draws
        if row < x.shape[0]:
            out[row] = 1
        self.draws += 1
        return out


def output_law(sampler: Sampler, options: dict, model, grid: Grid, init_mean: torch.Tensor,
               init_var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance (per coordinate) of the sampler's output from ``N(init_mean, diag init_var)``."""
    first = len(_AFFINE_ROWS)
    counter = ScriptedNoise(first)
    start = torch.tensor(_AFFINE_ROWS, dtype=init_mean.dtype, device=init_mean.device)[:, None]
    sampler(model, grid, start.expand(first, init_mean.shape[0]).clone(), counter, **options)
    probe = torch.zeros(first + counter.draws, init_mean.shape[0], dtype=init_mean.dtype, device=init_mean.device)
    probe[:first] = start
    out = sampler(model, grid, probe, ScriptedNoise(first), **options)
    offset, gain = out[0], out[1] - out[0]
    affine = offset + _AFFINE_ROWS[2] * gain
    if not torch.allclose(out[2], affine, rtol=1e-9, atol=1e-9 * float(gain.abs().max() + offset.abs().max())):
        raise ValueError(f"{sampler.name} is not affine in its start for this model: no exact Gaussian law")
    noise_gains = out[first:] - offset
    return gain * init_mean + offset, gain**2 * init_var + (noise_gains**2).sum(dim=0)
