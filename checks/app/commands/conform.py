"""``diffverify conform diffusers``: diffusers' schedulers against the derived kernels and the exact laws.

One row per (scheduler, configuration): the largest error of the step's coefficients against
the derived kernel at the previous level the library uses (in tolerances; at most 1 conforms),
the steps whose previous timestep differs from the schedule's next, the noise on the last step,
and the exact W2 to Gaussian data of the library's and the textbook's outputs (see
:mod:`checks.conform.diffusers_grid`). The library is the optional extra ``conform``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from typing import TYPE_CHECKING

from checks.app.options import add_cluster_option, worker_count
from checks.app.plugins import command
from checks.core.errors import UsageError

if TYPE_CHECKING:  # numpy, torch and diffusers load when the command runs, not when the CLI starts
    from checks.conform.diffusers_grid import Row

LIBRARIES = ("diffusers",)
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

    parser.add_argument("library", choices=LIBRARIES, help="the library whose samplers are checked")
    parser.add_argument("--scheduler", nargs="+", choices=g.SCHEDULERS, default=list(g.SCHEDULERS))
    parser.add_argument("--steps", nargs="+", type=_inference_steps, metavar="N",
                        help="inference steps (default: each scheduler's own list)")
    parser.add_argument("--beta-schedule", nargs="+", choices=g.BETA_SCHEDULES, default=list(g.BETA_SCHEDULES))
    parser.add_argument("--prediction", nargs="+", choices=PREDICTIONS, default=list(PREDICTIONS))
    parser.add_argument("--spacing", nargs="+", choices=g.SPACINGS, default=list(g.SPACINGS))
    parser.add_argument("--variance-type", nargs="+", choices=g.DDPM_VARIANCES, default=list(g.DDPM_VARIANCES),
                        help="DDPMScheduler's variance_type")
    parser.add_argument("--eta", nargs="+", type=_eta, default=list(g.DDIM_ETAS), help="DDIMScheduler's eta")
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


@command("conform", "check a library's samplers against the derived kernels and the exact Gaussian laws", _arguments)
def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec(args.library) is None:
        raise UsageError(f"{args.library} is not installed: install the extra with pip install 'diffverify[conform]'")
    from checks.conform import diffusers_grid as g

    configs = g.grid(args.scheduler, args.steps, args.beta_schedule, args.prediction, args.spacing,
                     args.variance_type, args.eta)
    if args.ray is None:
        rows = g.run_grid(configs, jobs=args.jobs)
    else:
        from checks.core.cluster import Cluster

        with Cluster(args.ray) as cluster:
            rows = g.run_grid(configs, cluster=cluster)
    if args.findings_only:
        rows = [r for r in rows if r.findings]
    sys.stdout.write(f"diffusers {g.version()}: {len(configs)} configurations, {sum(bool(r.findings) for r in rows)} "
                     "with findings; errors in tolerances (at most 1 conforms)\n\n")
    sys.stdout.write(table(rows))
    return 0
