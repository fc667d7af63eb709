"""checks.conform on whole samplers (k-diffusion's form): the scripted Brownian noise, the catalogue's rules on
sigma grids, users' samplers with planted bugs, and k-diffusion's own samplers (skipped without the extra
``conform``)."""

from __future__ import annotations

import importlib.util
import math
import sys

import numpy as np
import pytest
import torch

from checks.conform import law, reference, sampler, textbook

HAS_KDIFFUSION = importlib.util.find_spec("k_diffusion") is not None
needs_kdiffusion = pytest.mark.skipif(not HAS_KDIFFUSION,
                                      reason="k-diffusion not installed (optional extra 'conform', --no-deps)")

# A Karras grid (sigma_min 0.002, sigma_max 80, rho 7, 12 levels, then 0), written out so that the tests
# without k-diffusion use the same kind of grid.
_RAMP = np.linspace(0, 1, 12)
SIGMAS = np.append((80 ** (1 / 7) + _RAMP * (0.002 ** (1 / 7) - 80 ** (1 / 7))) ** 7, 0.0)


def to_d(x, sigma, denoised):
    return (x - denoised) / sigma


def user_euler(model, x, sigmas, shift: int = 0, time_offset: int = 0):
    """A user's Euler sampler in sigma (Karras et al., Algorithm 2 without churn), with planted bugs:
    ``shift``, the step's target one level further down; ``time_offset``, the denoiser asked at the next level."""
    n = len(sigmas) - 1
    for i in range(n):
        target = sigmas[min(i + 1 + shift, n)]
        denoised = model(x, sigmas[min(i + time_offset, n - 1)] * torch.ones_like(x))
        x = x + to_d(x, sigmas[i], denoised) * (target - sigmas[i])
    return x


def user_euler_ancestral(model, x, sigmas, noise_sampler, eta=1.0, noise_scale=1.0):
    """A user's ancestral Euler sampler (DDIM(eta) in sigma), ``noise_scale`` a planted bug."""
    for i in range(len(sigmas) - 1):
        sigma, nxt = sigmas[i], sigmas[i + 1]
        up = min(nxt, eta * (nxt**2 * (sigma**2 - nxt**2) / sigma**2) ** 0.5)
        down = (nxt**2 - up**2) ** 0.5
        denoised = model(x, sigma * torch.ones_like(x))
        x = x + to_d(x, sigma, denoised) * (down - sigma)
        if nxt > 0:
            x = x + noise_sampler(sigma, nxt) * up * noise_scale
    return x


def test_users_euler_conforms_to_the_catalogue():
    residual, error, table = sampler.compare(user_euler, SIGMAS, ("pf_euler", {}))
    assert residual < 1e-14 and error <= 1, (residual, error)
    for w in table.values():
        assert w["library vs textbook"] < 1e-13 and w["library"] == pytest.approx(w["textbook"], abs=1e-13)


@pytest.mark.parametrize("bug", [{"shift": 1}, {"time_offset": 1}])
def test_planted_bugs_in_euler_are_rejected(bug):
    def buggy(model, x, sigmas):
        return user_euler(model, x, sigmas, **bug)

    _, error, _ = sampler.compare(buggy, SIGMAS, ("pf_euler", {}))
    assert error > 1e6, error  # far outside rounding


@pytest.mark.parametrize("eta", [0.5, 1.0])
def test_users_ancestral_sampler_is_ddim_eta(eta):
    def good(model, x, sigmas, noise_sampler):
        return user_euler_ancestral(model, x, sigmas, noise_sampler, eta)

    def noisy(model, x, sigmas, noise_sampler):
        return user_euler_ancestral(model, x, sigmas, noise_sampler, eta, noise_scale=1.03)

    assert sampler.compare(good, SIGMAS, ("ddim", {"eta": eta}))[1] <= 1
    _, error, table = sampler.compare(noisy, SIGMAS, ("ddim", {"eta": eta}))
    assert error > 1e6 and max(w["library vs textbook"] for w in table.values()) > 1e-4


def test_not_affine_is_reported():
    def bent(model, x, sigmas):
        out = user_euler(model, x, sigmas)
        return out + 0.1 * out**2

    residual, _, _ = sampler.compare(bent, SIGMAS, ("pf_euler", {}))
    assert residual > 1e3 * reference.loop_tolerance(SIGMAS)


