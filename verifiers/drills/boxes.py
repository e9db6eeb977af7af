"""Drills on box overlap: IoU of two drawn boxes and the Dice score of the same pair.

Measured by rasterising the boxes into torch masks and counting pixels; cross-checked against the
coordinate formula, so a verifier that mixes up corners or areas fails.
"""

import torch

from quizzer.verifier import Context, Result


def _mask(x0: int, y0: int, x1: int, y1: int, size: int = 64) -> torch.Tensor:
    mask = torch.zeros(size, size, dtype=torch.bool)
    mask[y0:y1, x0:x1] = True
    return mask


def _boxes(ctx: Context):
    p = ctx.params
    a = (p["ax"], p["ay"], p["ax"] + p["aw"], p["ay"] + p["ah"])
    b = (p["bx"], p["by"], p["bx"] + p["bw"], p["by"] + p["bh"])
    return a, b


def _formula_iou(a, b) -> float:
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def _measure(ctx: Context):
    a, b = _boxes(ctx)
    ma, mb = _mask(*a), _mask(*b)
    inter = int((ma & mb).sum())
    ctx.require(inter > 0, "the boxes overlap")
    return a, b, ma, mb, inter


def iou(ctx: Context) -> Result:
    a, b, ma, mb, inter = _measure(ctx)
    union = int((ma | mb).sum())
    measured = inter / union
    formula = _formula_iou(a, b)
    r = Result()
    r.value = round(measured, 4)
    r.claim(
        "pixel count equals the coordinate formula", abs(measured - formula) < 1e-12, f"{measured:.4f} vs {formula:.4f}"
    )
    r.figure("inter", inter)
    r.figure("union", union)
    return r


def dice(ctx: Context) -> Result:
    a, b, ma, mb, inter = _measure(ctx)
    measured = 2 * inter / (int(ma.sum()) + int(mb.sum()))
    j = _formula_iou(a, b)
    r = Result()
    r.value = round(measured, 4)
    r.claim("Dice = 2·IoU / (1 + IoU)", abs(measured - 2 * j / (1 + j)) < 1e-12, f"{measured:.4f} vs IoU {j:.4f}")
    r.figure("iou", j, "{:.4f}")
    r.figure("inter", inter)
    return r
