"""Detection and Segmentation Q1 (first half): IoU (Jaccard) versus Dice, measured on random masks."""

from __future__ import annotations

import itertools
import math

import torch
from detection_metrics import mask_dice, mask_iou, random_mask_pairs

from quizzer.verifier import Result, samples


def _measure(n: int = 300):
    pairs = random_mask_pairs(n, 32, torch.Generator().manual_seed(0))
    return [(mask_iou(a, b), mask_dice(a, b)) for a, b in pairs], pairs


def formula() -> Result:
    """Expression card: Dice as a function of IoU J — measured (J, Dice) pairs on random masks."""
    r = Result()
    measured, _ = _measure()
    r.value = samples([({"J": j}, d) for j, d in measured], tolerance=1e-9)
    r.figure("mask_pairs", len(measured))
    js = sorted(j for j, _ in measured)
    r.claim(
        "the random masks cover the whole range of overlaps",
        js[0] < 0.05 and js[-1] > 0.9,
        f"J from {js[0]:.3f} to {js[-1]:.3f}",
    )
    ordered = sorted(measured)
    j_half = min(ordered, key=lambda t: abs(t[0] - 0.5))
    r.note(
        f"Figure: Dice against IoU for the {len(ordered)} mask pairs, with the diagonal Dice = IoU. The points lie on "
        "one "
        f"increasing curve above the diagonal (IoU {j_half[0]:.2f} ↔ Dice {j_half[1]:.2f}), touching it only at 0 and "
        "1."
    )
    r.note(
        "Dice = 2|A∩B|/(|A|+|B|) and |A|+|B| = |A∪B| + |A∩B|, so Dice = 2I/(U+I) = 2J/(1+J) — one is a monotone "
        "function of the other."
    )
    r.plot("Dice (measured)", [j for j, _ in ordered], [d for _, d in ordered], xlabel="IoU", ylabel="score")
    r.plot("IoU (diagonal)", [j for j, _ in ordered], [j for j, _ in ordered], xlabel="IoU", ylabel="score")
    return r


