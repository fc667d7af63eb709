"""Blocks of rows (``block_rows``): the engine's cache-sized blocks give the unblocked run's numbers."""

from __future__ import annotations

import pytest
import torch

from checks.sim import Grid, engine, processes, steps, variant_label, variants
from checks.sim.data import GaussianData


def _data(dim: int) -> GaussianData:
    return GaussianData(torch.linspace(-0.5, 0.5, dim, dtype=torch.float64),
                        torch.linspace(0.05, 2.0, dim, dtype=torch.float64))


@pytest.mark.parametrize("sampler, options", variants(), ids=lambda v: v if isinstance(v, str) else None)
def test_blocked_run_is_bit_identical(sampler, options):
    process = processes.named(sampler.scheme.process)
    grid, data = Grid.uniform(process, 5), _data(8)
    x_init = data.sample_marginal(process, grid.times[0], 37, torch.Generator().manual_seed(3))
    whole = sampler(data.score(process), grid, x_init.clone(), torch.Generator().manual_seed(4), **options)
    blocked = sampler(data.score(process), grid, x_init.clone(), torch.Generator().manual_seed(4),
                      block_rows=5, **options)  # 37 = 7 blocks of 5 and one of 2
    assert torch.equal(whole, blocked), variant_label(sampler, options)


def test_blocked_run_reads_a_noise_object_as_the_whole_batch_does():
    sampler, options = next((s, o) for s, o in variants() if not s.is_deterministic(o))
    process = processes.named(sampler.scheme.process)
    grid, data = Grid.uniform(process, 4), _data(3)
    x_init = torch.zeros(10, 3, dtype=torch.float64)
    runs = []
    for rows in (None, 4):
        coupled = engine.CoupledNoise(torch.Generator().manual_seed(5))
        out = sampler(data.score(process), grid, x_init.clone(), coupled.fine(), block_rows=rows, **options)
        runs.append((out, [d.shape for d in coupled.draws]))
    assert torch.equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]  # recorded as whole-batch draws, so a coarse replay pairs them alike


def test_callback_sees_the_whole_state():
    sampler, options = variants()[0]
    process = processes.named(sampler.scheme.process)
    grid, data = Grid.uniform(process, 4), _data(1)
    seen = []
    sampler(data.score(process), grid, torch.zeros(9, 1, dtype=torch.float64), torch.Generator().manual_seed(0),
            callback=lambda k, t, x: seen.append(x.shape), block_rows=2, **options)
    assert seen == [torch.Size([9, 1])] * 4


def test_a_block_drawing_more_than_the_first_is_refused():
    noise = steps.BlockNoise(torch.Generator().manual_seed(0), 4)
    noise.block(0).normal_like(torch.zeros(2, 1))
    noise.block(2).normal_like(torch.zeros(2, 1))
    with pytest.raises(ValueError, match="not row-wise"):
        noise.normal_like(torch.zeros(2, 1))


def test_cache_rows_fills_about_half_a_megabyte():
    assert steps.cache_rows(torch.zeros(10, 3072, dtype=torch.float32)) == (1 << 19) // (3072 * 4)
    assert steps.cache_rows(torch.zeros(10, 10**7, dtype=torch.float32)) == 1
