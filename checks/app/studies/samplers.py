"""Report page ``studies/samplers.md``: every registered sampler, its Monte Carlo check and its order.

For each (sampler, options) pair: the law its check compares against, the
sample size, the false-alarm probability, the smallest relative error
detected with 99 % power, the verdict, and, where an order is declared, a
log-log figure of the exact weak error against the step size with the
fitted slope.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from checks.app.plugins import StudyContext, StudyPage, study  # noqa: E402
from checks.sim import variant_label, variants  # noqa: E402
from checks.sim.orders import ORDER_RESOLUTION, OrderFit, fit_order, order_process  # noqa: E402
from checks.suite.samplers import mixture as sampler_mixtures  # noqa: E402
from checks.suite.samplers.gaussian import check_id  # noqa: E402


def _figure(fit: OrderFit) -> Figure:
    fig = Figure(figsize=(4.2, 3.2))
    ax = fig.add_subplot()
    ax.loglog(fit.step_sizes, fit.errors, "o-", label="weak error (exact law)")
    anchor_h, anchor_e = fit.step_sizes[-1], fit.errors[-1]
    ax.loglog(fit.step_sizes, [anchor_e * (h / anchor_h) ** fit.declared for h in fit.step_sizes], "k--",
              label=f"declared order {fit.declared:g}")
    ax.set_xlabel("step size h")
    ax.set_ylabel("|mean error| + |variance error|")
    ax.set_title(f"{fit.label}: slope {fit.slope:.2f} ± {fit.slope_se:.2f}", fontsize=9)
    ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.2, bottom=0.16, right=0.96, top=0.9)
    return fig


def order_fits() -> dict[str, OrderFit]:
    """Each ordered variant's fitted weak order, by its label (exact laws of the step maps: kept under the
    code, :func:`checks.core.code_memo.kept`)."""
    from checks.core.code_memo import kept

    def compute() -> dict[str, OrderFit]:
        return {variant_label(s, o): fit_order(s, o, order_process(s), label=variant_label(s, o))
                for s, o in variants() if s.weak_order is not None}

    return kept("study.samplers.orders", compute)


@study("samplers", "Reverse samplers: output laws, detectable errors and convergence orders",
       derivation_ids=("mixture.noised_score", "ddpm.marginal", "sde.vp", "sde.ve", "sde.subvp"),
       warm=(f"{__name__}:order_fits",))
def render(context: StudyContext) -> StudyPage:
    rows, order_rows, figures = [], [], {}
    fits = order_fits()
    for sampler, options in variants():
        label = variant_label(sampler, options)
        result = context.result(check_id(sampler, options))
        detectable = min(s.relative_detectable_error for s in result.statistics if "var[" in s.name)
        rows.append(f"| `{label}` | {result.law} | {result.n_samples} | {result.false_alarm:g} | "
                    f"{detectable:.1e} | {result.verdict} |")
        if sampler.weak_order is not None:
            process = order_process(sampler)
            fit = fits[label]
            name = f"samplers_order_{check_id(sampler, options).removeprefix('samplers.')}.png"
            figures[name] = _figure(fit)
            order_rows.append(f"| `{label}` | {process.name} | {fit.declared:g} | {fit.slope:.3f} ± {fit.slope_se:.3f} | "
                              f"{'pass' if fit.matches else 'FAIL'} | ![{label}]({name}) |")
    mixture_rows = []
    for mixture_id, setting in sampler_mixtures.SETTINGS.items():
        result = context.result(mixture_id)
        worst = max(abs(s.z) for s in result.statistics)
        proportion = min(s.detectable_error for s in result.statistics if s.name.startswith("P("))
        mixture_rows.append(f"| `{variant_label(setting.sampler, setting.options)}` | {setting.steps} | "
                            f"{result.n_samples} | {result.false_alarm:g} | {proportion:.4f} | {worst:.2f} | "
                            f"{result.verdict} |")
    markdown = "\n".join([
        "# Reverse samplers",
        "",
        "Each sampler runs from the exact $p_T$ of Gaussian data with its exact score; the law it must have is",
        "the derived one (its step maps `gauss_exact.step_<sampler>` iterated: no discretization bias). The",
        "sampler's own exact law (its torch step with scripted noise, float64) is compared with it at relative",
        "resolution 1e-9, and its Monte Carlo output per coordinate (means, variances, Bonferroni) and as a whole",
        "law (standardized moments 1-4).",
        "",
        "| sampler | law checked | samples | false-alarm probability | smallest relative variance error "
        "detected (99 % power) | verdict |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "## Gaussian-mixture data",
        "",
        "Each sampler runs from the exact $p_T$ of a two-mode 1-D mixture with its exact (non-affine) score;",
        "the output is tested against $p_{t_\\mathrm{end}}$: mean, variance and the mass below three points (one per",
        "mode and the valley) from the derived distribution function `mixture.noised_cdf`. The steps keep the",
        f"discretization bias below {sampler_mixtures.BIAS_FRACTION:.0%} of each statistic's detectable error "
        "(coupled step sweeps in the tests); the samplers with no order state their measured bias in the check's law.",
        "",
        "| sampler | steps | samples | false-alarm probability | smallest detectable error in a proportion "
        "(99 % power) | largest abs(z) | verdict |",
        "|---|---|---|---|---|---|---|",
        *mixture_rows,
        "",
        "## Convergence orders",
        "",
        f"Exact weak error against $p_{{t_\\mathrm{{end}}}}$ over a step-size sweep; the fitted log-log slope must lie "
        f"within {ORDER_RESOLUTION} of the declared order.",
        "",
        "| sampler | process | declared | fitted slope | verdict | figure |",
        "|---|---|---|---|---|---|",
        *order_rows,
        "",
    ])
    return StudyPage(markdown, figures)
