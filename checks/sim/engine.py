"""Chunked simulation with running moments: bounded memory however many paths run.

A run draws its start and its noise from one generator, chunk after chunk,
and folds each chunk's output into :class:`checks.core.stats.RunningMoments`
(float64); a progress bar shows on a terminal only.
"""

from __future__ import annotations

from typing import Callable

import torch

from checks.core import stats
from checks.core.progress import Progress
from checks.sim.registry import Grid, Sampler

DEFAULT_CHUNK = 1 << 16


def simulate_moments(sampler: Sampler, options: dict, model, grid: Grid,
                     start: Callable[[int, torch.Generator], torch.Tensor], n: int, generator: torch.Generator,
                     chunk: int = DEFAULT_CHUNK, transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                     progress: bool | None = None) -> stats.RunningMoments:
    """Run ``n`` paths in chunks; ``start(size, generator)`` draws the initial states.

    ``transform`` maps outputs before accumulation (e.g. into the data's eigenbasis).
    """
    moments = stats.RunningMoments()
    bar = Progress(n, sampler.name, progress, unit="path")
    remaining = n
    while remaining > 0:
        size = min(chunk, remaining)
        out = sampler(model, grid, start(size, generator), generator, **options)
        moments.update(out if transform is None else transform(out))
        remaining -= size
        bar.advance(size)
    return moments


class CoupledNoise:
    r"""Brownian increments shared by a fine run and the run on every other step of its grid.

    The fine source draws :math:`z_1, z_2, \dots` from ``generator`` and keeps them; the
    coarse source, used afterwards, replays :math:`(z_{2j-1} + z_{2j})/\sqrt 2` at its
    draw :math:`j`: i.i.d. standard normal, and for a scheme with one draw per step the
    same Brownian path. Paired differences of the two runs then measure the
    discretization bias with a small variance (a step sweep without the sampling noise).
    Any scheme may use it: the pairing is valid for every draw pattern, it only couples
    best when the draws are Brownian increments.
    """

    def __init__(self, generator: torch.Generator):
        self.generator = generator
        self.draws: list[torch.Tensor] = []

    def fine(self) -> "_Recorder":
        return _Recorder(self)

    def coarse(self) -> "_Replay":
        pairs = [(a + b) / 2**0.5 for a, b in zip(self.draws[0::2], self.draws[1::2])]
        return _Replay(pairs)


class _Recorder:
    def __init__(self, coupled: CoupledNoise):
        self.coupled = coupled

    def normal_like(self, x: torch.Tensor) -> torch.Tensor:
        z = torch.randn(x.shape, generator=self.coupled.generator, dtype=x.dtype, device=x.device)
        self.coupled.draws.append(z)
        return z


class _Replay:
    def __init__(self, draws: list[torch.Tensor]):
        self.draws, self.used = draws, 0

    def normal_like(self, x: torch.Tensor) -> torch.Tensor:
        if self.used >= len(self.draws):
            raise ValueError("the coarse run draws more noise than the fine run recorded in pairs")
        z = self.draws[self.used]
        self.used += 1
        return z.reshape(x.shape)
