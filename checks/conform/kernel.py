r"""Reading a sampler's one-step kernel off its step function.

A step of an ancestral or DDIM-type sampler is affine in its inputs,

.. math::

    x_{\text{prev}} = c + A\,x_t + B\,\hat y + S\,z,

with :math:`\hat y` the model output (:math:`\hat\varepsilon`, :math:`\hat v` or :math:`\hat x_0`) and
:math:`z` the standard normal noise. Calling the step once on a batch of controlled inputs
(unit vectors, zero model output, a scripted noise) reads :math:`c, A, B, S`; a last batch
element at a generic point checks that the step is affine at all (clipping or thresholding
of :math:`\hat x_0` is not, and is reported as such rather than as wrong coefficients).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

# step(x_t, model_output, t, noise) -> x_prev, elementwise over a batch.
StepFn = Callable[[torch.Tensor, torch.Tensor, int, torch.Tensor], torch.Tensor]

# Batch columns: offset, unit x_t, unit model output, unit noise, and a generic point (affinity probe).
_PROBE = (0.5, -0.7, 0.3)
X = (0.0, 1.0, 0.0, 0.0, _PROBE[0])
Y = (0.0, 0.0, 1.0, 0.0, _PROBE[1])
Z = (0.0, 0.0, 0.0, 1.0, _PROBE[2])


@dataclass(frozen=True)
class Kernel:
    """One step's coefficients: ``x_prev = offset + a * x_t + b * model_output + s * z``."""

    offset: float
    a: float
    b: float
    s: float
    affine_residual: float  # |step(generic point) - affine prediction|: 0 up to rounding for an affine step


def read(step: StepFn, t: int, dtype: torch.dtype = torch.float64) -> Kernel:
    """The kernel of ``step`` at timestep ``t`` (one call on a batch of five)."""
    x, y, z = (torch.tensor(v, dtype=dtype) for v in (X, Y, Z))
    return from_outputs(step(x, y, t, z).to(torch.float64).reshape(-1).tolist())


def from_outputs(out) -> Kernel:
    """The kernel from the step's outputs on the batch ``X, Y, Z`` (the first five)."""
    offset = float(out[0])
    a, b, s = (float(out[k] - out[0]) for k in (1, 2, 3))
    predicted = offset + a * _PROBE[0] + b * _PROBE[1] + s * _PROBE[2]
    return Kernel(offset, a, b, s, abs(float(out[4]) - predicted))


@dataclass(frozen=True)
class TwoStage:
    r"""One step of a two-stage scheduler whose ``step()`` is called twice (predictor, then corrector):
    :math:`x_{mid} = c' + A' x + B' \hat y_1` and :math:`x' = c + A x + B_1 \hat y_1 + B_2 \hat y_2`, with
    :math:`\hat y_1` the model output at :math:`x` and :math:`\hat y_2` the one at :math:`x_{mid}` (fed to the
    second call). Read with the batch ``X, Y, Z`` of :func:`read`: the second model output takes the noise's
    column (neither stage draws noise), so ``composite.s`` is :math:`B_2` and ``predictor.s`` is 0."""

    predictor: Kernel
    composite: Kernel

    @property
    def coefficients(self) -> tuple[float, float, float, float]:
        """:math:`(c, A, B_1, B_2)` of the composite."""
        k = self.composite
        return k.offset, k.a, k.b, k.s


def from_stages(first_out, second_out) -> TwoStage:
    """The two-stage kernel from the outputs of the first call (on ``X`` with model output ``Y``) and of the
    second (on the first's output with model output ``Z``)."""
    return TwoStage(from_outputs(first_out), from_outputs(second_out))
