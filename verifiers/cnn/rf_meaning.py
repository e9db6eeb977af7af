"""CNNs question 1: what "receptive field" means, shown on the course's own CNN (question 3)."""

import torch
from cnn_rf_tools import bbox, extent, footprint, question_cnn, recurrence

from quizzer.verifier import Result


def verify() -> Result:
    r = Result()
    torch.manual_seed(0)
    cnn = question_cnn()
    H = 160
    x = torch.randn(8, 3, H, H)

    # The RF grows layer by layer: autograd footprint of one central pixel after each conv/pool.
    cut_points = [i + 1 for i, m in enumerate(cnn) if not isinstance(m, torch.nn.ReLU)]
    measured, margins = [], []
    for cut in cut_points[:-1]:  # partial networks: fields of at most 16 pixels, a 48x48 crop suffices
        union, _, _ = footprint(cnn[:cut], x[:, :, :48, :48])
        measured.append(extent(union)[0])
        margins.append(min(bbox(union)[0], bbox(union)[2], 47 - bbox(union)[1], 47 - bbox(union)[3]))
    union, g, (oi, oj) = footprint(cnn, x)
    measured.append(extent(union)[0])
    margins.append(min(bbox(union)[0], bbox(union)[2], H - 1 - bbox(union)[1], H - 1 - bbox(union)[3]))
    r.claim(
        "no measured footprint touches the image border", min(margins) > 0, f"smallest margin {min(margins)} pixels"
    )
    formula = [rf for _, rf, _ in recurrence(cnn)]
    r.claim(
        "the field grows with depth: autograd extents after each conv/pool layer match the recurrence",
        measured == formula,
        f"{measured} vs {formula}",
    )
    r.note(
        "Figure: the autograd receptive field of one pixel after each conv/pool layer of the CNN of question 3, "
        + " → ".join(map(str, measured))
        + " input pixels: every layer widens it, the strided ones make later layers widen it faster."
    )
    names = [type(cnn[c - 1]).__name__.replace("2d", "") for c in cut_points]
    r.plot(
        "receptive field side (input pixels)",
        range(1, len(measured) + 1),
        measured,
        xlabel="conv/pool layer 1..5 (" + ", ".join(names) + ")",
        ylabel="pixels",
    )

    # Meaning: the output pixel is a function of exactly the pixels in its field.
    r0, r1, c0, c1 = bbox(union)
    x0 = x[:1]
    with torch.no_grad():
        base = cnn(x0)[0, :, oi, oj]

        def after_change(i, j):
            xx = x0.clone()
            xx[0, :, i, j] += 50.0
            return (cnn(xx)[0, :, oi, oj] - base).abs().max().item()

        outside = {
            "just above": (r0 - 1, (c0 + c1) // 2),
            "just left": ((r0 + r1) // 2, c0 - 1),
            "just below-right": (r1 + 1, c1 + 1),
        }
        inside = {
            "centre": ((r0 + r1) // 2, (c0 + c1) // 2),
            "top-left corner": (r0, c0),
            "bottom-right corner": (r1, c1),
        }
        d_out = {k: after_change(*p) for k, p in outside.items()}
        d_in = {k: after_change(*p) for k, p in inside.items()}
    r.claim(
        "changing one input pixel outside the field leaves the output pixel exactly unchanged",
        all(v == 0 for v in d_out.values()),
        ", ".join(f"{k}: {v:g}" for k, v in d_out.items()),
    )
    r.claim(
        "changing one input pixel inside the field (centre, corners) changes the output pixel",
        all(v > 0 for v in d_in.values()),
        ", ".join(f"{k}: {v:.3g}" for k, v in d_in.items()),
    )
    r.part("outside_changes", any(v != 0 for v in d_out.values()))
    h, w = extent(union)
    r.claim(
        "the field is a solid square: every pixel of its bounding box has a non-zero gradient",
        h == w and bool(union[r0 : r1 + 1, c0 : c1 + 1].all()),
        f"{h}x{w} box, {int(union.sum())} of its {h * w} pixels in the footprint",
    )
    r.figure("field_size", h)
    for name, rf in zip(("rf_layer1", "rf_layer2", "rf_layer3", "rf_layer4", "rf_layer5"), measured, strict=True):
        r.figure(name, rf)
    r.note(f"Output pixel ({oi},{oj}) of a {H}x{H} input depends on rows {r0}..{r1}, cols {c0}..{c1}: a {h}x{w} field.")
    r.note(
        "Adding 50 to one input pixel — outside the field: max |Δout| = "
        + ", ".join(f"{v:g} ({k})" for k, v in d_out.items())
        + "; inside: "
        + ", ".join(f"{v:.3g} ({k})" for k, v in d_in.items())
        + "."
    )

    # Neighbouring output pixels see overlapping, shifted fields (shift = the total stride, 8).
    nb, _, _ = footprint(cnn, x, (oi, oj + 1))
    shift = bbox(nb)[2] - c0
    overlap = int((nb & union).sum())
    jump = recurrence(cnn)[-1][2]
    r.claim(
        "the neighbouring output pixel's field is the same size, shifted by the network's total stride",
        extent(nb) == (h, w) and shift == jump,
        f"shift {shift}, total stride {jump}",
    )
    r.figure("neighbour_shift", shift)
    r.note(
        f"The next output pixel to the right sees a {extent(nb)[0]}x{extent(nb)[1]} field shifted by {shift} pixels: "
        f"{overlap} of its {h * w} pixels are shared."
    )

    # Nuance: inside the field, pixels do not count equally. In this shallow net the |gradient| is
    # spread fairly evenly; in a deep stack of small convolutions it piles up in the centre
    # (the "effective receptive field", Luo et al. 2016), measured on a 10-layer 3x3 averaging stack.
    def central_share(mass, r0, r1, c0, c1):
        h, w = r1 - r0 + 1, c1 - c0 + 1
        q0, q1 = (r0 + r1) // 2 - h // 4, (c0 + c1) // 2 - w // 4
        return float(mass[q0 : q0 + (h + 1) // 2, q1 : q1 + (w + 1) // 2].sum() / mass.sum()), (h + 1) // 2

    share_q3, half = central_share(g.mean(0), r0, r1, c0, c1)
    deep = torch.nn.Sequential(*[torch.nn.Conv2d(1, 1, 3, padding=1, bias=False) for _ in range(10)])
    with torch.no_grad():
        for conv in deep:
            conv.weight.fill_(1 / 9)
    u_deep, g_deep, _ = footprint(deep, torch.randn(1, 1, 41, 41))
    share_deep, half_deep = central_share(g_deep[0], *bbox(u_deep))
    rf_deep = extent(u_deep)[0]
    r.claim(
        "in a deep stack the gradient concentrates in the centre of the field (more than in the shallow CNN)",
        share_deep > 0.5 and share_deep > share_q3,
        f"central half-width square: {share_deep:.0%} (10 layers) vs {share_q3:.0%} (question's CNN)",
    )
    area_q3, area_deep = half**2 / (h * w), half_deep**2 / rf_deep**2
    r.figure("central_share_shallow", share_q3, "{:.0%}")
    r.figure("central_area_shallow", area_q3, "{:.0%}")
    r.figure("central_share_deep", share_deep, "{:.0%}")
    r.note(
        f"Inside the field, pixels do not count equally. The central {half}x{half} square of the question's CNN "
        f"field ({area_q3:.0%} of its area) gets {share_q3:.0%} of the mean |gradient|: spread fairly evenly. In a "
        f"10-layer stack of 3x3 averaging convs (field {rf_deep}x{rf_deep}) the central {half_deep}x{half_deep} "
        f"square ({area_deep:.0%} of the area) gets {share_deep:.0%}: the 'effective' field is much smaller than "
        "the theoretical one."
    )
    return r
