"""Report page: exact W2 errors of diffusion samplers for Gaussian data (Pierret & Galerne, ICML 2025)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

import derivations  # noqa: E402

from checks.exact import data  # noqa: E402
from checks.exact import w2 as exact_w2  # noqa: E402
from checks.app.commands.w2_table import format_w2, to_markdown  # noqa: E402
from checks.app.latex import latex as tex  # noqa: E402
from checks.app.latex import relation as tex_relation  # noqa: E402
from derivations.core import work  # noqa: E402
from checks.app.plugins import StudyContext, StudyPage, study  # noqa: E402

TITLE = "Exact W2 errors of diffusion samplers for Gaussian data (Pierret & Galerne, ICML 2025, Table 5)"
STEP_IDS = tuple(dict.fromkeys(spec.derivation_id for spec in exact_w2.SCHEMES))
DERIVATION_IDS = ("gauss_exact.backward", "gauss_exact.sde_beats_ode", "gauss_exact.w2") + STEP_IDS


def setting_section() -> str:
    return (
        "## Setting\n\n"
        "Data $\\mathcal N(0, \\Sigma)$ with the eigenvalues of the Gaussian fitted to CIFAR-10 (3072, nine of "
        "them 0) and of the ADSN texture model (196 608). Forward process $dX = -\\beta X\\,du + "
        "\\sqrt{2\\beta}\\,dW$ on $[0, 1]$, $\\beta(u) = 0.05 + 9.95\\,u$. Backward samplers run from $u = 1$ "
        "down to $\\varepsilon$ with the exact score, started at $p_T = \\mathcal N(0, \\Sigma_T)$ or at "
        "$\\mathcal N(0, I)$; every cell is $W_2$ between the sampler's output law and $p_0$. Each sampler maps "
        "$\\mathcal N(0, c)$ to $\\mathcal N(0, a^2c + b)$ per eigenvalue, so each cell is exact "
        "(up to float64 round-off). Grid: $N$ points $t_k = (1 - \\varepsilon)k/(N-1)$ in reversed time.\n"
    )


def continuous_section() -> str:
    d = derivations.get("gauss_exact.backward")
    return (
        "## Continuous time (`gauss_exact.backward`, `gauss_exact.sde_beats_ode`)\n\n"
        f"- $\\Sigma_u = {tex(d.result('var_t'))}$, score $= {tex(d.result('score_coef'))}\\, y$\n"
        f"- probability-flow ODE from $\\mathcal N(0, C_T)$: ${tex(d.result('ode_var'))}$\n"
        f"- reverse SDE from $\\mathcal N(0, C_T)$: ${tex(d.result('sde_var'))}$\n"
        "- from $\\mathcal N(0, I)$ the SDE's deviation from $\\Sigma_t$ is the ODE's times "
        f"$r = {tex(derivations.get('gauss_exact.sde_beats_ode').result('contraction'))} \\in (0, 1)$, so the SDE "
        "ends closer to $p_t$ in every eigen-direction.\n"
    )


def step_maps_section() -> str:
    lines = ["## The derived step maps (`gauss_exact.step_*`)\n",
             "Derived from each update rule of the sampler catalogue by applying it to $y_k = \\sqrt c\\, z_0$ and "
             "taking Gaussian moments; $a$ = gain, $b$ = injected variance, in the coefficients of any forward "
             "process ($a, b$: the kernel from $t'$ to $t$; $f, g^2$: the SDE), evaluated here at $f = -\\beta$, "
             "$g^2 = 2\\beta$; orders are the declared ones, asserted against the fitted slopes in the tests.\n"]
    for spec in exact_w2.SCHEMES:
        scheme, d = spec.scheme, derivations.get(spec.derivation_id)
        options = ", ".join(f"{k} = {v}" for k, v in spec.column.options.items())
        lines.append(f"### {spec.label}: {scheme.title} (`{d.id}`{', ' + options if options else ''}, "
                     f"order {scheme.weak_order:g}, {d.tier.value})\n")
        lines.append(f"$${scheme.rule_tex}$$\n")
        shown = []
        for last in (False, True) if spec.result("gain", True) != spec.result("gain", False) else (False,):
            where = " (last step)" if last else ""
            shown += [shown_form(d, spec.result(name, last)) for name in ("gain", "noise_var")]
        shown, named = section_names(shown, spec.label)
        for i, last in enumerate((False, True) if len(shown) == 4 else (False,)):
            where = " (last step)" if last else ""
            lines.append(f"$$a{where} = {tex(shown[2 * i])}$$\n")
            lines.append(f"$$b{where} = {tex(shown[2 * i + 1])}$$\n")
        if named:  # a long gain is shown through the named subexpressions of its derivation page
            lines.append("where " + ", ".join(f"${tex_relation(n, n.definition())}$" for n in named) + ".\n")
    return "\n".join(lines)


def section_names(exprs: list, label: str) -> tuple[list, list]:
    r"""``exprs`` with their named intermediates relabelled for one section of this page.

    Each derivation page numbers its intermediates from :math:`\omega_1`; on this page several
    schemes' forms meet, so a section's names carry the scheme as a superscript
    (:math:`\omega^{\mathrm{Heun}}_1`) and one glyph never stands for two expressions."""
    mapping: dict = {}
    renamed = []
    for number, n in enumerate(work.intermediates(exprs), 1):  # definitions before their uses
        new = work.named(f"{type(n).__name__}_{label}", rf"\omega^{{\mathrm{{{label}}}}}_{{{number}}}",
                         n.definition().xreplace(mapping), args=n.args, description=n.description)
        mapping[n] = new
        renamed.append(new)
    return [sp.sympify(e).xreplace(mapping) for e in exprs], renamed


def shown_form(d, name: str):
    """A step map's closed form as its derivation page shows it (long ones through named subexpressions)."""
    return d.results[name].expr


