"""Drills on convolution stacks: output shapes, receptive fields and detection-head shapes.

Every instance is measured on a real torch module; an independent route (the textbook formula or
the analytic recurrence) must agree, so a verifier that builds the wrong network fails.
"""

import torch
import torch.nn as nn

from quizzer.verifier import Context, Result

META = torch.device("meta")
"""Shapes are computed by torch's own shape functions on meta tensors: the same code path, no arithmetic."""


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """The output length formula of the PyTorch docs for Conv2d."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def output_shape(ctx: Context) -> Result:
    """Shape of Conv2d(c_in, c_out, kernel, stride, padding, dilation) applied to (n, c_in, h, w)."""
    p = ctx.params
    h, w = p["height"], p["width"]
    ctx.require(p["dilation"] * (p["kernel"] - 1) + 1 <= min(h, w) + 2 * p["padding"], "the kernel fits the input")
    conv = nn.Conv2d(p["c_in"], p["c_out"], p["kernel"], p["stride"], p["padding"], p["dilation"], device=META)
    with torch.no_grad():
        measured = list(conv(torch.zeros(p["batch"], p["c_in"], h, w, device=META)).shape)
    formula = [p["batch"], p["c_out"]] + [
        conv_out(s, p["kernel"], p["stride"], p["padding"], p["dilation"]) for s in (h, w)
    ]
    r = Result()
    r.value = measured
    r.claim("torch's output shape equals the docs' formula", measured == formula, f"{measured} vs {formula}")
    r.figure("out_h", measured[2])
    r.figure("out_w", measured[3])
    r.figure("eff_kernel", p["dilation"] * (p["kernel"] - 1) + 1)
    return r


def receptive_field(ctx: Context) -> Result:
    """Receptive field of `layers` identical convs, measured as the gradient footprint of one output pixel."""
    p = ctx.params
    k, s, d, n = p["kernel"], p["stride"], p["dilation"], p["layers"]
    span = 1
    jump = 1
    for _ in range(n):
        span += d * (k - 1) * jump
        jump *= s
    size = span + 2 * jump + 8  # rows: room for the footprint and a few output pixels on each side
    ctx.require(size <= 400, "the footprint fits a small image")
    torch.manual_seed(0)
    stack = nn.Sequential(*[nn.Conv2d(1, 1, k, s, dilation=d, bias=False) for _ in range(n)])
    with torch.no_grad():
        for conv in stack:
            conv.weight.fill_(1.0)  # positive weights: no cancellation can hide a dependence
    x = torch.ones(1, 1, size, span, requires_grad=True)  # exactly one output column: columns are the control
    out = stack(x)
    out[0, 0, out.shape[2] // 2, 0].backward()
    reached = x.grad[0, 0] != 0
    rows = torch.nonzero(reached.any(dim=1)).flatten()
    measured = int(rows.max() - rows.min() + 1)
    cols = torch.nonzero(reached.any(dim=0)).flatten()
    columns = int(cols.max() - cols.min() + 1)
    r = Result()
    r.value = measured
    r.claim("autograd footprint equals the recurrence r += d(k-1)·jump", measured == span, f"{measured} vs {span}")
    r.claim("the field is square: its columns span the same width", columns == span, f"{columns}")
    r.figure("jump", jump)
    r.figure("widen", d * (k - 1))
    return r


def _backbone(layers: int) -> nn.Sequential:
    """`layers` stride-2 3x3 convs (padding 1), each halving the feature map, as a toy detector backbone."""
    blocks = []
    channels = 3
    for _ in range(layers):
        blocks += [nn.Conv2d(channels, 8, 3, stride=2, padding=1, device=META), nn.ReLU()]
        channels = 8
    return nn.Sequential(*blocks)


def rpn_deltas(ctx: Context) -> Result:
    """Shape of an RPN's box-delta head (3x3 conv, then a 1x1 conv with 4 numbers per anchor)."""
    p = ctx.params
    image, anchors, layers = p["image"], p["anchors"], p["layers"]
    backbone = _backbone(layers)
    head = nn.Sequential(
        nn.Conv2d(8, 8, 3, padding=1, device=META), nn.ReLU(), nn.Conv2d(8, 4 * anchors, 1, device=META)
    )
    with torch.no_grad():
        deltas = head(backbone(torch.zeros(p["batch"], 3, image, image, device=META)))
    measured = list(deltas.shape)
    side = image
    for _ in range(layers):
        side = conv_out(side, 3, 2, 1, 1)
    # Independent consumer: decode the deltas per anchor, as torchvision's RPN does (N, A, 4, H, W).
    per_anchor = deltas.view(p["batch"], anchors, 4, side, side).permute(0, 3, 4, 1, 2).reshape(p["batch"], -1, 4)
    r = Result()
    r.value = measured
    r.claim(
        "the deltas decode to one box per anchor per feature-map cell",
        per_anchor.shape[1] == side * side * anchors,
        f"{per_anchor.shape[1]} boxes = {side}x{side} cells x {anchors} anchors",
    )
    r.figure("side", side)
    r.figure("boxes", per_anchor.shape[1])
    return r


def yolo_head(ctx: Context) -> Result:
    """Shape of a YOLO-style head: per cell, B boxes of (x, y, w, h, objectness) and C class scores."""
    p = ctx.params
    grid, boxes, classes = p["grid"], p["boxes"], p["classes"]
    head = nn.Conv2d(16, boxes * (5 + classes), 1, device=META)
    with torch.no_grad():
        out = head(torch.zeros(p["batch"], 16, grid, grid, device=META))
    measured = list(out.shape)
    # Independent consumer: a decoder that reads the tensor as (N, B, 5 + C, S, S) and emits boxes.
    decoded = out.view(p["batch"], boxes, 5 + classes, grid, grid)
    cx = (torch.arange(grid, device=META).view(1, 1, 1, grid) + decoded[:, :, 0].sigmoid()) / grid
    scores = decoded[:, :, 4:5].sigmoid() * decoded[:, :, 5:].softmax(dim=2)
    r = Result()
    r.value = measured
    r.claim(
        "the decoder yields one box centre per box per cell and C class scores for each",
        cx.numel() == p["batch"] * boxes * grid * grid and scores.shape[2] == classes,
        f"{cx.numel()} centres, {scores.shape[2]} scores each",
    )
    r.figure("channels", boxes * (5 + classes))
    return r
