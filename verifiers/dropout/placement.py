"""Dropout question 2: "dropout must be placed only after the activation function" — decided by measurement.

The statement is false if dropout placed elsewhere is still a working regulariser. Measured:
(a) with ReLU, dropout before or after the activation gives bit-identical outputs (same mask);
(b) with tanh / sigmoid the two placements differ, so the placement is a design choice;
(c) dropout on the inputs (before any activation) provably regularises: for linear regression its
    expected loss is the MSE plus an L2 penalty, and training with it lands on that ridge solution.
"""

import torch
import torch.nn as nn

from quizzer.verifier import Result


def same_mask(fn, seed=123):
    torch.manual_seed(seed)
    return fn()


def verify() -> Result:
    r = Result()
    torch.manual_seed(0)
    p = 0.3
    drop = nn.Dropout(p).train()
    x = torch.randn(200_000)

    # (a) ReLU: relu(drop(x)) vs drop(relu(x)) with the same dropout mask.
    relu_before = same_mask(lambda: torch.relu(drop(x)))
    relu_after = same_mask(lambda: drop(torch.relu(x)))
    d_relu = (relu_before - relu_after).abs().max().item()
    relu_identical = d_relu == 0.0
    r.claim(
        "ReLU: dropout before or after the activation gives identical outputs (same mask)",
        relu_identical,
        f"max |Δ| = {d_relu:g} over {x.numel():,} units",
    )
    r.note(
        f"ReLU, p={p}, same mask: max |relu(drop(x)) − drop(relu(x))| = {d_relu:g}. ReLU(0)=0 and ReLU(c·z)=c·ReLU(z) "
        "for c>0, so dropping/scaling commutes with it."
    )

    # (b) Other activations: the placements differ (tanh is not positively homogeneous; sigmoid(0)=0.5).
    diffs = {}
    for name, f in {"tanh": torch.tanh, "sigmoid": torch.sigmoid}.items():
        before = same_mask(lambda f=f: f(drop(x)))
        after = same_mask(lambda f=f: drop(f(x)))
        diffs[name] = (
            (before - after).abs().max().item(),
            (before == 0).float().mean().item(),
            (after == 0).float().mean().item(),
        )
    r.figure("tanh_placement_gap", diffs["tanh"][0], "{:.2f}")
    r.figure("sigmoid_placement_gap", diffs["sigmoid"][0], "{:.2f}")
    r.claim(
        "tanh and sigmoid: the two placements give different outputs",
        all(d > 0.1 for d, *_ in diffs.values()),
        ", ".join(f"{k}: max |Δ| = {v[0]:.3f}" for k, v in diffs.items()),
    )
    for k, (d, z_before, z_after) in diffs.items():
        r.note(
            f"{k}: max |f(drop(x)) − drop(f(x))| = {d:.3f}; units output exactly 0: {z_before:.1%} with dropout before "
            f"f, {z_after:.1%} after."
        )
    r.note(
        "With sigmoid, dropout before the activation does not silence a unit (sigmoid(0) = 0.5); it zeroes the "
        "pre-activation, so a dropped unit outputs 0.5: the two placements are different noise models."
    )

    # (c) Dropout on the inputs of a linear regression = an L2 penalty in expectation:
    #     E||y − (m⊙x/(1−p))·w||² / n = ||y − Xw||² / n + p/(1−p) · Σ_i w_i² mean(x_i²).
    n, d = 64, 5
    X = torch.randn(n, d, dtype=torch.float64) * torch.tensor([1.0, 2.0, 0.5, 1.5, 1.0], dtype=torch.float64)
    w_true = torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0], dtype=torch.float64)
    y = X @ w_true + 0.5 * torch.randn(n, dtype=torch.float64)
    w = torch.tensor([0.5, -1.0, 1.0, 0.3, 2.0], dtype=torch.float64)
    masks = torch.bernoulli(torch.full((4000, n, d), 1 - p, dtype=torch.float64)) / (1 - p)
    mc_loss = ((y - ((masks * X) @ w)) ** 2).mean().item()
    mse = ((y - X @ w) ** 2).mean().item()
    penalty = p / (1 - p) * (w**2 * (X**2).mean(0)).sum().item()
    r.claim(
        "input dropout's expected loss = MSE + p/(1−p)·Σ w_i² mean(x_i²) (Monte Carlo, 4000 masks)",
        abs(mc_loss - (mse + penalty)) < 0.02 * (mse + penalty) and penalty > 0.1 * mse,
        f"MC {mc_loss:.4f} vs {mse:.4f} + {penalty:.4f} = {mse + penalty:.4f}",
    )
    r.note(
        f"Input dropout (p={p}) on linear regression: Monte-Carlo loss {mc_loss:.4f} = plain MSE {mse:.4f} + L2 "
        f"penalty {penalty:.4f} (formula {mse + penalty:.4f})."
    )

    # Train with nn.Dropout on the inputs (placed BEFORE the only layer: no activation anywhere).
    torch.manual_seed(0)
    model = nn.Sequential(nn.Dropout(p), nn.Linear(d, 1, bias=False)).double().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.02)
    Xr, yr = X.repeat(64, 1), y.repeat(64)  # 64 independent masks per example and step
    for step in range(400):
        for g in opt.param_groups:
            g["lr"] = 0.02 * (1 - step / 400) + 1e-4
        opt.zero_grad()
        loss = ((model(Xr).squeeze(1) - yr) ** 2).mean()
        loss.backward()
        opt.step()
    w_drop = model[1].weight.detach().squeeze(0)
    G = X.T @ X
    w_ols = torch.linalg.solve(G, X.T @ y)
    w_ridge = torch.linalg.solve(G + p / (1 - p) * torch.diag(G.diagonal()), X.T @ y)
    dist_ridge = (w_drop - w_ridge).norm().item()
    dist_ols = (w_drop - w_ols).norm().item()
    shrinks = w_drop.norm().item() < w_ols.norm().item()
    r.figure("dist_ridge", dist_ridge, "{:.2f}")
    r.figure("dist_ols", dist_ols, "{:.2f}")
    trained_like_ridge = dist_ridge < 0.25 * dist_ols
    r.claim(
        "trained with input dropout, the weights land on the ridge solution, not on least squares, and are shrunk",
        trained_like_ridge and shrinks,
        f"||w − w_ridge|| = {dist_ridge:.3f}, ||w − w_OLS|| = {dist_ols:.3f}; ||w|| = {w_drop.norm():.3f} < ||w_OLS|| "
        f"= {w_ols.norm():.3f}",
    )
    r.note(
        f"Figure: the 5 weights of the linear model trained with input dropout sit on the ridge solution "
        f"(distance {dist_ridge:.2f}), not on least squares (distance {dist_ols:.2f}): dropout before any activation "
        "acts as an L2 penalty."
    )
    coords = range(1, d + 1)
    r.plot("trained with input dropout", coords, w_drop.tolist(), xlabel="weight index", ylabel="weight")
    r.plot("ridge solution (λ_i = p/(1−p)·Σx_i²)", coords, w_ridge.tolist(), xlabel="weight index", ylabel="weight")
    r.plot("least squares (no dropout)", coords, w_ols.tolist(), xlabel="weight index", ylabel="weight")

    # Decision: "must be placed ONLY after the activation" is refuted by any other placement that works.
    penalty_matches = abs(mc_loss - (mse + penalty)) < 0.02 * (mse + penalty)
    alternatives = {
        "before a ReLU (identical to after it)": relu_identical,
        "on the inputs, before any activation (an L2 regulariser)": penalty_matches and trained_like_ridge and shrinks,
    }
    working = [name for name, works in alternatives.items() if works]
    r.value = not working
    r.note(
        "Placements other than after the activation that work: "
        + ("; ".join(working) or "none")
        + f" → the statement is {r.value}."
    )
    return r
