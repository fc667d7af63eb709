r"""Monte Carlo conformance of library samplers on Gaussian-mixture data.

With Gaussian data a sampler is affine and its output law is exact (:mod:`checks.conform.sampler`);
with the two-mode mixture :data:`checks.suite.samplers.mixture.MIXTURE` the exact score
(``mixture.noised_score``, through :class:`checks.sim.data.MixtureData`) is not affine, so the
*real* library loop runs on a batch of paths, the model being the exact score read as the library
expects it: the denoiser :math:`D(x; \sigma) = x + \sigma^2 \nabla\log p_\sigma(x)` of the
variance-exploding coordinates :math:`x_\sigma = x_0 + \sigma z` (k-diffusion, and diffusers'
:math:`\sigma` schedulers through :func:`checks.conform.diffusers_sigma.as_sampler`), or the noise
prediction :math:`\hat\varepsilon = -\sqrt{1 - \bar\alpha_t}\,\nabla\log p_t(x)` (diffusers' DDPM and
DDIM). Every path starts from the exact noised law at the grid's first level, and a stochastic
sampler's noise is the normalized increment of one Brownian path over the union of the levels of
the runs being compared (:class:`BrownianPath`), so the runs are coupled.

Three statistics of the output, each tested twice (six estimates, three where there is no same-grid
reference; one false-alarm probability split over them, :mod:`checks.core.stats`):

* the mean, the variance, and the weight of the first mode, estimated as the mean of the posterior
  responsibility :math:`r_1(x)` of the data law (``mixture.noised_score``, ``responsibility``):
  :math:`\mathbb E_p[r_1(X)] = w_1` exactly (the law of total probability), and :math:`r_1` is
  smooth, so it has less variance than the proportion below the valley and pairs well;
* **same grid**: against the reference run on the library's own grid, from the same start with the
  same noise: the catalogue's rule (:mod:`derivations.catalogue`, run by the engine
  :mod:`checks.sim`) where the library's algorithm is a catalogue scheme, or another library's
  sampler of the same scheme. The two outputs differ path by path by rounding only, so the
  estimate is the library's, the expected value the reference's on the same paths, the standard
  error that of the paired differences, and the bias allowance the statistic's change when every
  output moves by the rounding bound :func:`checks.conform.reference.loop_tolerance` at the
  library's resolution (the detectable error is then about twice that bound);
* **data law**: against the exact value of the data law (``marginal_mean``, ``marginal_var``,
  ``mix_weight``), with a bias allowance for the discretisation from a fine-grid run: the same
  scheme (the reference where there is one, else the library itself) on a grid :data:`REFINE`
  times finer from the same starts and the same Brownian path gives the paired difference
  :math:`\hat\Delta` of the statistic between the two grids; with weak order :math:`p` the bias at
  the coarse grid is :math:`\Delta\,K^p/(K^p - 1)`, bounded by
  :math:`(|\hat\Delta| + c\,\mathrm{SE}_\Delta)\,K^p/(K^p - 1)` with the check's own critical value.
  Where the bound comes from the library's own loop (no reference), a defect of that loop that
  vanishes as the grid is refined (a score taken one level late) is part of its scheme and is
  absorbed in the bound; a defect that does not vanish (a noise scale) stays visible. A planted
  ``sampler`` (:func:`run`) is held to the bound of the library's real loop.

Seeds derive from the case's id (:func:`checks.core.registry.seed_for`), so a run is the same in any
process. The libraries are the optional extra ``conform``.
"""

from __future__ import annotations

from checks.conform.mixture.cases import (CASES, Case, Models, Reference, catalogue_reference, cases, models_for,
                                          noise_sampler, sigma_levels)
from checks.conform.mixture.law import (FINE_FRACTION, LIBRARIES, REFINE, STATISTICS, TABLE_SAMPLES, BrownianPath,
                                        EngineNoise, data_law, installed, mixture_args, mixture_data,
                                        responsibility, sigma_process, table_process)
from checks.conform.mixture.page import (PLANTED, PLANTED_SAMPLES, command, noise_scaled, planted, planted_rows,
                                         rows, score_one_level_late, section, summary, table, version,
                                         with_section)
from checks.conform.mixture.runner import (Result, bias_bounds, data_law_estimates, paired, rounding_allowance, run,
                                        run_all, same_grid_estimates)

__all__ = [
    "BrownianPath", "CASES", "Case", "EngineNoise", "FINE_FRACTION", "LIBRARIES", "Models", "PLANTED",
    "PLANTED_SAMPLES", "REFINE", "Reference", "Result", "STATISTICS", "TABLE_SAMPLES", "bias_bounds",
    "catalogue_reference", "cases", "command", "data_law", "data_law_estimates", "installed", "mixture_args",
    "mixture_data", "models_for", "noise_sampler", "noise_scaled", "paired", "planted", "planted_rows",
    "responsibility", "rounding_allowance", "rows", "run", "run_all", "same_grid_estimates",
    "score_one_level_late", "section", "sigma_levels", "sigma_process", "summary", "table", "table_process",
    "version", "with_section",
]