def _reproduction(cells: dict) -> tuple[str, float]:
    rows = data.table5()
    lines = ["## Table 5 reproduced (CIFAR-10)\n",
             "| scheme | eps | init | NFE | published | reference | computed | rel. diff |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    worst = 0.0
    for r in rows:
        c = cells[(r["scheme"], repr(float(r["eps"])), r["init"], r["nfe"])]
        reference = float(r["reference"])
        if math.isinf(reference):
            diff = "both divergent" if c.divergent else "MISMATCH"
        elif reference == 0:
            diff = f"abs {abs(c.w2):.1e}"
        else:
            rel = abs(c.w2 - reference) / reference
            worst = max(worst, rel)
            diff = f"{rel:.1e}"
        lines.append(f"| {r['scheme']} | {r['eps']} | {r['init']} | {r['nfe']} | {r['published']} | "
                     f"{r['reference']} | {format_w2(c.w2)} | {diff} |")
    lines.insert(1, f"All {len(rows)} cells; largest relative difference {worst:.1e} (tolerance 1e-4).\n")
    return "\n".join(lines) + "\n", worst


# Score evaluations of an N-point grid (N - 1 steps): Heun 2 per step; EDM's samplers skip the last correction;
# DPM-Solver-2 takes a first-order last step; DPM-Solver-3 3 per step onto eps > 0. The points that spend at most
# E evaluations, per column.
EVALUATIONS = {"Heun": (lambda n: 2 * (n - 1), lambda e: e // 2 + 1),
               "EDM-Heun": (lambda n: 2 * (n - 1) - 1, lambda e: (e + 1) // 2 + 1),
               "EDM-churn": (lambda n: 2 * (n - 1) - 1, lambda e: (e + 1) // 2 + 1),
               "DPM-Solver-2": (lambda n: 2 * (n - 1) - 1, lambda e: (e + 1) // 2 + 1),
               "DPM-Solver++2S": (lambda n: 2 * (n - 1) - 1, lambda e: (e + 1) // 2 + 1),
               "DPM-Solver-3": (lambda n: 3 * (n - 1), lambda e: e // 3 + 1)}
HEADLINE_EVALUATIONS = (50, 100, 250, 500)
HEADLINE_EPS = 1e-3


def headline_cells(lam: np.ndarray) -> dict[tuple[str, int], float]:
    """W2 (from p_T, eps 1e-3) of the second-order columns at equal score evaluations E."""
    out = {}
    for label, (_, points) in EVALUATIONS.items():
        for cell in exact_w2.table(lam, nfes=HEADLINE_EVALUATIONS, eps_values=(HEADLINE_EPS,), schemes=(label,),
                                   points={label: points}, continuous=False):
            if cell.init == "p_T":
                out[(label, cell.nfe)] = cell.w2
    return out


def _headline(lam: np.ndarray) -> str:
    values = headline_cells(lam)
    labels = list(EVALUATIONS)
    churn, t_min, t_max = exact_w2.SCHEME_BY_LABEL["EDM-churn"].churn
    lines = ["## Second- and third-order samplers at equal score evaluations (CIFAR-10)\n",
             f"From $p_T$, eps = {HEADLINE_EPS:g}, each column on the most grid points whose score evaluations do not "
             "exceed E (Heun: 2(N - 1); EDM's Heun and churn, DPM-Solver-2 and ++2S: 2(N - 1) - 1, their last step "
             f"first order; DPM-Solver-3: 3(N - 1)). EDM-churn: Karras et al.'s Algorithm 2 with S_churn = {churn:g} on sigma in "
             f"[{t_min:g}, {t_max:g}] (their CIFAR-10 values) and S_noise = 1. W2 is to $p_0$, so it includes the "
             "truncation at eps: where the "
             "discretization error is small the columns meet that floor, and their order there is not their accuracy.\n",
             "| E | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for e in HEADLINE_EVALUATIONS:
        lines.append(f"| {e} | " + " | ".join(format_w2(values[(label, e)]) for label in labels) + " |")
    sentences = []
    for e in HEADLINE_EVALUATIONS:
        ranked = sorted(labels, key=lambda label: values[(label, e)])
        sentences.append(f"at E = {e}, {ranked[0]} is closest ({format_w2(values[(ranked[0], e)])}) and "
                         f"{ranked[-1]} farthest ({format_w2(values[(ranked[-1], e)])})")
    versus = [("DPM-Solver-2", "Heun"), ("DPM-Solver-3", "EDM-Heun"), ("EDM-churn", "EDM-Heun")]
    lines.append("\nOn CIFAR-10's spectrum, " + "; ".join(sentences) + ". " + " ".join(
        f"{a} against {b}: " + ", ".join(f"{format_w2(values[(a, e)])} vs {format_w2(values[(b, e)])} at E = {e}"
                                         for e in HEADLINE_EVALUATIONS) + "." for a, b in versus) + "\n")
    return "\n".join(lines) + "\n"


def _heun_rk4(lam: np.ndarray, cells: dict) -> str:
    eps_values = (1e-5, 1e-4, 1e-3)
    nfes = (50, 250, 500, 1000)
    readings = {
        "Heun": ("N = NFE/2 + 1 points (2(N-1) = NFE evaluations)", exact_w2.ALTERNATIVE_POINTS["Heun"]),
        "RK4": ("N = NFE points", exact_w2.ALTERNATIVE_POINTS["RK4"]),
    }
    lines = [
        "## What the NFE label means for Heun and RK4\n",
        "The published Heun column is reproduced only with **N = NFE grid points**: N - 1 Heun steps, "
        "i.e. 2(N - 1) score evaluations, about **twice** the label (98 for '50', 1998 for '1000'). "
        "The RK4 column is reproduced only with **N = floor(NFE/4) points**: 4(N - 1) evaluations, "
        "at most the label (44 for '50', 996 for '1000'). So the label counts grid points for Heun "
        "but score evaluations for RK4, and the two columns are not at equal cost: at equal NFE, Heun "
        "had twice the evaluations. Under the other readings the columns read (p_T; published reading "
        "in brackets):\n",
        "| scheme | reading | eps | " + " | ".join(f"NFE {n}" for n in nfes) + " |",
        "|" + " --- |" * (3 + len(nfes)),
    ]
    for label, (reading, points) in readings.items():
        other = {c.key: c for c in exact_w2.table(lam, nfes=nfes, eps_values=eps_values, schemes=(label,),
                                                  points={label: points}, continuous=False)}
        for eps in eps_values:
            values = []
            for n in nfes:
                key = (label, repr(eps), "p_T", str(n))
                values.append(f"{format_w2(other[key].w2)} [{format_w2(cells[key].w2)}]")
            lines.append(f"| {label} | {reading} | {eps:g} | " + " | ".join(values) + " |")
    return "\n".join(lines) + "\n"


def _figures(tables: dict[str, list]) -> dict[str, plt.Figure]:
    figures = {}
    for name, cells in tables.items():
        fig, axes = plt.subplots(1, 4, figsize=(16, 4), sharey=True)
        for ax, eps in zip(axes, exact_w2.EPS_VALUES):
            for spec in exact_w2.SCHEMES:
                points = [(c.nfe, c.w2) for c in cells if c.scheme == spec.label and c.eps == eps
                          and c.init == "N0" and math.isfinite(c.w2)]
                if points:
                    ax.loglog(*zip(*points), marker="o", label=spec.label)
            for kind, style in (("SDE", "k--"), ("ODE", "k:")):
                value = next(c.w2 for c in cells if c.scheme == kind and c.eps == eps and c.init == "N0")
                if value > 0:
                    ax.axhline(value, color="k", linestyle=style[1:], linewidth=1, label=f"{kind} (continuous)")
            ax.set_title(f"{name}, eps = {eps:g}, init N(0, I)")
            ax.set_xlabel("NFE label")
        axes[0].set_ylabel("W2 to p_0")
        axes[-1].legend(fontsize=7)
        fig.tight_layout()
        figures[f"w2_vs_nfe_{name}.png"] = fig

    fig, axes = plt.subplots(1, len(tables), figsize=(12, 4))
    for ax, (name, cells) in zip(np.atleast_1d(axes), tables.items()):
        x = np.arange(len(exact_w2.EPS_VALUES))
        for label in ["SDE", "ODE"] + [s.label for s in exact_w2.SCHEMES]:
            nfe = exact_w2.CONTINUOUS if label in ("SDE", "ODE") else 1000
            ys = [next(c.w2 for c in cells if c.scheme == label and c.eps == eps and c.init == "N0"
                       and c.nfe == nfe) for eps in exact_w2.EPS_VALUES]
            ax.semilogy(x, [y if math.isfinite(y) and y > 0 else np.nan for y in ys], marker="o",
                        label=f"{label}" + ("" if nfe == exact_w2.CONTINUOUS else " (NFE 1000)"))
        ax.set_xticks(x, [f"{e:g}" for e in exact_w2.EPS_VALUES])
        ax.set_xlabel("truncation time eps")
        ax.set_ylabel("W2 to p_0")
        ax.set_title(f"{name}, init N(0, I)")
    np.atleast_1d(axes)[-1].legend(fontsize=7)
    fig.tight_layout()
    figures["w2_vs_eps.png"] = fig
    return figures


def _monte_carlo(context: StudyContext) -> str:
    """The engine's samplers in the eigenbasis against the derived recursions (``gauss_exact.eigenbasis.*``)."""
    from checks.suite import gauss_exact as eigenbasis

    lines = ["## Monte Carlo confirmation in the eigenbasis (d = 3072)\n",
             f"The registered samplers of the engine run on the reference grid (eps = {eigenbasis.EPS}) from $p_T$ "
             "with the exact score of CIFAR-10's Gaussian, one check per column of the table; the output, standardized "
             "by the variances of the derived recursion, is tested pooled (moments 1-4) and per decile of the "
             "spectrum.\n",
             "| check | sampler | NFE | samples | false-alarm probability | largest abs(z) | "
             "smallest detectable error in a decile's E[u^2] | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for scheme in eigenbasis.SCHEMES:
        result = context.result(f"gauss_exact.eigenbasis.{scheme.key}")
        for nfe in eigenbasis.NFES:
            mine = [s for s in result.statistics if s.name.startswith(f"NFE {nfe} ")]
            decile = min(s.detectable_error for s in mine if "decile" in s.name)
            lines.append(f"| `{result.check_id}` | `{scheme.sampler}` | {nfe} | {result.n_samples} | "
                         f"{result.false_alarm:g} | {max(abs(s.z) for s in mine):.2f} | {decile:.3f} | "
                         f"{'pass' if all(s.passed for s in mine) else 'FAIL'} |")
    return "\n".join(lines) + "\n"


@study("pierret_galerne", TITLE, DERIVATION_IDS)
def render(context: StudyContext) -> StudyPage:
    cifar = data.spectrum("cifar10")
    adsn = data.spectrum("adsn")
    cifar_cells = exact_w2.table(cifar)
    adsn_cells = exact_w2.table(adsn)
    by_key = {c.key: c for c in cifar_cells}
    reproduction, _ = _reproduction(by_key)
    figures = _figures({"CIFAR-10": cifar_cells, "ADSN": adsn_cells})
    markdown = "\n".join([
        f"# {TITLE}\n",
        setting_section(),
        continuous_section(),
        step_maps_section(),
        reproduction,
        _heun_rk4(cifar, by_key),
        _headline(cifar),
        _monte_carlo(context),
        "## Figures\n",
        "![W2 vs NFE, CIFAR-10](w2_vs_nfe_CIFAR-10.png)\n",
        "![W2 vs NFE, ADSN](w2_vs_nfe_ADSN.png)\n",
        "![W2 vs eps](w2_vs_eps.png)\n",
        "## The full CIFAR-10 table (with NFE 100 and DDIM)\n",
        to_markdown(cifar_cells),
        "## The ADSN table (196 608 eigenvalues)\n",
        to_markdown(adsn_cells),
        "Also from the command line: `diffverify w2-table --eigenvalues FILE [--format csv]`.\n",
    ])
    return StudyPage(markdown, figures)