def test_scripted_brownian_covariances():
    """Normalized increments on [a, b] and [a, c] (c inside) correlate as sqrt((a - c)/(a - b)); disjoint ones
    do not; the same interval asked twice gives the same noise."""
    columns = 6
    noise = sampler.ScriptedBrownian(columns, np.eye(columns), torch.float64)
    a, c, b, d = 4.0, 2.5, 1.0, 0.2
    whole, part, later = noise(a, b).numpy(), noise(a, c).numpy(), noise(b, d).numpy()
    assert whole @ whole == pytest.approx(1.0) and part @ part == pytest.approx(1.0) and later @ later == pytest.approx(1)
    assert whole @ part == pytest.approx(math.sqrt((a - c) / (a - b)))
    assert whole @ later == pytest.approx(0.0, abs=1e-15)
    assert np.array_equal(noise(a, b).numpy(), whole)


def test_textbook_on_sigmas_is_euler_in_sigma():
    """The catalogue's pf_euler on SigmaOps is x + (sigma' - sigma)(x - D)/sigma (an independent oracle)."""
    data, (s, s_next) = law.DATA[1], (3.0, 1.2)
    start = law.Law(0.2, 2.0)
    (out,) = textbook.run_sigmas("pf_euler", {}, [s, s_next], [data], [start])
    shrink = data.std**2 / (data.std**2 + s**2)
    gain = 1 + (s_next - s) * (1 - shrink) / s
    offset = -(s_next - s) * (1 - shrink) * data.mean / s
    assert out.mean == pytest.approx(gain * start.mean + offset, rel=1e-14)
    assert out.var == pytest.approx(gain**2 * start.var, rel=1e-14)


# --------------------------------------------------------------------------
# k-diffusion
# --------------------------------------------------------------------------

@needs_kdiffusion
def test_only_the_sampling_module_is_loaded():
    from checks.conform import kdiffusion_grid as g

    module = g.library()
    assert module.__name__ == f"{g.PACKAGE}.sampling" and callable(module.sample_dpmpp_3m_sde)
    assert "k_diffusion" not in sys.modules  # the package itself (torchvision, CLIP, ...) is never imported


@needs_kdiffusion
@pytest.mark.parametrize("sampler_name, eta", [("euler", None), ("heun", None), ("dpm_2", None),
                                               ("euler_ancestral", 0.5), ("euler_ancestral", 1.0),
                                               ("dpmpp_sde", 0.0)])
def test_kdiffusion_samplers_conform(sampler_name, eta):
    from checks.conform import kdiffusion_grid as g

    row = g.run(g.Config(sampler_name, 10, "edm", eta))
    assert row.conforms and not row.findings, row.findings
    for w in row.w2.values():
        assert w["library vs textbook"] < 1e-12


@needs_kdiffusion
def test_kdiffusion_samplers_without_a_rule_are_affine():
    from checks.conform import kdiffusion_grid as g

    for row in g.run_grid(g.grid(("lms", "dpmpp_2m", "dpmpp_sde", "dpmpp_2m_sde", "dpmpp_3m_sde"), (10,), ("sd",),
                                 (1.0,))):
        assert row.conforms is None and row.affine_residual <= row.tolerance and not row.findings
        assert all(np.isfinite(w["library"]) for w in row.w2.values())


@needs_kdiffusion
@pytest.mark.parametrize("bug", ["grid_off_by_one", "noise_x1.03", "denoiser_time"])
def test_wrapped_kdiffusion_sampler_with_planted_bugs(bug):
    """k-diffusion's real samplers wrapped with a bug: each is rejected against the catalogue's rule."""
    from checks.conform import kdiffusion_grid as g

    lib = g.library()
    config = g.Config("euler_ancestral" if bug == "noise_x1.03" else "euler", 10, "edm", 1.0 if bug == "noise_x1.03" else None)
    real, scheme = g.real_sampler(config), config.textbook

    if bug == "grid_off_by_one":
        def wrapped(model, x, sigmas, **kw):
            return real(model, x, sigmas[1:], **kw)  # starts one level down from x drawn at sigma_max
    elif bug == "noise_x1.03":
        def wrapped(model, x, sigmas, noise_sampler, **kw):
            return real(model, x, sigmas, noise_sampler=lambda a, b: 1.03 * noise_sampler(a, b), **kw)
    else:
        def wrapped(model, x, sigmas, **kw):
            # the denoiser asked at the level the step lands on
            lookup = {float(s): float(t) for s, t in zip(sigmas[:-1], sigmas[1:])}
            return real(lambda y, s: model(y, s * 0 + max(lookup[float(s[0])], 1e-3)), x, sigmas, **kw)
    assert lib is not None
    _, error, _ = sampler.compare(wrapped, g.sigmas(config), scheme, options=config.options)
    assert error > 1e6, error
    _, good, _ = sampler.compare(real, g.sigmas(config), scheme, options=config.options)
    assert good <= 1


