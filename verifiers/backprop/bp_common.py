"""The 2-layer MLP of Backpropagation Q1, its regularised BCE loss, and finite-difference helpers.

    ŷ⁽ⁱ⁾ = W₂ φ(W₁ x⁽ⁱ⁾ + b₁) + b₂,   L = (1/N) Σᵢ ℓ(y⁽ⁱ⁾, σ(ŷ⁽ⁱ⁾)) + λ/2 (‖W₁‖²_F + ‖W₂‖²_F)

ŷ is affine (a logit), so the course's BCE ℓ(y, p) = −y log p − (1−y) log(1−p) is applied to
p = σ(ŷ): the only reading in which log is defined for every ŷ.
"""

from __future__ import annotations

import math

import torch

DTYPE = torch.float64
N, D, H = 8, 4, 6  # samples, input features, hidden units
LAM = 0.1
PHI = torch.tanh  # φ of the MLP whose loss the finite-difference cards differentiate (`loss`'s default)

PHIS = {
    # φ and the φ' the hand-written formulas use (never autograd's)
    "tanh": (torch.tanh, lambda z: 1 - torch.tanh(z) ** 2),
    "relu": (torch.relu, lambda z: (z > 0).to(z.dtype)),
}


def problem(seed: int = 0) -> dict:
    """Data and parameters: x⁽ⁱ⁾ ∈ ℝᴰ, y⁽ⁱ⁾ ∈ {0,1}, W₁ ∈ ℝᴴˣᴰ, b₁ ∈ ℝᴴ, W₂ ∈ ℝ¹ˣᴴ, b₂ ∈ ℝ¹."""
    g = torch.Generator().manual_seed(seed)
    return {
        "X": torch.randn(N, D, generator=g, dtype=DTYPE),
        "y": torch.randint(0, 2, (N,), generator=g).to(DTYPE),
        "W1": torch.randn(H, D, generator=g, dtype=DTYPE) * 0.7,
        "b1": torch.randn(H, generator=g, dtype=DTYPE) * 0.3,
        "W2": torch.randn(1, H, generator=g, dtype=DTYPE) * 0.7,
        "b2": torch.randn(1, generator=g, dtype=DTYPE) * 0.3,
    }


def problem_in_unit_interval(seed: int = 0) -> dict:
    """The same data with a small W₂ and b₂ = 0.5, so that every output ŷ lies inside (0, 1) for both φ:
    the only data on which the *literal* reading ℓ(y, ŷ) (ŷ itself taken as the probability) is defined."""
    p = problem(seed)
    return p | {"W2": p["W2"] * 0.15, "b2": torch.full((1,), 0.5, dtype=DTYPE)}


def bce(y: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """The course's pointwise loss, written exactly as in the question."""
    return -y * torch.log(p) - (1 - y) * torch.log(1 - p)


def logits(X, W1, b1, W2, b2, phi=torch.tanh):
    """ŷ for every row of X (batched over leading dims of the parameters if they have one)."""
    return (phi(X @ W1.transpose(-1, -2) + b1.unsqueeze(-2)) @ W2.transpose(-1, -2)).squeeze(-1) + b2


def loss(X, y, W1, b1, W2, b2, lam=LAM, phi=None):
    yhat = logits(X, W1, b1, W2, b2, PHI if phi is None else phi)
    reg = lam / 2 * (W1.pow(2).sum((-1, -2)) + W2.pow(2).sum((-1, -2)))
    return bce(y, torch.sigmoid(yhat)).mean(-1) + reg


# ------------------------------------------------------------------ flat parameter vector θ

NAMES = ("W1", "b1", "W2", "b2")


def flatten(p: dict) -> torch.Tensor:
    return torch.cat([p[k].reshape(-1) for k in NAMES])


def unflatten(theta: torch.Tensor, p: dict) -> dict:
    """θ of shape (P,) or (K, P) → parameter tensors (with a leading K when batched)."""
    out, i = {}, 0
    lead = theta.shape[:-1]
    for k in NAMES:
        n = p[k].numel()
        out[k] = theta[..., i : i + n].reshape(*lead, *p[k].shape)
        i += n
    return out


class CountingLoss:
    """L(θ) on the fixed batch; counts every evaluation (a batch of K θ's counts K forward passes)."""

    def __init__(self, p: dict, dtype=DTYPE):
        self.p = {k: v.to(dtype) for k, v in p.items()}
        self.calls = 0

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        self.calls += math.prod(theta.shape[:-1]) if theta.dim() > 1 else 1
        q = unflatten(theta, self.p)
        return loss(self.p["X"], self.p["y"], q["W1"], q["b1"], q["W2"], q["b2"])


def forward_difference(f, theta: torch.Tensor, h: float) -> torch.Tensor:
    """gⱼ ≈ (L(θ + h eⱼ) − L(θ)) / h, one parameter at a time."""
    grad = torch.empty_like(theta)
    with torch.no_grad():
        base = f(theta)
        for j in range(theta.numel()):
            e = torch.zeros_like(theta)
            e[j] = h
            grad[j] = (f(theta + e) - base) / h
    return grad


def central_difference(f, theta: torch.Tensor, h: float) -> torch.Tensor:
    """gⱼ ≈ (L(θ + h eⱼ) − L(θ − h eⱼ)) / 2h, one parameter at a time."""
    grad = torch.empty_like(theta)
    with torch.no_grad():
        for j in range(theta.numel()):
            e = torch.zeros_like(theta)
            e[j] = h
            grad[j] = (f(theta + e) - f(theta - e)) / (2 * h)
    return grad


def autograd_gradient(f, theta: torch.Tensor) -> torch.Tensor:
    t = theta.detach().clone().requires_grad_(True)
    return torch.autograd.grad(f(t), t)[0]
