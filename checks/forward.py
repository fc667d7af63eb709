r"""Forward (noising) processes simulated step by step, as a training loop would.

Every function takes an explicit ``torch.Generator`` and takes device and
dtype from its inputs.
"""

from __future__ import annotations

from typing import Iterable

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