@needs_kdiffusion
def test_order_fit_finds_first_and_second_order():
    from checks.conform import kdiffusion_grid as g

    euler, heun = (g.fit_order(g.Config(s, 10, "sd"), (32, 64, 128)) for s in ("euler", "heun"))
    assert euler.matches and heun.matches, (euler.slope, heun.slope)


@needs_kdiffusion
def test_cli_conform_kdiffusion(capsys):
    from checks.app.cli import main

    assert main(["conform", "k-diffusion", "--sampler", "euler", "heun", "--steps", "10", "--grid", "sd"]) == 0
    out = capsys.readouterr().out
    assert "k-diffusion" in out and out.count("conforms") >= 2


# --------------------------------------------------------------------------
# diffusers' sigma schedulers, whole loops (and against k-diffusion)
# --------------------------------------------------------------------------

HAS_DIFFUSERS = importlib.util.find_spec("diffusers") is not None
needs_diffusers = pytest.mark.skipif(not HAS_DIFFUSERS, reason="diffusers not installed (optional extra 'conform')")


@needs_diffusers
@pytest.mark.parametrize("config", [dict(scheduler="EulerDiscrete", steps=10, karras=True),
                                    dict(scheduler="EulerAncestralDiscrete", steps=10, spacing="leading"),
                                    dict(scheduler="HeunDiscrete", steps=10, spacing="trailing"),
                                    dict(scheduler="DPMSolverMultistep", steps=10, order=1, algorithm="dpmsolver")])
def test_diffusers_sigma_schedulers_conform(config):
    from checks.conform import diffusers_sigma as g

    row = g.run(g.Config(**config), cross=False)
    assert row.error is not None and row.error <= 1 and not row.findings, row.findings


@needs_diffusers
def test_diffusers_dpm_karras_rounds_the_model_timestep():
    from checks.conform import diffusers_sigma as g

    row = g.run(g.Config("DPMSolverMultistep", 10, karras=True, order=1), cross=False)
    assert row.error <= 1 < row.error_timestep  # the formula conforms; the model's timestep is rounded
    assert row.timestep_error > 1 and max(row.timestep_gap.values()) > 1e-4
    assert any("timestep whose noise level" in f for f in row.findings)


@needs_diffusers
@needs_kdiffusion
@pytest.mark.parametrize("scheduler, order", [("EulerDiscrete", 1), ("DPMSolverMultistep", 2)])
def test_diffusers_and_kdiffusion_agree_on_a_shared_grid(scheduler, order):
    from checks.conform import diffusers_sigma as g

    config = g.Config(scheduler, 25, karras=True, order=order)
    sigmas = g.levels(g.make(config))
    distances, error = g.cross_library(config, sigmas)
    assert error <= 1 and max(distances.values()) < 1e-5, distances


@needs_diffusers
@pytest.mark.parametrize("bug", ["noise_x1.03", "denoiser_time"])
def test_wrapped_diffusers_scheduler_with_planted_bugs(bug):
    from checks.conform import diffusers_sigma as g

    config = g.Config("EulerAncestralDiscrete" if bug == "noise_x1.03" else "EulerDiscrete", 10)
    inner, sigmas = g.as_sampler(config, "sigma"), g.levels(g.make(config))

    def wrapped(model, x, grid, noise_sampler=None):
        if bug == "noise_x1.03":
            return inner(model, x, grid, lambda a, b: 1.03 * noise_sampler(a, b))
        return inner(lambda y, s: model(y, s * 1.05), x, grid, noise_sampler)

    _, error, _ = sampler.compare(wrapped, sigmas, config.textbook, resolution=torch.float32)
    assert error > 100, error


