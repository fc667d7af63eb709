r"""Data laws with exact scores of their noised marginals (the models the samplers are driven by).

Gaussian data :math:`\mathcal N(\mu, \Sigma)` with :math:`\Sigma = U \operatorname{diag}(\lambda) U^\top`
is independent per eigen-coordinate :math:`y = U^\top x`; each coordinate is a
one-component mixture, so both laws use the ``mixture.noised_score`` forms:

.. math:: \nabla \log p_t(x) = U\, s_{\mathrm{comp}}(U^\top x; m_t, v_t, U^\top\mu, \lambda).

Gaussian-mixture data uses the responsibilities
:math:`r_k \propto w_k \mathcal N(x; m_t\mu_k, m_t^2 s_k^2 + v_t)` (softmax of the
component log-densities) times the component scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from checks.sim.processes import ClosedForm, Process, derived

Model = Callable[[torch.Tensor, float], torch.Tensor]


def _kernel(process: Process, t: float, like: torch.Tensor) -> dict[str, torch.Tensor]:
    """The kernel moments at ``t`` as the notation's keyword arguments (tensors like ``like``)."""
    c = process.at(t)
    return {"kernel_mean_coef": torch.tensor(c.mean_coef, dtype=like.dtype, device=like.device),
            "kernel_var": torch.tensor(c.var, dtype=like.dtype, device=like.device)}


@dataclass(frozen=True)
class GaussianData:
    """:math:`\\mathcal N(\\mu, U\\operatorname{diag}(\\lambda)U^\\top)`; ``basis`` None means diagonal (U = I)."""

    mean: torch.Tensor  # (d,)
    eigenvalues: torch.Tensor  # (d,)
    basis: torch.Tensor | None = None  # (d, d), orthonormal columns

    @property
    def dim(self) -> int:
        return self.mean.shape[0]

    @staticmethod
    def random_full(dim: int, generator: torch.Generator, dtype=torch.float64, device="cpu") -> "GaussianData":
        """A full covariance with eigenvalues spread over [0.1, 2] and a random orthonormal basis."""
        gaussian = torch.randn(dim, dim, generator=generator, dtype=dtype, device=device)
        basis, _ = torch.linalg.qr(gaussian)
        eigenvalues = torch.linspace(0.1, 2.0, dim, dtype=dtype, device=device)
        mean = 0.5 * torch.randn(dim, generator=generator, dtype=dtype, device=device)
        return GaussianData(mean, eigenvalues, basis)

    def to_eigen(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.basis is None else x @ self.basis

    def from_eigen(self, y: torch.Tensor) -> torch.Tensor:
        return y if self.basis is None else y @ self.basis.T

    def eigen_mean(self) -> torch.Tensor:
        return self.to_eigen(self.mean)

    def diagonal(self) -> "GaussianData":
        """The same law in its eigenbasis (the coordinates the exact laws are computed in)."""
        return GaussianData(self.eigen_mean(), self.eigenvalues)

    def score(self, process: Process, closed_form: ClosedForm = derived) -> Model:
        component_score = closed_form("mixture.noised_score", "component_score")
        mean, eig = self.eigen_mean(), self.eigenvalues

        def model(x: torch.Tensor, t: float) -> torch.Tensor:
            y = self.to_eigen(x)
            score = component_score(x_t=y, mix_mean_1=mean.to(y), mix_var_1=eig.to(y), **_kernel(process, t, y))
            return self.from_eigen(score)

        return model

    def marginal(self, process: Process, t: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Eigen-coordinate mean and variance of :math:`p_t` (one-component ``marginal_*``)."""
        kernel = _kernel(process, t, self.mean)
        mean = derived("mixture.noised_score", "component_mean")(mix_mean_1=self.eigen_mean(), **kernel)
        var = derived("mixture.noised_score", "component_var")(mix_var_1=self.eigenvalues, **kernel)
        return mean, var

    def sample_marginal(self, process: Process, t: float, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` draws of :math:`p_t` (the exact start of a reverse sampler at :math:`t = T`)."""
        mean, var = self.marginal(process, t)
        z = torch.randn(n, self.dim, generator=generator, dtype=mean.dtype, device=mean.device)
        return self.from_eigen(mean + var.sqrt() * z)


@dataclass(frozen=True)
class MixtureData:
    """One-dimensional :math:`\\sum_k w_k \\mathcal N(\\mu_k, s_k^2)`; samples have shape (n, 1)."""

    weights: torch.Tensor
    means: torch.Tensor
    variances: torch.Tensor

    @property
    def dim(self) -> int:
        return 1

    def score(self, process: Process, closed_form: ClosedForm = derived) -> Model:
        log_density = closed_form("mixture.noised_score", "component_log_density")
        component_score = closed_form("mixture.noised_score", "component_score")

        def model(x: torch.Tensor, t: float) -> torch.Tensor:
            # components along the first axis, paths along the contiguous last one: torch's CPU softmax and
            # sum over a last axis of two entries cost about fifteen times as much as over the first
            parts = dict(x_t=x.reshape(1, -1), mix_mean_1=self.means.to(x)[:, None],
                         mix_var_1=self.variances.to(x)[:, None], **_kernel(process, t, x))
            responsibilities = torch.softmax(torch.log(self.weights.to(x))[:, None] + log_density(**parts), dim=0)
            return (responsibilities * component_score(**parts)).sum(dim=0).reshape(x.shape)

        return model

    def sample_marginal(self, process: Process, t: float, n: int, generator: torch.Generator) -> torch.Tensor:
        kernel = _kernel(process, t, self.means)
        dtype, device = self.means.dtype, self.means.device
        component = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        mean = derived("mixture.noised_score", "component_mean")(mix_mean_1=self.means, **kernel)[component]
        var = derived("mixture.noised_score", "component_var")(mix_var_1=self.variances, **kernel)[component]
        z = torch.randn(n, generator=generator, dtype=dtype, device=device)
        return (mean + var.sqrt() * z).unsqueeze(-1)
