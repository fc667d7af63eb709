"""The exact W2 table of Pierret & Galerne: ``w2`` (grids, output variances, the table), ``columns``
(the catalogue's table columns), ``forms`` (their step maps lambdified), ``backends`` (numpy, torch,
numba) and ``kernel`` (the generated numba kernels)."""
