"""The registered reverse samplers: each composes the steps of :mod:`checks.sim.steps`.

Every sampler has the signature ``(model, grid, x_init, generator, **options)``;
``callback(k, t, x)``, where given, sees the state after each step.
"""

from __future__ import annotations

from typing import Callable

import torch

from checks.sim import steps
from checks.sim.registry import Grid, sampler

HO = "Ho, Jain, Abbeel (2020), Algorithm 2"
SONG_DDIM = "Song, Meng, Ermon (2021), eq. (12)"
SONG_SDE = "Song et al. (2021), eqs. (6), (13) and Algorithms 1-4"
SONG_ERMON = "Song & Ermon (2019), Algorithm 1"
ZHANG_CHEN = "Zhang & Chen (2023), DEIS, eq. (10); Lu et al. (2022), DPM-Solver-1"

Step = Callable[[torch.Tensor, float, float], torch.Tensor]


def _walk(step: Step, grid: Grid, x: torch.Tensor, callback=None) -> torch.Tensor:
    for k, (t, t_next) in enumerate(grid.pairs(), start=1):
        x = step(x, t, t_next)
        if callback is not None:
            callback(k, t_next, x)
    return x


@sampler("ddpm_ancestral", "the reverse chain p(x_{t-1} | x_t) of the forward process", HO,
         processes=("discrete", "continuous"),
         variants=({"variance": "beta"}, {"variance": "beta_tilde"}))
def ddpm_ancestral(model, grid, x_init, generator, variance="beta_tilde", callback=None):
    """DDPM ancestral sampling, variance :math:`\\beta_t` or :math:`\\tilde\\beta_t` (Ho et al. 2020, Alg. 2)."""
    return _walk(lambda x, t, s: steps.ancestral_step(model, grid.process, x, t, s, variance, generator),
                 grid, x_init, callback)


@sampler("ve_ancestral", "the reverse SMLD chain of the VE process", SONG_SDE,
         variants=({},))
def ve_ancestral(model, grid, x_init, generator, callback=None):
    """SMLD ancestral sampling (Song et al. 2021, eq. (47)): posterior variance of the VE chain."""
    return _walk(lambda x, t, s: steps.ancestral_step(model, grid.process, x, t, s, "beta_tilde", generator),
                 grid, x_init, callback)


@sampler("ddim", "the DDIM family, which keeps every marginal q(x_t | x_0)", SONG_DDIM,
         processes=("discrete", "continuous"),
         variants=({"eta": 0.0}, {"eta": 0.5}, {"eta": 1.0}), deterministic_when={"eta": 0.0})
def ddim(model, grid, x_init, generator, eta=0.0, callback=None):
    """DDIM on a (skipped) grid with :math:`\\eta \\in [0, 1]` (Song, Meng, Ermon 2021, eq. (12))."""
    if not 0 <= eta <= 1:
        raise ValueError(f"eta must lie in [0, 1], got {eta}")
    return _walk(lambda x, t, s: steps.ddim_step(model, grid.process, x, t, s, eta, generator),
                 grid, x_init, callback)


@sampler("reverse_sde_em", "the reverse SDE", SONG_SDE)
def reverse_sde_em(model, grid, x_init, generator, callback=None):
    """Euler–Maruyama on the reverse SDE: the :math:`\\lambda = 1` member of the family."""
    return lambda_family(model, grid, x_init, generator, lam=1.0, callback=callback)


@sampler("lambda_family", "the reverse lambda-family (lambda = 0: PF ODE, 1: reverse SDE)", SONG_SDE,
         variants=({"lam": 0.0}, {"lam": 0.5}, {"lam": 1.0}, {"lam": 2.0}), deterministic_when={"lam": 0.0})
def lambda_family(model, grid, x_init, generator, lam=1.0, callback=None):
    """Euler–Maruyama on drift :math:`f - \\frac12(1+\\lambda^2)g^2 s`, diffusion :math:`\\lambda g`."""
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    return _walk(lambda x, t, s: steps.lambda_family_step(model, grid.process, x, t, s, lam, generator),
                 grid, x_init, callback)


@sampler("exponential_integrator", "the reverse lambda-family, linear part exact, noise prediction frozen",
         ZHANG_CHEN, variants=({"lam": 0.0}, {"lam": 1.0}), deterministic_when={"lam": 0.0})
def exponential_integrator(model, grid, x_init, generator, lam=1.0, callback=None):
    """Exponential integrator with :math:`\\hat\\varepsilon` frozen per step (lam = 0: DDIM's ODE)."""
    return _walk(lambda x, t, s: steps.exponential_step(model, grid.process, x, t, s, lam, generator),
                 grid, x_init, callback)


def _pf_ode(ode_step) -> Callable:
    def run(model, grid, x_init, generator, callback=None):
        drift = steps.pf_drift(model, grid.process)
        return _walk(lambda x, t, s: ode_step(drift, x, t, s), grid, x_init, callback)

    return run


pf_euler = sampler("pf_euler", "the probability-flow ODE", SONG_SDE, weak_order=1.0,
                   deterministic_when={})(_pf_ode(steps.euler_step))
pf_heun = sampler("pf_heun", "the probability-flow ODE", "Karras et al. (2022), Algorithm 1", weak_order=2.0,
                  deterministic_when={})(_pf_ode(steps.heun_step))
pf_rk4 = sampler("pf_rk4", "the probability-flow ODE", "classical Runge-Kutta on Song et al. (2021), eq. (13)",
                 weak_order=4.0, deterministic_when={})(_pf_ode(steps.rk4_step))


@sampler("predictor_corrector", "the reverse SDE with Langevin correction at each level", SONG_SDE,
         weak_order=None)
def predictor_corrector(model, grid, x_init, generator, snr=0.16, corrector_steps=1, callback=None):
    """Reverse-diffusion (Euler–Maruyama) predictor, then Langevin corrector steps of size
    :math:`2 r^2 v_{t'}` (the value of Song et al.'s :math:`2(r\\|z\\|/\\|s\\|)^2` for Gaussian norms)."""

    def step(x, t, t_next):
        x = steps.lambda_family_step(model, grid.process, x, t, t_next, 1.0, generator)
        for _ in range(corrector_steps):
            x = steps.langevin_step(model, x, t_next, 2 * snr**2 * grid.process.at(t_next).var, generator)
        return x

    return _walk(step, grid, x_init, callback)


@sampler("annealed_langevin", "Langevin dynamics at each noise level, annealed down to the last", SONG_ERMON,
         weak_order=None)
def annealed_langevin(model, grid, x_init, generator, steps_per_level=10, step_ratio=0.1, callback=None):
    """NCSN annealed Langevin dynamics: at each level :math:`t_i` of the grid after the first,
    ``steps_per_level`` Langevin steps of size :math:`\\epsilon v_{t_i}` (:math:`\\alpha_i \\propto \\sigma_i^2`)."""

    def level(x, t, t_next):
        for _ in range(steps_per_level):
            x = steps.langevin_step(model, x, t_next, step_ratio * grid.process.at(t_next).var, generator)
        return x

    return _walk(level, grid, x_init, callback)
