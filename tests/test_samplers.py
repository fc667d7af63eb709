"""The sampler engine: declared orders asserted, planted bugs rejected, exact laws, streaming, determinism."""

from __future__ import annotations

import contextlib
import dataclasses
import math

import pytest
import torch

import checks
from checks.core import stats
from checks.core import registry as check_registry
from checks.sim import Grid, exact, orders, processes, steps, variant_label, variants
from checks.sim import all as all_samplers
from checks.sim import get as get_sampler
from checks.sim.data import GaussianData, MixtureData
from checks.sim.engine import CoupledNoise, Progress, simulate_moments
from checks.suite.samplers import mixture as sampler_mixtures
from derivations import catalogue

OrderFitStub = orders.OrderFit
ORDERED = [(s, o) for s, o in variants() if s.weak_order is not None]


# --- declared theory --------------------------------------------------------

@pytest.mark.parametrize("sampler,options", ORDERED, ids=[variant_label(s, o) for s, o in ORDERED])
def test_declared_weak_order_is_the_fitted_slope(sampler, options):
    fit = orders.fit_order(sampler, options, orders.order_process(sampler))
    assert fit.matches, (f"{fit.label}: slope {fit.slope:.3f} ± {fit.slope_se:.3f}, declared {fit.declared}; "
                         f"errors {fit.errors}")


@pytest.mark.slow
@pytest.mark.parametrize("process", ["ve", "subvp"])
@pytest.mark.parametrize("name", ["pf_heun", "pf_rk4"])
def test_ode_orders_hold_on_other_processes(name, process):
    fit = orders.fit_order(get_sampler(name), {}, processes.named(process))
    assert fit.matches, f"{name} on {process}: slope {fit.slope:.3f} ± {fit.slope_se:.3f}"


def test_deterministic_variants_draw_no_noise():
    data = orders.ORDER_DATA
    for sampler, options in variants():
        process = processes.named(sampler.scheme.process)
        grid = Grid.uniform(process, 10)
        counter = exact.ScriptedNoise(first_row=10**9)
        sampler(data.score(process), grid, torch.zeros(2, 2, dtype=torch.float64), counter, **options)
        assert (counter.draws == 0) == sampler.is_deterministic(options), variant_label(sampler, options)


def test_duplicate_sampler_name_raises():
    with pytest.raises(ValueError, match="registered twice"):
        catalogue.register(catalogue.get("ddim"))


def test_unknown_sampler_names_the_closest():
    with pytest.raises(KeyError, match="ddim"):
        get_sampler("ddmi")


def test_bad_options_raise():
    process = processes.named("ddpm")
    grid, model = Grid.uniform(process, 10), orders.ORDER_DATA.score(process)
    x = torch.zeros(4, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="eta"):
        get_sampler("ddim")(model, grid, x, torch.Generator(), eta=1.5)
    with pytest.raises(ValueError, match="variance"):
        get_sampler("ddpm_ancestral")(model, grid, x, torch.Generator(), variance="fixedlarge")
    with pytest.raises(ValueError, match="no option"):
        get_sampler("pf_heun")(model, grid, x, torch.Generator(), eta=0.5)


# --- shared rules: the same scheme under two names is the same numbers ------

def _law(name, options, process, n_steps=25):
    data = orders.ORDER_DATA
    grid = Grid.uniform(process, n_steps)
    return exact.output_law(get_sampler(name), options, data.score(process), grid, *data.marginal(process, grid.times[0]))


