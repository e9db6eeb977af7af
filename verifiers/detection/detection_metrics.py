"""Segmentation/detection metrics written out by hand (no torchvision): IoU, Dice, box IoU, AP/mAP."""

from __future__ import annotations

import torch


def mask_iou(a: torch.Tensor, b: torch.Tensor) -> float:
    inter = (a & b).sum().item()
    union = (a | b).sum().item()
    return inter / union if union else 1.0


def mask_dice(a: torch.Tensor, b: torch.Tensor) -> float:
    inter = (a & b).sum().item()
    total = a.sum().item() + b.sum().item()
    return 2 * inter / total if total else 1.0


def random_mask_pairs(n: int, size: int, generator: torch.Generator):
    """Pairs (ground truth, prediction) with overlaps spread over the whole range: rectangles, shifted
    rectangles, and noisy copies of blobs."""
    pairs = []
    for i in range(n):
        kind = i % 3
        if kind == 0:  # two random rectangles
            masks = []
            for _ in range(2):
                x0, y0 = torch.randint(0, size - 2, (2,), generator=generator).tolist()
                w, h = torch.randint(2, size, (2,), generator=generator).tolist()
                m = torch.zeros(size, size, dtype=torch.bool)
                m[y0 : y0 + h, x0 : x0 + w] = True
                masks.append(m)
            pairs.append(tuple(masks))
        elif kind == 1:  # a rectangle and a shifted copy
            m = torch.zeros(size, size, dtype=torch.bool)
            m[4:20, 6:24] = True
            dx, dy = torch.randint(-14, 15, (2,), generator=generator).tolist()
            pairs.append((m, torch.roll(m, shifts=(dy, dx), dims=(0, 1))))
        else:  # a random blob and a prediction with a random fraction of pixels flipped
            gt = torch.rand(size, size, generator=generator) < torch.rand(1, generator=generator).item() * 0.8 + 0.1
            flip = torch.rand(size, size, generator=generator) < torch.rand(1, generator=generator).item()
            pairs.append((gt, gt ^ flip))
    return pairs


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU matrix between boxes a (n, 4) and b (m, 4) in (x1, y1, x2, y2)."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def match_detections(dets, gts, cls: int, iou_thr: float):
    """Greedy VOC matching for one class over all images.

    dets: list of (image, class, score, box); gts: list of (image, class, box).
    Returns (tp flags in descending-score order, scores, n_gt, ious of the true positives)."""
    mine = sorted([d for d in dets if d[1] == cls], key=lambda d: -d[2])
    gt_by_image: dict[int, list] = {}
    for img, c, box in gts:
        if c == cls:
            gt_by_image.setdefault(img, []).append(box)
    used = {img: [False] * len(bs) for img, bs in gt_by_image.items()}
    tps, ious = [], []
    for img, _, _, box in mine:
        cand = gt_by_image.get(img, [])
        if not cand:
            tps.append(False)
            continue
        overlaps = box_iou(torch.tensor([box], dtype=torch.float64), torch.tensor(cand, dtype=torch.float64))[0]
        j = int(overlaps.argmax())
        if overlaps[j] >= iou_thr and not used[img][j]:
            used[img][j] = True
            tps.append(True)
            ious.append(float(overlaps[j]))
        else:
            tps.append(False)
    n_gt = sum(len(bs) for bs in gt_by_image.values())
    return tps, [d[2] for d in mine], n_gt, ious


def average_precision(tps: list[bool], n_gt: int) -> float:
    """All-point interpolated AP (PASCAL VOC 2010+): area under the precision envelope of the PR curve."""
    if n_gt == 0:
        return float("nan")
    tp = torch.tensor(tps, dtype=torch.float64).cumsum(0)
    fp = torch.tensor([not t for t in tps], dtype=torch.float64).cumsum(0)
    recall = torch.cat([torch.tensor([0.0], dtype=torch.float64), tp / n_gt, torch.tensor([1.0], dtype=torch.float64)])
    precision = torch.cat(
        [torch.tensor([1.0], dtype=torch.float64), tp / (tp + fp), torch.tensor([0.0], dtype=torch.float64)]
    )
    for i in range(len(precision) - 2, -1, -1):  # precision envelope (monotone non-increasing)
        precision[i] = max(precision[i], precision[i + 1])
    steps = torch.nonzero(recall[1:] != recall[:-1]).flatten()
    return float(((recall[steps + 1] - recall[steps]) * precision[steps + 1]).sum())


def mean_average_precision(dets, gts, classes, iou_thr: float) -> tuple[float, dict[int, float]]:
    aps = {
        c: average_precision(match_detections(dets, gts, c, iou_thr)[0], match_detections(dets, gts, c, iou_thr)[2])
        for c in classes
    }
    return sum(aps.values()) / len(aps), aps
