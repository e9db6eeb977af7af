"""Shared helpers for the "Losses and Activation functions" verifiers.

`build_mlpirate` is the question's own model, written exactly as in the course (question 2); the
activation class is a parameter only so that question 3 (tanh) and the ReLU statements can swap it.
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn

N = 42  # number of known global pirate hot spots
H = 128


def build_mlpirate(Act: type[nn.Module] = nn.Sigmoid) -> nn.Sequential:
    """The course's `mlpirate`, verbatim (with `Act` where the course writes `nn.Sigmoid`)."""
    mlpirate = nn.Sequential(
        nn.Linear(in_features=N, out_features=H),
        Act(),
        *[
            nn.Linear(in_features=H, out_features=H),
            Act(),
        ]
        * 24,
        nn.Linear(in_features=H, out_features=1),
    )
    return mlpirate


def build_unshared_mlpirate(Act: type[nn.Module] = nn.Sigmoid) -> nn.Sequential:
    """What the author presumably meant: 24 *independent* hidden layers (`for _ in range(24)`)."""
    hidden = [m for _ in range(24) for m in (nn.Linear(H, H), Act())]
    return nn.Sequential(nn.Linear(N, H), Act(), *hidden, nn.Linear(H, 1))


def distinct_linears(model: nn.Sequential) -> list[nn.Linear]:
    """The model's Linear modules in depth order, each once (a shared module counts once)."""
    return list(dict.fromkeys(m for m in model if isinstance(m, nn.Linear)))


@contextlib.contextmanager
def flush_denormals():
    """Treat subnormal floats as 0 while training nets whose tiny gradients are subnormal (2× faster on x86).

    Only numbers below 1.2e-38 are affected; nothing any verifier reports is that small. Restores
    PyTorch's default (off) afterwards.
    """
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def pirate_data(n: int = 128, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Synthetic 'pirates vs. global temperature' data: fewer pirates, hotter planet.

    X: pirate counts at the N hot spots (Poisson), y: temperature in °C = 16 - 1.5 log(1 + total
    pirates) + noise. Returned raw (the caller standardizes).
    """
    g = torch.Generator().manual_seed(seed)
    rate = torch.rand(n, 1, generator=g) * torch.rand(1, N, generator=g) * 60
    X = torch.poisson(rate, generator=g)
    y = 16.0 - 1.5 * torch.log1p(X.sum(1, keepdim=True)) + 0.1 * torch.randn(n, 1, generator=g)
    return X, y


def standardized_pirates(n_train: int = 128, n_val: int = 128, seed: int = 0):
    """Train/validation split, standardized with the training statistics."""
    X, y = pirate_data(n_train + n_val, seed)
    Xt, yt, Xv, yv = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    mx, sx, my, sy = Xt.mean(0), Xt.std(0), yt.mean(), yt.std()
    return (Xt - mx) / sx, (yt - my) / sy, (Xv - mx) / sx, (yv - my) / sy


def mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((pred - y) ** 2).mean()


def backward_profile(model: nn.Sequential, X: torch.Tensor, y: torch.Tensor) -> dict:
    """One forward/backward pass through `model` applied module by module (repeats included).

    Returns, for each Linear *call* in depth order (26 for mlpirate):
      - z_grad: ||dL/dz_l|| of its output (the backward signal reaching that layer), in float64
        (squaring 1e-23 in float32 underflows to 0, so the norm is taken in double);
      - spread: mean over units of the std over the batch of z_l (does z_l still depend on x?);
    and for each activation call the mean local derivative act'(z) (autograd, elementwise).
    Also the first and last Linear's weight-gradient norms (both are unshared modules).
    """
    model.zero_grad()
    h = X
    zs, act_slopes = [], []
    for module in model:
        if isinstance(module, nn.Linear):
            h = module(h)
            h.retain_grad()
            zs.append(h)
        else:
            z = h.detach().requires_grad_()
            (slope,) = torch.autograd.grad(module(z).sum(), z)
            act_slopes.append(slope.mean().item())
            h = module(h)
    loss = mse(h, y)
    loss.backward()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return {
        "loss": loss.item(),
        "z_grad": [z.grad.double().norm().item() for z in zs],
        "spread": [z.detach().std(0).mean().item() for z in zs],
        "act_slope": act_slopes,
        "w_first": linears[0].weight.grad.double().norm().item(),
        "w_last": linears[-1].weight.grad.double().norm().item(),
    }


def train(model: nn.Module, X, y, optimizer: torch.optim.Optimizer, steps: int) -> list[float]:
    """Full-batch training; the loss before each step."""
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = mse(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def per_layer_factor(ratio: float, layers: int) -> float:
    """Geometric-mean shrink factor per layer for an overall ratio over `layers` layers."""
    return math.exp(math.log(ratio) / layers) if ratio > 0 else 0.0


def log10(values: list[float]) -> list[float]:
    """log10 of positive norms, for plots spanning many orders of magnitude (0 is shown as -45: float32 underflow)."""
    return [math.log10(v) if v > 0 else -45.0 for v in values]


def fmt(x: float) -> str:
    return f"{x:.3g}"
