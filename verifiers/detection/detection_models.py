"""Miniature detectors built from plain torch (torchvision is not available): a two-stage
Mask R-CNN-style model (backbone → RPN → proposals → RoIAlign → box/class + mask heads) and a
one-stage YOLO v1-style model (backbone → one head that outputs the S×S×(B·5+C) tensor).

Weights are random: the cards are about structure and shapes, which do not depend on training.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# ----------------------------------------------------------------------------- RPN


class RPNHead(nn.Module):
    """Faster/Mask R-CNN region proposal head: a shared 3×3 conv, then two sibling 1×1 convs —
    one objectness logit per anchor (k channels; the paper's softmax variant uses 2k) and
    four box deltas (dx, dy, dw, dh) per anchor (4k channels)."""

    def __init__(self, in_channels: int, num_anchors: int, two_class_objectness: bool = False):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, in_channels, 3, padding=1)
        self.cls_logits = nn.Conv2d(in_channels, (2 if two_class_objectness else 1) * num_anchors, 1)
        self.bbox_pred = nn.Conv2d(in_channels, 4 * num_anchors, 1)

    def forward(self, features: torch.Tensor):
        t = F.relu(self.conv(features))
        return self.cls_logits(t), self.bbox_pred(t)


def make_anchors(h: int, w: int, stride: int, sizes=(32, 64, 128), ratios=(0.5, 1.0, 2.0)) -> torch.Tensor:
    """(h·w·k, 4) anchors in image coordinates, ordered (y, x, anchor) like the head's channels."""
    base = []
    for size in sizes:
        for r in ratios:
            bw, bh = size / math.sqrt(r), size * math.sqrt(r)
            base.append([-bw / 2, -bh / 2, bw / 2, bh / 2])
    base = torch.tensor(base)
    ys, xs = torch.meshgrid((torch.arange(h) + 0.5) * stride, (torch.arange(w) + 0.5) * stride, indexing="ij")
    centres = torch.stack([xs, ys, xs, ys], -1).reshape(-1, 1, 4)
    return (centres + base[None]).reshape(-1, 4)


def decode(deltas: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    wa, ha = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    xa, ya = anchors[:, 0] + wa / 2, anchors[:, 1] + ha / 2
    dx, dy, dw, dh = deltas.unbind(-1)
    dw, dh = dw.clamp(max=math.log(1000 / 16)), dh.clamp(max=math.log(1000 / 16))
    x, y, w, h = xa + dx * wa, ya + dy * ha, wa * dw.exp(), ha * dh.exp()
    return torch.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], -1)


def nms(boxes: torch.Tensor, scores: torch.Tensor, thr: float) -> list[int]:
    order = scores.argsort(descending=True).tolist()
    keep = []
    while order:
        i = order.pop(0)
        keep.append(i)
        if not order:
            break
        rest = torch.tensor(order)
        a, b = boxes[i], boxes[rest]
        lt, rb = torch.maximum(a[:2], b[:, :2]), torch.minimum(a[2:], b[:, 2:])
        inter = (rb - lt).clamp(min=0).prod(-1)
        iou = inter / ((a[2:] - a[:2]).prod() + (b[:, 2:] - b[:, :2]).prod(-1) - inter)
        order = [j for j, o in zip(order, iou.tolist(), strict=True) if o <= thr]
    return keep


def roi_align(features: torch.Tensor, boxes: torch.Tensor, stride: int, out: int) -> torch.Tensor:
    """Bilinear RoIAlign for one image: features (1, C, H, W), boxes (R, 4) in image coordinates →
    (R, C, out, out), one sample at each bin centre (grid_sample, align_corners=False)."""
    _, C, H, W = features.shape
    t = (torch.arange(out, dtype=features.dtype) + 0.5) / out
    x = boxes[:, 0:1] + (boxes[:, 2:3] - boxes[:, 0:1]) * t  # (R, out) image coordinates
    y = boxes[:, 1:2] + (boxes[:, 3:4] - boxes[:, 1:2]) * t
    gx, gy = x / stride / W * 2 - 1, y / stride / H * 2 - 1
    grid = torch.stack([gx[:, None, :].expand(-1, out, -1), gy[:, :, None].expand(-1, -1, out)], -1)
    return F.grid_sample(features.expand(len(boxes), -1, -1, -1), grid, align_corners=False)


# ----------------------------------------------------------------------------- two-stage


