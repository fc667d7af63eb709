"""checks.conform.mixture: library samplers on Gaussian-mixture data by Monte Carlo (skipped without the extra
``conform``): the subset passes, planted bugs are rejected, the seeds come from the case ids."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from checks.conform import mixture
from checks.core import stats
from checks.core.registry import seed_for
from derivations.core import cache, config

HAS_DIFFUSERS = importlib.util.find_spec("diffusers") is not None
HAS_KDIFFUSION = importlib.util.find_spec("k_diffusion") is not None
needs_diffusers = pytest.mark.skipif(not HAS_DIFFUSERS, reason="diffusers not installed (optional extra 'conform')")
needs_kdiffusion = pytest.mark.skipif(not HAS_KDIFFUSION,
                                      reason="k-diffusion not installed (optional extra 'conform', --no-deps)")
PLANTED_SAMPLES = mixture.PLANTED_SAMPLES


def test_responsibility_is_the_derived_form():
    from checks.sim.processes import derived

    x = torch.linspace(-4, 4, 41, dtype=torch.float64)
    expected = derived("mixture.noised_score", "responsibility")(x_t=x, **mixture.mixture_args())
    assert torch.allclose(mixture.responsibility(x), expected, rtol=1e-12, atol=1e-300)
    far = mixture.responsibility(torch.tensor([-60.0, 60.0], dtype=torch.float64))  # the derived quotient is 0/0
    assert torch.isfinite(far).all() and ((far >= 0) & (far <= 1)).all(), far


def test_mean_responsibility_under_the_data_law_is_the_weight():
    generator = torch.Generator().manual_seed(seed_for("test.conform.mixture.weight"))
    x = mixture.mixture_data().sample_marginal(mixture.sigma_process(), 0.0, 100_000, generator)
    law = mixture.data_law()
    (weight,) = stats.test([stats.mean("weight", mixture.responsibility(x), law["first-mode weight"])])
    wrong = stats.test([stats.mean("weight", mixture.responsibility(x), 0.32)])[0]
    assert weight.passed and not wrong.passed, (weight, wrong)


def test_brownian_increments_are_one_path_on_both_grids():
    coarse, fine = np.array([4.0, 2.0, 0.0]), np.array([4.0, 3.0, 2.0, 1.0, 0.0])
    path = mixture.BrownianPath(np.concatenate([coarse, fine]), 50_000, torch.Generator().manual_seed(1))
    whole = path.increment(4.0, 2.0) * math.sqrt(2.0)
    parts = path.increment(4.0, 3.0) + path.increment(3.0, 2.0)
    assert torch.allclose(whole, parts, atol=1e-12)
    z = torch.cat([path.increment(a, b) for a, b in zip(fine[:-1], fine[1:])], dim=1)
    assert torch.allclose(z.var(dim=0), torch.ones(4, dtype=torch.float64), atol=0.03)
    assert torch.corrcoef(z.T).sub(torch.eye(4, dtype=torch.float64)).abs().max() < 0.03
    assert path.increment(4.0, 2.0, rows=7).shape == (7, 1)


@pytest.fixture(scope="module")
def kdiffusion_results():
    return mixture.run_all("k-diffusion")


@pytest.fixture(scope="module")
def diffusers_results():
    return mixture.run_all("diffusers")


def _check_subset(results, library):
    assert [r.case.id for r in results] == [f"{library}.{name}" for name in mixture.CASES[library]]
    for r in results:
        assert r.passed, mixture.table([r])
        assert r.seed == seed_for(r.case.check_id)
        assert len(r.statistics) == (6 if r.reference else 3)
        for s in r.statistics:
            assert math.isfinite(s.detectable_error) and s.detectable_error > s.threshold


@pytest.mark.slow
@needs_kdiffusion
def test_kdiffusion_subset_passes(kdiffusion_results):
    _check_subset(kdiffusion_results, "k-diffusion")
    by_id = {r.case.id: r for r in kdiffusion_results}
    assert by_id["k-diffusion.euler"].reference == "catalogue pf_euler"
    assert by_id["k-diffusion.dpmpp_2m"].reference is None  # no catalogue rule: the data law only


@pytest.mark.slow
@needs_diffusers
def test_diffusers_subset_passes(diffusers_results):
    _check_subset(diffusers_results, "diffusers")
    dpm = next(r for r in diffusers_results if r.case.id == "diffusers.DPMSolverMultistep")
    assert dpm.reference == ("k-diffusion sample_dpmpp_2m" if HAS_KDIFFUSION else None)


def _failed(result) -> set[str]:
    return {s.name.split(",")[0] + (" (same grid)" if "same grid" in s.name else " (data law)")
            for s in result.statistics if not s.passed}


@needs_kdiffusion
@pytest.mark.parametrize("name, plant", [("euler_ancestral", "noise"), ("euler", "late"), ("heun", "late")])
def test_kdiffusion_planted_bugs_are_rejected(name, plant):
    (case,) = mixture.cases("k-diffusion", [name])
    sampler = mixture.noise_scaled(case, 1.05) if plant == "noise" else mixture.score_one_level_late(case)
    good = mixture.run(case, PLANTED_SAMPLES)
    bad = mixture.run(case, PLANTED_SAMPLES, sampler=sampler)
    assert good.passed, mixture.table([good])
    assert not bad.passed and "variance (same grid)" in _failed(bad), mixture.table([bad])


@needs_diffusers
@pytest.mark.parametrize("name, plant", [("DDPM", "noise"), ("DDIM", "late"), ("EulerDiscrete", "late")])
def test_diffusers_planted_bugs_are_rejected(name, plant):
    (case,) = mixture.cases("diffusers", [name])
    sampler = mixture.noise_scaled(case, 1.05) if plant == "noise" else mixture.score_one_level_late(case)
    bad = mixture.run(case, PLANTED_SAMPLES, sampler=sampler)
    assert not bad.passed and "variance (same grid)" in _failed(bad), mixture.table([bad])


@needs_kdiffusion
def test_late_score_is_rejected_by_the_data_law_alone():
    """sample_dpmpp_2m has no same-grid reference: the data law, with the bias bound of the library's own loop,
    rejects the score taken one level late."""
    (case,) = mixture.cases("k-diffusion", ["dpmpp_2m"])
    bad = mixture.run(case, PLANTED_SAMPLES, sampler=mixture.score_one_level_late(case))
    assert {"mean (data law)", "variance (data law)", "first-mode weight (data law)"} <= _failed(bad), \
        mixture.table([bad])


_SUBPROCESS = """
import json, sys
from checks.conform import mixture
(case,) = mixture.cases("k-diffusion", ["euler_ancestral"])
r = mixture.run(case, 8000)
json.dump({"seed": r.seed, "estimates": [s.estimate for s in r.statistics]}, sys.stdout)
"""


@needs_kdiffusion
def test_seeds_come_from_the_case_id_in_any_process():
    """A fresh process (as a pytest-xdist worker is) draws the same paths: the seed is the case id's."""
    (case,) = mixture.cases("k-diffusion", ["euler_ancestral"])
    here = mixture.run(case, 8000)
    there = json.loads(subprocess.run([sys.executable, "-c", _SUBPROCESS], capture_output=True, text=True,
                                      check=True).stdout)
    assert here.seed == there["seed"] == seed_for("conform.mixture.k-diffusion.euler_ancestral")
    assert [s.estimate for s in here.statistics] == pytest.approx(there["estimates"], rel=1e-12, abs=1e-15)
    assert mixture.run(case, 8000, seed_offset=1).seed != here.seed


