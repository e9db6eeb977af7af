"""Drills on stacked dropout layers, measured on real nn.Dropout layers in train mode.

The measured share of surviving units must agree with the product of keep probabilities within
5 standard errors, so a verifier (or a torch) whose dropout kept a different share fails.
"""

import math

import torch
import torch.nn as nn

from quizzer.verifier import Context, Result

UNITS = 100_000


def _measure(rates: list[float]) -> tuple[Result, float]:
    torch.manual_seed(0)
    stack = nn.Sequential(*[nn.Dropout(rate) for rate in rates]).train()
    with torch.no_grad():
        out = stack(torch.ones(UNITS))
    kept = float((out != 0).float().mean())
    analytic = math.prod(1 - rate for rate in rates)
    stderr = math.sqrt(analytic * (1 - analytic) / UNITS)
    scale = float(out[out != 0][0])
    r = Result()
    r.claim(
        "the measured share kept is the product of the keep probabilities (within 5 standard errors)",
        abs(kept - analytic) <= 5 * stderr,
        f"{kept:.4f} vs {analytic:.4f} ± {stderr:.4f}",
    )
    r.claim(
        "every survivor is scaled by 1/(share kept)", math.isclose(scale, 1 / analytic, rel_tol=1e-5), f"×{scale:.4f}"
    )
    r.figure("kept", kept, "{:.4f}")
    r.figure("scale", scale, "{:.3f}")
    r.figure("units", UNITS, "{:,}")
    return r, kept


def keep_probability(ctx: Context) -> Result:
    """Share of units kept by nn.Dropout(p1), nn.Dropout(p2), nn.Dropout(p3)."""
    p = ctx.params
    r, kept = _measure([p["p1"], p["p2"], p["p3"]])
    r.value = round(kept, 4)
    return r


def single_rate(ctx: Context) -> Result:
    """The rate q of one nn.Dropout(q) that drops as many units as nn.Dropout(p1), nn.Dropout(p2)."""
    p = ctx.params
    r, kept = _measure([p["p1"], p["p2"]])
    r.value = round(1 - kept, 4)
    r.figure("naive", p["p1"] + p["p2"], "{:.2f}")
    return r
