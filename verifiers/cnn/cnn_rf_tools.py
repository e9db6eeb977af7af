"""Receptive-field tools shared by the CNN verifiers (imported as `cnn_rf_tools`).

The receptive field (RF) of an output pixel is measured, not assumed: it is the set of input
pixels where the gradient of that output pixel is non-zero (the union over several random
inputs, because ReLU gates and max-pool argmaxes make a single input's gradient footprint a
subset of the true dependence region). The analytic recurrence is kept separate, as a cross-check.
"""

from __future__ import annotations

import torch
import torch.nn as nn


def question_cnn() -> nn.Sequential:
    """The network of CNNs question 3, exactly as written in the course."""
    cnn = nn.Sequential(
        nn.Conv2d(in_channels=3, out_channels=4, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(in_channels=4, out_channels=16, kernel_size=5, stride=2, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(in_channels=16, out_channels=32, kernel_size=7, dilation=2, padding=3),
        nn.ReLU(),
    )
    return cnn


def _pair(v) -> int:
    """Square kernels/strides only: return the (single) spatial value."""
    if isinstance(v, tuple):
        assert v[0] == v[1], f"non-square {v}"
        return int(v[0])
    return int(v)


def recurrence(net: nn.Module) -> list[tuple[str, int, int]]:
    """Analytic RF after each conv/pool layer: r += (k_eff-1)*jump, jump *= stride, k_eff = d*(k-1)+1.

    Returns (layer description, rf, jump) per spatial layer; ReLUs do not change the RF.
    """
    r, jump, rows = 1, 1, []
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k = _pair(module.kernel_size)
            s = _pair(module.stride)
            d = _pair(getattr(module, "dilation", 1))
            k_eff = d * (k - 1) + 1
            r += (k_eff - 1) * jump
            jump *= s
            name = (
                type(module).__name__
                + f"(k={k}"
                + (f", s={s}" if s != 1 else "")
                + (f", d={d}" if d != 1 else "")
                + ")"
            )
            rows.append((name, r, jump))
    return rows


def footprint(
    net: nn.Module, x: torch.Tensor, out_rc: tuple[int, int] | None = None
) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int]]:
    """Gradient footprint of one output pixel (summed over output channels).

    `x` is a batch of inputs (N, C, H, W); samples are independent so one backward pass gives N
    footprints. Returns (union mask HxW, per-sample |grad| summed over channels NxHxW, output pixel).
    """
    x = x.clone().requires_grad_(True)
    y = net(x)
    if out_rc is None:
        out_rc = (y.shape[-2] // 2, y.shape[-1] // 2)
    y[..., :, out_rc[0], out_rc[1]].sum().backward()
    g = x.grad.abs().sum(1)
    return (g > 0).any(0), g, out_rc


def bbox(mask: torch.Tensor) -> tuple[int, int, int, int]:
    """(row0, row1, col0, col1), inclusive, of the non-zero region of a 2-D mask."""
    rows = mask.any(1).nonzero().flatten()
    cols = mask.any(0).nonzero().flatten()
    return int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())


def extent(mask: torch.Tensor) -> tuple[int, int]:
    r0, r1, c0, c1 = bbox(mask)
    return r1 - r0 + 1, c1 - c0 + 1