@needs_kdiffusion
def test_cli_conform_mixture(monkeypatch, capsys, kdiffusion_results):
    from checks.app.cli import main

    monkeypatch.setattr(mixture.page, "run_all", lambda library: kdiffusion_results)
    assert main(["conform", "k-diffusion", "--mixture"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("k-diffusion ") and "4 samplers on Gaussian-mixture data, 4 pass" in out
    assert "| sample_heun, Karras sd, 25 steps | first-mode weight, vs data law |" in out
    failing = [dataclasses.replace(kdiffusion_results[0], statistics=(dataclasses.replace(
        kdiffusion_results[0].statistics[0], passed=False),))]
    monkeypatch.setattr(mixture.page, "run_all", lambda library: failing)
    assert main(["conform", "k-diffusion", "--mixture"]) == 1


@needs_kdiffusion
def test_study_page_section(monkeypatch, kdiffusion_results):
    from checks.app.plugins import StudyPage

    monkeypatch.setattr(mixture.page, "run_all", lambda library: kdiffusion_results)
    with cache.bypassed():  # the stored section would not see the patched runs
        page = mixture.with_section(StudyPage("# page\n"), "k-diffusion")
    assert page.markdown.startswith("# page\n") and "## Monte Carlo on Gaussian-mixture data" in page.markdown
    planted = mixture.PLANTED["k-diffusion"]
    assert page.markdown.count("| sample_") == sum(len(r.statistics) for r in kdiffusion_results) + len(planted)
    assert page.markdown.count(" | rejected |") == len(planted) and "NOT REJECTED" not in page.markdown


@needs_kdiffusion
def test_study_page_section_is_computed_once_for_the_same_code_and_versions(monkeypatch, tmp_path):
    monkeypatch.setenv(config.CACHE, str(tmp_path))
    calls = []
    monkeypatch.setattr(mixture.page, "computed_section", lambda library: calls.append(library) or ["a line"])
    assert mixture.page.section("k-diffusion") == mixture.page.section("k-diffusion") == ["a line"]
    assert calls == ["k-diffusion"]
    monkeypatch.setattr(mixture.page, "version", lambda library: "0.0-other")
    assert mixture.page.section("k-diffusion") == ["a line"] and len(calls) == 2  # another version: run again


def test_study_page_is_unchanged_without_the_library(monkeypatch):
    from checks.app.plugins import StudyPage

    monkeypatch.setattr(mixture.page, "installed", lambda library: False)
    page = StudyPage("# page\n")
    assert mixture.with_section(page, "diffusers") is page


def test_process_coefficients_do_not_depend_on_no_grad():
    """The libraries' samplers run under torch.no_grad(); the engine's f and g^2 (autograd of the moments) must
    not be silenced and cached as 0 there."""
    from checks.sim.processes import Process

    process = Process("sigma, fresh", lambda t: (torch.ones_like(t), t**2), math.inf, 0.0)
    with torch.no_grad():
        inside = process.at(2.0)
    assert inside.diffusion_sq == pytest.approx(4.0) and inside.drift_coef == 0.0