class TinyMaskRCNN(nn.Module):
    def __init__(self, num_classes: int = 3, channels: int = 32, stride: int = 16, proposals: int = 20):
        super().__init__()
        self.stride, self.num_classes, self.num_proposals = stride, num_classes, proposals
        layers, c_in = [], 3
        for _ in range(int(math.log2(stride))):
            layers += [nn.Conv2d(c_in, channels, 3, stride=2, padding=1), nn.ReLU()]
            c_in = channels
        self.backbone = nn.Sequential(*layers)
        self.k = 9
        self.rpn = RPNHead(channels, self.k)
        self.box_fc = nn.Sequential(nn.Flatten(), nn.Linear(channels * 7 * 7, 64), nn.ReLU())
        self.cls_score = nn.Linear(64, num_classes + 1)  # + background
        self.bbox_pred = nn.Linear(64, 4 * (num_classes + 1))
        self.mask_head = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(channels, channels, 2, stride=2),
            nn.ReLU(),
            nn.Conv2d(channels, num_classes, 1),
        )

    def box_regressors(self):
        """(module, which output entries are box coordinates) for every box-predicting layer."""
        return [
            ("RPN bbox_pred (stage 1: proposals)", self.rpn.bbox_pred, None),
            ("box head bbox_pred (stage 2)", self.bbox_pred, None),
        ]

    def forward(self, image: torch.Tensor) -> dict:
        feats = self.backbone(image)  # (1, C, H, W)
        _, _, H, W = feats.shape
        objectness, deltas = self.rpn(feats)  # (1, k, H, W), (1, 4k, H, W)
        anchors = make_anchors(H, W, self.stride)
        scores = objectness.permute(0, 2, 3, 1).reshape(-1)
        props = decode(deltas.view(1, self.k, 4, H, W).permute(0, 3, 4, 1, 2).reshape(-1, 4), anchors)
        props = props.clamp(0, image.shape[-1])
        top = scores.topk(min(200, len(scores))).indices
        keep = top[nms(props[top].detach(), scores[top].detach(), 0.7)][: self.num_proposals]
        rois = props[keep]  # stage-1 output: the proposals
        x = self.box_fc(roi_align(feats, rois, self.stride, 7))  # stage 2 on the cropped features
        cls = self.cls_score(x)
        boxes = self.bbox_pred(x)
        masks = self.mask_head(roi_align(feats, rois, self.stride, 14))
        return {
            "objectness": objectness,
            "rpn_deltas": deltas,
            "proposals": rois,
            "scores": cls,
            "boxes": boxes,
            "masks": masks,
        }


# ----------------------------------------------------------------------------- one-stage


class TinyYOLOv1(nn.Module):
    """YOLO v1 structure: convolutional backbone (448 → 7, stride 64), two fully connected layers,
    reshaped to (N, S, S, B·5 + C): per cell B boxes (x, y, w, h, confidence) and C class probabilities."""

    def __init__(self, S: int = 7, B: int = 2, C: int = 20, channels=(8, 16, 16, 32, 32, 32), hidden: int = 128):
        super().__init__()
        self.S, self.B, self.C = S, B, C
        layers, c_in = [], 3
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), nn.LeakyReLU(0.1)]
            c_in = c
        self.backbone = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(c_in * S * S, hidden), nn.LeakyReLU(0.1), nn.Linear(hidden, S * S * (B * 5 + C))
        )

    def box_regressors(self):
        D = self.B * 5 + self.C
        box_entries = torch.zeros(self.S * self.S, D, dtype=torch.bool)
        box_entries[:, : self.B * 5] = True  # the B×5 box numbers of each cell; the C class scores are the rest
        return [("YOLO head (the only stage)", self.head[-1], box_entries.flatten())]

    def forward(self, images: torch.Tensor) -> dict:
        out = self.head(self.backbone(images)).view(-1, self.S, self.S, self.B * 5 + self.C)
        return {"grid": out, "scores": out[..., self.B * 5 :], "boxes": out[..., : self.B * 5]}


def count_stages(model: nn.Module, image: torch.Tensor) -> tuple[int, list[str]]:
    """Measure, by perturbation, how many box-predicting layers the final class scores depend on.

    A layer whose predicted boxes change the final class scores is a stage that precedes the final
    classification (e.g. proposals feeding RoI pooling). stages = 1 + their number."""
    with torch.no_grad():
        base = model(image)["scores"]
    upstream = []
    for name, module, entries in model.box_regressors():

        def bump(_m, _inp, out, entries=entries):
            delta = torch.full_like(out, 0.3)
            if entries is not None:
                delta = delta * entries.to(out.dtype)
            return out + delta

        handle = module.register_forward_hook(bump)
        try:
            with torch.no_grad():
                moved = model(image)["scores"]
        finally:
            handle.remove()
        changed = moved.shape != base.shape or not torch.allclose(moved, base)
        if changed:
            upstream.append(name)
    return 1 + len(upstream), upstream
