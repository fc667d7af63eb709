"""``diffverify samplers``: the registered reverse samplers, their declared theory and (with --check) verdicts."""

from __future__ import annotations

import argparse

from checks.app.options import add_run_options, sampler_name
from checks.app.plugins import command


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", type=sampler_name, help="sampler names (default: all)")
    parser.add_argument("--check", action="store_true", help="run each variant's Monte Carlo check")
    add_run_options(parser)


@command("samplers", "List the reverse samplers with their declared theory; --check runs their checks.", _arguments)
def run(args: argparse.Namespace) -> int:
    import checks
    from checks.sim import all as all_samplers
    from checks.sim import get, variant_label
    from checks.suite.samplers.gaussian import check_id

    chosen = [get(n) for n in args.names] if args.names else all_samplers()
    failed = 0
    for sampler in chosen:
        order = "-" if sampler.weak_order is None else f"{sampler.weak_order:g}"
        print(f"{sampler.name}: approximates {sampler.approximates}; weak order {order}; "
              f"processes {', '.join(sampler.processes)}; {sampler.reference}")
        for options in sampler.variants:
            label = variant_label(sampler, options)
            if not args.check:
                kind = "deterministic" if sampler.is_deterministic(options) else "stochastic"
                print(f"  {label} ({kind})")
                continue
            result = checks.run(check_id(sampler, options), device=args.device, samples=args.samples)
            detectable = min(s.relative_detectable_error for s in result.statistics if "var[" in s.name)
            failed += not result.passed
            print(f"  {label}: {result.verdict}; n = {result.n_samples}, false alarm {result.false_alarm:g}, "
                  f"detects a relative variance error of {detectable:.2g} (99 % power), {result.device}")
    return 1 if failed else 0
