"""The Monte Carlo engine: reverse samplers driven by exact scores.

``registry`` (samplers by name, their declared theory), ``processes`` (forward
kernels from the derivations), ``data`` (exact scores of Gaussian and
Gaussian-mixture data), ``steps`` (the shared steps), ``algorithms`` (the
samplers), ``exact`` (the exact law of a discretized linear scheme),
``engine`` (chunked simulation with running moments), ``orders``
(step-size sweeps and fitted orders).
"""

from checks.sim import algorithms  # noqa: F401  registers the samplers
from checks.sim.registry import Grid, Sampler, all, get, sampler, variant_label, variants

__all__ = ["Grid", "Sampler", "all", "get", "sampler", "variant_label", "variants"]
