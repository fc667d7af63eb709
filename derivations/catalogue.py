r"""The sampler catalogue: each reverse sampler's update rule, written once, and its record.

A rule is ``rule(ops, x, **options) -> x'``: one step :math:`t \to t' < t` of the
sampler, computed from the state ``x``, the step's schedule coefficients, the
score model and the noise, all reached through ``ops``:

* ``ops.now``, ``ops.next``, ``ops.mid``: the times :math:`t`, :math:`t'`, :math:`(t+t')/2`,
  each with ``mean_coef`` :math:`m`, ``var`` :math:`v` (the kernel
  :math:`q(x_t \mid x_0) = \mathcal N(m_t x_0, v_t)`), ``drift_coef`` :math:`f` and
  ``diffusion_sq`` :math:`g^2` (the SDE :math:`dX = fX\,dt + g\,dW`), and ``score(x)``;
* ``ops.h`` :math:`= t' - t < 0`; ``ops.sqrt``;
* ``ops.noise(x, var)``: centred Gaussian noise of variance ``var`` shaped like ``x``
  (nothing drawn when ``var`` is 0);
* ``ops.last`` (the grid's last step) and ``ops.lands_clean`` (:math:`v_{t'} = 0`).

Three back ends instantiate ``ops``: torch (the engine, :mod:`checks.sim.steps`), SymPy
(the step maps ``gauss_exact.step_<name>``, :mod:`derivations.families.gauss_exact`), and
through the lambdified step maps numpy and numba (the exact W2 table,
:mod:`checks.exact.w2`). The record (:class:`Scheme`) declares the rest: process,
weak order, noise, options, the variants the checks run with their mixture-check
plan, the W2-table columns, and the claims and misprints of its step map.

Adding a sampler is one :func:`register` call here (and its expected values in the tests).
"""

from __future__ import annotations

import builtins
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from derivations.core.registry import Claim, Registry, WrongVariant

Rule = Callable[..., Any]

HO = "Ho, Jain, Abbeel (2020), Algorithm 2"
SONG_DDIM = "Song, Meng, Ermon (2021), eq. (12)"
SONG_SDE = "Song et al. (2021), eqs. (6), (13) and Algorithms 1-4"
SONG_ERMON = "Song & Ermon (2019), Algorithm 1"
ZHANG_CHEN = "Zhang & Chen (2023), DEIS, eq. (10); Lu et al. (2022), DPM-Solver-1"
KARRAS = "Karras, Aittala, Aila, Laine (2022), Algorithm 1"
PIERRET_GALERNE = "Pierret & Galerne (2025), section 4 (exponential integrator with the score frozen)"
FLAGS = ("last", "clean")  # the step kinds a rule may tell apart: ops.last, ops.lands_clean


# --------------------------------------------------------------------------
# The record
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    """A sampler option: a number that the step maps keep as the notation ``symbol``, a choice
    among ``choices`` (one step map each), or a count fixed at its default in the step maps."""

    name: str
    default: Any
    symbol: str | None = None
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    def validate(self, value: Any) -> None:
        if self.choices and value not in self.choices:
            raise ValueError(f"{self.name} must be one of {self.choices}, got {value!r}")
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise ValueError(f"{self.name} must lie in [{self.low}, {self.high}], got {value}")


@dataclass(frozen=True)
class MixturePlan:
    """How the mixture check runs a variant: steps that keep the discretization bias below its
    share of the detectable error (coupled sweeps in the tests), the sample size, extra options."""

    steps: int
    samples: int = 10_000
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Variant:
    """Options the checks, the tests and the report run the sampler with."""

    options: Mapping[str, Any]
    mixture: MixturePlan


@dataclass(frozen=True)
class Column:
    """A column of the exact W2 table: its label, the options, and how the NFE label maps to
    grid points (:math:`N = \\mathrm{NFE}/\\text{nfe\\_per\\_point}`); ``chain``: the scheme runs on
    Pierret & Galerne's discrete chain :math:`\\beta^D_k = \\Delta g^2(u_k)` instead of the SDE."""

    label: str
    options: Mapping[str, Any] = field(default_factory=dict)
    nfe_per_point: int = 1
    chain: bool = False

    @property
    def key(self) -> str:
        """The label as an id part: ``DDIM-eta0`` -> ``ddim_eta0``."""
        return self.label.lower().replace("-", "_")

    def points(self, nfe: int) -> int:
        return nfe // self.nfe_per_point


