"""Q1: SGD vs mini-batch SGD vs GD — gradient noise and per-step cost as a function of batch size."""

import math

import torch
from optim_common import (
    StepCost,
    flat_grad,
    minibatch_variance_exact,
    minibatch_variance_mc,
    mlp,
    mse,
    per_sample_grads,
    regression_data,
)
from torch.utils.data import DataLoader, TensorDataset

from quizzer.verifier import Result, samples

N = 256


def verify() -> Result:
    r = Result()
    X, y = regression_data(N)
    model = mlp()
    G = per_sample_grads(model, X, y)  # (N, P)
    full = flat_grad(model, X, y)
    signal = (full**2).sum().item()

    r.claim(
        "the average of the N per-sample gradients is the full-batch (GD) gradient",
        torch.allclose(G.mean(0), full, atol=1e-10),
        f"max |diff| = {(G.mean(0) - full).abs().max().item():.1e}",
    )

    variants = {"SGD (B=1)": 1, "mini-batch (B=32)": 32, "GD (B=N=256)": N}
    var, mc, cost, steps = {}, {}, {}, {}
    loaders = {}
    for name, B in variants.items():
        var[name] = minibatch_variance_exact(G, B)
        mc[name] = minibatch_variance_mc(G, B, trials=300)
        cost[name] = StepCost(model, mse, X[:B], y[:B])
        loaders[name] = DataLoader(TensorDataset(X, y), batch_size=B, shuffle=True)
        steps[name] = len(loaders[name])

    sgd, mb, gd = variants
    r.figure("steps_sgd", steps[sgd])
    r.figure("steps_minibatch", steps[mb])
    r.figure("steps_gd", steps[gd])
    r.claim(
        "Monte-Carlo batch sampling agrees with the exact finite-population variance (within 15%)",
        all(abs(mc[k] - var[k]) <= 0.15 * var[k] for k in (sgd, mb)) and mc[gd] < 1e-20,
        ", ".join(f"{k}: MC {mc[k]:.3g} vs exact {var[k]:.3g}" for k in variants),
    )
    r.claim(
        "gradient noise E‖g_B − ∇L‖² falls with batch size and is zero for GD",
        var[sgd] > var[mb] > var[gd] and var[gd] == 0.0,
        f"{var[sgd]:.3g} > {var[mb]:.3g} > {var[gd]:.3g}",
    )
    r.claim(
        "forward compute per step is proportional to B",
        cost[mb].macs == 32 * cost[sgd].macs and cost[gd].macs == N * cost[sgd].macs,
        ", ".join(f"{k}: {cost[k].macs} MACs" for k in variants),
    )
    slope = (cost[gd].saved_bytes - cost[mb].saved_bytes) / (N - 32)
    r.claim(
        "memory saved for backward grows linearly with B (weights + B × per-sample activations)",
        slope > 0 and cost[mb].saved_bytes - cost[sgd].saved_bytes == slope * 31,
        ", ".join(f"{k}: {cost[k].saved_bytes} B" for k in variants) + f"; {slope:.0f} bytes per extra sample",
    )
    r.part("updates_per_epoch", samples([({"N": N, "B": B}, steps[k]) for k, B in variants.items()], tolerance=0))
    r.claim(
        "updates per epoch are N/B (counted from a DataLoader)",
        [steps[k] for k in variants] == [N // B for B in variants.values()],
        ", ".join(f"{k}: {steps[k]}" for k in variants),
    )

    r.note(f"Toy problem: a 8→32→32→1 tanh MLP on N={N} regression samples; ‖∇L‖² = {signal:.3g}.")
    for k in variants:
        r.note(
            f"{k}: {steps[k]} update(s)/epoch, gradient noise E‖g−∇L‖² = {var[k]:.3g} "
            f"({var[k] / signal:.2g}× ‖∇L‖²), {cost[k].macs} forward MACs, "
            f"{cost[k].saved_bytes / 1024:.1f} KiB saved for backward."
        )
    r.note(
        "Noise ∝ (N−B)/(B(N−1)): B=1 is the noisiest unbiased estimate, B=N is exact; cost and memory per "
        "step grow linearly in B, so the batch size trades noise for cost per update."
    )
    bs = [1, 2, 4, 8, 16, 32, 64, 128]  # B = N is exactly 0: off a log scale
    noise = [minibatch_variance_exact(G, b) for b in bs]
    halvings = [noise[i] / noise[i + 1] for i in range(len(bs) - 1)]
    r.note(
        f"Figure: log10 of the gradient noise against log2 B. Each doubling of B divides it by "
        f"{min(halvings):.2f}–{max(halvings):.2f} (≈ 2, the 1/B law; more near B = N, where the finite-population "
        "factor N−B takes over), down to exactly 0 at B = N."
    )
    r.plot(
        "log10 gradient noise E‖g_B − ∇L‖²",
        [math.log2(b) for b in bs],
        [math.log10(v) for v in noise],
        xlabel="log2 batch size B",
        ylabel="log10 E‖g_B − ∇L‖²",
    )
    return r
