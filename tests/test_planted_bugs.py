"""Small bugs planted in the sampler catalogue: every affected sampler's own Gaussian check rejects each one.

A bug is planted in a catalogue rule as the engine runs it: a piece the rules share replaced
(the noise prediction of ``derivations.catalogue.pieces``), or a record's rule wrapped so that it reads the wrong thing through its
``ops``. The checks' expected law is the derived step maps (``gauss_exact.step_<name>``) of the
committed rules: records built before the bug is planted, as they are from the source; the same
bug in the committed rule would change those maps, and their literature claims then reject it
(:func:`test_a_bug_in_the_rule_breaks_its_step_map_claims`).

"Affected": the bug moves the sampler's exact law (scripted noise, float64) on its check's grid
by more than :data:`AFFECTED` (relative); every other variant must be untouched up to round-off
(:data:`UNTOUCHED`), so no variant falls between "unaffected" and "detectably affected".
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Callable, Iterator

import pytest
import torch

import checks
import derivations
from checks.sim import exact
from checks.sim.data import GaussianData
from checks.suite.samplers import gaussian
from derivations import Tier, catalogue, prove
from derivations.catalogue import pieces
from derivations.families import gauss_exact

pytestmark = pytest.mark.mc

AFFECTED = 1e-7  # relative change of the exact law: ten times the checks' detectable 8e-9
UNTOUCHED = 1e-12  # float64 round-off of the exact law over the checks' 20 steps
SAMPLES = 2000  # the Monte Carlo half of each check; the exact half does not depend on it


class _View:
    """An ``ops`` namespace (or one time of it) with some attributes replaced."""

    def __init__(self, inner, **replaced):
        self._inner = inner
        self.__dict__.update(replaced)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


class _ScoreAtStart(_View):
    """The score of the step's later points evaluated at its start time."""

    @property
    def next(self):
        return _View(self._inner.next, score=self._inner.now.score)

    @property
    def mid(self):
        return _View(self._inner.mid, score=self._inner.now.score)


class _ScoreOneLater(_View):
    """The score of step k evaluated at the next grid time t_{k+1}: an off-by-one timestep."""

    @property
    def now(self):
        return _View(self._inner.now, score=self._inner.next.score)


class _NeverClean(_View):
    @property
    def lands_clean(self) -> bool:
        return False


def _noise_scaled(scale: Callable[[float], float]) -> Callable:
    def wrap(ops):
        return _View(ops, noise=lambda x, var: ops.noise(x, scale(var)))

    return wrap


OPS_BUGS: dict[str, Callable] = {
    "noise variance x 1.02": _noise_scaled(lambda var: 1.02 * var),
    "score evaluated at the wrong time (the step's start)": _ScoreAtStart,
    "off-by-one timestep (the score at the next grid time)": _ScoreOneLater,
    "std in place of variance": _noise_scaled(lambda var: var * var),
    "noise on the last step (onto the noise-free level)": _NeverClean,
}
BUGS = ("eps-hat x 1.05", *OPS_BUGS)


def bugged(scheme: catalogue.Scheme, bug: str) -> catalogue.Scheme:
    """``scheme`` with an ops bug in its rule."""
    rule, wrap = scheme.rule, OPS_BUGS[bug]
    return dataclasses.replace(scheme, rule=lambda ops, x, **options: rule(wrap(ops), x, **options))


@contextlib.contextmanager
def planted(bug: str) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        if bug == "eps-hat x 1.05":
            eps_hat = pieces.eps_hat
            patch.setattr(pieces, "eps_hat", lambda ops, at, x: 1.05 * eps_hat(ops, at, x))
        else:
            get = catalogue.get
            patch.setattr(catalogue, "get", lambda name: bugged(get(name), bug))
        yield


def _exact_law(check_id: str) -> torch.Tensor:
    setting = gaussian.SETTINGS[check_id]
    data = GaussianData(*(torch.tensor(v, dtype=torch.float64)
                                   for v in (gaussian.GAUSSIAN_MEAN, gaussian.GAUSSIAN_EIGENVALUES)))
    process = setting.grid.process
    mean, var = exact.output_law(setting.sampler, setting.options, data.score(process), setting.grid,
                                 *data.marginal(process, setting.grid.times[0]))
    return torch.cat([mean, var])