def compare() -> Result:
    """Text card: the difference between IoU and Dice."""
    r = Result()
    measured, pairs = _measure()
    worst = max(abs(d - 2 * j / (1 + j)) for j, d in measured)
    r.claim(
        "Dice = 2·IoU/(1+IoU) on every pair", worst < 1e-12, f"max error {worst:.1g} over {len(measured)} mask pairs"
    )
    r.claim(
        "Dice ≥ IoU, equal only at 0 and 1",
        all(d >= j - 1e-12 for j, d in measured) and all(abs(d - j) > 1e-9 for j, d in measured if 1e-9 < j < 1 - 1e-9),
        f"min(Dice − IoU) = {min(d - j for j, d in measured):.3g}",
    )
    order_j = sorted(range(len(measured)), key=lambda i: (measured[i][0], i))
    order_d = sorted(range(len(measured)), key=lambda i: (measured[i][1], i))
    r.claim(
        "for single pairs both rank predictions identically (monotone relation)",
        order_j == order_d,
        "sorting by IoU and by Dice gives the same order",
    )
    gap_j, gap = max(((j, d - j) for j, d in measured), key=lambda t: t[1])
    r.part("largest_gap", gap)
    r.figure("mask_pairs", len(measured))
    r.figure("max_gap", gap, "{:.3f}")
    r.figure("max_gap_iou", gap_j, "{:.3f}")
    r.claim(
        "the largest difference is ≈ 0.17, near IoU = √2 − 1",
        abs(gap - (3 - 2 * math.sqrt(2))) < 0.01,
        f"max Dice − IoU = {gap:.4f} at IoU {gap_j:.3f} (theory {3 - 2 * math.sqrt(2):.4f} at {math.sqrt(2) - 1:.3f})",
    )
    # Dice is the F1 score of the pixel classification.
    a, b = pairs[2]
    tp, fp, fn = (a & b).sum().item(), (~a & b).sum().item(), (a & ~b).sum().item()
    prec, rec = tp / (tp + fp), tp / (tp + fn)
    r.claim(
        "Dice = F1 = 2PR/(P+R); IoU = TP/(TP+FP+FN)",
        abs(mask_dice(a, b) - 2 * prec * rec / (prec + rec)) < 1e-12
        and abs(mask_iou(a, b) - tp / (tp + fp + fn)) < 1e-12,
        f"TP {tp}, FP {fp}, FN {fn}: Dice {mask_dice(a, b):.4f}, F1 {2 * prec * rec / (prec + rec):.4f}, IoU "
        f"{mask_iou(a, b):.4f}",
    )
    # Averages over a data set are not monotone in each other: two methods can swap ranks.
    g = torch.zeros(2, 20, 20, dtype=torch.bool)
    g[:, 5:15, 5:15] = True
    method_a = torch.stack(
        [g[0].clone(), torch.zeros(20, 20, dtype=torch.bool)]
    )  # perfect on one image, misses the other
    method_b = g.clone()
    method_b[:, 5:15, 5:10] = False  # half of the object on both images
    method_b[:, 15:17, 5:15] = True
    ja = sum(mask_iou(p, t) for p, t in zip(method_a, g, strict=True)) / 2
    jb = sum(mask_iou(p, t) for p, t in zip(method_b, g, strict=True)) / 2
    da = sum(mask_dice(p, t) for p, t in zip(method_a, g, strict=True)) / 2
    db = sum(mask_dice(p, t) for p, t in zip(method_b, g, strict=True)) / 2
    r.part("averages_can_disagree", (ja - jb) * (da - db) < 0)
    r.claim(
        "averaged over images, mean IoU and mean Dice can rank two methods differently",
        (ja - jb) * (da - db) < 0,
        f"method A: mIoU {ja:.3f}, mDice {da:.3f}; method B: mIoU {jb:.3f}, mDice {db:.3f}",
    )
    # 1 − IoU is a metric (triangle inequality); 1 − Dice is not.
    gen = torch.Generator().manual_seed(3)
    small = [torch.rand(6, generator=gen) < 0.5 for _ in range(40)]
    small = [m for m in small if m.any()]
    viol_j = viol_d = triples = 0
    example = None
    for x, y, z in itertools.permutations(small[:20], 3):
        dj = lambda p, q: 1 - mask_iou(p, q)  # noqa: E731
        dd = lambda p, q: 1 - mask_dice(p, q)  # noqa: E731
        triples += 1
        viol_j += dj(x, z) > dj(x, y) + dj(y, z) + 1e-12
        if dd(x, z) > dd(x, y) + dd(y, z) + 1e-12:
            viol_d += 1
            example = example or (dd(x, z), dd(x, y), dd(y, z))
    r.claim(
        "1 − IoU satisfies the triangle inequality (a distance); 1 − Dice does not",
        viol_j == 0 and viol_d > 0,
        f"violations over {triples} ordered triples: 1−IoU {viol_j}, 1−Dice {viol_d}"
        + (f" (e.g. {example[0]:.3f} > {example[1]:.3f} + {example[2]:.3f})" if example else ""),
    )
    r.figure("triples", triples)
    r.figure("jaccard_violations", viol_j)
    r.figure("dice_violations", viol_d)
    r.note(f"{len(measured)} random mask pairs: Dice − 2J/(1+J) never exceeds {worst:.1g}; Dice ≥ IoU everywhere.")
    d80 = min(measured, key=lambda t: abs(t[1] - 0.8))
    r.note(
        f"Biggest gap: IoU {gap_j:.3f} vs Dice {gap_j + gap:.3f}. A pair with Dice {d80[1]:.3f} has IoU only "
        f"{d80[0]:.3f}."
    )
    r.note(
        f"Per-image averages: A (perfect on one image, nothing on the other) has mIoU {ja:.3f}, mDice {da:.3f}; "
        f"B (half-right on both) mIoU {jb:.3f}, mDice {db:.3f} — Dice rewards partial overlaps more."
    )
    r.note(f"Triangle inequality on small random sets: 1−IoU violated {viol_j} times, 1−Dice {viol_d} times.")
    return r
