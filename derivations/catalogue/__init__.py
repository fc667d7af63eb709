r"""The sampler catalogue: each reverse sampler's update rule, written once, and its record.

A rule is ``rule(ops, x, **options) -> x'``: one step :math:`t \to t' < t` of the
sampler, computed from the state ``x``, the step's schedule coefficients, the
score model and the noise, all reached through ``ops``:

* ``ops.now``, ``ops.next``, ``ops.mid``: the times :math:`t`, :math:`t'`, :math:`(t+t')/2`,
  each with ``mean_coef`` :math:`m`, ``var`` :math:`v` (the kernel
  :math:`q(x_t \mid x_0) = \mathcal N(m_t x_0, v_t)`), ``drift_coef`` :math:`f` and
  ``diffusion_sq`` :math:`g^2` (the SDE :math:`dX = fX\,dt + g\,dW`), and ``score(x)``;
* ``ops.h`` :math:`= t' - t < 0`; ``ops.sqrt``, ``ops.log``;
* ``ops.noise(x, var)``: centred Gaussian noise of variance ``var`` shaped like ``x``
  (nothing drawn when ``var`` is 0);
* ``ops.last`` (the grid's last step) and ``ops.lands_clean`` (:math:`v_{t'} = 0`);
* ``ops.at_lambda(fraction)``: the time where the half-log-SNR :math:`\lambda = \log(m/\sqrt v)` has gone
  ``fraction`` (1/3 or 2/3) of the way from :math:`t` to :math:`t'` (DPM-Solver-3), like ``ops.mid``;
* ``ops.raised(churn, t_min, t_max)``: the level :math:`\hat t = (1 + \gamma)t` that EDM's churn raises
  :math:`t` to (:func:`derivations.core.step_vocabulary.churn_gamma`), like ``ops.now`` and with its
  ``rise`` :math:`\hat t - t`; the step maps keep its kernel free.

Three back ends instantiate ``ops``: torch (the engine, :mod:`checks.sim.steps`), SymPy
(the step maps ``gauss_exact.step_<name>``, :mod:`derivations.families.gauss_exact`), and
through the lambdified step maps numpy and numba (the exact W2 table,
:mod:`checks.exact.w2`). The record (:class:`Scheme`) declares the rest: process,
weak order, noise, options, the variants the checks run with their mixture-check
plan, the W2-table columns, and the claims and misprints of its step map.

Layout: :mod:`.record` (the record, and the step kinds a rule tells apart), :mod:`.pieces`
(what rules share, and the vocabulary of the claims), and one module per family of schemes
under ``schemes/`` (each rule next to its record, claims and misprints), discovered on import.
Adding a sampler is one :func:`register` call in a scheme module (and its expected values in
the tests).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Mapping

from derivations.catalogue.record import (
    FLAGS,
    Column,
    MixturePlan,
    Option,
    Rule,
    Scheme,
    Variant,
    kinds,
    result_name,
)
from derivations.core.registry import Registry

HO = "Ho, Jain, Abbeel (2020), Algorithm 2"
SONG_DDIM = "Song, Meng, Ermon (2021), eq. (12)"
SONG_SDE = "Song et al. (2021), eqs. (6), (13) and Algorithms 1-4"
SONG_ERMON = "Song & Ermon (2019), Algorithm 1"
ZHANG_CHEN = "Zhang & Chen (2023), DEIS, eq. (10); Lu et al. (2022), DPM-Solver-1"
KARRAS = "Karras, Aittala, Aila, Laine (2022), Algorithm 1"
PIERRET_GALERNE = "Pierret & Galerne (2025), section 4 (exponential integrator with the score frozen)"

_SCHEMES: Registry[Scheme] = Registry("sampler")


def register(scheme: Scheme) -> Scheme:
    """Add ``scheme``; a duplicate name raises."""
    _SCHEMES.add(scheme.name, scheme)
    return scheme


def get(name: str) -> Scheme:
    return _SCHEMES.get(name)


def all() -> list[Scheme]:  # noqa: A001 - the registry's documented interface
    return _SCHEMES.all()


def columns() -> list[tuple[Scheme, Column]]:
    """The exact W2 table's columns, in catalogue order."""
    return [(s, c) for s in all() for c in s.table]


def variant(options: Mapping[str, Any], steps: int, samples: int = 10_000, **mixture_options: Any) -> Variant:
    """A variant whose mixture check runs ``steps`` steps on ``samples`` paths (with extra options)."""
    return Variant(dict(options), MixturePlan(steps, samples, mixture_options))


__all__ = ["FLAGS", "Column", "MixturePlan", "Option", "Rule", "Scheme", "Variant", "all", "columns", "get", "kinds",
           "register", "result_name", "variant"]

from derivations.catalogue import schemes  # noqa: E402  every module under schemes/ registers its entries

for _module in sorted(m.name for m in pkgutil.iter_modules(schemes.__path__, f"{schemes.__name__}.")):
    importlib.import_module(_module)
