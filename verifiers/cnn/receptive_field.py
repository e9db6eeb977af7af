"""CNNs question 3: the receptive field of one output pixel of the question's own `cnn`, measured with autograd."""

import copy

import torch
import torch.nn as nn
from cnn_rf_tools import bbox, extent, footprint, question_cnn, recurrence

from quizzer.verifier import Result


def verify() -> Result:
    r = Result()
    torch.manual_seed(0)
    cnn = question_cnn()

    # The question's own forward pass, exactly as in the notebook.
    with torch.no_grad():
        shape = list(cnn(torch.rand(size=(1, 3, 1024, 1024), dtype=torch.float32)).shape)
    r.claim("the question's cnn maps 1x3x1024x1024 to 1x32x122x122", shape == [1, 32, 122, 122], f"torch.Size({shape})")

    # 1) Measured on the real network (default init): gradient of the central output pixel
    #    (all 32 channels) w.r.t. the input, union of the non-zero footprint over 8 random inputs
    #    (ReLU gates and max-pool argmaxes vary with the input; their union is the dependence region).
    H = 160
    x = torch.randn(8, 3, H, H)
    union, per_sample, (oi, oj) = footprint(cnn, x)
    h, w = extent(union)
    r0, r1, c0, c1 = bbox(union)
    margin = min(r0, c0, H - 1 - r1, H - 1 - c1)
    r.claim(
        "the footprint is not clipped by the image border",
        margin > 0,
        f"rows {r0}..{r1}, cols {c0}..{c1} of 0..{H - 1}",
    )
    r.claim("the footprint is square", h == w, f"{h}x{w}")
    dense = int(union.sum())
    r.claim("the footprint is dense (no holes) inside its bounding box", dense == h * w, f"{dense} of {h * w} pixels")
    single = [int((g > 0).sum()) for g in per_sample]
    r.figure("footprint_size", h)
    r.figure("out_channels", shape[1])
    r.figure("out_size", shape[-1])
    r.note(
        f"Real network, default init: d out[:, :, {oi}, {oj}] / d input is non-zero on rows {r0}..{r1}, "
        f"cols {c0}..{c1} of a {H}x{H} input: a {h}x{w} patch, all {dense} pixels in it reached."
    )
    r.note(
        f"One input alone reaches {min(single)}–{max(single)} of those pixels (max-pool sends gradient only to "
        f"its argmax, ReLU gates some paths); the union over 8 random inputs fills the {h}x{w} square."
    )

    # 2) Cross-check: the same weights with each MaxPool2d(2) replaced by AvgPool2d(2) (only for this
    #    measurement: average pooling passes gradient to its whole window), all ReLUs active (positive
    #    weights, zero biases, positive input): one input gives the full footprint.
    avg = copy.deepcopy(cnn)
    with torch.no_grad():
        for i, module in enumerate(avg):
            if isinstance(module, nn.MaxPool2d):
                avg[i] = nn.AvgPool2d(2)
            elif isinstance(module, nn.Conv2d):
                module.weight.abs_()
                module.bias.zero_()
    union_avg, _, _ = footprint(avg, torch.rand(1, 3, H, H) + 0.1)
    h_avg, w_avg = extent(union_avg)
    r.claim(
        "avg-pool / positive-weight copy: same footprint from a single input",
        union_avg.equal(union),
        f"{h_avg}x{w_avg}, {int(union_avg.sum())} pixels",
    )

    # 3) Cross-check: the analytic recurrence r += (k_eff-1)*jump, jump *= stride.
    rows = recurrence(cnn)
    rf_formula = rows[-1][1]
    r.claim("autograd extent equals the analytic recurrence", h == rf_formula, f"{h} vs {rf_formula}")
    r.note(
        "Recurrence (r += (k_eff−1)·jump, then jump ×= stride): "
        + " → ".join(f"{n}: r={rf}, jump={j}" for n, rf, j in rows)
    )

    # 4) Cross-check by perturbation on the real network: changing the ring of pixels just outside the
    #    footprint leaves the output pixel bit-identical; changing pixels on its border does not.
    x0 = torch.randn(1, 3, H, H)
    with torch.no_grad():
        base = cnn(x0)[0, :, oi, oj]
        ring = torch.zeros(H, H, dtype=torch.bool)
        ring[r0 - 1 : r1 + 2, c0 - 1 : c1 + 2] = True
        ring[r0 : r1 + 1, c0 : c1 + 1] = False
        x_out = x0.clone()
        x_out[0, :, ring] += 100 * torch.randn(3, int(ring.sum()))
        unchanged = cnn(x_out)[0, :, oi, oj].equal(base)
        edge = torch.zeros(H, H, dtype=torch.bool)
        edge[r0 : r1 + 1, c0 : c1 + 1] = True
        edge[r0 + 1 : r1, c0 + 1 : c1] = False
        x_in = x0.clone()
        x_in[0, :, edge] += 100 * torch.randn(3, int(edge.sum()))
        change = (cnn(x_in)[0, :, oi, oj] - base).abs().max().item()
    r.claim(
        "perturbing the 1-pixel ring just outside the footprint leaves the output pixel unchanged",
        unchanged,
        f"{int(ring.sum())} pixels changed, output identical: {unchanged}",
    )
    r.claim("perturbing the footprint's own border pixels changes it", change > 0, f"max |Δout| = {change:.3g}")
    r.note(
        f"Perturbing all {int(ring.sum())} pixels just outside the {h}x{w} patch by ~100σ: output pixel bit-identical. "
        f"Perturbing its {int(edge.sum())} border pixels: the output moves by up to {change:.3g}."
    )
    r.note(
        f"Output shape for a 1024x1024 input: torch.Size({shape}); adjacent output pixels' fields are {rows[-1][2]} "
        "input pixels apart."
    )
    row = (r0 + r1) // 2
    reached = (per_sample[:, row, :] > 0).double().mean(0)
    r.note(
        f"Figure: along the central input row, the share of the 8 random inputs whose gradient reaches each pixel: "
        f"0 up to column {c0 - 1}, non-zero from {c0} to {c1} ({c1 - c0 + 1} pixels), 0 again after. The edges are "
        "sharp: the field is a hard window, not a soft blur."
    )
    r.plot(
        "share of inputs whose gradient reaches the pixel (central row)",
        range(H),
        reached.tolist(),
        xlabel="input column",
        ylabel="share of 8 inputs",
    )
    r.value = h
    return r
