"""Sharded checks and Ray: exact merges, a plan's numbers independent of where and in what order shards run.

The first tests need no cluster (the mergeable moments and the shard plan). The others start one
local Ray instance for the module (2 CPUs) and skip, saying so, where the extra ``scale`` (ray)
is absent. They share one xdist group: one process holds the instance.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import random

import pytest
import torch

from checks.core import recorded, shards, stats
from checks.core.errors import UsageError
from checks.core.moments import Moments, merge_running

HAS_RAY = importlib.util.find_spec("ray") is not None
HAS_DIFFUSERS = importlib.util.find_spec("diffusers") is not None
NO_RAY = "ray is not installed (the extra scale: pip install 'diffverify[scale]')"

pytestmark = pytest.mark.xdist_group("ray")

# A check reduced by recorded estimators (means of sampled log-ratios), and one whose simulation
# folds its paths into running moments (a sampler's output law): the two forms a shard sends back.
RECORDED = "gaussian.kl.sampled"
ACCUMULATED = "samplers.ddim.eta_0.0"
SAMPLES = 3_000
SHARDS = 3


def _draws(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = 3 + 2 * torch.randn(n, generator=g, dtype=torch.float64)
    y = 0.5 * x + torch.randn(n, generator=g, dtype=torch.float64) ** 2
    return x, y, torch.randn(n, generator=g, dtype=torch.float64)


def _direct(x, y, z) -> list[stats.Estimate]:
    return ([stats.mean("m", x, 1.0), stats.variance("v", x, 1.0), stats.covariance("c", x, y, 1.0)]
            + stats.regression(["b1", "b2"], y, [x, z], [0.5, 0.0], "r", 2.0))


def _recorded(x, y, z) -> list:
    with recorded.recording():
        return _direct(x, y, z)


def _close(a: stats.Estimate, b: stats.Estimate) -> bool:
    return a.name == b.name and a.expected == b.expected and all(
        abs(u - v) <= 1e-12 * abs(v) for u, v in ((a.estimate, b.estimate), (a.std_error, b.std_error)))


def test_recorded_estimators_merged_give_the_estimators_numbers():
    x, y, z = _draws(5_000, 1)
    direct = _direct(x, y, z)
    cut = 1_700
    merged = recorded.merge_parts(_recorded(x[:cut], y[:cut], z[:cut]), _recorded(x[cut:], y[cut:], z[cut:]))
    finished = [e for part in merged for e in part.finish()]
    assert [e.name for e in finished] == [e.name for e in direct]
    assert all(_close(f, d) for f, d in zip(finished, direct))
    # the summands' shape too, which the threshold's second-order calibration reads: a sharded
    # run tests a skewed statistic at the same critical value as an unsharded one
    for f, d in zip(finished[:3], direct[:3]):
        assert f.count == d.count and abs(f.skewness - d.skewness) <= 1e-9 * abs(d.skewness)
        assert abs(f.excess_kurtosis - d.excess_kurtosis) <= 1e-9 * abs(d.excess_kurtosis)
        assert stats.test([f])[0].critical == stats.test([d])[0].critical
    # inside recording() stats returns parts; outside it is the estimators again
    assert isinstance(stats.mean("m", x, 1.0), stats.Estimate)


def test_chan_merge_is_the_moments_of_the_union():
    x, y, _ = _draws(4_000, 2)
    whole = Moments.of([x, y], 4)
    parts = [Moments.of([x[a:b], y[a:b]], 4) for a, b in ((0, 900), (900, 2_500), (2_500, 4_000))]
    merged = parts[0].merge(parts[1]).merge(parts[2])
    assert merged.count == whole.count
    assert all(abs(m - w) <= 1e-12 * abs(w) for m, w in zip(merged.mean, whole.mean))
    assert all(abs(merged.sums[k] - whole.sums[k]) <= 1e-10 * abs(whole.sums[k]) for k in whole.sums)


def test_running_moments_merge_about_the_first_shift():
    x, _, _ = _draws(3_000, 3)
    first, second = stats.RunningMoments().update(x[:1_000, None]), stats.RunningMoments().update(x[1_000:, None] + 0.3)
    merged = merge_running(first, second)
    whole = stats.RunningMoments().update(torch.cat([x[:1_000], x[1_000:] + 0.3])[:, None])
    for k in (2, 3, 4):
        assert torch.allclose(merged.central(k), whole.central(k), rtol=1e-12, atol=0)


def test_shard_seeds_are_distinct_and_derived_from_the_id():
    plan = shards.ShardPlan(RECORDED, 10_001, 4)
    assert [plan.size(k) for k in range(4)] == [2_501, 2_500, 2_500, 2_500]
    seeds = {plan.seed(k) for k in range(4)}
    assert len(seeds) == 4 and plan.seed(0) == shards.ShardPlan(RECORDED, 5_000, 2).seed(0)
    with pytest.raises(UsageError, match="fewer than"):
        shards.ShardPlan(RECORDED, 3_000, 4)


def test_merge_ignores_the_order_in_which_shards_finish():
    def shuffled(task, jobs):
        order = list(jobs)
        random.Random(7).shuffle(order)
        return [task(job) for job in order]

    local = shards.run_sharded(RECORDED, SHARDS, SAMPLES, device="cpu")[0]
    out_of_order = shards.run_sharded(RECORDED, SHARDS, SAMPLES, device="cpu", mapper=shuffled)[0]
    assert out_of_order.statistics == local.statistics


def test_sharded_run_rejects_a_wrong_variant():
    """A sharded check can still fail: a misprinted closed form is rejected after the merge."""
    import sympy as sp

    import derivations

    kl = derivations.get("gaussian.kl").result("kl")
    mean_p, mean_q = (s for s in kl.free_symbols if s.name in ("mean_p", "mean_q"))
    wrong = {("gaussian.kl", "kl"): kl + sp.Rational(1, 10) * (mean_p - mean_q) ** 2}
    right, misprinted = shards.run_sharded(RECORDED, SHARDS, 30_000, device="cpu", variants=[{}, wrong])
    assert right.passed and not misprinted.passed


def test_merged_accumulators_reject_every_wrong_variant():
    """The same for a check whose shards send back running moments: compare runs once on the merged ones."""
    from checks.core import registry
    from tests.conftest import wrong_variants

    variants = wrong_variants(registry.get(ACCUMULATED))
    right, *wrong = shards.run_sharded(ACCUMULATED, SHARDS, SAMPLES, device="cpu",
                                       variants=[{}] + [overrides for _, overrides in variants])
    assert right.passed
    # as tests/test_checks.py: a variant that moves some prediction by a detectable error is rejected
    visible = [r for r in wrong if max(abs(w.expected - s.expected) / s.detectable_error
                                       for w, s in zip(r.statistics, right.statistics)) >= 1]
    assert visible and not any(r.passed for r in visible)


@pytest.mark.gpu
@pytest.mark.parametrize("check_id", [RECORDED, ACCUMULATED])
def test_shards_on_cuda_merge_on_the_cpu(check_id):
    """Shards simulated on CUDA send their statistics back to the CPU, where they merge; twice the same bits."""
    first, second = (shards.run_sharded(check_id, SHARDS, SAMPLES, device="cuda")[0] for _ in range(2))
    assert first.device == "cuda" and first.passed
    assert first.statistics == second.statistics


def test_a_check_built_by_hand_is_refused():
    with pytest.raises(shards.NotShardable, match="by hand"):
        shards.run_sharded("langevin.stationary.quartic", 2, 2_000, device="cpu")


def test_no_cluster_at_the_address_is_one_line(monkeypatch, capsys):
    if not HAS_RAY:
        pytest.skip(NO_RAY)
    import ray

    from checks.app.cli import main

    def unreachable(**options):
        raise ConnectionError("Could not find any running Ray instance.\nPlease specify the one to connect to")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", unreachable)
    assert main(["check", RECORDED, "--samples", "2000", "--ray", "auto"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no Ray cluster at 'auto'" in err


# --- on a local Ray instance ---

@pytest.fixture(scope="module")
def cluster():
    if not HAS_RAY:
        pytest.skip(NO_RAY)
    from checks.core.cluster import Cluster

    with Cluster(num_cpus=2, object_store_memory=80 * 2**20) as started:
        yield started


def _without_wall_time(result) -> dict:
    return {k: v for k, v in result.as_dict().items() if k != "wall_time_s"}


@pytest.mark.parametrize("check_id", [RECORDED, ACCUMULATED])
def test_ray_run_equals_the_local_run_with_the_same_plan(cluster, check_id):
    on_ray = shards.run_sharded(check_id, SHARDS, SAMPLES, device="cpu", mapper=cluster.map)[0]
    local = shards.run_sharded(check_id, SHARDS, SAMPLES, device="cpu")[0]
    assert _without_wall_time(on_ray) == _without_wall_time(local)
    assert on_ray.n_samples == SAMPLES and on_ray.passed


def test_a_killed_worker_is_retried_and_the_result_is_unchanged(cluster, tmp_path):
    marker = str(tmp_path / "killed-once")

    # Defined here, so that Ray ships it by value: shard 1's first attempt kills its own worker process.
    def dies_once(job):
        import os as os_

        from checks.core import shards as shards_

        if job.index == 1 and not os_.path.exists(marker):
            open(marker, "w").close()
            os_._exit(1)
        return shards_.run_shard(job)

    on_ray = shards.run_sharded(RECORDED, SHARDS, SAMPLES, device="cpu",
                                mapper=lambda task, jobs: cluster.map(dies_once, jobs))[0]
    assert os.path.exists(marker), "the fault was not injected"
    local = shards.run_sharded(RECORDED, SHARDS, SAMPLES, device="cpu")[0]
    assert _without_wall_time(on_ray) == _without_wall_time(local)


def test_check_command_on_ray_prints_the_local_numbers(cluster, capsys):
    from checks.app.cli import main

    arguments = ["check", RECORDED, "--samples", str(SAMPLES), "--shards", str(SHARDS), "--device", "cpu", "--json"]
    assert main(arguments + ["--ray"]) == 0
    on_ray = json.loads(capsys.readouterr().out)
    assert main(arguments) == 0
    local = json.loads(capsys.readouterr().out)
    for result in on_ray + local:
        result.pop("wall_time_s")
    assert on_ray == local


def test_report_checks_on_ray_equal_the_local_ones(cluster):
    from checks.app.report import compute

    ids = [RECORDED, "tweedie.vp_posterior"]
    on_ray, _ = compute(ids, [], device="cpu", samples=SAMPLES, cluster=cluster)
    local, _ = compute(ids, [], device="cpu", samples=SAMPLES, jobs=1)
    assert {k: _without_wall_time(r) for k, r in on_ray.items()} == {k: _without_wall_time(r) for k, r in local.items()}


@pytest.mark.skipif(not HAS_DIFFUSERS, reason="diffusers is not installed (the extra conform)")
def test_conformance_rows_on_ray_equal_the_local_ones(cluster):
    from checks.conform import diffusers_grid as g

    configs = g.grid(["DDIM"], [10], ["linear"], ["epsilon"], ["leading", "trailing"], etas=[0.0])
    on_ray, local = g.run_grid(configs, cluster=cluster), g.run_grid(configs)
    assert [repr(dataclasses.astuple(r)) for r in on_ray] == [repr(dataclasses.astuple(r)) for r in local]


@pytest.mark.parametrize("command", [["check", RECORDED], ["report"], ["conform", "diffusers"]])
def test_ray_option_without_ray_is_refused_in_one_line(command, monkeypatch, capsys):
    from checks.app.cli import main
    from checks.core import cluster

    monkeypatch.setattr(cluster, "available", lambda: False)
    assert main(command + ["--ray"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "diffverify[scale]" in err


def test_too_many_shards_is_refused_in_one_line(capsys):
    from checks.app.cli import main

    assert main(["check", RECORDED, "--samples", "3000", "--shards", "4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at most 3 shards" in err

