r"""Posterior samplers for a linear inverse problem :math:`y = A x_0 + n`, :math:`n \sim \mathcal N(0, \sigma_y^2)`:
DPS and ΠGDM, each rule written once.

Both are a catalogue rule (DDPM ancestral, DDIM) plus a term built from Tweedie's denoiser
:math:`\hat x_0(x) = (x + v_t\,s_t(x))/m_t` and its slope :math:`\partial_x\hat x_0 = (1 + v_t\,\partial_x s_t)/m_t`
(the vector-Jacobian product through the denoiser, one coordinate at a time). Besides the catalogue's ``ops``
(:mod:`derivations.catalogue`), a rule reads ``ops.observation`` (``op`` :math:`A`, ``value`` :math:`y`,
``var`` :math:`\sigma_y^2`) and, at each time, ``score_slope(x)`` :math:`\partial_x s_t(x)`.

* DPS (Chung et al. 2023, Algorithm 1 with a constant step :math:`\zeta`): the DDPM ancestral step, then
  :math:`x' \leftarrow x' - \zeta\nabla_x\lVert y - A\hat x_0(x)\rVert^2`, the gradient taken at the step's input.
  (The published code steps along the gradient of the norm, not of its square, with a step scaled by the
  residual; that step is not affine in the state and is not this rule.)
* ΠGDM (Song, Vahdat, Mardani, Kautz 2023, §3): the score plus the gradient of the Gaussian approximation
  :math:`\log\mathcal N(y; A\hat x_0(x), r_t^2A^2 + \sigma_y^2)` through its mean, in the catalogue's DDIM rule.
  :math:`r_t^2` is the paper's :math:`v_t/(m_t^2 + v_t)` (``"paper"``: :math:`\sigma_t^2/(1 + \sigma_t^2)` with
  :math:`\sigma_t^2 = v_t/m_t^2`, data of unit variance) or Tweedie's second moment
  :math:`\mathrm{Var}[x_0 \mid x_t] = (v_t/m_t)\,\partial_x\hat x_0` (``"tweedie"``).

The records live in their own registry: these rules need the observation, which the sampler engine's
generic checks and the exact W2 table do not supply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from derivations.catalogue.record import Option, Rule
from derivations.core.registry import Registry

CHUNG = ("H. Chung, J. Kim, M. T. Mccann, M. L. Klasky, J. C. Ye, Diffusion Posterior Sampling for General Noisy "
         "Inverse Problems, ICLR 2023, §3 and Algorithm 1 (Gaussian noise)")
SONG_PIGDM = ("J. Song, A. Vahdat, M. Mardani, J. Kautz, Pseudoinverse-Guided Diffusion Models for Inverse Problems, "
              "ICLR 2023, §3 (the Gaussian approximation of p_t(y | x_t) and its r_t^2)")


def x0_hat(at, x):
    r"""Tweedie's denoiser :math:`\hat x_0 = (x + v s(x))/m`."""
    return (x + at.var * at.score(x)) / at.mean_coef


def x0_hat_slope(at, x):
    r""":math:`\partial_x\hat x_0 = (1 + v\,\partial_x s)/m`."""
    return (1 + at.var * at.score_slope(x)) / at.mean_coef


def r2(at, x, kind: str):
    r"""ΠGDM's :math:`r_t^2`: the paper's :math:`v/(m^2 + v)` or Tweedie's :math:`\mathrm{Var}[x_0\mid x_t]`."""
    if kind == "paper":
        return at.var / (at.mean_coef**2 + at.var)
    return at.var / at.mean_coef * x0_hat_slope(at, x)


def dps_correction(obs, at, x, zeta):
    r""":math:`-\zeta\nabla_x\lVert y - A\hat x_0(x)\rVert^2 = 2\zeta A(y - A\hat x_0)\,\partial_x\hat x_0`."""
    return 2 * zeta * obs.op * (obs.value - obs.op * x0_hat(at, x)) * x0_hat_slope(at, x)


