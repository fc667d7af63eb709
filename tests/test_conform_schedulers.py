"""diffusers' KDPM2Discrete, LMSDiscrete, UniPCMultistep, DEISMultistep and PNDM through checks.conform: their exact
laws against the catalogue and k-diffusion, their fitted convergence orders against the advertised ones, the
composite kernels of the two-stage schedulers, the findings, and planted bugs (skipped without the extra
``conform``)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from checks.conform import diffusers_sigma as g
from checks.conform import sampler

HAS_DIFFUSERS = importlib.util.find_spec("diffusers") is not None
HAS_KDIFFUSION = importlib.util.find_spec("k_diffusion") is not None
needs_diffusers = pytest.mark.skipif(not HAS_DIFFUSERS, reason="diffusers not installed (optional extra 'conform')")
needs_kdiffusion = pytest.mark.skipif(not HAS_KDIFFUSION,
                                      reason="k-diffusion not installed (optional extra 'conform', --no-deps)")
NEW = ("KDPM2Discrete", "LMSDiscrete", "UniPCMultistep", "DEISMultistep", "PNDM")
ORDER_STEPS = (25, 50, 100)


def test_grid_covers_the_new_schedulers_without_the_library():
    """The grid is built from the families alone: every scheduler, its orders, variants and prediction types."""
    configs = g.grid(NEW, steps=(10,))
    names = {c.scheduler for c in configs}
    assert names == set(NEW)
    unipc = {(c.order, c.algorithm) for c in configs if c.scheduler == "UniPCMultistep"}
    assert unipc == {(o, a) for o in (1, 2, 3) for a in ("bh1", "bh2")}
    assert {c.prediction for c in configs if c.scheduler == "KDPM2Discrete"} == {"epsilon", "v_prediction"}
    assert not any(c.karras for c in configs if c.scheduler == "PNDM")
    assert g.Config("UniPCMultistep", 10, order=2).advertised == 3  # solver_order + 1 (UniC)
    assert g.Config("LMSDiscrete", 10).order == 4 and g.Config("DPMSolverMultistep", 10).order == 1


@needs_diffusers
@pytest.mark.parametrize("config", [dict(scheduler="KDPM2Discrete", steps=10),
                                    dict(scheduler="KDPM2Discrete", steps=10, karras=True, prediction="v_prediction"),
                                    dict(scheduler="DEISMultistep", steps=10, order=1, spacing="trailing"),
                                    dict(scheduler="DEISMultistep", steps=10, order=1, prediction="v_prediction")])
def test_new_schedulers_with_a_catalogue_rule_conform(config):
    row = g.run(g.Config(**config), cross=False)
    assert row.error is not None and row.error <= 1, row.error
    assert row.affine_residual < 1e-12 and not row.nonfinite


@needs_diffusers
@pytest.mark.parametrize("scheduler, options", [("LMSDiscrete", dict(order=4)), ("UniPCMultistep", dict(order=3)),
                                                ("DEISMultistep", dict(order=3)),
                                                ("PNDM", dict(algorithm="prk", spacing="leading"))])
def test_new_schedulers_without_a_rule_run_and_are_affine(scheduler, options):
    row = g.run(g.Config(scheduler, 10, **options), cross=False)
    assert row.error is None and row.affine_residual < 1e-12 and not row.findings, row.findings
    assert all(0 < w["library"] < 1 for w in row.w2.values())


@needs_diffusers
@pytest.mark.parametrize("scheduler, options", [("KDPM2Discrete", {}), ("LMSDiscrete", dict(order=2)),
                                                ("UniPCMultistep", dict(order=2)), ("DEISMultistep", dict(order=2))])
def test_v_model_reads_as_the_same_scheme(scheduler, options):
    """The exact model given as v or as epsilon: the same output law (to rounding) for these schedulers."""
    eps, v = (g.run(g.Config(scheduler, 10, prediction=p, **options), cross=False) for p in ("epsilon", "v_prediction"))
    for label, w in eps.w2_own_sigma.items():
        assert w["library"] == pytest.approx(v.w2_own_sigma[label]["library"], rel=1e-6, abs=1e-9)


@needs_diffusers
def test_pndm_v_prediction_is_a_different_scheme():
    """The finding: PNDM combines raw v outputs and converts the combination at the current step (diffusers#14816),
    so the same exact model as v gives a first-order sampler with far larger error than as epsilon."""
    eps, v = (g.fit_order(g.Config("PNDM", 10, spacing="leading", algorithm="plms", prediction=p), ORDER_STEPS)
              for p in ("epsilon", "v_prediction"))
    assert all(b > 30 * a for a, b in zip(eps.errors, v.errors)), (eps.errors, v.errors)
    assert abs(v.slope - 1) < 0.1 and not v.matches


@needs_diffusers
@pytest.mark.parametrize("spacing, off", [("leading", 0), ("linspace", 9)])
def test_pndm_lands_off_its_linspace_schedule(spacing, off):
    """PNDM's previous timestep is t - T // N: the schedule's next only on leading grids (the finding)."""
    row = g.run(g.Config("PNDM", 10, spacing=spacing, algorithm="plms"), cross=False)
    assert len(row.off_schedule) == off
    if off:
        assert row.off_schedule[0] == (999, 899, 888) and any("lands off" in f for f in row.findings)


@needs_diffusers
def test_unipc_bh1_with_final_level_zero_is_not_finite():
    row = g.run(g.Config("UniPCMultistep", 10, order=2, algorithm="bh1"), cross=False)
    assert row.nonfinite and "non-finite output" in row.findings
    assert not g.run(g.Config("UniPCMultistep", 10, order=2, algorithm="bh2"), cross=False).nonfinite


@needs_diffusers
@pytest.mark.parametrize("config", [dict(scheduler="KDPM2Discrete", steps=10, karras=True),
                                    dict(scheduler="LMSDiscrete", steps=10, karras=True, order=2),
                                    dict(scheduler="UniPCMultistep", steps=10, karras=True, order=1, algorithm="bh2"),
                                    dict(scheduler="UniPCMultistep", steps=10, karras=True, order=2, algorithm="bh2"),
                                    dict(scheduler="DEISMultistep", steps=10, karras=True, order=2),
                                    dict(scheduler="HeunDiscrete", steps=10, karras=True)])
def test_fitted_order_is_the_advertised_one_on_karras_sigmas(config):
    fit = g.fit_order(g.Config(**config), ORDER_STEPS)
    assert fit.matches, (fit.slope, fit.declared, fit.errors)


@needs_diffusers
def test_lambda_steppers_fit_below_their_order_on_linspace():
    """The grid finding: on linspace, DEIS of order 2 fits below 2 (on Karras sigmas it fits 2, test above)."""
    fit = g.fit_order(g.Config("DEISMultistep", 10, order=2), ORDER_STEPS)
    assert not fit.matches and fit.slope < fit.declared - 0.25


def _off_by_one(scheduler_class):
    """``scheduler_class.step`` landing one level further down than the schedule says: during the call every level
    below the one the step starts from is replaced by the next lower level of the grid (the schedule itself, and
    the model's levels, are unchanged)."""
    right = scheduler_class.step

    def step(self, model_output, timestep, sample, *args, **kwargs):
        if self.step_index is None:
            self._init_step_index(timestep)
        i, saved = self.step_index, self.sigmas
        two_stage_second = hasattr(self, "state_in_first_order") and not self.state_in_first_order
        start = saved[i - 1] if two_stage_second else saved[i]
        distinct = torch.unique(saved)  # ascending
        lower = distinct[(torch.searchsorted(distinct, saved) - 1).clamp(min=0)]
        self.sigmas = torch.where(saved < start, lower, saved)
        try:
            return right(self, model_output, timestep, sample, *args, **kwargs)
        finally:
            self.sigmas = saved

    return step


@needs_diffusers
@pytest.mark.parametrize("config", [dict(scheduler="HeunDiscrete", steps=10),
                                    dict(scheduler="KDPM2Discrete", steps=10),
                                    dict(scheduler="KDPM2Discrete", steps=10, karras=True, prediction="v_prediction")])
def test_two_stage_kernels_conform_and_a_planted_bug_is_caught(config):
    """The composite kernel of each pair of step() calls is the derived Heun / DPM-2 step's; with the sigma index off
    by one (each stage reads the level after the one it should) it is rejected."""
    good = g.stage_kernels(g.Config(**config))
    assert good.max_error <= 1, (good.errors, good.predictor_errors)
    first = good.read[0].composite
    if config["scheduler"] == "KDPM2Discrete" and "prediction" not in config:  # x + (s' - s) eps(x_mid)
        assert (first.a, first.b) == (1.0, 0.0) and first.s == pytest.approx(good.sigmas[1] - good.sigmas[0])
    scheduler_class = type(g.make(g.Config(**config)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scheduler_class, "step", _off_by_one(scheduler_class))
        bad = g.stage_kernels(g.Config(**config))
    assert bad.max_error > 1e3


@needs_diffusers
@pytest.mark.parametrize("config", [dict(scheduler="DEISMultistep", steps=10, order=1),
                                    dict(scheduler="KDPM2Discrete", steps=10)])
def test_whole_loop_with_a_planted_off_by_one_sigma_is_rejected(config):
    config = g.Config(**config)
    sigmas = g.levels(g.make(config))
    scheduler_class = type(g.make(config))
    good = sampler.compare(g.as_sampler(config, "sigma"), sigmas, config.textbook, resolution=g.resolution(config),
                           start_var=g.start_var(config, g.make(config)))[1]
    assert good <= 1
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scheduler_class, "step", _off_by_one(scheduler_class))
        _, bad, _ = sampler.compare(g.as_sampler(config, "sigma"), sigmas, config.textbook,
                                    resolution=g.resolution(config), start_var=g.start_var(config, g.make(config)))
    assert bad > 1e3, bad


@needs_diffusers
@needs_kdiffusion
@pytest.mark.parametrize("config", [dict(scheduler="LMSDiscrete", steps=25, karras=True, order=4),
                                    dict(scheduler="KDPM2Discrete", steps=25, karras=True)])
def test_new_schedulers_agree_with_kdiffusion(config):
    config = g.Config(**config)
    distances, error = g.cross_library(config, g.levels(g.make(config)))
    assert error <= 1 and max(distances.values()) < 1e-6, distances


@needs_diffusers
def test_diffusers_page_shows_the_new_schedulers_orders_and_findings():
    from checks.app.studies.conformance_diffusers import render_rows
    from checks.conform import diffusers_grid

    sigma_rows = g.run_grid([g.Config("KDPM2Discrete", 10), g.Config("UniPCMultistep", 10, algorithm="bh1"),
                             g.Config("PNDM", 10, algorithm="plms", prediction="v_prediction")], jobs=2)
    fits = [g.fit_order(g.Config("PNDM", 10, spacing="leading", algorithm="plms", prediction="v_prediction"),
                        ORDER_STEPS)]
    page = render_rows(diffusers_grid.run_grid([diffusers_grid.Config("DDPM", 10)]), diffusers_grid.version(),
                       sigma_rows, fits).markdown
    assert "## KDPM2Discrete, UniPCMultistep, PNDM: step kernels, whole loops, convergence orders" in page
    assert "Non-finite output: 1 configurations" in page and "bh1" in page
    assert "huggingface/diffusers#14816" in page and "### Convergence orders" in page
    assert "PNDM leading plms v_prediction" in page
    assert "PNDM's steps landing off its own schedule" in page and "for PNDM no report found" in page


@needs_diffusers
def test_history_read_of_a_first_order_step_is_the_ddim_transfer():
    """Per call, the coefficient of the sample handed to step() (history held fixed) of DEIS of order 1 is the DDIM
    transfer's alpha_{i+1}/alpha_i (alpha = 1/sqrt(1 + sigma^2)), and of the noise prediction
    sigma_{i+1} alpha_{i+1} - sigma_i alpha_{i+1}, in its variance-preserving coordinates."""
    config = g.Config("DEISMultistep", 10, order=1)
    read, sigmas = g.history_read(config), g.levels(g.make(config))
    alpha = 1 / np.sqrt(1 + sigmas**2)
    np.testing.assert_allclose(read.a, alpha[1:] / alpha[:-1], rtol=1e-12)
    np.testing.assert_allclose(read.b, alpha[1:] * (sigmas[1:] - sigmas[:-1]), rtol=1e-10, atol=1e-14)
