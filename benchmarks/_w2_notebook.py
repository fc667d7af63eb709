r"""The exact W2 table computed the way a notebook does: a plain numpy loop over the steps.

The baseline that ``benchmarks/cli_latency.py`` times ``diffverify w2-table`` against: the
straightforward program a user would otherwise write (in the manner of the notebook that comes
with Pierret & Galerne, ICML 2025). For every cell (scheme, truncation time, initialization,
NFE), a Python loop over the grid's steps, each step updating the variance of every eigenvalue
at once with the scheme's covariance recursion :math:`c \mapsto a_k^2 c + b_k` typed in from the
paper's update rules (``checks/exact/data/pierret_galerne/README.md``; EDM's Heun from Karras et al.
2022, Algorithm 1); the continuous rows from their
closed forms. Nothing here comes from the suite (no SymPy, no cache); the benchmark compares its
numbers with the suite's.

    python3 benchmarks/_w2_notebook.py --eigenvalues FILE.npy     # the table as CSV on stdout

(The leading underscore keeps it out of ``make bench``: it is a baseline, run by cli_latency.py.)
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

T = 1.0
BETA_MIN, BETA_MAX = 0.05, 10.0
NFES = (50, 100, 250, 500, 1000)
EPS_VALUES = (0.0, 1e-5, 1e-4, 1e-3)
INITS = ("p_T", "N0")
# Grid points for a column's NFE (the readings that reproduce the published table).
POINTS = {"EM": lambda n: n, "EI": lambda n: n, "DDPM": lambda n: n, "Euler": lambda n: n, "Heun": lambda n: n,
          "EDM-Heun": lambda n: n, "RK4": lambda n: n // 4, "DDIM-eta0": lambda n: n, "DDIM-eta1": lambda n: n}


def beta(u):
    return BETA_MIN + (BETA_MAX - BETA_MIN) * u


def B(u):
    return BETA_MIN * u + (BETA_MAX - BETA_MIN) * u**2 / 2


def sigma(lam, u):
    """Variance of p_u per eigenvalue: e^{-2B(u)} lam + 1 - e^{-2B(u)}."""
    e = np.exp(-2 * B(u))
    return e * lam + 1 - e


def step(scheme, lam, c, u0, u1, dt, last=False):
    """One step from forward time u0 to u1 < u0 (reversed-time step dt): the new variance. ``last``: the
    grid's last step (EDM's Heun takes an Euler step there)."""
    p0, b0 = 1 / sigma(lam, u0), beta(u0)
    if scheme == "EM":
        return (1 + dt * b0 * (1 - 2 * p0)) ** 2 * c + 2 * dt * b0
    if scheme == "EI":
        r = B(u0) - B(u1)
        g1, g2 = math.exp(r) - 1, (math.exp(2 * r) - 1) / 2
        return (1 + g1 * (1 - 2 * p0)) ** 2 * c + 2 * g2
    if scheme == "DDPM":
        bd = 2 * dt * b0
        return (1 - bd * p0) ** 2 / (1 - bd) * c + bd
    f0 = b0 * (1 - p0)  # probability-flow drift y -> f0 y
    if scheme == "Euler" or (scheme == "EDM-Heun" and last):
        return (1 + dt * f0) ** 2 * c
    if scheme in ("Heun", "EDM-Heun"):
        f1 = beta(u1) * (1 - 1 / sigma(lam, u1))
        return (1 + dt / 2 * (f0 + f1 * (1 + dt * f0))) ** 2 * c
    if scheme == "RK4":
        um = (u0 + u1) / 2
        fm, f1 = beta(um) * (1 - 1 / sigma(lam, um)), beta(u1) * (1 - 1 / sigma(lam, u1))
        k1 = f0
        k2 = fm * (1 + dt / 2 * k1)
        k3 = fm * (1 + dt / 2 * k2)
        k4 = f1 * (1 + dt * k3)
        return (1 + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)) ** 2 * c
    if scheme.startswith("DDIM"):
        eta = 0.0 if scheme == "DDIM-eta0" else 1.0
        a0, a1 = math.exp(-2 * B(u0)), math.exp(-2 * B(u1))
        s2 = eta**2 * (1 - a1) / (1 - a0) * (1 - a0 / a1)
        eps_gain = math.sqrt(1 - a0) * p0  # eps_hat = sqrt(1 - a0) Sigma^{-1} y
        gain = math.sqrt(a1) * (1 - math.sqrt(1 - a0) * eps_gain) / math.sqrt(a0) + math.sqrt(1 - a1 - s2) * eps_gain
        return gain**2 * c + s2
    raise ValueError(f"unknown scheme {scheme!r}")


def w2(c, lam):
    return math.sqrt(np.sum((np.sqrt(c) - np.sqrt(lam)) ** 2))


def table(lam):
    rows = []
    for kind in ("SDE", "ODE"):
        for eps in EPS_VALUES:
            for init in INITS:
                s_eps, s_T = sigma(lam, eps), sigma(lam, T)
                c0 = s_T if init == "p_T" else np.ones_like(lam)
                if kind == "ODE":
                    c = s_eps / s_T * c0
                else:
                    c = s_eps + (s_eps / s_T) ** 2 * math.exp(-2 * (B(T) - B(eps))) * (c0 - s_T)
                rows.append((kind, eps, init, "continuous", w2(c, lam)))
    for scheme, points in POINTS.items():
        for eps in EPS_VALUES:
            for init in INITS:
                for nfe in NFES:
                    t = np.linspace(0.0, T - eps, points(nfe))
                    c = sigma(lam, T) if init == "p_T" else np.ones_like(lam)
                    for k in range(len(t) - 1):
                        c = step(scheme, lam, c, T - t[k], T - t[k + 1], t[k + 1] - t[k], last=k == len(t) - 2)
                    rows.append((scheme, eps, init, nfe, w2(c, lam)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eigenvalues", required=True, help="a .npy file of covariance eigenvalues")
    args = parser.parse_args(argv)
    lam = np.abs(np.load(args.eigenvalues).astype(np.float64))
    with np.errstate(all="ignore"):
        rows = table(lam)
    out = ["scheme,eps,init,nfe,w2"]
    out += [f"{s},{e!r},{i},{n},{'divergent' if not math.isfinite(v) else f'{v:.6g}'}" for s, e, i, n, v in rows]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