@needs_kdiffusion
def test_kdiffusion_report_page():
    from checks.app.studies.conformance_kdiffusion import FIGURE, render_rows
    from checks.conform import kdiffusion_grid as g

    configs = g.grid(("euler", "dpmpp_3m_sde"), (10,), ("sd",), (1.0,))
    page = render_rows(g.run_grid(configs), g.fit_orders(configs), g.version())
    assert f"# k-diffusion {g.version()}" in page.markdown and FIGURE in page.figures
    assert "sample_dpmpp_3m_sde sd eta=1: 2.00" in page.markdown  # the measured order, with its numbers
    # an SDE solver at eta > 0 is held to no order: its advertised one is its ODE limit's, and it is not a finding
    assert "| 3 at η = 0 |" in page.markdown and "Fitted convergence order below the advertised one (window ±0.25): 0 of 1" \
        in page.markdown


@needs_diffusers
def test_diffusers_page_has_the_sigma_schedulers():
    from checks.app.studies.conformance_diffusers import render_rows
    from checks.conform import diffusers_grid, diffusers_sigma

    sigma_rows = diffusers_sigma.run_grid([diffusers_sigma.Config("DPMSolverMultistep", 10, karras=True)])
    page = render_rows(diffusers_grid.run_grid([diffusers_grid.Config("DDPM", 10)]), diffusers_grid.version(),
                       sigma_rows)
    assert "## DPMSolverMultistep: step kernels, whole loops, convergence orders" in page.markdown
    assert "round the timesteps of a Karras grid" in page.markdown


def test_kdiffusion_page_is_kept_without_the_extra(monkeypatch):
    from checks.app import plugins
    from checks.app.studies import conformance_kdiffusion

    monkeypatch.setattr(conformance_kdiffusion.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(plugins.MissingResult, match="not installed"):
        conformance_kdiffusion.render(plugins.StudyContext({}))


@needs_diffusers
@pytest.mark.parametrize("config", [dict(scheduler="EulerDiscrete", steps=10, karras=True),
                                    dict(scheduler="EulerAncestralDiscrete", steps=10, spacing="trailing"),
                                    dict(scheduler="DPMSolverMultistep", steps=10, order=1)])
def test_diffusers_sigma_step_kernels(config):
    """Each step's kernel read off step() is the catalogue rule's on the same two levels; a planted sigma grid
    off by one (each step lands one level further down) is rejected."""
    from checks.conform import diffusers_sigma as g

    good = g.step_kernels(g.Config(**config))
    assert good.max_error <= 1, good.errors
    scheduler_class = type(g.make(g.Config(**config)))
    right = scheduler_class.step

    def off_by_one(self, model_output, timestep, sample, *args, **kwargs):
        """The step lands on the level after the schedule's next (the schedule itself is unchanged)."""
        saved = self.sigmas
        i = self.step_index if self.step_index is not None else self.index_for_timestep(timestep)
        bent = saved.clone()
        bent[i + 1] = saved[min(i + 2, len(saved) - 1)]
        self.sigmas = bent
        try:
            return right(self, model_output, timestep, sample, *args, **kwargs)
        finally:
            self.sigmas = saved

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scheduler_class, "step", off_by_one)
        bad = g.step_kernels(g.Config(**config))
    assert bad.max_error > 1e3 and int(np.sum(bad.errors > 1)) == len(bad.errors) - 1  # all but the last


@needs_kdiffusion
def test_amended_third_order_term_restores_order_three():
    """The diagnosis of sample_dpmpp_3m_sde's order: with the second-difference term doubled, its ODE limit is third
    order; an amendment of a line the sampler does not have is refused."""
    from checks.conform import kdiffusion_grid as g

    config = g.Config("dpmpp_3m_sde", 10, "sd", 0.0)
    shipped = g.fit_order(config, (32, 64, 128))
    fixed = g.fit_order_of(g.amended("dpmpp_3m_sde", g.THIRD_ORDER_TERM, g.THIRD_ORDER_DOUBLED), config, (32, 64, 128))
    assert not shipped.matches and fixed.matches, (shipped.slope, fixed.slope)
    with pytest.raises(ValueError, match="occurrences"):
        g.amended("euler", g.THIRD_ORDER_TERM, g.THIRD_ORDER_DOUBLED)
