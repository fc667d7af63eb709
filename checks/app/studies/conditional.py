"""Report page ``studies/conditional.md``: guided and inpainting samplers on Gaussian data, exactly.

Tables: the W2 distance of classifier-free-guided samplers' output to the tilted target against the
guidance scale and the number of steps (:mod:`checks.exact.guided`), the continuous-time output variance
of the guided probability-flow ODE (``guidance.flow_variance``), and the W2 distance of the replacement
method and RePaint to the true conditional against the resamplings U and the steps
(:mod:`checks.exact.inpaint`); the Monte Carlo checks of ``checks/suite/guidance.py``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from checks.app.plugins import StudyContext, StudyPage, study  # noqa: E402
from checks.exact import guided, inpaint  # noqa: E402

GUIDED_SAMPLERS = ("pf_heun", "ddim", "ddpm_ancestral")
CHECKS = ("guidance.classifier_mixture", "guidance.cfg_gaussian")


def _guidance_figure(tables: dict[str, list[dict[str, float]]], steps: int) -> Figure:
    fig = Figure(figsize=(4.6, 3.2))
    ax = fig.add_subplot()
    for name, rows in tables.items():
        chosen = [r for r in rows if r["steps"] == steps]
        ax.plot([r["w"] for r in chosen], [r["w2"] for r in chosen], "o-", label=name)
    ax.set_xlabel("guidance scale w")
    ax.set_ylabel("W2 to the tilted target")
    ax.set_title(f"CFG of Gaussian laws, {steps} steps", fontsize=9)
    ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.16, bottom=0.16, right=0.96, top=0.9)
    return fig


def _repaint_figure(rows: list[dict[str, float]]) -> Figure:
    fig = Figure(figsize=(4.6, 3.2))
    ax = fig.add_subplot()
    for u in sorted({r["U"] for r in rows}):
        chosen = [r for r in rows if r["U"] == u]
        ax.semilogx([r["steps"] for r in chosen], [r["w2"] for r in chosen], "o-", label=f"U = {u}")
    ax.set_xlabel("reverse steps")
    ax.set_ylabel("W2 to the true conditional")
    ax.set_title("Replacement (U = 1) and RePaint, 2-D Gaussian data", fontsize=9)
    ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.16, bottom=0.16, right=0.96, top=0.9)
    return fig


@study("conditional", "Conditional generation: guidance and inpainting on Gaussian data, exactly",
       derivation_ids=("guidance.bayes_score", "guidance.tilted", "guidance.flow_variance", "inpaint.conditional",
                       "inpaint.replacement_step"))
def render(context: StudyContext) -> StudyPage:
    data = guided.ClassData()
    tables = {name: guided.guidance_table(name, data=data) for name in GUIDED_SAMPLERS}
    guided_rows = []
    for name, rows in tables.items():
        for r in rows:
            guided_rows.append(f"| `{name}` | {r['w']:g} | {r['steps']} | {r['mean']:.4f} | {r['var']:.4f} | "
                               f"{r['target_mean']:.4f} | {r['target_var']:.4f} | {r['limit_var']:.4f} | {r['w2']:.4f} |")
    plane = inpaint.PlaneData()
    target = inpaint.true_conditional(plane)
    repaint_rows_data = inpaint.repaint_table(data=plane)
    repaint_rows = [f"| {r['steps']} | {r['U']} | {r['nfe']} | {r['mean']:.4f} | {r['var']:.4f} | {r['w2']:.4f} |"
                    for r in repaint_rows_data]
    check_rows = []
    for check_id in CHECKS:
        result = context.result(check_id)
        worst = max(abs(s.z) for s in result.statistics)
        law = result.law.replace("|", "\\|")  # a table cell
        check_rows.append(f"| `{check_id}` | {law} | {result.n_samples} | {result.false_alarm:g} | "
                          f"{worst:.2f} | {result.verdict} |")
    markdown = "\n".join([
        "# Conditional generation on Gaussian data",
        "",
        "## Classifier-free guidance",
        "",
        f"Class law N({data.mean_cls:g}, {data.var_cls:g}) and unconditional law N({data.mean_unc:g}, {data.var_unc:g})",
        "(the law of $x$ given $y = 2$ for $x \\sim N(0, 1)$, $y = x + N(0, 1)$: `gaussian.linear_bayes`). The guided",
        "field $(1 + w)\\,s(x \\mid c) - w\\,s(x)$ is affine at each time (`guidance.tilted`), so each catalogue sampler",
        "run with it has an exact Gaussian output law: its step maps `gauss_exact.step_<sampler>` iterated with the",
        "field's precision and mean, in Pierret & Galerne's setting (scaled VP SDE, linear schedule 0.05 to 10,",
        f"grid ending at {guided.EPS:g}, start N(0, 1)). The target is the tilted law",
        "$p(x \\mid c)^{1+w} p(x)^{-w}$ (`guidance.tilted`); *limit var* is the continuous-time output variance of the",
        "guided probability-flow ODE as the horizon grows, $\\sigma_c^{2(1+w)}\\sigma_u^{-2w}$ (`guidance.flow_variance`),",
        "below the tilted variance for every $w > 0$: the guided ODE does not sample the tilted law.",
        "",
        "| sampler | w | steps | output mean | output var | tilted mean | tilted var | limit var (ODE) | W2 |",
        "|---|---|---|---|---|---|---|---|---|",
        *guided_rows,
        "",
        "![W2 against w](conditional_guidance_w2.png)",
        "",
        "## Inpainting: replacement and RePaint",
        "",
        f"2-D Gaussian data with means ({plane.mean_x:g}, {plane.mean_y:g}), standard deviations ({plane.std_x:g}, "
        f"{plane.std_y:g}), correlation {plane.corr:g}; the first coordinate observed at {plane.observed:g}. True "
        f"conditional of the second (`inpaint.conditional`): N({target[0]:.4f}, {target[1]:.4f}). DDPM ancestral steps",
        "(posterior variance) on the linear schedule's 1000 levels respaced to *steps*, each repeated U times with",
        "re-noising in between (U = 1: the replacement method), the known coordinate replaced by a draw from",
        "$q(x_t \\mid x_{\\mathrm o})$ after every step (`inpaint.replacement_step`). Score evaluations: steps times U.",
        "",
        "| steps | U | score evaluations | output mean | output var | W2 to the true conditional |",
        "|---|---|---|---|---|---|",
        *repaint_rows,
        "",
        "![W2 against steps and U](conditional_repaint_w2.png)",
        "",
        "## Monte Carlo checks",
        "",
        "| check | law | samples | false-alarm probability | largest abs(z) | verdict |",
        "|---|---|---|---|---|---|",
        *check_rows,
        "",
    ])
    figures = {"conditional_guidance_w2.png": _guidance_figure(tables, 250),
               "conditional_repaint_w2.png": _repaint_figure(repaint_rows_data)}
    return StudyPage(markdown, figures)
