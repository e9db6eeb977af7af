"""Drills on mini-batches: optimizer steps per epoch and over a run, counted on a real DataLoader."""

import math

import torch
from torch.utils.data import DataLoader, TensorDataset

from quizzer.verifier import Context, Result


def _steps(n: int, batch: int, drop_last: bool) -> tuple[int, int]:
    """Steps one epoch takes, counted by iterating, and the size of its last batch."""
    loader = DataLoader(TensorDataset(torch.zeros(n, 1)), batch_size=batch, shuffle=True, drop_last=drop_last)
    sizes = [len(xb) for (xb,) in loader]
    return len(sizes), sizes[-1]


def steps_per_epoch(ctx: Context) -> Result:
    p = ctx.params
    drop = bool(p["drop_last"])
    ctx.require(p["n"] >= p["batch"], "at least one full batch")
    steps, last = _steps(p["n"], p["batch"], drop)
    formula = p["n"] // p["batch"] if drop else math.ceil(p["n"] / p["batch"])
    r = Result()
    r.value = steps
    r.claim("the counted steps equal ⌈N/B⌉ (⌊N/B⌋ with drop_last)", steps == formula, f"{steps} vs {formula}")
    r.figure("last", last)
    return r


def run_steps(ctx: Context) -> Result:
    p = ctx.params
    ctx.require(p["n"] >= p["batch"], "at least one full batch")
    per_epoch, last = _steps(p["n"], p["batch"], False)
    total = per_epoch * p["epochs"]
    r = Result()
    r.value = total
    r.claim(
        "steps over the run equal epochs·⌈N/B⌉",
        total == p["epochs"] * math.ceil(p["n"] / p["batch"]),
        f"{total} vs {p['epochs']}·{math.ceil(p['n'] / p['batch'])}",
    )
    r.figure("per_epoch", per_epoch)
    r.figure("last", last)
    r.figure("samples_seen", p["epochs"] * p["n"], "{:,}")
    return r
