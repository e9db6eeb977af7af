"""Drills on loss gradients at drawn logits, by autograd, cross-checked against the closed forms."""

import math

import torch
import torch.nn.functional as F

from quizzer.verifier import Context, Result


def bce_logit(ctx: Context) -> Result:
    """d/dz of BCEWithLogits(z, y) at a drawn logit z and label y."""
    p = ctx.params
    z = torch.tensor(float(p["z"]), dtype=torch.float64, requires_grad=True)
    F.binary_cross_entropy_with_logits(z, torch.tensor(float(p["y"]), dtype=torch.float64)).backward()
    measured = float(z.grad)
    closed = 1 / (1 + math.exp(-p["z"])) - p["y"]
    r = Result()
    r.value = round(measured, 4)
    r.claim(
        "autograd equals σ(z) − y", math.isclose(measured, closed, abs_tol=1e-12), f"{measured:.6f} vs {closed:.6f}"
    )
    r.figure("sigma", 1 / (1 + math.exp(-p["z"])), "{:.4f}")
    return r


def softmax_ce(ctx: Context) -> Result:
    """d/dz_i of cross-entropy(softmax(z), target) at drawn logits z = (z0, z1, z2)."""
    p = ctx.params
    logits = torch.tensor([float(p["z0"]), float(p["z1"]), float(p["z2"])], dtype=torch.float64, requires_grad=True)
    F.cross_entropy(logits.unsqueeze(0), torch.tensor([p["target"]])).backward()
    i = p["wrt"]
    measured = float(logits.grad[i])
    probs = [math.exp(v) for v in (p["z0"], p["z1"], p["z2"])]
    probs = [v / sum(probs) for v in probs]
    closed = probs[i] - (1.0 if i == p["target"] else 0.0)
    r = Result()
    r.value = round(measured, 4)
    r.claim(
        "autograd equals softmax_i − [i = target]",
        math.isclose(measured, closed, abs_tol=1e-12),
        f"{measured:.6f} vs {closed:.6f}",
    )
    r.claim(
        "the gradient sums to zero over the logits",
        abs(float(logits.grad.sum())) < 1e-12,
        f"{float(logits.grad.sum()):.1e}",
    )
    r.figure("prob", probs[i], "{:.4f}")
    return r
