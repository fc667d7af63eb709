"""The Monte Carlo engine: the catalogue's samplers run by torch, driven by exact scores.

``registry`` (the samplers of :mod:`derivations.catalogue`, grids), ``steps`` (the
catalogue's ops over torch), ``processes`` (forward kernels from the derivations),
``data`` (exact scores of Gaussian and Gaussian-mixture data), ``exact`` (the exact law
of a discretized linear scheme, and the derived step maps iterated), ``engine``
(chunked simulation with running moments), ``orders`` (step-size sweeps and fitted orders).
"""

from checks.sim.registry import Grid, Sampler, all, get, variant_label, variants

__all__ = ["Grid", "Sampler", "all", "get", "variant_label", "variants"]