def test_ddim_eta_0_is_the_exponential_integrator_lambda_0():
    for process in map(processes.named, ("vp", "ve", "subvp")):
        for a, b in zip(_law("ddim", {"eta": 0.0}, process), _law("exponential_integrator", {"lam": 0.0}, process)):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_ddim_eta_1_is_ancestral_with_posterior_variance():
    process = processes.named("ddpm")
    for a, b in zip(_law("ddim", {"eta": 1.0}, process, 20), _law("ddpm_ancestral", {"variance": "beta_tilde"}, process, 20)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("variance", ["beta_tilde", "beta"])
def test_ancestral_step_is_the_derived_ddpm_posterior(variance):
    """One step t -> t-1 of the ancestral sampler from a point mass: the mean of ddpm.posterior with x_0
    replaced by Tweedie's estimate (Gaussian data: a linear function of x_t), and the posterior's variance
    (``beta_tilde``) or the forward step's beta_t (``beta``, Ho et al.'s sigma_t^2 = beta_t)."""
    import derivations
    from derivations.core import schedules

    sched, t = schedules.make("linear", 1000), 500
    process = processes.named("ddpm")
    data = GaussianData(torch.tensor([0.0], dtype=torch.float64), torch.tensor([1e-12], dtype=torch.float64))
    x_t = torch.tensor([0.7], dtype=torch.float64)
    mean, var = exact.output_law(get_sampler("ddpm_ancestral"), {"variance": variance}, data.score(process),
                                 Grid(process, (float(t), float(t - 1))), x_t, torch.zeros(1, dtype=torch.float64))
    at = {k: torch.tensor(v, dtype=torch.float64) for k, v in sched.at(t).items()}
    posterior = derivations.get("ddpm.posterior")
    # Data x_0 = 0 exactly: Tweedie's estimate is 0 and the posterior mean is coef_xt * x_t.
    torch.testing.assert_close(mean, posterior.function("coef_xt", "torch")(**at) * x_t, rtol=1e-6, atol=1e-9)
    posterior_var = posterior.function("var", "torch")(**at).reshape(1)
    expected = posterior_var if variance == "beta_tilde" else at["beta_t"].reshape(1)
    torch.testing.assert_close(var, expected, rtol=1e-9, atol=0)
    assert not torch.allclose(posterior_var, at["beta_t"].reshape(1), rtol=1e-5)  # 9e-4 apart: the two differ


def test_reverse_sde_em_is_lambda_family_at_1():
    process = processes.named("vp")
    grid, model = Grid.uniform(process, 10), orders.ORDER_DATA.score(process)
    x = torch.ones(5, 2, dtype=torch.float64)
    a = get_sampler("reverse_sde_em")(model, grid, x, torch.Generator().manual_seed(3))
    b = get_sampler("lambda_family")(model, grid, x, torch.Generator().manual_seed(3), lam=1.0)
    assert torch.equal(a, b)


def test_exact_law_refuses_a_nonlinear_model():
    data = MixtureData(torch.tensor([0.5, 0.5]), torch.tensor([-1.0, 1.0], dtype=torch.float64),
                             torch.tensor([0.3, 0.3], dtype=torch.float64))
    process = processes.named("vp")
    with pytest.raises(ValueError, match="not affine"):
        exact.output_law(get_sampler("pf_euler"), {}, data.score(process), Grid.uniform(process, 5),
                         torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64))


# --- planted bugs on mixture data (the Gaussian checks: tests/test_planted_bugs.py) --

