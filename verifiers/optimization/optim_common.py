"""Shared toy problems and measurements for the Optimization deck's verifiers.

Everything here is small (hundreds of samples, a few thousand parameters) so a verifier runs in well
under a second on one CPU core. Nothing here knows a card's answer: it only builds problems and
measures them.
"""

from __future__ import annotations

import math

import torch
from torch import nn

DTYPE = torch.float64


# --------------------------------------------------------------------------------------------------
# A small regression problem and MLP (Q1, Q2, statements 1, 2, 4)
# --------------------------------------------------------------------------------------------------


def regression_data(n: int = 256, d: int = 8, noise: float = 0.1, seed: int = 0):
    """A nonlinear regression set: y = tanh(x·u) + sin(x·v) + noise, X ~ N(0, I)."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=DTYPE)
    u = torch.randn(d, generator=g, dtype=DTYPE) / math.sqrt(d)
    v = torch.randn(d, generator=g, dtype=DTYPE) / math.sqrt(d)
    y = torch.tanh(2 * X @ u) + torch.sin(2 * X @ v) + noise * torch.randn(n, generator=g, dtype=DTYPE)
    return X, y


def mlp(d: int = 8, h: int = 32, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, h), nn.Tanh(), nn.Linear(h, h), nn.Tanh(), nn.Linear(h, 1)).to(DTYPE)


def mse(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((model(X).squeeze(-1) - y) ** 2).mean()


def flat_grad(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The gradient of the mean loss over (X, y), flattened."""
    grads = torch.autograd.grad(mse(model, X, y), list(model.parameters()))
    return torch.cat([g.reshape(-1) for g in grads])


def per_sample_grads(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(N, P): the gradient of each sample's own loss, one backward pass per sample."""
    return torch.stack([flat_grad(model, X[i : i + 1], y[i : i + 1]) for i in range(len(X))])


def minibatch_variance_exact(G: torch.Tensor, B: int) -> float:
    """E‖g_B − ∇L‖² for a batch of B samples drawn WITHOUT replacement from the N rows of G.

    Standard finite-population result: (N−B)/(B(N−1)) · (1/N)Σ‖g_i − ḡ‖².
    """
    N = G.shape[0]
    spread = ((G - G.mean(0)) ** 2).sum(1).mean().item()
    return (N - B) / (B * (N - 1)) * spread


def minibatch_variance_mc(G: torch.Tensor, B: int, trials: int, seed: int = 1) -> float:
    """Monte-Carlo estimate of E‖g_B − ∇L‖²: draw `trials` random batches (as a shuffling loader does)."""
    g = torch.Generator().manual_seed(seed)
    N = G.shape[0]
    idx = torch.rand(trials, N, generator=g).argsort(1)[:, :B]
    pick = torch.zeros(trials, N, dtype=G.dtype).scatter_(1, idx, 1.0 / B)  # row t averages batch t
    est = pick @ G
    return ((est - G.mean(0)) ** 2).sum(1).mean().item()


class StepCost:
    """What one forward+backward step on a batch costs, measured while it runs.

    `saved_bytes`: bytes of the distinct tensors autograd saves for the backward pass (what must stay
    in memory between forward and backward: activations, plus the weights themselves).
    `macs`: multiply-accumulates of the forward pass, counted from the input shape every Linear/Conv
    layer actually received.
    """

    def __init__(self, model: nn.Module, loss_fn, X: torch.Tensor, y: torch.Tensor):
        self.saved_bytes = 0
        self.saved_elems = 0
        self.macs = 0
        seen: set[tuple[int, int]] = set()

        def pack(t: torch.Tensor):
            key = (t.data_ptr(), t.numel())
            if key not in seen:
                seen.add(key)
                self.saved_bytes += t.numel() * t.element_size()
                self.saved_elems += t.numel()
            return t

        def count(module, inputs, output):
            if isinstance(module, nn.Linear):
                self.macs += output.numel() * module.in_features
            elif isinstance(module, nn.Conv2d):
                k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
                self.macs += output.numel() * k

        hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Linear | nn.Conv2d)]
        try:
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                loss = loss_fn(model, X, y)
            loss.backward()
        finally:
            for h in hooks:
                h.remove()
        model.zero_grad(set_to_none=True)


def param_bytes(model: nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


# --------------------------------------------------------------------------------------------------
# A tilted double well written as a finite sum (statements 3 and 5)
# --------------------------------------------------------------------------------------------------

TILT = 1.0


def well(x: torch.Tensor) -> torch.Tensor:
    """F(x) = (x² − 1)² + x: a deep global minimum near −1.1 and a shallow local one near +0.84."""
    return (x**2 - 1) ** 2 + TILT * x


def well_grad(x: torch.Tensor) -> torch.Tensor:
    return 4 * x * (x**2 - 1) + TILT


def well_offsets(n: int = 256, scale: float = 6.0, seed: int = 0) -> torch.Tensor:
    """Per-sample losses f_i(x) = F(x) + a_i·x with Σa_i = 0, so the full-batch loss is exactly F.

    A mini-batch gradient is F'(x) + mean(a_batch): an unbiased estimate whose noise comes from the
    data, as in any finite-sum training loss.
    """
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, generator=g, dtype=DTYPE)
    return (a - a.mean()) / a.std() * scale


