"""Q2.2: when GD cannot be used — the full batch does not fit in memory, or the data is a stream."""

import math

import torch
from optim_common import DTYPE, StepCost, flat_grad, mlp, mse, regression_data
from torch import nn

from quizzer.verifier import Result

CIFAR_TRAIN = 50_000
GPU_BYTES = 16 * 2**30  # a common accelerator size, for scale


def small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 8 * 8, 10),
    )


def ce(model, X, y):
    return nn.functional.cross_entropy(model(X), y)


def drifting_stream(steps=3000, d=5, omega=0.0005, noise=0.1, seed=0):
    """x_t ~ N(0, I); y_t = w(t)·x_t + ε with w(t) rotating in a plane: a non-stationary stream."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(steps, d, generator=g, dtype=DTYPE)
    t = torch.arange(steps, dtype=DTYPE)
    W = torch.zeros(steps, d, dtype=DTYPE)
    W[:, 0], W[:, 1] = torch.cos(omega * t), torch.sin(omega * t)
    y = (X * W).sum(1) + noise * torch.randn(steps, generator=g, dtype=DTYPE)
    return X, y, W


def verify() -> Result:
    r = Result()

    # 1. The full batch's memory grows linearly with N: measure per-sample activation memory of a small CNN.
    cnn = small_cnn()
    costs = {}
    for b in (1, 2, 4):
        X = torch.randn(b, 3, 32, 32)
        costs[b] = StepCost(cnn, ce, X, torch.zeros(b, dtype=torch.long)).saved_bytes
    per_sample = costs[2] - costs[1]
    fixed = costs[1] - per_sample
    linear = costs[4] == fixed + 4 * per_sample
    full_batch = fixed + CIFAR_TRAIN * per_sample
    r.claim(
        "memory saved for backward is affine in the batch size (fixed + B × per-sample)",
        linear and per_sample > 0,
        f"B=1,2,4: {costs[1]}, {costs[2]}, {costs[4]} bytes → {per_sample} bytes/sample",
    )
    r.claim(
        f"one full-batch GD step over {CIFAR_TRAIN} CIFAR-sized images needs more than a 16 GiB accelerator",
        full_batch > GPU_BYTES,
        f"{full_batch / 2**30:.1f} GiB of saved activations for a single step",
    )

    # 2. Nuance: a finite dataset on disk still allows GD by accumulating chunk gradients (one full pass per step).
    Xr, yr = regression_data(512, seed=2)
    model = mlp()
    full = flat_grad(model, Xr, yr)
    accumulated = sum(flat_grad(model, Xr[i : i + 64], yr[i : i + 64]) * 64 for i in range(0, 512, 64)) / 512
    mem_full = StepCost(model, mse, Xr, yr).saved_bytes
    mem_chunk = StepCost(model, mse, Xr[:64], yr[:64]).saved_bytes
    r.part("accumulation_exact", torch.allclose(accumulated, full, atol=1e-12))
    r.claim(
        "accumulating chunk gradients gives exactly the full-batch gradient with a chunk's memory",
        torch.allclose(accumulated, full, atol=1e-12) and mem_chunk < mem_full / 4,
        f"max |diff| {(accumulated - full).abs().max().item():.1e}; memory {mem_chunk} vs {mem_full} bytes",
    )

    # 3. A non-stationary stream: there is no fixed full dataset whose gradient GD could follow.
    Xs, ys, Ws = drifting_stream()
    T, d = Xs.shape
    w = torch.zeros(d, dtype=DTYPE)
    lr = 0.05
    track = []
    for t in range(T):
        w = w - lr * (Xs[t] @ w - ys[t]) * Xs[t]  # online SGD: each sample used once, then discarded
        track.append(((w - Ws[t]) ** 2).sum().item())
    w_batch = torch.linalg.lstsq(Xs, ys.unsqueeze(1)).solution.squeeze(1)  # the exact minimiser over everything seen
    now = Ws[-1]
    err_sgd = ((w - now) ** 2).sum().item()  # excess loss on today's distribution (= ‖w − w*‖² since x ~ N(0, I))
    err_batch = ((w_batch - now) ** 2).sum().item()
    r.claim(
        "on a drifting stream, online SGD tracks the current target; the full-history optimum "
        "(what GD converges to) is stale",
        err_sgd < 0.2 * err_batch,
        f"excess loss on the current distribution: online SGD {err_sgd:.4f} vs full-batch optimum {err_batch:.4f}",
    )
    r.plot(
        "online SGD: distance to the moving target",
        range(0, T, 30),
        track[::30],
        xlabel="sample t",
        ylabel="‖w − w*(t)‖²",
    )

    r.figure("kib_per_sample", per_sample / 1024, "{:.0f}")
    r.figure("full_batch_gib", full_batch / 2**30, "{:.0f}")
    r.figure("b128_mib", (fixed + 128 * per_sample) / 2**20, "{:.0f}")
    r.figure("accumulation_error", (accumulated - full).abs().max().item(), "{:.0e}")
    r.figure("accumulation_memory", mem_chunk / mem_full, "{:.0%}")
    r.figure("stream_samples", T)
    r.figure("stream_rotation_degrees", math.degrees(0.0005 * T), "{:.0f}")
    r.figure("excess_online_sgd", err_sgd, "{:.4f}")
    r.figure("excess_full_history", err_batch, "{:.2f}")
    r.note(
        f"Small CNN on 3×32×32 images: {per_sample / 1024:.0f} KiB of activations per sample must stay alive "
        f"for backward, so a true full-batch step on {CIFAR_TRAIN} images needs {full_batch / 2**30:.1f} GiB; "
        f"a B=128 step needs {(fixed + 128 * per_sample) / 2**20:.0f} MiB."
    )
    r.note(
        f"Chunked accumulation (8 chunks of 64) reproduces the exact GD gradient (max diff "
        f"{(accumulated - full).abs().max().item():.0e}) with {mem_chunk / mem_full:.0%} of the memory — "
        "so 'doesn't fit' really means 'one full pass per update', which is impractically slow."
    )
    r.note(
        f"Stream of {T} samples whose target rotates {math.degrees(0.0005 * T):.0f}°: online SGD ends "
        f"{err_sgd:.4f} from the current target, the least-squares fit of all history {err_batch:.4f}."
    )
    r.note(
        "With streaming / online data there is no fixed finite sum to differentiate: only per-sample "
        "(or small-batch) updates are possible."
    )
    return r