@contextlib.contextmanager
def _missing_sqrt():
    """Every noise term scaled by its variance instead of its standard deviation."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(steps, "noise_std", lambda var: var)
        yield


def _planted(simulate, context):
    def run(ctx):
        with context():
            return simulate(ctx)

    return run


def _with_check(monkeypatch, check_id, replaced):
    """Run ``check_id`` as ``replaced`` (the registry's ``get`` answers it for that id)."""
    original = check_registry.get
    monkeypatch.setattr(check_registry, "get", lambda i: replaced if i == check_id else original(i))


# --- every sampler on mixture data: the bias each check absorbs is bounded ---

MIXTURE = sampler_mixtures.SETTINGS
ORDERED_MIXTURE = [i for i, s in MIXTURE.items() if s.sampler.weak_order is not None]
UNORDERED_MIXTURE = [i for i, s in MIXTURE.items() if s.sampler.weak_order is None]
SWEEP_SAMPLES = 4000


def _paired_statistics(coarse: torch.Tensor, fine: torch.Tensor) -> torch.Tensor:
    """Per path, the coarse-minus-fine contribution to each statistic of the check (rows: mean, var, P(x < a_j))."""
    c, f = coarse.flatten(), fine.flatten()
    indicators = sampler_mixtures.with_indicators(coarse)[:, 1:] - sampler_mixtures.with_indicators(fine)[:, 1:]
    return torch.stack([c - f, (c - c.mean()) ** 2 - (f - f.mean()) ** 2, *indicators.T])


def coupled_bias(check_id: str, samples: int = SWEEP_SAMPLES) -> list[tuple[str, float, float, float]]:
    """(statistic, bias at the check's steps, its SE, the check's detectable error) from coupled runs
    with N/2 and N steps: for weak order p the bias at N is the paired difference / (2^p - 1)."""
    setting = MIXTURE[check_id]
    check = checks.get(check_id)
    ctx = checks.core.registry.CheckContext(check, samples, checks.seed_for(check_id, 7), torch.device("cpu"),
                                       torch.float64)
    data = sampler_mixtures.mixture_data(ctx)
    x_init = data.sample_marginal(setting.process, setting.process.t_start, samples, ctx.generator())
    noise = CoupledNoise(ctx.generator())
    fine = sampler_mixtures.run_sampler(setting, data, x_init, noise.fine())
    coarse = sampler_mixtures.run_sampler(setting, data, x_init, noise.coarse(), steps=setting.steps // 2)
    paired = _paired_statistics(coarse, fine) / (2**setting.sampler.weak_order - 1)
    # The check's detectable errors at its own sample size, from the fine run's spread.
    moments = stats.RunningMoments().update(sampler_mixtures.with_indicators(fine))
    verdicts = stats.test(sampler_mixtures.estimates(ctx, setting, moments))
    scale = math.sqrt(samples / setting.samples)
    return [(v.name, float(row.mean()), float(row.std()) / math.sqrt(samples), v.bias_allowance * scale)
            for v, row in zip(verdicts, paired)]


@pytest.mark.mc
@pytest.mark.parametrize("check_id", ORDERED_MIXTURE)
def test_mixture_check_bias_is_below_its_share_of_the_detectable_error(check_id):
    """The bias must not be shown (3 SE of the sweep) to exceed the allowance in the check's threshold
    (BIAS_FRACTION of the detectable error without it)."""
    for name, bias, se, allowance in coupled_bias(check_id):
        assert abs(bias) - 3 * se <= allowance, f"{check_id} {name}: bias {bias:.2e} ± {se:.1e}, allowed {allowance:.2e}"


@pytest.mark.mc
@pytest.mark.slow
@pytest.mark.parametrize("check_id", UNORDERED_MIXTURE)
def test_mixture_check_without_order_keeps_its_stated_bias(check_id):
    """No order, no sweep: with 4x the samples the error against p_t_end stays within the bias the
    law states (in the check's SE) plus 3 SE of the larger run."""
    setting = MIXTURE[check_id]
    big = checks.run(check_id, device="cpu", samples=4 * setting.samples, seed_offset=3)
    for s in big.statistics:
        check_se = 2 * s.std_error
        assert abs(s.estimate - s.expected) <= setting.measured_bias * check_se + 3 * s.std_error, (
            f"{check_id} {s.name}: error {s.estimate - s.expected:.2e}, check SE {check_se:.2e}")


def test_every_variant_has_a_mixture_check():
    assert {sampler_mixtures.mixture_check_id(s, {**v.options, **v.mixture.options})
            for s in all_samplers() for v in s.scheme.variants} == set(MIXTURE)


MIXTURE_BUGS = {
    "score sign flipped: PF Heun": ("samplers.pf_heun.mixture", None, lambda m, g: (lambda x, t: -m(x, t))),
    "missing sqrt on the noise: reverse SDE": ("samplers.reverse_sde_em.mixture", _missing_sqrt, None),
    "missing sqrt on the noise: DDPM ancestral": ("samplers.ddpm_ancestral.variance_beta.mixture", _missing_sqrt,
                                                  None),
    "score sign flipped: DDIM": ("samplers.ddim.eta_0.5.mixture", None, lambda m, g: (lambda x, t: -m(x, t))),
}
# An off-by-one timestep is an O(h) perturbation: on the fine grids the mixture checks need it is
# below their detectable error (the Gaussian checks, on 20 steps, reject it).


@pytest.mark.mc
@pytest.mark.parametrize("bug", list(MIXTURE_BUGS))
def test_planted_bug_is_rejected_on_mixture_data(bug, monkeypatch):
    check_id, context, wrap_model = MIXTURE_BUGS[bug]
    context = context or contextlib.nullcontext
    setting = MIXTURE[check_id]
    buggy = dataclasses.replace(setting, wrap_model=wrap_model or setting.wrap_model)
    check = checks.get(check_id)
    _with_check(monkeypatch, check_id,
                dataclasses.replace(check, simulate=_planted(sampler_mixtures.simulator(buggy), context)))
    assert not checks.run(check_id, device="cpu").passed, f"{bug} was not rejected"


# --- dimension, covariance, streaming, determinism --------------------------

def _full_covariance_check(dim, device, n, chunk):
    gen = torch.Generator(device=device).manual_seed(checks.seed_for(f"full-covariance-{dim}"))
    data = GaussianData.random_full(dim, torch.Generator().manual_seed(5), device="cpu")
    data = GaussianData(*(t.to(device) for t in (data.mean, data.eigenvalues, data.basis)))
    process, sampler = processes.named("subvp"), get_sampler("reverse_sde_em")
    grid = Grid.uniform(process, 20)
    start = lambda size, g: data.sample_marginal(process, grid.times[0], size, g)  # noqa: E731
    moments = simulate_moments(sampler, {}, data.score(process), grid, start, n, gen, chunk=chunk,
                               transform=data.to_eigen)
    diagonal = data.diagonal()
    mean, var = exact.output_law(sampler, {}, diagonal.score(process), grid,
                                 *diagonal.marginal(process, grid.times[0]))
    estimates = (stats.mean_estimates("", moments, mean) + stats.variance_estimates("", moments, var)
                 + stats.standard_normal_moment_estimates("", moments, mean, var))
    return stats.test(estimates)


@pytest.mark.mc
def test_full_covariance_output_matches_the_exact_law_cpu():
    results = _full_covariance_check(32, "cpu", 10_000, 4096)
    assert all(s.passed for s in results), [s.name for s in results if not s.passed]


@pytest.mark.mc
@pytest.mark.gpu
def test_dimension_3072_full_covariance_on_cuda():
    results = _full_covariance_check(3072, "cuda", 100_000, 25_000)
    assert all(s.passed for s in results), [s.name for s in results if not s.passed]


def test_running_moments_do_not_depend_on_chunking():
    x = torch.randn(10_000, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 2 + 5
    whole = stats.RunningMoments().update(x)
    parts = stats.RunningMoments()
    for chunk in x.split(777):
        parts.update(chunk)
    for k in (1, 2, 3, 4):
        torch.testing.assert_close(whole.about(1.0, k), parts.about(1.0, k), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(whole.central(2), x.var(dim=0, unbiased=False), rtol=1e-10, atol=0)


def test_whole_law_moments_reject_a_non_gaussian_law_with_the_right_variance():
    gen = torch.Generator().manual_seed(2)
    laplace = torch.distributions.Laplace(0.0, 1 / math.sqrt(2)).sample((40_000, 2)).to(torch.float64)
    gaussian = torch.randn(40_000, 2, generator=gen, dtype=torch.float64)
    zero, one = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    assert all(s.passed for s in stats.test(stats.standard_normal_moment_estimates(
        "", stats.RunningMoments().update(gaussian), zero, one)))
    assert not all(s.passed for s in stats.test(stats.standard_normal_moment_estimates(
        "", stats.RunningMoments().update(laplace), zero, one)))


def test_proportions_need_a_binomial_variance_for_the_normal_approximation():
    hits = stats.RunningMoments().update((torch.arange(1000.0) < 20).to(torch.float64)[:, None])  # 2 %
    with pytest.raises(ValueError, match="too small"):
        stats.proportion_estimates(["rare"], hits, torch.tensor([0.02]))
    half = stats.RunningMoments().update((torch.arange(4000.0) % 2).to(torch.float64)[:, None])
    (far,) = stats.test(stats.proportion_estimates(["far prediction"], half, torch.tensor([0.02])))
    assert not far.passed, "a prediction far from a well-sampled proportion is tested and rejected"


def test_loglog_slope_recovers_a_power_law():
    h = [0.1, 0.05, 0.025, 0.0125]
    slope, se = stats.loglog_slope(h, [3 * x**2 * (1 + x) for x in h])
    assert abs(slope - 2) < 0.1 and se > 0


def test_progress_bar_is_quiet_off_a_terminal(capsys):
    bar = Progress(10, "x")
    bar.advance(10)
    assert capsys.readouterr().err == ""


@pytest.mark.mc
def test_a_rerun_gives_identical_numbers():
    first = checks.run("samplers.pf_heun", device="cpu")
    second = checks.run("samplers.pf_heun", device="cpu")
    assert [s.estimate for s in first.statistics] == [s.estimate for s in second.statistics]


def test_study_page_lists_every_sampler_with_a_figure_per_order(tmp_path, monkeypatch):
    """The page's structure; the checks and sweeps it runs are tested above, so they are stubbed here."""
    from checks.app import plugins
    from checks.app.studies import samplers as page_module

    def cheap_run(check_id, device="auto"):
        if check_id.endswith(".mixture"):  # its proportions need more samples than a stub should draw
            statistics = tuple(stats.test([stats.Estimate("P(x < 0)", 0.5, 0.5, 0.01)]))
            return checks.core.registry.CheckResult(check_id, "", (), "", statistics, 3500, 0, "cpu", "float64", 1e-6, 0.0)
        return checks.run_variants(check_id, [{}], device="cpu", samples=1000)[0]

    def cheap_fit(sampler, options, process, label=""):
        return OrderFitStub(label, (0.1, 0.05, 0.025), (1e-2, 5e-3, 2.5e-3), 1.0, 0.0, sampler.weak_order)

    monkeypatch.setattr(page_module, "fit_order", cheap_fit)
    # the stub's fits must not be kept in the user's cache, where a later report would read them as real
    from checks.core import code_memo
    monkeypatch.setattr(code_memo, "kept", lambda name, compute, *args, **kwargs: compute())
    results = {c.id: cheap_run(c.id) for c in checks.all() if c.id.startswith("samplers.")}
    page = next(s for s in plugins.studies() if s.id == "samplers").render(plugins.StudyContext(results, "cpu"))
    for sampler, options in variants():
        assert f"`{variant_label(sampler, options)}`" in page.markdown
    assert len(page.figures) == len([1 for s, _ in variants() if s.weak_order is not None])
    name, figure = next(iter(page.figures.items()))
    figure.savefig(tmp_path / name)
    assert (tmp_path / name).stat().st_size > 1000
    assert "| samplers" not in page.markdown  # rows are labelled by sampler, not by check id


def test_cli_lists_samplers_and_refuses_unknown_names(capsys):
    from checks.app.cli import main

    assert main(["samplers"]) == 0
    out = capsys.readouterr().out
    assert all(s.name in out for s, _ in variants())
    assert main(["samplers", "ddmi"]) == 2
    assert "ddim" in capsys.readouterr().err


@pytest.mark.mc
def test_cli_checks_one_sampler(capsys):
    from checks.app.cli import main

    assert main(["samplers", "pf_rk4", "--check", "--device", "cpu", "--samples", "5000"]) == 0
    assert "pass; n = 5000" in capsys.readouterr().out


def test_importing_the_checks_builds_no_process_and_derives_nothing():
    """Registration reads the catalogue only: processes are built and SymPy runs when a check first runs."""
    import subprocess
    import sys

    probe = ("import gc, checks, derivations\n"
             "checks.load()\n"
             "from checks.sim.processes import Process\n"
             "assert not any(isinstance(o, Process) for o in gc.get_objects()), 'a process was built'\n"
             "assert not [d.id for d in derivations.all() if 'body' in d.__dict__], 'a derivation was derived'\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert result.returncode == 0, result.stderr
