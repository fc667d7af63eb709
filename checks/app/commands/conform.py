"""``diffverify conform diffusers|k-diffusion``: a library's samplers against the derived kernels and the exact laws.

One row per (scheduler, configuration): the largest error of the step's coefficients against
the derived kernel at the previous level the library uses (in tolerances; at most 1 conforms),
the steps whose previous timestep differs from the schedule's next, the noise on the last step,
and the exact W2 to Gaussian data of the library's and the textbook's outputs (see
:mod:`checks.conform.diffusers_grid`). For k-diffusion, one row per (sampler, Karras grid, steps, eta):
the whole run's exact output law against the catalogue's rule on the same grid, and optionally the
fitted convergence order (:mod:`checks.conform.kdiffusion_grid`). The libraries are the optional
extra ``conform``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from typing import TYPE_CHECKING

from checks.app.options import add_cluster_option, worker_count
from checks.app.plugins import command
from checks.core.errors import UsageError

if TYPE_CHECKING:  # numpy, torch and the libraries load when the command runs, not when the CLI starts
    from checks.conform import diffusers_sigma, kdiffusion_grid
    from checks.conform.diffusers_grid import Row

# Library name on the command line -> its import name.
LIBRARIES = {"diffusers": "diffusers", "k-diffusion": "k_diffusion"}
# The data law whose W2 the table shows (the page shows every one).
SHOWN_DATA = 1


def _inference_steps(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of inference steps, got {text!r}") from None
    if not 1 <= n <= 1000:
        raise argparse.ArgumentTypeError(f"inference steps must lie in 1..1000 (the training steps), got {n}")
    return n


def _eta(text: str) -> float:
    try:
        eta = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number for eta, got {text!r}") from None
    if not 0.0 <= eta <= 1.0:
        raise argparse.ArgumentTypeError(f"eta must lie in [0, 1], got {text}")
    return eta


def _arguments(parser: argparse.ArgumentParser) -> None:
    from checks.conform import axes as g
    from checks.conform.axes import PREDICTIONS

    parser.add_argument("library", choices=tuple(LIBRARIES), help="the library whose samplers are checked")
    parser.add_argument("--scheduler", nargs="+", choices=g.SCHEDULERS + g.SIGMA_SCHEDULERS,
                        default=list(g.SCHEDULERS + g.SIGMA_SCHEDULERS))
    parser.add_argument("--steps", nargs="+", type=_inference_steps, metavar="N",
                        help="inference steps (default: each scheduler's own list)")
    parser.add_argument("--beta-schedule", nargs="+", choices=g.BETA_SCHEDULES, default=list(g.BETA_SCHEDULES))
    parser.add_argument("--prediction", nargs="+", choices=PREDICTIONS, default=list(PREDICTIONS))
    parser.add_argument("--spacing", nargs="+", choices=g.SPACINGS, default=list(g.SPACINGS))
    parser.add_argument("--variance-type", nargs="+", choices=g.DDPM_VARIANCES, default=list(g.DDPM_VARIANCES),
                        help="DDPMScheduler's variance_type")
    parser.add_argument("--eta", nargs="+", type=_eta, default=list(g.DDIM_ETAS),
                        help="DDIMScheduler's eta; k-diffusion: the stochastic samplers' eta")
    parser.add_argument("--sampler", nargs="+", choices=g.KDIFFUSION_SAMPLERS, default=list(g.KDIFFUSION_SAMPLERS),
                        help="k-diffusion: the sample_* functions")
    parser.add_argument("--grid", nargs="+", choices=tuple(g.KARRAS_GRIDS), default=list(g.KARRAS_GRIDS),
                        help="k-diffusion: Karras grids (edm: sigma in [0.002, 80]; sd: [0.0292, 14.6146]; rho = 7)")
    parser.add_argument("--karras", nargs="+", choices=("no", "yes"), default=["no", "yes"],
                        help="diffusers' sigma schedulers: use_karras_sigmas")
    parser.add_argument("--solver-order", nargs="+", type=int, choices=g.DPM_ORDERS, default=list(g.DPM_ORDERS),
                        help="DPMSolverMultistep's solver_order")
    parser.add_argument("--algorithm", nargs="+", choices=g.DPM_ALGORITHMS, default=list(g.DPM_ALGORITHMS),
                        help="DPMSolverMultistep's algorithm_type")
    parser.add_argument("--fit-order", action="store_true",
                        help="k-diffusion: also fit each sampler's convergence order")
    parser.add_argument("--mixture", action="store_true",
                        help="instead of the grid: Monte Carlo on Gaussian-mixture data for a subset of the samplers "
                             "(checks.conform.mixture); exit 1 if a statistic fails")
    parser.add_argument("--findings-only", action="store_true", help="print only the rows with a discrepancy")
    parser.add_argument("--jobs", type=worker_count, default=1, help="worker processes")
    add_cluster_option(parser, "the configurations")


def table(rows: list["Row"]) -> str:
    from checks.conform.law import DATA

    shown = DATA[SHOWN_DATA].label
    lines = [f"| configuration | steps | A, B error | S error | bookkeeping | last-step noise std | "
             f"W2 library, {shown} | W2 textbook | W2 library vs textbook | findings |",
             "|" + " --- |" * 10]
    for r in rows:
        w = r.w2[shown]
        lines.append(f"| {r.config.label} | {len(r.timesteps)} | {r.mean_error:.3g} | {r.noise_error:.3g} | "
                     f"{len(r.bookkeeping)} | {r.last_step_noise:.3g} | {w['sampler']:.4g} | {w['textbook']:.4g} | "
                     f"{w['sampler vs textbook']:.3g} | {'; '.join(r.findings) or 'conforms'} |")
    return "\n".join(lines) + "\n"


def kdiffusion_table(rows: list["kdiffusion_grid.Row"]) -> str:
    from checks.conform.law import DATA

    shown = DATA[SHOWN_DATA].label
    lines = [f"| configuration | vs catalogue (tolerances) | W2 library, {shown} | W2 library, exact start | "
             "W2 textbook | W2 library vs textbook | findings |", "|" + " --- |" * 7]
    for r in rows:
        w = r.w2[shown]
        book = "no catalogue rule" if r.error is None else f"{r.error:.3g}"
        verdict = "; ".join(r.findings) or {True: "conforms", None: "(no rule to compare)"}[r.conforms]
        lines.append(f"| {r.config.label} | {book} | {w['library']:.4g} | {w['library, exact start']:.4g} | "
                     f"{w.get('textbook', float('nan')):.4g} | {w.get('library vs textbook', float('nan')):.3g} | "
                     f"{verdict} |")
    return "\n".join(lines) + "\n"


def order_table(fits: list["kdiffusion_grid.OrderFit"]) -> str:
    lines = ["| sampler | steps | weak error at sigma_min, exact start | fitted order | advertised | finding |",
             "|" + " --- |" * 6]
    for f in fits:
        lines.append(f"| {f.label} | {', '.join(map(str, f.steps))} | {', '.join(f'{e:.3g}' for e in f.errors)} | "
                     f"{f.slope:.2f} ± {f.slope_se:.2f} | {f.declared:g} | {f.finding or 'matches'} |")
    return "\n".join(lines) + "\n"


@command("conform", "check a library's samplers against the derived kernels and the exact Gaussian laws", _arguments)
def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec(LIBRARIES[args.library]) is None:
        raise UsageError(f"{args.library} is not installed: install the extra with pip install 'diffverify[conform]'"
                         + (" and pip install --no-deps k-diffusion" if args.library == "k-diffusion" else ""))
    if args.mixture:
        from checks.conform import mixture

        return mixture.command(args.library)
    if args.library == "k-diffusion":
        return _run_kdiffusion(args)
    from checks.conform import diffusers_grid as g
    from checks.conform import diffusers_sigma

    configs = g.grid([s for s in args.scheduler if s in g.SCHEDULERS], args.steps, args.beta_schedule,
                     args.prediction, args.spacing, args.variance_type, args.eta)
    sigma_configs = diffusers_sigma.grid([s for s in args.scheduler if s in diffusers_sigma.SCHEDULERS],
                                         args.steps or diffusers_sigma.STEPS, args.spacing,
                                         [k == "yes" for k in args.karras], args.solver_order, args.algorithm)
    if not configs:
        rows = []
    elif args.ray is None:
        rows = g.run_grid(configs, jobs=args.jobs)
    else:  # the DDPM/DDIM grid as Ray tasks; the sigma schedulers' smaller grid runs here
        from checks.core.cluster import Cluster

        with Cluster(args.ray) as cluster:
            rows = g.run_grid(configs, cluster=cluster)
    sigma_rows = diffusers_sigma.run_grid(sigma_configs, jobs=args.jobs) if sigma_configs else []
    if args.findings_only:
        rows, sigma_rows = [r for r in rows if r.findings], [r for r in sigma_rows if r.findings]
    found = sum(bool(r.findings) for r in rows) + sum(bool(r.findings) for r in sigma_rows)
    sys.stdout.write(f"diffusers {g.version()}: {len(configs) + len(sigma_configs)} configurations, {found} "
                     "with findings; errors in tolerances (at most 1 conforms)\n\n")
    if configs:
        sys.stdout.write(table(rows))
    if sigma_configs:
        sys.stdout.write(("\n" if configs else "") + sigma_table(sigma_rows))
    return 0


def sigma_table(rows: list["diffusers_sigma.Row"]) -> str:
    from checks.conform.law import DATA

    shown = DATA[SHOWN_DATA].label

    def number(value):
        return "no catalogue rule" if value is None else f"{value:.3g}"

    lines = [f"| configuration | step kernels | vs catalogue, model at the step's sigma | model at the timestep's level | "
             f"timestep's level vs step's sigma | vs k-diffusion, same grid | W2 library, {shown} | "
             "W2 library, exact start | W2 textbook | findings |", "|" + " --- |" * 10]
    for r in rows:
        w = r.w2_own_sigma[shown]
        cross = "" if r.cross_error is None else f"{r.cross_error:.3g}"
        kernel = "" if r.kernel_error is None else f"{r.kernel_error:.3g}"
        lines.append(f"| {r.config.label} | {kernel} | {number(r.error)} | {number(r.error_timestep)} | "
                     f"{r.timestep_error:.3g} | {cross} | "
                     f"{r.w2[shown]['library']:.4g} | {w['library, exact start']:.4g} | "
                     f"{w.get('textbook', float('nan')):.4g} | {'; '.join(r.findings) or verdict(r)} |")
    return "\n".join(lines) + "\n"


def verdict(row) -> str:
    if row.error is None and getattr(row, "cross_error", None) is None:
        return "(no rule to compare)"
    return "conforms"


def _run_kdiffusion(args: argparse.Namespace) -> int:
    from checks.conform import kdiffusion_grid as g

    configs = g.grid(args.sampler, args.steps or g.KDIFFUSION_STEPS, args.grid, args.eta)
    rows = g.run_grid(configs, jobs=args.jobs)
    fits = g.fit_orders(configs, jobs=args.jobs) if args.fit_order else []
    if args.findings_only:
        rows, fits = [r for r in rows if r.findings], [f for f in fits if f.finding]
    sys.stdout.write(f"k-diffusion {g.version()}: {len(configs)} configurations, "
                     f"{sum(bool(r.findings) for r in rows)} with findings; the output law against the catalogue's "
                     "rule on the same grid in tolerances (at most 1 conforms)\n\n")
    sys.stdout.write(kdiffusion_table(rows))
    if fits:
        sys.stdout.write("\nConvergence orders (the grid without its final 0, from the exact start):\n\n")
        sys.stdout.write(order_table(fits))
    return 0