@pytest.fixture(scope="module")
def correct_laws() -> dict[str, torch.Tensor]:
    for check_id, setting in gaussian.SETTINGS.items():  # the derived maps, from the committed rules
        derivations.get(setting.maps.derivation_id).body
    return {check_id: _exact_law(check_id) for check_id in gaussian.SETTINGS}


def affected(bug: str, correct_laws: dict[str, torch.Tensor]) -> list[str]:
    out = []
    with planted(bug):
        for check_id, right in correct_laws.items():
            change = float(((_exact_law(check_id) - right).abs() / right.abs().clamp_min(1e-3)).max())
            assert change < UNTOUCHED or change > AFFECTED, f"{bug}: {check_id} changed by {change:.1e} only"
            if change > AFFECTED:
                out.append(check_id)
    return out


# The variants each bug must reach (more may be affected; the test runs every affected one).
MUST_AFFECT = {
    "eps-hat x 1.05": {"samplers.ddim.eta_0.0", "samplers.ddim.eta_1.0", "samplers.exponential_integrator.lam_1.0"},
    "noise variance x 1.02": {"samplers.reverse_sde_em", "samplers.ddpm_ancestral.variance_beta",
                              "samplers.ddim.eta_0.5"},
    "score evaluated at the wrong time (the step's start)": {"samplers.pf_heun", "samplers.pf_rk4",
                                                             "samplers.predictor_corrector"},
    "off-by-one timestep (the score at the next grid time)": {"samplers.ddpm_ancestral.variance_beta_tilde",
                                                              "samplers.pf_euler", "samplers.ddim.eta_0.0"},
    "std in place of variance": {"samplers.ve_ancestral", "samplers.lambda_family.lam_0.5", "samplers.predictor_corrector"},
    "noise on the last step (onto the noise-free level)": {"samplers.ddpm_ancestral.variance_beta"},
}


@pytest.mark.parametrize("bug", BUGS)
def test_every_affected_sampler_rejects_the_bug(bug, correct_laws):
    hit = affected(bug, correct_laws)
    assert MUST_AFFECT[bug] <= set(hit), f"{bug} reaches only {hit}"
    with planted(bug):
        accepted = [check_id for check_id in hit if checks.run(check_id, device="cpu", samples=SAMPLES).passed]
    assert not accepted, f"{bug} passed the checks of {accepted}"


def test_unplanted_checks_pass(correct_laws):
    """The same runs without a bug pass (the rejections above are the bug's, not the sample size's)."""
    for check_id in sorted({i for ids in MUST_AFFECT.values() for i in ids}):
        assert checks.run(check_id, device="cpu", samples=SAMPLES).passed, check_id


# One scheme per bug, re-derived with the bug in its rule.
REDERIVED = {
    "eps-hat x 1.05": "ddim",
    "noise variance x 1.02": "reverse_sde_em",
    "score evaluated at the wrong time (the step's start)": "pf_heun",
    "off-by-one timestep (the score at the next grid time)": "pf_euler",
    "std in place of variance": "lambda_family",
    "noise on the last step (onto the noise-free level)": "ddpm_ancestral",
}


@pytest.mark.parametrize("bug", BUGS)
def test_a_bug_in_the_rule_breaks_its_step_map_claims(bug):
    """Committed into the rule, the bug reaches the derived step map too; the map's claims (the literature's
    forms, independent of the rule) then fail, or name a step the bugged rule no longer has."""
    scheme = catalogue.get(REDERIVED[bug])
    with planted(bug):
        body_of = scheme if bug == "eps-hat x 1.05" else bugged(scheme, bug)
        try:
            body = gauss_exact.step_map_body(body_of)
        except ValueError:
            return
    results = {r.name: r.expr for r in body.results}
    failed = [c.source for c in body.claims
              if c.result not in results or prove(results[c.result], c.expr).tier is Tier.FAILED]
    assert failed, f"{bug}: every claim of the re-derived {scheme.derivation_id} still holds"
