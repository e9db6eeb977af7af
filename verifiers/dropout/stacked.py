"""Dropout question 1: two stacked nn.Dropout layers, measured in train mode on the question's own network."""

import torch
import torch.nn as nn

from quizzer.verifier import Result, samples

POINTS = [(0.1, 0.2), (0.5, 0.5), (0.3, 0.6), (0.05, 0.7), (0.8, 0.25)]
TOLERANCE = 0.003  # ~6 standard errors of a drop rate estimated from >= 1e6 activations


def question_net(p1, p2):
    """The network of Dropout question 1, with p1, p2 as given."""
    return nn.Sequential(
        nn.Conv2d(in_channels=3, out_channels=4, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Dropout(p=p1),
        nn.Dropout(p=p2),
    )


def measure(p1, p2, x):
    torch.manual_seed(1)  # the same conv weights at every (p1, p2); the dropout masks differ
    net = question_net(p1, p2).train()
    with torch.no_grad():
        h = net[:2](x)  # activations entering the dropout layers (ReLU outputs)
        out = net[2:](h)
    n = int((h > 0).sum())  # dropout is only observable on non-zero activations
    kept = out != 0
    dropped = 1 - int(kept.sum()) / n
    ratio = out[kept] / h[kept]
    return n, dropped, ratio.min().item(), ratio.max().item()


def verify() -> Result:
    r = Result()
    torch.manual_seed(0)
    x = torch.randn(1, 3, 720, 720)  # 2.07M activations, over 10^6 of them non-zero after ReLU
    points = []
    rows = []
    for p1, p2 in POINTS:
        n, q, lo, hi = measure(p1, p2, x)
        points.append(({"p1": p1, "p2": p2}, q))
        rows.append((p1, p2, n, q, lo, hi))
    r.value = samples(points, tolerance=TOLERANCE)

    r.claim(
        "every measurement uses at least 10^6 activations",
        all(n >= 1_000_000 for _, _, n, *_ in rows),
        f"min {min(n for _, _, n, *_ in rows):,}",
    )
    se = max((q * (1 - q) / n) ** 0.5 for _, _, n, q, *_ in rows)
    r.figure("active_millions", rows[0][2] / 1e6, "{:.2f}")
    if se > 0:  # a world without dropout has no sampling error (and fails the value)
        r.figure("tolerance_in_se", TOLERANCE / se, "{:.0f}")
    r.claim(
        "the tolerance is at least 5 standard errors of the measurement",
        5 * se <= TOLERANCE,
        f"tolerance {TOLERANCE} vs SE {se:.1e}",
    )
    # Survivors are all rescaled by the same factor; its reciprocal is the measured keep rate.
    r.note(
        f"Measured on ≈{rows[0][2] / 1e6:.2f}M active units at each (p1, p2): drop rates "
        + ", ".join(f"{q:.3f} at ({p1:g}, {p2:g})" for p1, p2, _, q, _, _ in rows)
        + ". Every survivor is scaled by one factor, 1/((1−p1)(1−p2))."
    )
    r.claim(
        "survivors are all scaled by one factor, the inverse of the measured keep rate (as a single Dropout(q) would)",
        all(hi - lo < 1e-4 * hi and abs(1 / lo - (1 - q)) < TOLERANCE for _, _, _, q, lo, hi in rows),
        "; ".join(f"1/scale {1 / lo:.4f} vs keep {1 - q:.4f}" for _, _, _, q, lo, hi in rows),
    )

    r.claim(
        "the common scale factor is 1/((1-p1)(1-p2)): each layer rescales its survivors by 1/(1-p)",
        all(abs(lo * (1 - p1) * (1 - p2) - 1) < 1e-5 for p1, p2, _, _, lo, _ in rows),
        ", ".join(f"×{lo:.4f} vs 1/({1 - p1:g}·{1 - p2:g})" for p1, p2, _, _, lo, _ in rows),
    )

    # Alternatives a learner might propose, against the measurement at (0.1, 0.2).
    p1, p2, _, q, lo, _ = rows[0]
    r.figure("drop_at_question", q, "{:.4f}")
    r.figure("scale_at_question", lo, "{:.4f}")
    alternatives = {"p1 + p2": p1 + p2, "p1 * p2": p1 * p2, "max(p1, p2)": max(p1, p2)}
    r.claim(
        "the tolerance separates the plausible wrong formulas",
        all(abs(v - q) > 3 * TOLERANCE for v in alternatives.values()),
        ", ".join(f"{k} = {v:.3f}" for k, v in alternatives.items()) + f" vs measured {q:.4f}",
    )
    r.note(
        f"At (0.1, 0.2): measured {q:.4f}; "
        + ", ".join(f"{k} would give {v:.3f}" for k, v in alternatives.items())
        + "."
    )

    # A single nn.Dropout with the measured rate behaves the same: same drop rate, same scale.
    single = nn.Dropout(p=q).train()
    torch.manual_seed(1)
    with torch.no_grad():
        h = question_net(p1, p2)[:2](x)
        out1 = single(h)
    alive = h > 0
    q1 = (out1[alive] == 0).float().mean().item()
    kept = alive & (out1 != 0)
    scale1 = (out1[kept] / h[kept]).mean().item()
    r.claim(
        "a single Dropout(p=measured q) drops the same fraction and applies the same scale (keep rates 1/scale agree)",
        abs(q1 - q) < TOLERANCE and abs(1 / scale1 - 1 / lo) < TOLERANCE,
        f"drop {q1:.4f} vs {q:.4f}, scale {scale1:.4f} vs {lo:.4f}",
    )
    r.note(
        f"One nn.Dropout(p={q:.4f}): drops {q1:.4f}, scales survivors by ×{scale1:.4f} — the same distribution as the "
        "stacked pair."
    )
    return r
