"""Generated W2 kernels, numba's and C's, against a plain loop over their definition (small structures: quick
compiles).

For each step k the kernel evaluates the gain :math:`a_k = \\sum_m c_{m,k} P_k^{e_0} P_{k+1}^{e_1}
\\prod_j P_{u_{j,k}}^{e_{j+2}}` with :math:`P_u = 1/(1 + e^{-2B(u)}(\\lambda - 1))` at the step's ends and at
the further points given by the rows of ``e_extra``, and composes :math:`A \\leftarrow a_k^2 A`,
:math:`b \\leftarrow a_k^2 b + n_k` (noise after the gain) or :math:`b \\leftarrow a_k^2 (b + n_k)` (noise
before it, EDM's churn); the loop below writes that down directly, so any slip in the generated source
(a power, an index, a row, the order of the noises) shows.
"""

from __future__ import annotations

import numpy as np
import pytest

from derivations.core import config

from checks.exact import kernel as w2_kernel
from checks.exact import kernel_c
from checks.exact import w2

# Both compilations of the generated source, each skipped where it cannot run.
KERNELS = [pytest.param(w2_kernel.run, marks=pytest.mark.skipif(not w2_kernel.available(), reason="numba not installed"),
                        id="numba"),
           pytest.param(kernel_c.run, marks=pytest.mark.skipif(not kernel_c.available(), reason="no C compiler"), id="c")]

# Every kind of factor: a constant, P_k, P_{k+1}, and P_k^2 P_{k+1/2}; the scheme injects noise.
STRUCTURE = (((0, 0, 0), (1, 0, 0), (0, 1, 0), (2, 0, 1)), True)
# Further points (rows 0..3 of e_extra; row 1 read by BEFORE only): noise before the gain (EDM's churn's
# shape), and a noiseless scheme with a squared power (DPM-Solver-3's shape and more).
BEFORE = (((0, 1, 0, 1, 0, 0), (0, 1, 0, 0, 0, 0), (0, 0, 0, 1, 0, 0), (0, 0, 0, 0, 0, 0)), True, True)
THIRDS = (((1, 0, 0, 0, 1, 1), (1, 0, 0, 0, 0, 1), (0, 0, 1, 0, 0, 2), (0, 0, 0, 0, 0, 0)), False, False)


def _oracle(structure, coefs, noises, e_points, e_extra, lam):
    x, composed, injected = lam - 1.0, np.ones_like(lam), np.zeros_like(lam)
    before = len(structure) > 2 and structure[2]
    for k in range(coefs.shape[1]):
        p = (1 / (1 + e_points[k] * x), 1 / (1 + e_points[k + 1] * x), *(1 / (1 + e[k] * x) for e in e_extra))
        a = sum(coefs[m, k] * np.prod([p[i] ** e for i, e in enumerate(powers)], axis=0)
                for m, powers in enumerate(structure[0]))
        composed = a**2 * composed
        injected = a**2 * (injected + noises[k]) if before else a**2 * injected + noises[k]
    return composed, injected


@pytest.mark.parametrize("run", KERNELS)
def test_a_generated_kernel_composes_the_step_maps(run):
    rng = np.random.default_rng(0)
    steps, lam = 6, np.array([0.0, 0.3, 1.0, 4.0, 25.0])
    e_points = np.exp(-2 * np.linspace(2.0, 0.1, steps + 1))
    e_mid = np.sqrt(e_points[:-1] * e_points[1:])
    coefs = rng.uniform(0.5, 1.5, (1, len(STRUCTURE[0]), steps))
    noises = rng.uniform(0.1, 1.0, (1, steps))
    gain_sq, tail = run((STRUCTURE,), coefs, noises, e_points, e_mid, lam - 1.0)
    composed, injected = _oracle(STRUCTURE, coefs[0], noises[0], e_points, e_mid[None, :], lam)
    np.testing.assert_allclose(gain_sq[0], composed, rtol=1e-12)
    np.testing.assert_allclose(tail[0], injected, rtol=1e-12)


