"""checks.conform: a step's kernel against the derived DDPM/DDIM kernels; planted bugs rejected;
diffusers' schedulers over a grid (skipped without the extra ``conform``)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from checks.conform import Reference, Schedule, conform
from checks.conform.textbook import as_step

HAS_DIFFUSERS = importlib.util.find_spec("diffusers") is not None
needs_diffusers = pytest.mark.skipif(not HAS_DIFFUSERS, reason="diffusers not installed (optional extra 'conform')")

SCHEDULE = Schedule.linear(13, spacing="linspace")  # 13 does not divide 1000: uneven skips


def ddim_step(schedule: Schedule, eta: float = 0.0, shift: int = 0, std_as_var: bool = False,
              forward_variance: bool = False, noise_on_last: bool = False):
    """A user's DDIM/DDPM step written from the papers, with optional planted bugs."""
    table, order = schedule.alphas_cumprod, list(schedule.timesteps)

    def step(x, eps, t, z):
        i = order.index(t)
        prev = order[i + 1] + shift if i + 1 < len(order) else -1
        ab, abp = table[t], (table[prev] if prev >= 0 else 1.0)
        x0 = (x - (1 - ab) ** 0.5 * eps) / ab ** 0.5
        var = eta**2 * (1 - abp) / (1 - ab) * (1 - ab / abp)
        mean = abp**0.5 * x0 + (1 - abp - var) ** 0.5 * eps
        if forward_variance:
            var = 1 - ab / abp if (prev >= 0 or noise_on_last) else 0.0
        return mean + (var if std_as_var else var**0.5) * z

    return step


@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
def test_catalogue_ddim_conforms(eta):
    step = as_step("ddim", {"eta": eta}, SCHEDULE.alphas_cumprod, SCHEDULE.timesteps)
    verdict = conform(step, SCHEDULE, "ddim", eta=eta)
    assert verdict.passed, verdict.summary()
    assert all(s.implied_previous == s.expected_previous for s in verdict.steps)
    for w in verdict.w2.values():  # the catalogue's own rule, carried twice: the same law
        assert w["sampler vs textbook"] < 1e-12


@pytest.mark.parametrize("variance, suite_name", [("beta_tilde", "small"), ("beta", "large")])
def test_catalogue_ddpm_conforms(variance, suite_name):
    step = as_step("ddpm_ancestral", {"variance": variance}, SCHEDULE.alphas_cumprod, SCHEDULE.timesteps)
    verdict = conform(step, SCHEDULE, "ddpm", variance=suite_name)
    assert verdict.passed, verdict.summary()


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_user_step_from_the_papers_conforms(eta):
    assert conform(ddim_step(SCHEDULE, eta), SCHEDULE, "ddim", eta=eta).passed


def test_previous_timestep_off_by_one_is_rejected():
    verdict = conform(ddim_step(SCHEDULE, shift=1), SCHEDULE, "ddim")
    assert not verdict.passed
    wrong = [s for s in verdict.steps if not s.passed]
    assert len(wrong) == len(SCHEDULE.timesteps) - 1  # every step but the last (onto the clean level)
    assert all(s.implied_previous == s.expected_previous + 1 for s in wrong)


def test_std_used_as_variance_is_rejected():
    verdict = conform(ddim_step(SCHEDULE, eta=1.0, std_as_var=True), SCHEDULE, "ddim", eta=1.0)
    assert not verdict.passed
    assert all(s.noise_error > 1 and s.mean_error <= 1 for s in verdict.steps[:-1])


def test_noise_on_the_last_step_is_rejected():
    good = ddim_step(SCHEDULE, eta=1.0, forward_variance=True)
    assert conform(good, SCHEDULE, "ddpm", variance="large").passed
    verdict = conform(ddim_step(SCHEDULE, eta=1.0, forward_variance=True, noise_on_last=True), SCHEDULE, "ddpm",
                      variance="large")
    assert [s.timestep for s in verdict.steps if not s.passed] == [SCHEDULE.timesteps[-1]]