def pigdm_guidance(obs, at, x, kind: str):
    r""":math:`A(y - A\hat x_0)\,\partial_x\hat x_0/(r_t^2A^2 + \sigma_y^2)`: the gradient of
    :math:`\log\mathcal N(y; A\hat x_0(x), r_t^2A^2 + \sigma_y^2)` through its mean."""
    return obs.op * (obs.value - obs.op * x0_hat(at, x)) * x0_hat_slope(at, x) / (r2(at, x, kind) * obs.op**2 + obs.var)


def dps(ops, x, zeta, variance):
    from derivations import catalogue

    return catalogue.get("ddpm_ancestral").rule(ops, x, variance) + dps_correction(ops.observation, ops.now, x, zeta)


class _GuidedAt:
    """A time whose score carries ΠGDM's guidance term."""

    def __init__(self, at, obs, kind: str):
        self._at, self._obs, self._kind = at, obs, kind
        self.mean_coef, self.var = at.mean_coef, at.var
        self.drift_coef, self.diffusion_sq = at.drift_coef, at.diffusion_sq

    def score(self, x):
        return self._at.score(x) + pigdm_guidance(self._obs, self._at, x, self._kind)


class _GuidedOps:
    """The step's ``ops`` with every time's score guided; the rest passes through."""

    def __init__(self, ops, kind: str):
        self._ops = ops
        self.now, self.next = _GuidedAt(ops.now, ops.observation, kind), _GuidedAt(ops.next, ops.observation, kind)

    @property
    def mid(self):
        return _GuidedAt(self._ops.mid, self._ops.observation, self.now._kind)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ops, name)


def pigdm(ops, x, eta, r2):  # noqa: A002 - the option's name
    from derivations import catalogue

    return catalogue.get("ddim").rule(_GuidedOps(ops, r2), x, eta)


@dataclass(frozen=True)
class PosteriorScheme:
    """A posterior sampler: its rule, options, and the step kinds (flags) its step maps tell apart."""

    name: str
    title: str
    rule: Rule = field(repr=False)
    rule_tex: str
    reference: str
    base: str  # the catalogue rule it runs
    options: tuple[Option, ...]
    kinds: tuple[frozenset[str], ...] = (frozenset(),)

    @property
    def derivation_id(self) -> str:
        return f"inverse.step_{self.name}"

    def resolve(self, options: dict[str, Any]) -> dict[str, Any]:
        known = {o.name: o for o in self.options}
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ValueError(f"{self.name} has no option {', '.join(unknown)}; options: {', '.join(known)}")
        for name, value in options.items():
            known[name].validate(value)
        return {o.name: o.default for o in self.options} | dict(options)

    def choice(self, options: dict[str, Any]) -> tuple[str, ...]:
        resolved = self.resolve(options)
        return tuple(str(resolved[o.name]) for o in self.options if o.choices)


POSTERIOR: Registry[PosteriorScheme] = Registry("posterior sampler")

POSTERIOR.add("dps", PosteriorScheme(
    "dps", "Diffusion posterior sampling (constant step zeta)", dps,
    r"x' = \mathrm{DDPM}(x) - \zeta\nabla_x\lVert y - A\hat x_0(x)\rVert^2,\ \hat x_0 = (x + v_t s_t(x))/m_t",
    CHUNG, "ddpm_ancestral",
    (Option("zeta", 1.0, symbol="zeta_dps", low=0.0), Option("variance", "beta", choices=("beta", "beta_tilde"))),
    kinds=(frozenset(), frozenset({"clean"})),
))
POSTERIOR.add("pigdm", PosteriorScheme(
    "pigdm", "Pseudoinverse-guided diffusion (ΠGDM) in DDIM", pigdm,
    r"s_t(x) + \frac{A(y - A\hat x_0(x))}{r_t^2A^2 + \sigma_y^2}\partial_x\hat x_0\ \text{in DDIM}",
    SONG_PIGDM, "ddim",
    (Option("eta", 1.0, symbol="eta_ddim", low=0.0, high=1.0), Option("r2", "tweedie", choices=("tweedie", "paper"))),
))


def get(name: str) -> PosteriorScheme:
    return POSTERIOR.get(name)


def all() -> list[PosteriorScheme]:  # noqa: A001 - the registry's interface
    return POSTERIOR.all()
