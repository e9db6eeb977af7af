"""Drills on parameter counts of MLPs, including modules reused by `[...] * n` (shared, counted once)."""

import torch.nn as nn

from quizzer.verifier import Context, Result


def _count(model: nn.Module) -> int:
    """What torch trains: `parameters()` yields a shared tensor once."""
    return sum(t.numel() for t in model.parameters())


def mlp(ctx: Context) -> Result:
    """Parameters of Linear(d_in, h) → ReLU → (Linear(h, h) → ReLU) × blocks → Linear(h, d_out), all distinct."""
    p = ctx.params
    d_in, h, d_out, n = p["d_in"], p["hidden"], p["d_out"], p["blocks"]
    hidden = [m for _ in range(n) for m in (nn.Linear(h, h), nn.ReLU())]
    model = nn.Sequential(nn.Linear(d_in, h), nn.ReLU(), *hidden, nn.Linear(h, d_out))
    measured = _count(model)
    formula = (d_in * h + h) + n * (h * h + h) + (h * d_out + d_out)
    r = Result()
    r.value = measured
    r.claim("torch's count equals Σ (fan_in·fan_out + fan_out)", measured == formula, f"{measured} vs {formula}")
    r.figure("per_hidden", h * h + h, "{:,}")
    r.figure("total", measured, "{:,}")
    return r


def shared_mlp(ctx: Context) -> Result:
    """Parameters when the hidden block is `[nn.Linear(h, h), nn.ReLU()] * n`: one Linear used n times."""
    p = ctx.params
    d_in, h, d_out, n = p["d_in"], p["hidden"], p["d_out"], p["repeats"]
    model = nn.Sequential(nn.Linear(d_in, h), nn.ReLU(), *([nn.Linear(h, h), nn.ReLU()] * n), nn.Linear(h, d_out))
    measured = _count(model)
    distinct = {id(m) for m in model if isinstance(m, nn.Linear)}
    formula = (d_in * h + h) + (h * h + h) + (h * d_out + d_out)
    unshared = formula + (n - 1) * (h * h + h)
    r = Result()
    r.value = measured
    r.claim("the repeated Linear is one module", len(distinct) == 3, f"{len(distinct)} distinct Linear modules")
    r.claim("torch counts the shared matrix once", measured == formula, f"{measured} vs {formula}")
    r.figure("unshared", unshared, "{:,}")
    r.figure("total", measured, "{:,}")
    return r