def test_wrong_reference_is_rejected():
    """DDIM with eta = 0 is not DDPM: the same step fails against the other reference."""
    assert not conform(ddim_step(SCHEDULE), SCHEDULE, "ddpm").passed


def test_clipping_is_reported_as_not_affine():
    inner = ddim_step(SCHEDULE)

    def clipped(x, eps, t, z):
        return inner(x, eps, t, z).clamp(-0.6, 0.6)

    verdict = conform(clipped, SCHEDULE, "ddim")
    assert not verdict.affine and not verdict.passed


def test_float32_step_is_held_to_float32_resolution():
    verdict = conform(ddim_step(SCHEDULE), SCHEDULE, "ddim", dtype=torch.float32)
    assert verdict.passed, verdict.summary()


@pytest.mark.parametrize("make, message", [
    (lambda: Schedule(np.array([0.5, 0.4]), (0, 1)), "decrease"),
    (lambda: Schedule(np.array([1.5, 0.4]), (1, 0)), "(0, 1)"),
    (lambda: Reference("euler"), "unknown reference"),
    (lambda: Reference(prediction="score"), "unknown prediction"),
    (lambda: Reference(eta=2.0), "eta"),
])
def test_bad_input_is_refused(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_pytest_plugin_fixture(tmp_path):
    """The fixture ``conformance`` passes a conforming step and fails a planted bug with the verdict."""
    (tmp_path / "test_user.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(__import__('pathlib').Path(__file__).parent.parent)!r})
        from tests.test_conform import SCHEDULE, ddim_step

        def test_good(conformance):
            conformance(ddim_step(SCHEDULE), SCHEDULE, "ddim", eta=0.0)

        def test_planted(conformance):
            conformance(ddim_step(SCHEDULE, shift=1), SCHEDULE, "ddim", eta=0.0)
    """))
    from importlib.metadata import entry_points

    installed = any(e.value == "checks.conform.pytest_plugin" for e in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "checks.conform.pytest_plugin"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *plugin,
                           str(tmp_path / "test_user.py")], capture_output=True, text=True,
                          cwd=str(__import__("pathlib").Path(__file__).parent.parent))
    assert "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    assert "does NOT conform to DDIM eta=0" in done.stdout


# --------------------------------------------------------------------------
# diffusers
# --------------------------------------------------------------------------

@needs_diffusers
def test_diffusers_ddpm_leading_conforms():
    from checks.conform import diffusers_grid as g

    for variance in ("fixed_small", "fixed_large"):
        for prediction in ("epsilon", "v_prediction", "sample"):
            row = g.run(g.Config("DDPM", 10, "scaled_linear", prediction, "leading", variance_type=variance))
            assert not row.findings, row.findings
            assert row.affine_residual < 1e-12
            for w in row.w2.values():
                assert w["sampler vs textbook"] < 1e-12


@needs_diffusers
@pytest.mark.parametrize("config, finding", [
    # DDIM's previous timestep is t - T // n, not the schedule's next (linspace, and trailing when n ∤ T).
    (dict(scheduler="DDIM", steps=7, spacing="linspace"), "lands off the schedule's next timestep on 6 of 7"),
    (dict(scheduler="DDIM", steps=30, spacing="trailing"), "lands off the schedule's next timestep"),
    # trailing: the last step lands on t = 0, not the clean level, and eta = 1 adds noise there.
    (dict(scheduler="DDIM", steps=7, spacing="trailing", eta=1.0), "on the last step"),
    # fixed_large with trailing: the last timestep is > 0, so noise of variance 1 - alpha_bar is added onto x_0.
    (dict(scheduler="DDPM", steps=10, spacing="trailing", variance_type="fixed_large"), "on the last step"),
    # fixed_large_log: the square root of log(beta) < 0.
    (dict(scheduler="DDPM", steps=10, variance_type="fixed_large_log"), "non-finite output"),
])
def test_diffusers_discrepancies_are_recorded(config, finding):
    from checks.conform import diffusers_grid as g

    row = g.run(g.Config(**config))
    assert any(finding in f for f in row.findings), row.findings
    if not row.nonfinite_steps:
        assert row.mean_error <= 1  # the formulas agree; the bookkeeping is what differs


@needs_diffusers
def test_diffusers_grid_runs():
    from checks.conform import diffusers_grid as g

    configs = g.grid(steps=(13,), beta_schedules=("linear",), predictions=("epsilon",), etas=(0.0,),
                     variance_types=("fixed_small",))
    rows = g.run_grid(configs)
    assert len(rows) == len(configs) == 3 + 6
    assert all(np.isfinite(r.mean_error) for r in rows)
    assert all(r.mean_error <= 1 for r in rows)  # the formulas match the derivations everywhere


@needs_diffusers
def test_cli_conform_diffusers():
    from checks.app.cli import main

    assert main(["conform", "diffusers", "--scheduler", "DDIM", "--steps", "7", "--beta-schedule", "linear",
                 "--prediction", "epsilon", "--spacing", "leading", "--eta", "0"]) == 0


@pytest.mark.parametrize("argv", [["conform", "k-diffusion", "--grid", "vp"], ["conform", "diffusers", "--steps", "0"],
                                  ["conform", "diffusers", "--eta", "2"]])
def test_cli_bad_input(argv, capsys):
    from checks.app.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("diffverify: error:") and err.count("\n") == 1


@needs_diffusers
def test_report_page_lists_each_finding_kind():
    from checks.app.studies.conformance_diffusers import FIGURE, render_rows
    from checks.conform import diffusers_grid as g

    rows = g.run_grid([g.Config("DDPM", 10, spacing="trailing", variance_type="fixed_large"),
                       g.Config("DDPM", 10, variance_type="fixed_large_log"), g.Config("DDIM", 7, spacing="linspace"),
                       g.Config("DDPM", 10)])
    page = render_rows(rows, g.version())
    assert f"diffusers {g.version()}" in page.markdown and FIGURE in page.figures
    for kind in ("nonfinite", "noise", "bookkeeping", "last_step_noise"):
        line = next(line for line in page.markdown.splitlines() if line.startswith(f"| {g.KINDS[kind]} |"))
        assert "| 0 |" not in line, line
    assert "| DDPM | 10 | leading | fixed_small |  |" in page.markdown and "conforms |" in page.markdown


def test_report_page_is_kept_without_the_extra(monkeypatch):
    from checks.app import plugins
    from checks.app.studies import conformance_diffusers

    monkeypatch.setattr(conformance_diffusers.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(plugins.MissingResult, match="not installed"):
        conformance_diffusers.render(plugins.StudyContext({}))


@needs_diffusers
@pytest.mark.parametrize("plant", [None, "previous_off_by_one", "std_as_variance"])
def test_wrapped_diffusers_scheduler_with_planted_bugs(plant, monkeypatch):
    """diffusers' DDPMScheduler, wrapped as a user's step and held to DDPM through conform(); bugs planted in it."""
    from checks.conform import diffusers_grid as g

    config = g.Config("DDPM", 10, prediction="v_prediction")
    scheduler = g.make(config)
    schedule = Schedule(scheduler.alphas_cumprod.numpy(), scheduler.timesteps.tolist())
    if plant == "previous_off_by_one":
        right = scheduler.previous_timestep
        monkeypatch.setattr(scheduler, "previous_timestep", lambda t: right(t) + 1 if right(t) >= 0 else right(t))
    elif plant == "std_as_variance":
        right_variance = scheduler._get_variance
        monkeypatch.setattr(scheduler, "_get_variance", lambda t, **kw: right_variance(t, **kw) ** 0.5)
    with g.stepping(config, scheduler) as step:
        verdict = conform(step, schedule, "ddpm", variance="small", prediction="v_prediction")
    if plant is None:
        assert verdict.passed, verdict.summary()
        return
    assert not verdict.passed
    wrong = [s for s in verdict.steps if not s.passed]
    if plant == "previous_off_by_one":
        assert all(s.implied_previous == s.expected_previous + 1 for s in wrong) and len(wrong) == 9
    else:
        assert all(s.noise_error > 1 for s in wrong) and len(wrong) == 9  # every step but the one onto x_0
