"""A generated W2 kernel against a plain loop over its definition (one small structure: a quick compile).

For each step k the kernel evaluates the gain :math:`a_k = \\sum_m c_{m,k} P_k^{e_0} P_{k+1}^{e_1}
P_{k+1/2}^{e_2}` with :math:`P_u = 1/(1 + e^{-2B(u)}(\\lambda - 1))` and composes
:math:`A \\leftarrow a_k^2 A`, :math:`b \\leftarrow a_k^2 b + n_k`; the loop below writes that down
directly, so any slip in the generated source (a power, an index, the order of the noises) shows.
"""

from __future__ import annotations

import numpy as np
import pytest

from checks.exact import kernel as w2_kernel

# Every kind of factor: a constant, P_k, P_{k+1}, and P_k^2 P_{k+1/2}; the scheme injects noise.
STRUCTURE = (((0, 0, 0), (1, 0, 0), (0, 1, 0), (2, 0, 1)), True)


@pytest.mark.skipif(not w2_kernel.available(), reason="numba not installed")
def test_a_generated_kernel_composes_the_step_maps():
    rng = np.random.default_rng(0)
    steps, lam = 6, np.array([0.0, 0.3, 1.0, 4.0, 25.0])
    e_points = np.exp(-2 * np.linspace(2.0, 0.1, steps + 1))
    e_mid = np.sqrt(e_points[:-1] * e_points[1:])
    coefs = rng.uniform(0.5, 1.5, (1, len(STRUCTURE[0]), steps))
    noises = rng.uniform(0.1, 1.0, (1, steps))
    gain_sq, tail = w2_kernel.run((STRUCTURE,), coefs, noises, e_points, e_mid, lam - 1.0)
    x, composed, injected = lam - 1.0, np.ones_like(lam), np.zeros_like(lam)
    for k in range(steps):
        p = (1 / (1 + e_points[k] * x), 1 / (1 + e_points[k + 1] * x), 1 / (1 + e_mid[k] * x))
        a = sum(coefs[0, m, k] * p[0] ** e0 * p[1] ** e1 * p[2] ** e2 for m, (e0, e1, e2) in enumerate(STRUCTURE[0]))
        composed, injected = a**2 * composed, a**2 * injected + noises[0, k]
    np.testing.assert_allclose(gain_sq[0], composed, rtol=1e-12)
    np.testing.assert_allclose(tail[0], injected, rtol=1e-12)
