"""Report page ``conformance/diffusers.md``: diffusers' schedulers against the derivations.

The whole grid of :mod:`checks.conform.diffusers_grid` (every beta schedule, prediction type,
timestep spacing and variance type or eta, several inference-step counts): per configuration the
coefficient errors against the derived kernel, the steps that land off the schedule's next
timestep, the noise on the last step, and the exact W2 of the library's and the textbook's output
laws. Rendered only where the optional extra ``conform`` (diffusers) is installed; elsewhere the
earlier page is kept.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from checks.app.plugins import MissingResult, StudyContext, StudyPage, study  # noqa: E402
from checks.core.batch import default_jobs  # noqa: E402

PAGE = "conformance/diffusers.md"
FIGURE = "conformance_diffusers_w2.png"
SHOWN_DATA = 1  # the data law of the figure (law.DATA[1]: non-zero mean, s = 0.5)


class MissingExtra(MissingResult):
    """The optional extra is not installed: the page cannot be rendered here."""

    def __str__(self) -> str:
        return f"{self.check_id} is not installed (optional extra 'conform')"


def _group_key(row) -> tuple:
    c = row.config
    return (c.scheduler, c.steps, c.spacing, c.variance_type if c.scheduler == "DDPM" else f"eta={c.eta:g}",
            "" if c.scheduler == "DDPM" else f"set_alpha_to_one={c.set_alpha_to_one}")


def _figure(rows, label: str) -> Figure:
    fig = Figure(figsize=(4.6, 3.6))
    ax = fig.add_subplot()
    for scheduler, marker in (("DDPM", "o"), ("DDIM", "s")):
        pts = [(r.w2[label]["textbook"], r.w2[label]["sampler"]) for r in rows
               if r.config.scheduler == scheduler and not r.nonfinite_steps]
        ax.loglog([p[0] for p in pts], [p[1] for p in pts], marker, ms=3, alpha=0.5, label=scheduler)
    lo = min(min(r.w2[label]["textbook"], r.w2[label]["sampler"]) for r in rows if not r.nonfinite_steps)
    hi = max(max(r.w2[label]["textbook"], r.w2[label]["sampler"]) for r in rows if not r.nonfinite_steps)
    ax.loglog([lo, hi], [lo, hi], "k--", lw=0.8, label="library = textbook")
    ax.set_xlabel("W2, textbook rule on the same timesteps")
    ax.set_ylabel("W2, diffusers")
    ax.set_title(f"exact output laws, data {label}", fontsize=9)
    ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.17, bottom=0.14, right=0.96, top=0.9)
    return fig


# Why a sweep fits off its advertised order, where the cause is known (shown for the sweeps that do).
ORDER_EXPLANATIONS = {
    "linspace": "On `linspace` (and PNDM's `leading`) grids, uniform in the training index, the low-noise end keeps "
                "consecutive levels in the ratio of about $\\sqrt{1 + 1000/N}$ ($\\sigma(t)^2 \\approx \\beta_0 (t + 1)$ "
                "near $t = 0$), so the last steps in $\\lambda = -\\log\\sigma$ have a length of about "
                "$\\tfrac12\\log(1 + 1000/N)$, which does not shrink like $1/N$; over $N \\le 200$ the higher-order "
                "schedulers that step in $\\lambda$ (DPM-Solver(++), UniPC, DEIS) or put their intermediate point "
                "at the $\\lambda$-midpoint (KDPM2) fit "
                "below their order there, and at it on Karras sigmas (ρ = 7, consecutive ratios $1 + O(1/N)$). "
                "Euler and Heun step in σ and keep their order on both. Most likely a property of the grid on this "
                "range of $N$, not of the formulas (their kernels and whole-loop laws match the derived ones where the "
                "catalogue has the scheme).",
    "PNDM": "PNDM: Liu et al. (2022) call the pseudo numerical methods second-order convergent; on its `leading` "
            "grid the fitted order over N = 25–200 is about 1, with local slopes rising towards 2 only past "
            "N = 200, and the grid's low-noise end is the one that slows the λ-steppers above, so the fit does not "
            "separate method from grid. With `prediction_type='v_prediction'` PNDM is first order with about 90 times "
            "the error of the same exact model given as ε: `step_prk`/`step_plms` combine the raw $\\hat v$ of "
            "earlier steps and `_get_prev_sample` converts the combination to ε with the *current* "
            "$\\bar\\alpha_t$ and sample. Upstream: huggingface/diffusers#14816 (open).",
    "above": "A fit above the advertised order (the error falling faster than $N^{-p}$ over the last halvings, as "
             "for DPM-Solver of order 2 with `dpmsolver` on Karras sigmas) is no defect of the sampler: the order "
             "is a bound on the error's rate, and the weak error's terms can cancel at a given N.",
    "LMSDiscrete": "LMSDiscrete of order 4 (like k-diffusion's `sample_lms`, with which its laws agree) runs its first "
                   "three steps at orders 1, 2, 3 (`order = min(step_index + 1, order)`); their lower-order local "
                   "errors are the likely cause of the slope a little below 4. No upstream report found.",
}


def _order_explanations(fits) -> list[str]:
    slow = [f for f in fits if not f.matches]
    keys = []
    if any(f.config.spacing in ("linspace", "leading") and not f.config.karras and f.config.scheduler != "PNDM"
           for f in slow):
        keys.append("linspace")
    keys += [k for k in ("PNDM", "LMSDiscrete") if any(f.config.scheduler == k for f in slow)]
    if any(f.slope > f.declared for f in slow):
        keys.append("above")
    return [f"- {ORDER_EXPLANATIONS[k]}" for k in keys]


def order_section(fits) -> list[str]:
    """The fitted convergence orders of the sigma and multistep schedulers (:func:`diffusers_sigma.fit_order`)."""
    from checks.conform import diffusers_sigma as d
    from checks.conform import law

    slow = [f for f in fits if not f.matches]
    lines = ["### Convergence orders", "",
             f"The weak error $|\\Delta\\text{{mean}}| + |\\Delta\\text{{var}}|$ of the exact output law for "
             f"{law.DATA[1].label} from the exact $q(x_{{\\sigma_{{max}}}})$, the model at the scheduler's own levels, "
             "against the exact law where the run ends, without the step onto 0 where the grid ends there (from "
             "$\\sigma_{min}$ onto the clean level the error does not vanish with N); slope of log error on "
             f"log 1/N over N ∈ {{{', '.join(map(str, d.ORDER_STEPS))}}} (`checks.core.stats.loglog_slope`), "
             "against the order the scheduler advertises (window ±0.25). "
             f"{len(slow)} of {len(fits)} sweeps fit off it.", "",
             *_order_explanations(fits), "",
             "| scheduler | errors | fitted order | advertised | source of the advertised order | |",
             "|" + " --- |" * 6]
    for f in fits:
        lines.append(f"| {f.label} | {', '.join(f'{e:.3g}' for e in f.errors)} | {f.slope:.2f} ± {f.slope_se:.2f} | "
                     f"{f.declared:g} | {f.config.family.claim} | {f.finding or 'matches'} |")
    return lines


def sigma_section(rows, fits=()) -> list[str]:
    """The sigma-parameterized and multistep schedulers, run as whole samplers
    (:mod:`checks.conform.diffusers_sigma`)."""
    from checks.conform import diffusers_sigma as d
    from checks.conform import law

    shown = law.DATA[SHOWN_DATA].label
    compared = [r for r in rows if r.error is not None]
    timestep = [r for r in rows if r.timestep_error > 1]
    cross = [r for r in rows if r.cross_error is not None]
    kernels = [r for r in rows if r.kernel_error is not None and r.config.scheduler not in d.TWO_STAGE]
    stages = [r for r in rows if r.kernel_error is not None and r.config.scheduler in d.TWO_STAGE]
    nonfinite = [r for r in rows if r.nonfinite]
    off = [r for r in rows if r.off_schedule]
    names = list(dict.fromkeys(r.config.scheduler for r in rows))
    lines = [
        f"## {', '.join(names)}: step kernels, whole loops, convergence orders", "",
        f"{len(rows)} configurations (`{d.BETA_SCHEDULE}` betas, every spacing, `use_karras_sigmas` where the "
        "scheduler has it, DPMSolverMultistep at orders 1 and 2 with `dpmsolver++` and `dpmsolver` (which needs "
        "`final_sigmas_type='sigma_min'`), LMSDiscrete at `step()` orders 2 and 4, UniPCMultistep at orders 1–3 "
        "with `bh1` and `bh2`, DEISMultistep at orders 1–3, PNDM with and without its pseudo Runge–Kutta steps; "
        "ε-prediction everywhere, and v-prediction on the `linspace` grid for the schedulers that take it). Each "
        "real loop (`set_timesteps`, `scale_model_input`, `step`; EulerAncestral's noise scripted) runs once on a "
        "batch with the exact model output of Gaussian data, which reads the whole run as an affine map and so its "
        "exact output law (`checks.conform.sampler`). It is compared on the scheduler's own σ grid with the "
        "catalogue's rule (`pf_euler`, `edm_heun`, `ddim` with η = 1, `dpm_solver_2` for KDPM2, and `ddim` with "
        "η = 0 for DPM-Solver and DEIS of order 1) and, where installed, with k-diffusion's sampler of the same "
        "scheme (`sample_euler`, `sample_heun`, `sample_euler_ancestral`, `sample_dpmpp_2m`, `sample_dpm_2`, "
        "`sample_lms`). `EulerDiscrete`, `EulerAncestralDiscrete` and `DPMSolverMultistep` cast the sample to "
        "float32 in `step()` whatever its dtype, and KDPM2 computes its intermediate levels in float32, so they are "
        "held to float32's rounding; the others to float64's.", "",
        "The model is evaluated twice: at the step's own σ (the formula alone) and at the training table's "
        "level of the timestep it is handed (what a network sees).", "",
        f"- Per-step kernels (Euler, ancestral Euler, DPM-Solver of order 1: $x_{{i+1}} = c + A x_i + B\\hat\\varepsilon "
        "+ S z$ read off `step()` with unit inputs, in $x_\\sigma$ coordinates, against the catalogue rule on the "
        f"same two levels): {len(kernels)} configurations, {sum(r.kernel_error > 1 for r in kernels)} with a step "
        f"beyond rounding (largest {max((r.kernel_error for r in kernels), default=0):.3g} × tolerance).",
        "- Two-stage schedulers (HeunDiscrete, KDPM2Discrete: `step()` called twice per step): the composite "
        "$x_{i+1} = c + A x_i + B_1 \\hat y_1 + B_2 \\hat y_2$ read off each pair of calls ($\\hat y_2$ the model "
        "output at the intermediate point) and the predictor stage, against the derived Heun step and DPM-2 "
        "step (midpoint in λ = −log σ) of the probability-flow ODE in σ with the scores read from $\\hat y_1$ and "
        f"$\\hat y_2$ (`diffusers_sigma.stage_kernels`): {len(stages)} configurations, "
        f"{sum(r.kernel_error > 1 for r in stages)} beyond rounding (largest "
        f"{max((r.kernel_error for r in stages), default=0):.3g} × tolerance).",
        "- Multistep schedulers (DPMSolverMultistep of order ≥ 2, LMSDiscrete, UniPCMultistep, DEISMultistep, PNDM) "
        "keep their history inside the scheduler: a step is affine in the current sample, the current model "
        "output and the stored outputs (UniPC's corrector also re-forms the current sample from the previous one). "
        "The coefficients $A$ of the sample and $B$ of the model output handed to each call, the history held "
        "fixed, are read by stepping copies of the scheduler (`diffusers_sigma.history_read`); only PNDM's $A$ "
        "has a history-free derived value (the DDIM transfer's $\\sqrt{\\bar\\alpha_{prev}/\\bar\\alpha_t}$, "
        "below), while the others' $A$ and $B$ depend on how their solver weighs the stored outputs, so they are "
        "held to the derivations through their whole-loop laws (against the catalogue where it has the scheme, "
        "DEIS and DPM-Solver of order 1; against k-diffusion for LMS and DPM-Solver++(2M)) and their fitted "
        "orders.",
        f"- Formula: {len(compared)} configurations compared with a catalogue rule, "
        f"{sum(r.error > 1 for r in compared)} differ beyond rounding "
        f"(largest {max((r.error for r in compared), default=0):.3g} × tolerance).",
        f"- Non-finite output: {len(nonfinite)} configurations"
        + (f" ({', '.join(sorted({r.config.label for r in nonfinite})[:4])}{', ...' if len(nonfinite) > 4 else ''}). "
           "UniPCMultistep with `solver_type='bh1'` and the default `final_sigmas_type='zero'`: on the last step "
           "$h = \\lambda_{t'} - \\lambda_t = \\infty$ and bh1's $B(h) = -h$ makes $\\varphi/B(h) = \\infty/\\infty$; "
           "`bh2`'s $B(h) = e^{-h} - 1$ stays finite. Reproduced with float32 images and any model (NaN on the "
           "last of 10 steps); finite with `final_sigmas_type='sigma_min'`. No upstream report found (the "
           "final level 0 came with huggingface/diffusers#7517)." if nonfinite else "."),
        f"- The model handed a timestep whose level is not the step's σ: {len(timestep)} configurations"
        + (f" ({', '.join(sorted({r.config.scheduler for r in timestep}))}, Karras sigmas; largest W2 between the "
           f"outputs with the model at the timestep's level and at the step's σ "
           f"{max(max(r.timestep_gap.values()) for r in timestep):.3g}). "
           "DPMSolverMultistep, UniPCMultistep and DEISMultistep round the timesteps of a Karras "
           "grid to integers (`timesteps.round()`) while keeping the unrounded σ, so near σ_min the model sees a "
           "neighbouring level (KDPM2Discrete rounds them too; its gap stays within its float32 tolerance). Related upstream: huggingface/diffusers#10740 (the rounding kept for all but the "
           "cosine schedule), #12771 and #13240 (duplicate timesteps after rounding); the level mismatch itself: no "
           "report found." if timestep else "."),
        f"- PNDM's steps landing off its own schedule (the level its update's gain $\\sqrt{{\\bar\\alpha_{{prev}}/"
        "\\bar\\alpha_t}$ on the sample implies, read by stepping copies of the scheduler, "
        f"`diffusers_sigma.pndm_landings`): {len(off)} configurations"
        + (f" ({', '.join(sorted({r.config.label for r in off})[:4])}{', ...' if len(off) > 4 else ''}; e.g. "
           f"{next(f for f in off[0].findings if f.startswith('lands off'))}). `step_plms`/`step_prk` take the previous timestep "
           "$t - \\lfloor T/N \\rfloor$, which is the schedule's next one only on `leading` grids (and `trailing` "
           "where N divides T): DDIM's bookkeeping (huggingface/diffusers#12633, #11347, #9261; fixes proposed for "
           "DDIM only, #13108, #14357); for PNDM no report found." if off else "."),
        f"- Against k-diffusion on the same grid: {len(cross)} configurations, "
        f"{sum(r.cross_error > 1 for r in cross)} differ beyond rounding"
        + (f" (largest {max(r.cross_error for r in cross):.3g} × tolerance, "
           f"W2 {max(max(r.cross.values()) for r in cross):.2g})." if cross else "."),
        "- Documented behaviour, not counted: DEISMultistep ends on σ at $\\bar\\alpha_0$ (its last level is "
        "`sigma_last` from `alphas_cumprod[0]`, or σ_min repeated on Karras sigmas), and PNDM on "
        "`final_alpha_cumprod` (`set_alpha_to_one=False`: $\\bar\\alpha_0$), so their output keeps the noise of "
        "that level (the floor in the W2 columns); UniPCMultistep lowers the order of its last steps at every N "
        "(`min(solver_order, len(timesteps) - step_index)`), although `lower_order_final` is documented as "
        "\"only valid for < 15 inference steps\" (its fitted orders on Karras sigmas still reach solver_order + 1).",
        "",
    ]
    if fits:
        lines += [*order_section(fits), ""]
    lines += [
        "### Every configuration", "",
        "| configuration | step kernels | vs catalogue, model at the step's σ | model at the timestep's level | "
        f"timestep's level vs step's σ | vs k-diffusion | W2 library, {shown} | W2 library, exact start | W2 textbook |",
        "|" + " --- |" * 9,
    ]

    def number(value):
        return "no catalogue rule" if value is None else f"{value:.3g}"

    for r in rows:
        w = r.w2_own_sigma[shown]
        kernel = "" if r.kernel_error is None else f"{r.kernel_error:.3g}"
        lines.append(f"| {r.config.label} | {kernel} | {number(r.error)} | {number(r.error_timestep)} | "
                     f"{r.timestep_error:.3g} | "
                     f"{'' if r.cross_error is None else f'{r.cross_error:.3g}'} | {r.w2[shown]['library']:.4g} | "
                     f"{w['library, exact start']:.4g} | {w.get('textbook', float('nan')):.4g} |")
    return lines


def render_rows(rows, version: str, sigma_rows=None, fits=()) -> StudyPage:
    from checks.conform import diffusers_grid as g
    from checks.conform import law

    shown = law.DATA[SHOWN_DATA].label
    by_kind = {k: [r for r in rows if k in r.kinds] for k in g.KINDS}
    lines = [
        f"# diffusers {version}: schedulers against the derivations", "",
        "## DDPMScheduler and DDIMScheduler: per-step kernels", "",
        f"{len(rows)} configurations ({sum(r.config.scheduler == 'DDPM' for r in rows)} DDPMScheduler, "
        f"{sum(r.config.scheduler == 'DDIM' for r in rows)} DDIMScheduler), {g.TRAIN_STEPS} training steps, "
        f"`clip_sample=False`, tables promoted to float64 (the float32 betas stay the schedule). "
        f"{sum(not r.kinds for r in rows)} conform in every respect.", "",
        "Each step's kernel $x_{prev} = A x_t + B \\hat y + S z$ is read off the real `step()` by one call on "
        "unit inputs and a scripted noise, and compared with the derived kernel (`ddpm.posterior` over the "
        "skipped steps, `ddim.family` with $\\sigma(\\eta)$, `score.reparameterizations` for the prediction "
        "type) at the previous level the library uses; errors are in units of the rounding tolerance "
        "(`checks.conform.reference.tolerance`; at most 1 conforms). The exact laws of Gaussian data "
        f"({', '.join(d.label for d in law.DATA)}) are carried through the same loop from $N(0, 1)$ and "
        "compared with the catalogue's rule (`ddpm_ancestral`, `ddim`) on the same timesteps ending on the "
        "clean level.", "",
        "### Findings", "",
        "| kind | configurations | example | numbers |", "| --- | --- | --- | --- |",
    ]
    for kind, found in by_kind.items():
        if not found:
            lines.append(f"| {g.KINDS[kind]} | 0 | | |")
            continue
        worst = max(found, key=lambda r: r.w2[shown]["sampler vs textbook"]
                    if not r.nonfinite_steps else float("inf"))
        numbers = "; ".join(worst.findings)
        shift = worst.w2[shown]["sampler vs textbook"]
        lines.append(f"| {g.KINDS[kind]} | {len(found)} | {worst.config.label} | {numbers}; "
                     f"W2 library vs textbook {shift:.3g} ({shown}) |")
    lines += ["", "Upstream reports of these behaviours (looked up for diffusers 0.42.1): non-finite "
              "`fixed_large_log`: huggingface/diffusers#14569 (fix proposed in #14571); DDIM's previous timestep "
              "$t - \\lfloor T/n \\rfloor$ against the `linspace`/`trailing` schedules: #12633, #11347, #9261 "
              "(fixed for DDPMScheduler only, #9384; DDIM fixes proposed in #13108, #14357); the 1e-10 noise std of "
              "`fixed_small` onto $x_0$ is the variance clamp at 1e-20 (#3006); DDPMScheduler adding noise on the "
              "last step under `trailing` (the last timestep is above 0): none found. `set_alpha_to_one=False` "
              "ending on $\\bar\\alpha_0$ is documented behaviour. `clip_sample=True` (the default) clips "
              "$\\hat x_0$ and is not affine; it is turned off here.", "",
              f"![W2 of diffusers against the textbook]({FIGURE})", "",
              "### Every configuration", "",
              "Grouped over the beta schedules and prediction types (9 configurations a row): the largest "
              f"errors, the steps that land off the schedule's next timestep, and W2 for {shown} "
              "(largest over the group).", "",
              "| scheduler | N | spacing | variance / eta | final alpha | A, B error | S error | off-schedule steps | "
              "last-step noise std | W2 library | W2 textbook | W2 library vs textbook | findings |",
              "|" + " --- |" * 13]
    groups = defaultdict(list)
    for r in rows:
        groups[_group_key(r)].append(r)
    for key, members in groups.items():
        finite = [m for m in members if not m.nonfinite_steps]
        kinds = sorted(set(itertools.chain.from_iterable(m.kinds for m in members)))

        def worst(f):
            return f"{max(f(m) for m in finite):.3g}" if finite else "nan"

        lines.append(f"| {' | '.join(str(k) for k in key)} | {worst(lambda m: m.mean_error)} | "
                     f"{worst(lambda m: m.noise_error)} | {max(len(m.bookkeeping) for m in members)} of "
                     f"{len(members[0].timesteps)} | {worst(lambda m: m.last_step_noise)} | "
                     f"{worst(lambda m: m.w2[shown]['sampler'])} | "
                     f"{max(m.w2[shown]['textbook'] for m in members):.3g} | "
                     f"{worst(lambda m: m.w2[shown]['sampler vs textbook'])} | {', '.join(kinds) or 'conforms'} |")
    if sigma_rows:
        lines += ["", *sigma_section(sigma_rows, fits)]
    return StudyPage("\n".join(lines) + "\n", {FIGURE: _figure(rows, shown)})


@study("conformance-diffusers", "Conformance of diffusers' schedulers to the derivations",
       derivation_ids=("ddpm.posterior", "ddim.family", "score.reparameterizations", "gauss_exact.w2"), path=PAGE,
       warm=tuple(f"{__name__}:{part}" for part in ("grid_rows", "sigma_rows", "order_fits")) +
       ("checks.conform.mixture.page:section:diffusers",) if importlib.util.find_spec("diffusers") else ())
def render(context: StudyContext) -> StudyPage:
    if importlib.util.find_spec("diffusers") is None:
        raise MissingExtra("diffusers")
    from checks.conform import diffusers_grid as g

    rows, sigma_rows, fits = sweep()
    page = render_rows(rows, g.version(), sigma_rows, fits)
    from checks.conform import mixture

    return mixture.with_section(page, "diffusers")  # Monte Carlo on Gaussian-mixture data


def sweep() -> tuple[list, list, list]:
    """The rows of both grids and the order fits (each part computed over the cores when not yet cached)."""
    jobs = min(4, default_jobs())
    return grid_rows(jobs), sigma_rows(jobs), order_fits(jobs)


def _cached(part: str, compute):
    """The sweep is exact arithmetic on the schedulers (no sampling): each part is kept under the code and the
    diffusers and torch versions (:func:`checks.core.code_memo.kept`)."""
    from checks.conform import diffusers_grid as g
    from checks.core.code_memo import kept

    return kept(f"study.conformance-diffusers.{part}", compute, [f"diffusers-{g.version()}"])


def grid_rows(jobs: int = 1) -> list:
    """The DDPM/DDIM grid's rows (``jobs`` processes when computed)."""
    from checks.conform import diffusers_grid as g

    return _cached("grid", lambda: g.run_grid(g.grid(), jobs=jobs))


def sigma_rows(jobs: int = 1) -> list:
    """The sigma and multistep schedulers' rows."""
    from checks.conform import diffusers_sigma

    return _cached("sigma", lambda: diffusers_sigma.run_grid(diffusers_sigma.grid(), jobs=jobs))


def order_fits(jobs: int = 1) -> list:
    """The fitted orders of the sigma and multistep schedulers."""
    from checks.conform import diffusers_sigma

    return _cached("orders", lambda: diffusers_sigma.fit_orders(diffusers_sigma.order_configs(), jobs=jobs))
