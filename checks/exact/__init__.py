"""Exact laws without sampling: the Pierret–Galerne W2 table over a spectrum, from the derived
step maps (numpy, torch and generated numba kernels)."""