@pytest.mark.parametrize("run", KERNELS)
def test_further_points_and_noise_before_the_gain(run):
    rng = np.random.default_rng(1)
    steps, lam = 7, np.array([0.0, 0.3, 1.0, 4.0, 25.0, 300.0])
    e_points = np.exp(-2 * np.linspace(2.0, 0.1, steps + 1))
    e_extra = np.exp(-2 * rng.uniform(0.1, 2.0, (4, steps)))
    structures = (BEFORE, THIRDS, (STRUCTURE[0], False))
    coefs = rng.uniform(0.5, 1.5, (3, 4, steps))
    noises = rng.uniform(0.1, 1.0, (3, steps))
    gain_sq, tail = run(structures, coefs, noises, e_points, e_extra, lam - 1.0)
    for s, structure in enumerate(structures):
        composed, injected = _oracle(structure, coefs[s], noises[s] * structure[1], e_points, e_extra, lam)
        np.testing.assert_allclose(gain_sq[s], composed, rtol=1e-12)
        np.testing.assert_allclose(tail[s], injected, rtol=1e-12, atol=0)
    alone = w2_kernel.kernel_source((THIRDS,))
    assert "ex1 =" not in alone and "p3 =" not in alone and "p4 =" in alone  # only the rows its schemes read


def test_noise_before_the_gain_is_scaled_by_it():
    """Noise before the gain composes as a_k^2 (b + n_k); noise after it (the wrong variant here) as a_k^2 b + n_k."""
    source = w2_kernel.kernel_source((BEFORE, BEFORE[:2]))
    assert "B0[j] = B0[j] * g + g * z0" in source and "B1[j] = B1[j] * g + z1" in source
    assert "B0[j] = B0[j] * g + z0" not in source


@pytest.mark.parametrize("run", KERNELS)
def test_blocks_and_threads_cover_every_eigenvalue(run, monkeypatch):
    """Spectra shorter than a block, one eigenvalue past a block, and many blocks over several threads: every
    eigenvalue gets its own composed map, none is left unwritten or written by a neighbour."""
    monkeypatch.setenv(config.THREADS, "3")
    rng = np.random.default_rng(2)
    steps = 5
    e_points = np.exp(-2 * np.linspace(2.0, 0.1, steps + 1))
    e_mid = np.sqrt(e_points[:-1] * e_points[1:])
    coefs = rng.uniform(0.5, 1.5, (1, len(STRUCTURE[0]), steps))
    noises = rng.uniform(0.1, 1.0, (1, steps))
    for size in (1, 7, w2_kernel.C_BLOCK, w2_kernel.C_BLOCK + 1, 5 * w2_kernel.C_BLOCK + 3, 1000):
        lam = rng.uniform(0.0, 50.0, size)
        gain_sq, tail = run((STRUCTURE,), coefs, noises, e_points, e_mid, lam - 1.0)
        composed, injected = _oracle(STRUCTURE, coefs[0], noises[0], e_points, e_mid[None, :], lam)
        np.testing.assert_allclose(gain_sq[0], composed, rtol=1e-12)
        np.testing.assert_allclose(tail[0], injected, rtol=1e-12)


def test_c_and_numba_sources_share_their_statements():
    """The C source is the numba source's statements, each ended by a semicolon: one generator, two compilers."""
    structures = (BEFORE, THIRDS, STRUCTURE)
    python, c = w2_kernel.kernel_source(structures), w2_kernel.c_source(structures, "marker")
    for line in w2_kernel.element_step(structures):
        assert f"{line}\n" in python and f"{line};\n" in c
    assert "ex1 = e_extra[(1) * n + k];" in c and "c1_2 = coefs[((1) * rows + 2) * n + k];" in c
    assert "z0 = noises[(0) * n + k];" in c and "z1 =" not in c  # THIRDS injects no noise
    assert "double *restrict out_A" in c and '"marker"' in c


@pytest.mark.skipif(not w2_kernel.available(), reason="needs numba")
def test_the_numba_kernels_leave_torch_on_its_thread_count():
    import torch

    from checks.exact.data import spectrum

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        w2.table(spectrum("cifar10")[:64], nfes=(50,), eps_values=(1e-3,), backend="numba")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