def well_stationary_points() -> list[tuple[float, float, str]]:
    """(x, F(x), 'min'/'max') of F, found numerically from sign changes of F' on a fine grid."""
    xs = torch.linspace(-2.5, 2.5, 50001, dtype=DTYPE)
    d = well_grad(xs)
    out = []
    for i in (torch.sign(d[1:]) != torch.sign(d[:-1])).nonzero().flatten().tolist():
        lo, hi = xs[i].clone(), xs[i + 1].clone()
        for _ in range(60):  # bisection on F'
            mid = (lo + hi) / 2
            if torch.sign(well_grad(mid)) == torch.sign(well_grad(lo)):
                lo = mid
            else:
                hi = mid
        x = ((lo + hi) / 2).item()
        kind = "min" if d[i] < 0 else "max"
        out.append((x, well(torch.tensor(x, dtype=DTYPE)).item(), kind))
    return out


def run_well(
    x0: float,
    steps: int,
    lr: float,
    batch: int | None,
    seeds: int,
    offsets: torch.Tensor,
    seed: int = 0,
    decay: bool = True,
):
    """Run GD (batch=None: exact gradient F') or mini-batch SGD from x0 for `seeds` independent runs.

    With `decay` the learning rate is constant for the first half, then decays (×0.2, then ×0.02) so SGD
    settles; without it, it stays constant. Returns the final x of every run (shape (seeds,)).
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.full((seeds,), float(x0), dtype=DTYPE)
    n = len(offsets)
    for t in range(steps):
        lr_t = lr * (1.0 if not decay or t < steps // 2 else 0.2 if t < 3 * steps // 4 else 0.02)
        grad = well_grad(x)
        if batch is not None:
            grad = grad + offsets[torch.randint(0, n, (seeds, batch), generator=g)].mean(1)
        x = x - lr_t * grad
    return x


# --------------------------------------------------------------------------------------------------
# A narrow ravine (statement 6)
# --------------------------------------------------------------------------------------------------


def ravine_problem(N: int = 256):
    """A realizable regression y = X·w_min whose inputs spread 30× more along one direction (rotated by 30°):
    with the least-squares loss, a ravine with Hessian eigenvalues about 1 and 900. Returns X, y, w_min."""
    g = torch.Generator().manual_seed(0)
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    Z = torch.randn(N, 2, generator=g, dtype=DTYPE)
    X = (Z / Z.std(0)) * torch.tensor([1.0, 30.0], dtype=DTYPE) @ torch.tensor([[c, s], [-s, c]], dtype=DTYPE)
    w_min = torch.tensor([2.0, -1.0], dtype=DTYPE)
    return X, X @ w_min, w_min


def residual_loss(residual: torch.Tensor) -> torch.Tensor:
    """Each sample's loss as a function of its residual: least squares, ½r²."""
    return 0.5 * residual**2


# --------------------------------------------------------------------------------------------------
# The inner problem of a bi-level layer (Q5)
# --------------------------------------------------------------------------------------------------


def inner_objective(w: torch.Tensor, Phi: torch.Tensor, y: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """g(w; Φ, λ) = ‖Φw − y‖² + λ‖w‖²: ridge regression on the features Φ, the layer's output is its argmin."""
    return ((Phi @ w - y) ** 2).sum() + lam * (w**2).sum()


# --------------------------------------------------------------------------------------------------
# Noisy least squares with an exact excess loss (Q3, statement 2)
# --------------------------------------------------------------------------------------------------


def lsq_problem(N: int = 1024, D: int = 10):
    """Noisy least squares y = X·w + ε, ε ~ N(0, 1); returns X, y, the Hessian H = XᵀX/N and the optimum w*."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(N, D, generator=g, dtype=DTYPE)
    y = X @ torch.randn(D, generator=g, dtype=DTYPE) + torch.randn(N, generator=g, dtype=DTYPE)
    H = X.T @ X / N
    w_star = torch.linalg.solve(H, X.T @ y / N)
    return X, y, H, w_star


def lsq_iterations_to_target(batch, lr, X, y, H, w_star, target, seeds=32, steps=300, seed=1):
    """Mini-batch SGD from w=0 in `seeds` parallel runs: iterations until the excess loss L(w) − L(w*)
    first drops to `target` (-1: never within `steps`). batch == N is full-batch GD."""
    N, D = X.shape
    g = torch.Generator().manual_seed(seed)
    W = torch.zeros(seeds, D, dtype=DTYPE)
    hit = torch.full((seeds,), -1)
    for t in range(1, steps + 1):
        full = batch == N  # full batch: every sample, no sampling
        idx = torch.arange(N).expand(seeds, N) if full else torch.randint(0, N, (seeds, batch), generator=g)
        Xb, yb = X[idx], y[idx]
        residual = torch.einsum("sbd,sd->sb", Xb, W) - yb
        W = W - lr * torch.einsum("sb,sbd->sd", residual, Xb) / batch
        E = W - w_star
        excess = 0.5 * ((E @ H) * E).sum(1)
        hit = torch.where((hit < 0) & (excess <= target), torch.full_like(hit, t), hit)
        if (hit > 0).all():
            break
    return hit.double()
