r"""Forward (noising) processes simulated step by step, as a training loop would.

Every function takes an explicit ``torch.Generator`` and takes device and
dtype from its inputs.
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch


def ddpm_forward_chain(
    x0: torch.Tensor, betas: torch.Tensor, generator: torch.Generator, keep: Iterable[int]
) -> dict[int, torch.Tensor]:
    r"""Run :math:`x_t = \sqrt{1-\beta_t}\,x_{t-1} + \sqrt{\beta_t}\,z_t` for t = 1..T.

    ``betas[t]`` is :math:`\beta_t` (entry 0 unused). Returns the states at the
    steps in ``keep`` (0 is :math:`x_0`).
    """
    wanted = set(keep)
    steps = betas.shape[0] - 1
    if not wanted <= set(range(steps + 1)):
        raise ValueError(f"keep must lie in 0..{steps}")
    kept = {0: x0} if 0 in wanted else {}
    state = x0
    for t in range(1, max(wanted, default=0) + 1):
        noise = torch.randn(state.shape, generator=generator, dtype=state.dtype, device=state.device)
        state = torch.sqrt(1 - betas[t]) * state + torch.sqrt(betas[t]) * noise
        if t in wanted:
            kept[t] = state
    return kept


def euler_maruyama(
    drift: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    diffusion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    grid: torch.Tensor,
    generator: torch.Generator,
    keep: Iterable[int],
) -> dict[int, torch.Tensor]:
    r"""Euler–Maruyama for :math:`dX = f(t, X)\,dt + g(t, X)\,dW` (diagonal noise).

    :math:`X_{k+1} = X_k + f(t_k, X_k)\,h_k + g(t_k, X_k)\sqrt{h_k}\,Z_k` on the time
    ``grid`` (increasing or decreasing; :math:`h_k = |t_{k+1} - t_k|` for the noise,
    signed for the drift). Returns the states at the grid indices in ``keep``.
    Weak order 1, strong order 1/2 (order 1 for additive noise).
    """
    wanted = set(keep)
    if not wanted <= set(range(len(grid))):
        raise ValueError(f"keep must lie in 0..{len(grid) - 1}")
    kept = {0: x0} if 0 in wanted else {}
    state = x0
    for k in range(max(wanted, default=0)):
        t, step = grid[k], grid[k + 1] - grid[k]
        noise = torch.randn(state.shape, generator=generator, dtype=state.dtype, device=state.device)
        state = state + drift(t, state) * step + diffusion(t, state) * torch.sqrt(step.abs()) * noise
        if k + 1 in wanted:
            kept[k + 1] = state
    return kept
