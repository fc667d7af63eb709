"""Planted bugs (the statistics can fail) and the rendering of the results: the CLI's table and the
study pages' section."""

from __future__ import annotations

import dataclasses
from typing import Sequence

import torch

from checks.conform.mixture.cases import Case, cases
from checks.conform.mixture.law import REFINE, installed
from checks.conform.mixture.runner import Result, run, run_all
from checks.core import stats


# Planted bugs are caught on the same grid path by path, so fewer paths do.
PLANTED_SAMPLES = 20_000


def noise_scaled(case: Case, factor: float):
    """The case's library loop with every noise draw multiplied by ``factor`` (a planted bug)."""
    real = case.sampler(case.steps)
    return lambda model, x, noise: real(model, x, lambda a, b: factor * noise(a, b))


def score_one_level_late(case: Case):
    """The case's library loop with the model asked at the grid's next level (a planted bug: the score at the
    wrong time)."""
    real = case.sampler(case.steps)
    levels = [float(v) for v in case.grid(case.steps)]
    if case.kind == "sigma":
        following = dict(zip(levels[:-1], levels[1:]))

        def shifted(model):
            def late(x, sigma, **kw):
                s = float(torch.as_tensor(sigma).reshape(-1)[0])
                return model(x, torch.full_like(torch.as_tensor(sigma), following[s]), **kw)

            return late
    else:  # table levels are timestep + 1; the model takes the timestep (the clean level: -1)
        following = {int(a) - 1: int(b) - 1 for a, b in zip(levels[:-1], levels[1:])}

        def shifted(model):
            return lambda x, t: model(x, following[int(t)]) if following[int(t)] >= 0 else torch.zeros_like(x)

    return lambda model, x, noise: real(shifted(model), x, noise)


# Per library: (case, bug) pairs shown on the study page.
PLANTED = {"diffusers": (("DDPM", "noise x 1.05"), ("DDIM", "score one level late")),
           "k-diffusion": (("euler_ancestral", "noise x 1.05"), ("heun", "score one level late"),
                           ("dpmpp_2m", "score one level late"))}


def planted(case: Case, bug: str):
    return noise_scaled(case, 1.05) if bug == "noise x 1.05" else score_one_level_late(case)


def planted_rows(library: str) -> list[str]:
    """Each planted bug of :data:`PLANTED` run at :data:`PLANTED_SAMPLES` paths: the statistics it fails."""
    lines = ["| sampler | planted bug | failed statistics (estimate, expected, threshold) | verdict |",
             "| --- | --- | --- | --- |"]
    for name, bug in PLANTED[library]:
        (case,) = cases(library, [name])
        result = run(case, PLANTED_SAMPLES, sampler=planted(case, bug))
        failed = "; ".join(f"{s.name}: {s.estimate:.4g} vs {s.expected:.4g} (|difference| "
                           f"{abs(s.estimate - s.expected):.3g} > {s.threshold:.3g})"
                           for s in result.statistics if not s.passed)
        lines.append(f"| {case.label} | {bug} | {failed or 'none'} | {'rejected' if failed else 'NOT REJECTED'} |")
    return lines


def rows(results: Sequence[Result]) -> list[str]:
    lines = ["| sampler | statistic | estimate | expected | SE | z | bias allowance | threshold | "
             "detectable error (99 %) | |", "|" + " --- |" * 10]
    for r in results:
        for s in r.statistics:
            lines.append(f"| {r.case.label} | {s.name} | {s.estimate:.6g} | {s.expected:.6g} | {s.std_error:.3g} | "
                         f"{s.z:.3g} | {s.bias_allowance:.3g} | {s.threshold:.3g} | {s.detectable_error:.3g} | "
                         f"{'pass' if s.passed else 'FAIL'} |")
    return lines


def table(results: Sequence[Result]) -> str:
    return "\n".join(rows(results)) + "\n"


def summary(results: Sequence[Result]) -> str:
    failed = [r.case.id for r in results if not r.passed]
    return (f"{len(results)} samplers on Gaussian-mixture data, {sum(r.passed for r in results)} pass"
            + (f"; FAIL: {', '.join(failed)}" if failed else ""))


def command(library: str) -> int:
    """``diffverify conform LIBRARY --mixture``: the table on stdout; 1 if a statistic fails."""
    import sys

    results = run_all(library)
    sys.stdout.write(f"{library} {version(library)}: {summary(results)} (false-alarm probability "
                     f"{stats.FALSE_ALARM_PER_CHECK:g} per sampler, split over its statistics)\n\n")
    sys.stdout.write(table(results))
    return 0 if all(r.passed for r in results) else 1


def version(library: str) -> str:
    from importlib.metadata import version as installed_version

    return installed_version(library)


def with_section(page, library: str):
    """A study page (``checks.app.plugins.StudyPage``) with :func:`section` appended."""
    lines = section(library)
    return dataclasses.replace(page, markdown=page.markdown + "\n" + "\n".join(lines)) if lines else page


def section(library: str) -> list[str]:
    """The study page's section: the library's subset run here (empty where the library is absent).

    Its runs are seeded from their ids, so the same code, library and torch give the same lines: they are
    kept in the derivation cache under those (the sources of both packages and the two versions), and a
    report runs the Monte Carlo again only when one of them changed."""
    if not installed(library):
        return []
    from checks.core.code_memo import kept

    return kept("study.mixture", lambda: computed_section(library), [f"{library}-{version(library)}"])


def computed_section(library: str) -> list[str]:
    """:func:`section` computed afresh."""
    from checks.suite.samplers.mixture import MIXTURE

    results = run_all(library)
    paths = ", ".join(f"{r.case.label.split(',')[0]}: {r.samples:,} ({r.fine_samples:,} on the fine grid)"
                      for r in results)
    return [
        "## Monte Carlo on Gaussian-mixture data", "",
        f"{summary(results)}. Data: the two-mode mixture {MIXTURE} (`checks.suite.samplers.mixture`); the model "
        "is its exact noised score (`mixture.noised_score`) in the form the library calls (denoiser or noise "
        "prediction). The paths start from the exact noised law at the grid's first level; a stochastic "
        "sampler's noise is the increment of one Brownian path, shared with the runs it is compared with "
        f"(`checks.conform.mixture`). Paths: {paths}.", "",
        "Each statistic (mean, variance, weight of the first mode as the mean posterior responsibility, whose "
        "expectation under the data law is the weight) is tested against the reference run on the same grid "
        "from the same start with the same noise (the catalogue's rule, or another library's sampler of the "
        "same scheme: a difference there is bookkeeping, allowed only the rounding bound), and against the "
        "exact data law with an allowance for the discretisation bias, bounded from a coupled run of the "
        f"reference (else of the library) on a grid {REFINE} times finer. Thresholds: the suite's rule, "
        f"false-alarm probability {stats.FALSE_ALARM_PER_CHECK:g} per sampler split over its statistics; the "
        "detectable error is the smallest detected with probability 0.99.", "",
        *rows(results), "",
        f"Planted bugs ({PLANTED_SAMPLES:,} paths): the library's own loop with every noise draw multiplied "
        "by 1.05, or with the model asked at the grid's next level.", "",
        *planted_rows(library), "",
    ]