@dataclass(frozen=True)
class Scheme:
    """One sampler: its rule and everything declared about it."""

    name: str
    title: str
    rule: Rule = field(repr=False)
    rule_tex: str
    reference: str
    approximates: str
    process: str  # the process its checks run on (checks.sim.processes.named)
    variants: tuple[Variant, ...]
    claims: Callable[[], tuple[Claim, ...]] = field(repr=False)
    wrong_variants: Callable[[], tuple[WrongVariant, ...]] = field(repr=False)
    processes: tuple[str, ...] = ("continuous",)  # "continuous" SDEs and/or "discrete" chains
    weak_order: float | None = 1.0  # None: an O(1) bias remains as the step shrinks
    deterministic_when: Mapping[str, Any] | None = None  # options that make it noise-free; {}: always
    options: tuple[Option, ...] = ()
    fixed: Mapping[str, Any] = field(default_factory=dict)  # options of a shared rule that this scheme fixes
    table: tuple[Column, ...] = ()
    measured_bias: float | None = None  # |bias| / SE of its mixture check, for a scheme with no order
    reverse_family: bool = False  # discretizes a member of the reverse lambda-family of the SDE
    assumptions: tuple[str, ...] = ()

    @property
    def derivation_id(self) -> str:
        return f"gauss_exact.step_{self.name}"

    def option(self, name: str) -> Option:
        return next(o for o in self.options if o.name == name)

    def resolve(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The rule's keyword arguments: defaults, then ``options`` (validated), then the fixed ones."""
        known = {o.name: o for o in self.options}
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ValueError(f"{self.name} has no option {', '.join(unknown)}; options: {', '.join(known) or 'none'}")
        for name, value in options.items():
            known[name].validate(value)
        return {o.name: o.default for o in self.options} | dict(options) | dict(self.fixed)

    def is_deterministic(self, options: Mapping[str, Any]) -> bool:
        if self.deterministic_when is None:
            return False
        return builtins.all(options.get(k) == v for k, v in self.deterministic_when.items())

    def choice(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The values of the choice options: which family of step maps the options select."""
        resolved = self.resolve(options)
        return tuple(str(resolved[o.name]) for o in self.options if o.choices)

    def choices(self) -> list[dict[str, Any]]:
        """Every assignment of the choice options (one set of step maps each)."""
        chosen = [o for o in self.options if o.choices]
        return [dict(zip((o.name for o in chosen), values)) for values in itertools.product(*(o.choices for o in chosen))]


def result_name(base: str, choice: tuple[str, ...] = (), flags: frozenset[str] = frozenset()) -> str:
    """``gain``, ``noise_var_beta``, ``gain_last``: a step-map result for a choice and a step kind."""
    return "_".join((base, *choice, *sorted(flags)))


# --------------------------------------------------------------------------
# Step kinds: which flags a rule reads (traced on plain floats, no SymPy)
# --------------------------------------------------------------------------

class _TraceAt:
    def __init__(self, mean_coef: float, var: float):
        self.mean_coef, self.var, self.drift_coef, self.diffusion_sq = mean_coef, var, -0.5, 1.0

    def score(self, x: float) -> float:
        return -x / (self.mean_coef**2 + self.var)


class _TraceOps:
    def __init__(self, flags: frozenset[str]):
        self.flags, self.read = flags, set()
        self.now, self.next, self.mid = _TraceAt(0.6, 0.64), _TraceAt(0.8, 0.36), _TraceAt(0.7, 0.51)
        self.h = -0.01

    @staticmethod
    def sqrt(value: float) -> float:
        return value**0.5

    def noise(self, x: float, var: float) -> float:
        return 0.0

    @property
    def last(self) -> bool:
        self.read.add("last")
        return "last" in self.flags

    @property
    def lands_clean(self) -> bool:
        self.read.add("clean")
        return "clean" in self.flags


def kinds(scheme: Scheme, options: Mapping[str, Any]) -> tuple[frozenset[str], ...]:
    """The step kinds (sets of true flags) whose maps differ for these options: every subset of
    the flags the rule reads (none read: the one kind ``frozenset()``)."""
    resolved = scheme.resolve(options)
    read: set[str] = set()
    pending = [frozenset()]
    seen: set[frozenset[str]] = set()
    while pending:
        flags = pending.pop()
        if flags in seen:
            continue
        seen.add(flags)
        ops = _TraceOps(flags)
        scheme.rule(ops, 1.0, **resolved)
        read |= ops.read
        pending += [frozenset(s) for r in range(len(read) + 1) for s in itertools.combinations(sorted(read), r)]
    return tuple(frozenset(s) for r in range(len(read) + 1) for s in itertools.combinations(sorted(read), r))


# --------------------------------------------------------------------------
# The rules (each written once) and the pieces they share
# --------------------------------------------------------------------------

def drift(at, x, lam=1):
    r"""Reverse :math:`\lambda`-family drift :math:`f x - \tfrac12(1+\lambda^2) g^2 s(x)` (Song et al. 2021,
    eq. (13) generalized); :math:`\lambda = 0` is the probability-flow ODE."""
    return at.drift_coef * x - (1 + lam**2) * at.diffusion_sq * at.score(x) / 2


def eps_hat(ops, at, x):
    r"""The noise prediction :math:`\hat\varepsilon = -\sqrt{v}\, s(x)`."""
    return -ops.sqrt(at.var) * at.score(x)


def langevin(ops, at, x, step):
    """One Langevin step :math:`x + \\epsilon s + \\sqrt{2\\epsilon} z` at the level ``at``."""
    return x + step * at.score(x) + ops.noise(x, 2 * step)


def euler(ops, x):
    return x + ops.h * drift(ops.now, x, 0)


def heun(ops, x):
    slope = drift(ops.now, x, 0)
    return x + ops.h / 2 * (slope + drift(ops.next, x + ops.h * slope, 0))


def rk4(ops, x):
    h = ops.h
    k1 = drift(ops.now, x, 0)
    k2 = drift(ops.mid, x + h / 2 * k1, 0)
    k3 = drift(ops.mid, x + h / 2 * k2, 0)
    k4 = drift(ops.next, x + h * k3, 0)
    return x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def edm_heun(ops, x):
    """Heun, except on the last step (onto :math:`\\sigma = 0` in EDM), where the correction is skipped."""
    return euler(ops, x) if ops.last else heun(ops, x)


def lambda_em(ops, x, lam):
    """Euler–Maruyama on the :math:`\\lambda`-family: drift :math:`b_\\lambda`, noise variance :math:`\\lambda^2 g^2 |h|`."""
    return x + ops.h * drift(ops.now, x, lam) + ops.noise(x, -lam**2 * ops.now.diffusion_sq * ops.h)


def ancestral(ops, x, variance):
    """Mean :math:`(x + b s)/a` (Tweedie's :math:`\\hat x_0` in the forward posterior), variance :math:`b`
    ("beta") or :math:`b v_{t'}/v_t` ("beta_tilde"); no noise onto a noise-free level (Ho et al.: z = 0 at t = 1)."""
    now, nxt = ops.now, ops.next
    gain = now.mean_coef / nxt.mean_coef
    step_var = now.var - gain**2 * nxt.var
    mean = (x + step_var * now.score(x)) / gain
    if ops.lands_clean:
        return mean
    return mean + ops.noise(x, step_var if variance == "beta" else step_var * nxt.var / now.var)


def ddim(ops, x, eta):
    now, nxt = ops.now, ops.next
    eps = eps_hat(ops, now, x)
    x0_hat = (x - ops.sqrt(now.var) * eps) / now.mean_coef
    gain = now.mean_coef / nxt.mean_coef
    extra_var = eta**2 * (now.var - gain**2 * nxt.var) * nxt.var / now.var
    return nxt.mean_coef * x0_hat + ops.sqrt(nxt.var - extra_var) * eps + ops.noise(x, extra_var)


def exponential_eps(ops, x, lam):
    r"""Linear part exact, :math:`\hat\varepsilon` frozen: with :math:`\rho = \sqrt v/m`,
    :math:`x' = \frac{m'}{m}x + (1+\lambda^2) m'(\rho' - \rho)\hat\varepsilon`, noise :math:`\lambda^2 m'^2(\rho^2 - \rho'^2)`."""
    now, nxt = ops.now, ops.next
    rho, rho_next = ops.sqrt(now.var) / now.mean_coef, ops.sqrt(nxt.var) / nxt.mean_coef
    x_next = nxt.mean_coef / now.mean_coef * x + (1 + lam**2) * nxt.mean_coef * (rho_next - rho) * eps_hat(ops, now, x)
    return x_next + ops.noise(x, lam**2 * nxt.mean_coef**2 * (rho**2 - rho_next**2))


def exponential_score(ops, x):
    r"""Reverse SDE, linear part exact, score frozen: :math:`x' = e^h x + 2(e^h - 1) s`, noise
    :math:`e^{2h} - 1`, where :math:`e^h = m_{t'}/m_t`; exact integrals when :math:`g^2 = -2f` (VP)."""
    now, nxt = ops.now, ops.next
    growth = nxt.mean_coef / now.mean_coef
    return growth * x + 2 * (growth - 1) * now.score(x) + ops.noise(x, growth**2 * now.var - nxt.var)


def predictor_corrector(ops, x, snr, corrector_steps):
    """Euler–Maruyama predictor, then Langevin corrector steps of size :math:`2 r^2 v_{t'}` (the value of
    Song et al.'s :math:`2(r\\|z\\|/\\|s\\|)^2` for Gaussian norms)."""
    x = lambda_em(ops, x, 1)
    for _ in range(corrector_steps):
        x = langevin(ops, ops.next, x, 2 * snr**2 * ops.next.var)
    return x


def annealed_langevin(ops, x, steps_per_level, step_ratio):
    """``steps_per_level`` Langevin steps of size :math:`\\epsilon v_{t'}` at the level :math:`t'`."""
    for _ in range(steps_per_level):
        x = langevin(ops, ops.next, x, step_ratio * ops.next.var)
    return x


# --------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------

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


def _plan(steps: int, samples: int = 10_000, **options: Any) -> MixturePlan:
    return MixturePlan(steps, samples, options)


def _variant(options: Mapping[str, Any], steps: int, samples: int = 10_000, **mixture_options: Any) -> Variant:
    return Variant(dict(options), _plan(steps, samples, **mixture_options))



# --------------------------------------------------------------------------
# The entries, each with the literature forms of its step map (claims) and plausible misprints.
# Claims read the step maps' vocabulary (derivations.core.notation, "_st"): the kernel N(a x, b)
# from t' to t, v_t = a^2 v_{t'} + b, the SDE's f and g^2, the precisions prec of p_t, the step
# Delta = t - t' > 0; "rate" r = -(f + g^2 prec / 2) is the probability-flow ODE's y'/y in
# reversed time, so an Euler step multiplies y by 1 + Delta r.
# --------------------------------------------------------------------------

def _sym():
    """The claims' vocabulary, built on first use (no SymPy work at import)."""
    import sympy as sp

    from derivations.core import notation as n

    class S:
        a, b, m_next, v_next, dt = n.a_st, n.b_st, n.m_next_st, n.v_next_st, n.dt_pg
        v_now = n.a_st**2 * n.v_next_st + n.b_st
        p_k, p_next, p_mid = n.prec_k_pg, n.prec_next_pg, n.prec_mid_pg
        r_k = -(n.f_k_st + n.g2_k_st * n.prec_k_pg / 2)
        r_next = -(n.f_next_st + n.g2_next_st * n.prec_next_pg / 2)
        r_mid = -(n.f_mid_st + n.g2_mid_st * n.prec_mid_pg / 2)
        f_k, g2_k, eta, lam, snr, ratio = n.f_k_st, n.g2_k_st, n.eta_pg, n.lam_rev, n.snr_st, n.ratio_st
        zero, sqrt = sp.Integer(0), sp.sqrt

    return S


def _heun_gain(s, weight: int = 1, predicted: bool = True):
    return 1 + s.dt / 2 * weight * (s.r_k + s.r_next * (1 + s.dt * s.r_k if predicted else 1))


def _rk4_gain(s, weights=(1, 2, 2, 1), scale=6, last_at_mid=False):
    r1 = s.r_k
    r2 = s.r_mid * (1 + s.dt / 2 * r1)
    r3 = s.r_mid * (1 + s.dt / 2 * r2)
    r4 = (s.r_mid if last_at_mid else s.r_next) * (1 + s.dt * r3)
    return 1 + s.dt / scale * sum(w * r for w, r in zip(weights, (r1, r2, r3, r4)))


def _ancestral_claims():
    s = _sym()
    beta, tilde = ("beta",), ("beta_tilde",)
    return (Claim(result_name("gain", beta), (1 - s.b * s.p_k) / s.a,
                  "Ho et al. (2020), eq. (11): (x_t + beta_t s)/sqrt(alpha_t)"),
            Claim(result_name("noise_var", beta), s.b, "Ho et al. (2020), Algorithm 2: sigma_t^2 = beta_t"),
            Claim(result_name("noise_var", tilde), s.b * s.v_next / s.v_now,
                  "Ho et al. (2020), eq. (7): beta_tilde = (1 - alpha_bar_{t-1})/(1 - alpha_bar_t) beta_t"),
            Claim(result_name("noise_var", beta, frozenset({"clean"})), s.zero,
                  "Ho et al. (2020), Algorithm 2: z = 0 on the step onto x_0"))


def _ancestral_wrong():
    s = _sym()
    beta, tilde = ("beta",), ("beta_tilde",)
    return (WrongVariant(result_name("gain", beta), 1 - s.b * s.p_k, "without the 1/sqrt(alpha_t) factor"),
            WrongVariant(result_name("noise_var", beta), s.b**2, "noise beta z without square root"),
            WrongVariant(result_name("noise_var", tilde), s.b, "forward variance in place of the posterior's"),
            WrongVariant(result_name("noise_var", beta, frozenset({"clean"})), s.b, "noise kept on the step onto x_0"))


register(Scheme(
    "ddpm_ancestral", "DDPM ancestral sampling", ancestral,
    r"x' = \frac{x + b\,s_t(x)}{a} + \sigma z,\ a = \frac{m_t}{m_{t'}},\ b = v_t - a^2 v_{t'},\ "
    r"\sigma^2 = b \text{ or } b\,v_{t'}/v_t \text{ (0 onto } v_{t'} = 0)",
    HO, "the reverse chain p(x_{t-1} | x_t) of the forward process", "ddpm",
    # The chain's steps divide its 1000 steps, and 1000 is its finest grid; 3500 samples (the least the
    # proportions allow) where the bias at 5000 still neared its share.
    variants=(_variant({"variance": "beta"}, 1000, 5000), _variant({"variance": "beta_tilde"}, 1000, 3500)),
    claims=_ancestral_claims, wrong_variants=_ancestral_wrong,
    processes=("discrete", "continuous"),
    options=(Option("variance", "beta_tilde", choices=("beta", "beta_tilde")),),
    table=(Column("DDPM", {"variance": "beta"}, chain=True),),
))


def _ve_claims():
    s = _sym()
    return (Claim("gain", (1 - s.b * s.p_k) / s.a, "Song et al. (2021), eq. (47): x + (sigma_t^2 - sigma_t'^2) s"),
            Claim("noise_var", s.b * s.v_next / s.v_now,
                  "Song et al. (2021), eq. (47): sigma_t'^2 (sigma_t^2 - sigma_t'^2) / sigma_t^2"))


def _ve_wrong():
    s = _sym()
    return (WrongVariant("noise_var", s.b, "forward variance sigma_t^2 - sigma_t'^2 in place of the posterior's"),)


register(Scheme(
    "ve_ancestral", "SMLD ancestral sampling on the VE process", ancestral,
    r"x' = x + (\sigma_t^2 - \sigma_{t'}^2) s_t(x) + \sqrt{\sigma_{t'}^2(\sigma_t^2 - \sigma_{t'}^2)/\sigma_t^2}\,z",
    SONG_SDE, "the reverse SMLD chain of the VE process", "ve",
    variants=(_variant({}, 1000, 3500),),
    claims=_ve_claims, wrong_variants=_ve_wrong,
    fixed={"variance": "beta_tilde"},
))


def _ddim_claims():
    s = _sym()
    noise = s.eta**2 * s.b * s.v_next / s.v_now
    return (Claim("noise_var", noise, "Song, Meng, Ermon (2021), eq. (16): eta^2 (1 - ab')/(1 - ab) (1 - ab/ab')"),
            Claim("gain", (1 - s.v_now * s.p_k) / s.a + s.sqrt(s.v_next - noise) * s.sqrt(s.v_now) * s.p_k,
                  "Song, Meng, Ermon (2021), eq. (12)"))


def _ddim_wrong():
    s = _sym()
    return (WrongVariant("noise_var", s.eta**2 * s.b, "sigma without (1 - ab')/(1 - ab)"),
            WrongVariant("gain", (1 - s.v_now * s.p_k) / s.a, "direction term sqrt(1 - ab' - sigma^2) eps dropped"))


register(Scheme(
    "ddim", "DDIM with stochasticity eta (0: deterministic, 1: ancestral)", ddim,
    r"\hat\varepsilon = -\sqrt{v_t}\,s_t(x),\ x' = m_{t'}\frac{x - \sqrt{v_t}\hat\varepsilon}{m_t} + "
    r"\sqrt{v_{t'} - \sigma^2}\,\hat\varepsilon + \sigma z,\ \sigma^2 = \eta^2 b\,v_{t'}/v_t",
    SONG_DDIM, "the DDIM family, which keeps every marginal q(x_t | x_0)", "ddpm",
    variants=(_variant({"eta": 0.0}, 1000, 5000), _variant({"eta": 0.5}, 1000, 5000),
              _variant({"eta": 1.0}, 1000, 3500)),
    claims=_ddim_claims, wrong_variants=_ddim_wrong,
    processes=("discrete", "continuous"), deterministic_when={"eta": 0.0},
    options=(Option("eta", 0.0, symbol="eta_pg", low=0.0, high=1.0),),
    table=(Column("DDIM-eta0", {"eta": 0.0}), Column("DDIM-eta1", {"eta": 1.0})),
))


def _lambda_claims(lam):
    def claims():
        s = _sym()
        weight = 1 + (s.lam if lam is None else lam) ** 2
        return (Claim("gain", 1 - s.dt * (s.f_k + weight * s.g2_k * s.p_k / 2),
                      "Song et al. (2021), eq. (6) / Pierret & Galerne (2025), EM recursion (f = -beta, g^2 = 2 beta)"),
                Claim("noise_var", (weight - 1) * s.g2_k * s.dt, "Euler-Maruyama: lambda^2 g^2 Delta"))

    return claims


def _lambda_wrong(lam):
    def wrong():
        s = _sym()
        lam_ = s.lam if lam is None else lam
        wrong = (WrongVariant("noise_var", (lam_**2 * s.g2_k * s.dt) ** 2, "noise lambda g sqrt(Delta) z without square root"),
                 WrongVariant("gain", 1 - s.dt * (s.f_k + (1 + lam_**2) * s.g2_k * s.p_k), "the factor 1/2 of the score weight dropped"))
        if lam is None:
            return wrong + (WrongVariant("gain", 1 - s.dt * (s.f_k + (1 + lam_) * s.g2_k * s.p_k / 2),
                                         "score weight (1 + lambda)/2 for (1 + lambda^2)/2"),)
        return wrong + (WrongVariant("gain", 1 - s.dt * (s.f_k + s.g2_k * s.p_k / 2), "score weight 1/2 (ODE drift) in the SDE"),)

    return wrong


register(Scheme(
    "reverse_sde_em", "Euler–Maruyama on the reverse SDE", lambda_em,
    r"x' = x + h\,(f_t x - g_t^2 s_t(x)) + \sqrt{g_t^2 |h|}\,z",
    SONG_SDE, "the reverse SDE", "vp",
    variants=(_variant({}, 400, 5000),),
    claims=_lambda_claims(1), wrong_variants=_lambda_wrong(1),
    fixed={"lam": 1}, table=(Column("EM"),), reverse_family=True,
))

LAM = Option("lam", 1.0, symbol="lam_rev", low=0.0)

register(Scheme(
    "lambda_family", "Euler–Maruyama on the reverse lambda-family", lambda_em,
    r"x' = x + h\,(f_t x - \tfrac12(1+\lambda^2) g_t^2 s_t(x)) + \lambda\sqrt{g_t^2 |h|}\,z",
    SONG_SDE, "the reverse lambda-family (lambda = 0: PF ODE, 1: reverse SDE)", "vp",
    variants=(_variant({"lam": 0.0}, 100), _variant({"lam": 0.5}, 400, 5000), _variant({"lam": 1.0}, 400, 5000),
              _variant({"lam": 2.0}, 800, 5000)),
    claims=_lambda_claims(None), wrong_variants=_lambda_wrong(None),
    deterministic_when={"lam": 0.0}, options=(LAM,), reverse_family=True,
))


def _exponential_claims():
    s = _sym()
    rho, rho_next = s.sqrt(s.v_now) / (s.a * s.m_next), s.sqrt(s.v_next) / s.m_next
    return (Claim("gain", 1 / s.a - (1 + s.lam**2) * s.sqrt(s.v_next) * (rho / rho_next - 1) * s.sqrt(s.v_now) * s.p_k,
                  "Lu et al. (2022), DPM-Solver-1: x' = (m'/m) x - sigma'(e^h - 1) eps, weight 1 + lambda^2"),
            Claim("noise_var", s.lam**2 * s.b / s.a**2, "DEIS: lambda^2 m'^2 (rho^2 - rho'^2)"))


def _exponential_wrong():
    s = _sym()
    return (WrongVariant("noise_var", s.lam * s.b / s.a**2, "lambda not squared in the noise"),
            WrongVariant("gain", 1 / s.a + (1 + s.lam**2) * s.sqrt(s.v_next) * s.sqrt(s.v_now) * s.p_k,
                         "e^h - 1 replaced by -1 (the step's log-SNR gain dropped)"))


register(Scheme(
    "exponential_integrator", "Exponential integrator with the noise prediction frozen", exponential_eps,
    r"x' = \frac{m_{t'}}{m_t}x + (1+\lambda^2) m_{t'}(\rho_{t'} - \rho_t)\hat\varepsilon + "
    r"\lambda m_{t'}\sqrt{\rho_t^2 - \rho_{t'}^2}\,z,\ \rho = \sqrt v/m",
    ZHANG_CHEN, "the reverse lambda-family, linear part exact, noise prediction frozen", "vp",
    variants=(_variant({"lam": 0.0}, 800, 5000), _variant({"lam": 1.0}, 800, 5000)),
    claims=_exponential_claims, wrong_variants=_exponential_wrong,
    deterministic_when={"lam": 0.0}, options=(LAM,), reverse_family=True,
))


def _score_frozen_claims():
    s = _sym()
    return (Claim("gain", 1 / s.a - 2 * (1 / s.a - 1) * s.p_k,
                  "Pierret & Galerne (2025): e^h - 2 (e^h - 1) Sigma^{-1}, e^h = m_t'/m_t"),
            Claim("noise_var", s.b / s.a**2, "Pierret & Galerne (2025): e^{2h} - 1 (= b/a^2 on VP)"))


def _score_frozen_wrong():
    s = _sym()
    return (WrongVariant("noise_var", 2 * s.b / s.a**2, "gamma_2 without the factor 1/2"),
            WrongVariant("gain", 1 + (1 - 2 * s.p_k) / s.a, "gamma_1 = e^h (missing -1)"))


register(Scheme(
    "exponential_integrator_score", "Exponential integrator on the reverse SDE with the score frozen",
    exponential_score,
    r"x' = e^{h_k} x + 2(e^{h_k} - 1)\,s_t(x) + \sqrt{e^{2h_k} - 1}\,z,\ e^{h_k} = m_{t'}/m_t",
    PIERRET_GALERNE, "the reverse SDE, linear part exact, score frozen", "vp",
    variants=(_variant({}, 800, 5000),),
    claims=_score_frozen_claims, wrong_variants=_score_frozen_wrong,
    table=(Column("EI"),), reverse_family=True,
    assumptions=(r"variance-preserving process ($g^2 = -2f$), where the frozen score's weight "
                 r"$\int (m_{t'}/m_u) g_u^2\,du$ is $2(m_{t'}/m_t - 1)$",),
))

_PG_ODE = "Pierret & Galerne (2025), covariance recursion (f = -beta, g^2 = 2 beta)"


def _euler_claims():
    s = _sym()
    return (Claim("gain", 1 + s.dt * s.r_k, _PG_ODE),)


def _euler_wrong():
    s = _sym()
    return (WrongVariant("gain", 1 - s.dt * (s.f_k + s.g2_k * s.p_k), "SDE score weight 1 in the ODE"),
            WrongVariant("gain", 1 - s.dt * s.r_k, "sign of the drift flipped"))


register(Scheme(
    "pf_euler", "Euler on the probability-flow ODE", euler,
    r"x' = x + h\,(f_t x - \tfrac12 g_t^2 s_t(x))",
    SONG_SDE, "the probability-flow ODE", "vp",
    variants=(_variant({}, 100),),
    claims=_euler_claims, wrong_variants=_euler_wrong,
    deterministic_when={}, table=(Column("Euler"),), reverse_family=True,
))


def _heun_claims():
    return (Claim("gain", _heun_gain(_sym()), _PG_ODE),)


def _heun_wrong():
    s = _sym()
    return (WrongVariant("gain", _heun_gain(s, predicted=False), "second slope taken at y_k, not at the predictor"),
            WrongVariant("gain", _heun_gain(s, weight=2), "slopes summed instead of averaged"))


register(Scheme(
    "pf_heun", "Heun (explicit trapezoid) on the probability-flow ODE", heun,
    r"\tilde x = x + h\,b_0(t, x),\ x' = x + \tfrac h2\,(b_0(t, x) + b_0(t', \tilde x)),\ "
    r"b_0 = f x - \tfrac12 g^2 s",
    "Karras et al. (2022), Algorithm 1", "the probability-flow ODE", "vp",
    variants=(_variant({}, 64),),
    claims=_heun_claims, wrong_variants=_heun_wrong,
    weak_order=2.0, deterministic_when={}, table=(Column("Heun"),), reverse_family=True,
))


def _rk4_claims():
    return (Claim("gain", _rk4_gain(_sym()), "classical RK4 on y' = r(s) y (Kutta 1901)"),)


def _rk4_wrong():
    s = _sym()
    return (WrongVariant("gain", _rk4_gain(s, weights=(1, 1, 1, 1), scale=4), "equal stage weights"),
            WrongVariant("gain", _rk4_gain(s, last_at_mid=True), "last stage at the midpoint"))


register(Scheme(
    "pf_rk4", "Classical Runge–Kutta 4 on the probability-flow ODE", rk4,
    r"k_1 = b_0(t, x),\ k_2 = b_0(t + \tfrac h2, x + \tfrac h2 k_1),\ k_3 = b_0(t + \tfrac h2, x + \tfrac h2 k_2),\ "
    r"k_4 = b_0(t', x + h k_3),\ x' = x + \tfrac h6(k_1 + 2k_2 + 2k_3 + k_4)",
    "classical Runge-Kutta on Song et al. (2021), eq. (13)", "the probability-flow ODE", "vp",
    variants=(_variant({}, 20),),
    claims=_rk4_claims, wrong_variants=_rk4_wrong,
    weak_order=4.0, deterministic_when={}, table=(Column("RK4", nfe_per_point=4),), reverse_family=True,
))


def _corrector_claims():
    s = _sym()
    step = 2 * s.snr**2 * s.v_next
    damping = 1 - step * s.p_next
    return (Claim("gain", damping * (1 - s.dt * (s.f_k + s.g2_k * s.p_k)), "Song et al. (2021), Algorithm 4"),
            Claim("noise_var", damping**2 * s.g2_k * s.dt + 2 * step, "Song et al. (2021), Algorithm 4"))


def _corrector_wrong():
    s = _sym()
    step = 2 * s.snr**2 * s.v_next
    return (WrongVariant("noise_var", s.g2_k * s.dt + 2 * step, "predictor noise not damped by the corrector"),
            WrongVariant("gain", (1 - 2 * s.snr * s.v_next * s.p_next) * (1 - s.dt * (s.f_k + s.g2_k * s.p_k)),
                         "corrector step 2 r v (r not squared)"))


register(Scheme(
    "predictor_corrector", "Reverse-SDE predictor with a Langevin corrector", predictor_corrector,
    r"\tilde x = \text{EM step},\ x' = \tilde x + \epsilon\,s_{t'}(\tilde x) + \sqrt{2\epsilon}\,z',\ "
    r"\epsilon = 2r^2 v_{t'}",
    SONG_SDE, "the reverse SDE with Langevin correction at each level", "vp",
    variants=(_variant({}, 800, 5000),),
    claims=_corrector_claims, wrong_variants=_corrector_wrong,
    weak_order=None,
    options=(Option("snr", 0.16, symbol="snr_st", low=0.0), Option("corrector_steps", 1, low=1)),
    # |bias| / SE of the mixture check, upper bound (estimate + 2 SE) from 40x its samples:
    # 0.30 +- 0.16 at 400 steps, falling with the steps from 50 to 400.
    measured_bias=0.6,
))

LANGEVIN_STEPS = 10


def _annealed_claims():
    s = _sym()
    step = s.ratio * s.v_next
    q = 1 - step * s.p_next
    return (Claim("gain", q**LANGEVIN_STEPS, "Song & Ermon (2019), Algorithm 1, on a Gaussian level"),
            Claim("noise_var", 2 * step * (1 - q ** (2 * LANGEVIN_STEPS)) / (1 - q**2),
                  "geometric sum of the damped Langevin noises"))


def _annealed_wrong():
    s = _sym()
    step = s.ratio * s.v_next
    return (WrongVariant("noise_var", 2 * step * LANGEVIN_STEPS, "noises added without the damping"),
            WrongVariant("gain", (1 - step * s.p_next) ** (LANGEVIN_STEPS - 1), "one Langevin step too few"))


register(Scheme(
    "annealed_langevin", "Annealed Langevin dynamics (NCSN)", annealed_langevin,
    r"x \leftarrow x + \epsilon v_{t'}\,s_{t'}(x) + \sqrt{2\epsilon v_{t'}}\,z \text{ (10 times per level)}",
    SONG_ERMON, "Langevin dynamics at each noise level, annealed down to the last", "ve",
    # With its default step (0.1 v_t) it lags behind p_t as the levels shrink (bias of several SE at
    # 100 levels); a step of v_t tracks it within the measured bias.
    variants=(_variant({}, 100, 5000, step_ratio=1.0),),
    claims=_annealed_claims, wrong_variants=_annealed_wrong,
    weak_order=None,
    options=(Option("steps_per_level", LANGEVIN_STEPS, low=1), Option("step_ratio", 0.1, symbol="ratio_st", low=0.0)),
    measured_bias=0.6,  # 0.26 +- 0.16 at 100 levels, upper bound as above
))


def _edm_claims():
    s = _sym()
    return (Claim("gain", _heun_gain(s), _PG_ODE + ", Heun"),
            Claim("gain_last", 1 + s.dt * s.r_k, "Karras et al. (2022), Algorithm 1: Euler onto sigma = 0"))


def _edm_wrong():
    s = _sym()
    return (WrongVariant("gain", _heun_gain(s, predicted=False), "second slope taken at y_k, not at the predictor"),
            WrongVariant("gain_last", _heun_gain(s), "the second-order correction kept on the last step"))


register(Scheme(
    "edm_heun", "EDM's Heun sampler: Heun steps, Euler on the last", edm_heun,
    r"\text{Heun's step (pf\_heun), except on the last step: } x' = x + h\,b_0(t, x)",
    KARRAS, "the probability-flow ODE", "vp",
    variants=(_variant({}, 64),),
    claims=_edm_claims, wrong_variants=_edm_wrong,
    weak_order=2.0, deterministic_when={}, table=(Column("EDM-Heun"),), reverse_family=True,
))
