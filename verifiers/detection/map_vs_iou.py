"""Detection and Segmentation Q1 (second half): IoU versus mAP, on a toy set of detections."""

from __future__ import annotations

import torch
from detection_metrics import match_detections, mean_average_precision

from quizzer.verifier import Result

CLASSES = (0, 1)


def toy_set():
    """4 images, 2 classes. Each ground-truth box is detected with a jittered box (some poorly
    localised, some missed), plus a few false positives; scores are random but favour good boxes."""
    g = torch.Generator().manual_seed(0)
    gts, dets = [], []
    for img in range(4):
        for _ in range(3):
            cls = int(torch.randint(0, 2, (1,), generator=g))
            x, y = (torch.rand(2, generator=g) * 150).tolist()
            w, h = (torch.rand(2, generator=g) * 60 + 30).tolist()
            gts.append((img, cls, [x, y, x + w, y + h]))
            if torch.rand(1, generator=g).item() < 0.15:
                continue  # missed object
            jitter = float(torch.rand(1, generator=g)) * 0.3  # shift up to 30% of the box size
            dx, dy = ((torch.rand(2, generator=g) * 2 - 1) * jitter).tolist()
            box = [x + dx * w, y + dy * h, x + w + dx * w, y + h + dy * h]
            score = 0.9 - jitter + 0.2 * float(torch.rand(1, generator=g))
            dets.append((img, cls, score, box))
        for _ in range(2):  # false positives
            x, y = (torch.rand(2, generator=g) * 150).tolist()
            dets.append(
                (
                    img,
                    int(torch.randint(0, 2, (1,), generator=g)),
                    0.7 * float(torch.rand(1, generator=g)),
                    [x, y, x + 40, y + 40],
                )
            )
    return gts, dets


def _iou_scalar(a, b) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def ap_brute_force(dets, gts, cls, thr) -> float:
    """Independent AP: for every score threshold recount TP/FP from scratch (pure Python), then
    AP = Σ_k (r_k − r_{k−1}) · max{precision at any threshold whose recall ≥ r_k}."""
    mine = [d for d in dets if d[1] == cls]
    n_gt = sum(1 for gt in gts if gt[1] == cls)
    points = []
    for t in sorted({d[2] for d in mine}, reverse=True):
        kept = sorted([d for d in mine if d[2] >= t], key=lambda d: -d[2])
        taken, tp = set(), 0
        for img, _, _, box in kept:
            best, best_iou = None, -1.0
            for gi, (gimg, gcls, gbox) in enumerate(gts):
                if gimg == img and gcls == cls:
                    o = _iou_scalar(box, gbox)
                    if o > best_iou:
                        best, best_iou = gi, o
            if best is not None and best_iou >= thr and best not in taken:
                taken.add(best)
                tp += 1
        points.append((tp / n_gt, tp / len(kept)))
    recalls = sorted({rc for rc, _ in points})
    ap, prev = 0.0, 0.0
    for rc in recalls:
        if rc == 0:
            continue
        ap += (rc - prev) * max(p for rr, p in points if rr >= rc)
        prev = rc
    return ap


def verify() -> Result:
    r = Result()
    gts, dets = toy_set()
    m50, aps50 = mean_average_precision(dets, gts, CLASSES, 0.5)
    m75, aps75 = mean_average_precision(dets, gts, CLASSES, 0.75)
    brute = {c: ap_brute_force(dets, gts, c, 0.5) for c in CLASSES}
    r.claim(
        "hand-written AP@0.5 agrees with an independent brute-force computation",
        all(abs(aps50[c] - brute[c]) < 1e-12 for c in CLASSES),
        ", ".join(f"class {c}: {aps50[c]:.4f} vs {brute[c]:.4f}" for c in CLASSES),
    )
    r.claim(
        "AP depends on the IoU threshold used to match (IoU is an ingredient of mAP)",
        m75 < m50,
        f"mAP@0.5 {m50:.4f}, mAP@0.75 {m75:.4f}",
    )

    ious = [iou for c in CLASSES for iou in match_detections(dets, gts, c, 0.5)[3]]
    mean_iou = sum(ious) / len(ious)
    # Three edits that a mean IoU of the matched boxes does not see.
    top = max(d[2] for d in dets)
    far_box = [400.0, 400.0, 440.0, 440.0]
    high_fp = dets + [(0, 0, top + 0.1, far_box)]
    low_fp = dets + [(0, 0, min(d[2] for d in dets) - 0.01, far_box)]
    best_tp = max((d for d in dets if d[1] == 0), key=lambda d: d[2])
    dropped = [d for d in dets if d is not best_tp]

    def summary(ds):
        m, _ = mean_average_precision(ds, gts, CLASSES, 0.5)
        matched = [iou for c in CLASSES for iou in match_detections(ds, gts, c, 0.5)[3]]
        return m, sum(matched) / len(matched)

    m_high, iou_high = summary(high_fp)
    m_low, iou_low = summary(low_fp)
    m_drop, iou_drop = summary(dropped)
    r.part("fp_changes_matched_iou", abs(iou_high - mean_iou) > 1e-12)
    r.part("fp_lowers_map", m_high < m50 - 1e-6)
    r.claim(
        "a confident false positive lowers mAP but not the IoU of the matched boxes",
        m_high < m50 - 1e-6 and abs(iou_high - mean_iou) < 1e-12,
        f"mAP {m50:.4f} → {m_high:.4f}; mean IoU of matches {mean_iou:.4f} → {iou_high:.4f}",
    )
    r.claim(
        "a false positive ranked below every true positive does not change AP (it is a ranking measure)",
        abs(m_low - m50) < 1e-12,
        f"mAP {m50:.4f} → {m_low:.4f}",
    )
    r.claim(
        "a missed object lowers mAP (recall) while the matched boxes' IoU barely moves",
        m_drop < m50 - 1e-6 and abs(iou_drop - mean_iou) < 0.05,
        f"mAP {m50:.4f} → {m_drop:.4f}; mean IoU {mean_iou:.4f} → {iou_drop:.4f}",
    )
    for name, value in {
        "map50": m50,
        "map75": m75,
        "map_high_fp": m_high,
        "map_low_fp": m_low,
        "map_missed": m_drop,
        "matched_iou": mean_iou,
        "matched_iou_missed": iou_drop,
    }.items():
        r.figure(name, value, "{:.3f}")
    n_tp = len(ious)
    r.note(
        f"Toy set: {len(gts)} ground-truth boxes in 4 images, 2 classes, {len(dets)} scored detections ({n_tp} true "
        "positives at IoU ≥ 0.5)."
    )
    r.note(
        "AP per class at IoU 0.5: "
        + ", ".join(f"class {c} {aps50[c]:.3f}" for c in CLASSES)
        + f" → mAP@0.5 = {m50:.3f}; at IoU 0.75: mAP = {m75:.3f}."
    )
    r.note(
        f"Mean IoU of the matched boxes {mean_iou:.3f} — a localisation score per prediction, blind to false positives "
        "and misses."
    )
    r.note(
        f"+1 confident false positive: mAP {m_high:.3f}; +1 false positive with the lowest score: mAP {m_low:.3f}; one "
        f"true positive removed: mAP {m_drop:.3f}."
    )
    return r
