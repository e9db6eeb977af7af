"""Detection and Segmentation Q2: one- vs two-stage, RPN outputs, YOLO output — measured on
miniature models built from plain torch (see detection_models.py)."""

from __future__ import annotations

import torch
from detection_models import RPNHead, TinyMaskRCNN, TinyYOLOv1, count_stages, decode, make_anchors
from torch_threads import one_thread

from quizzer.verifier import Result

# The sizes the prompts state.
RPN_N, RPN_C, RPN_H, RPN_W, RPN_K = 2, 256, 38, 50, 9  # ~600×800 images at stride 16, 3 sizes × 3 ratios
YOLO_N, YOLO_S, YOLO_B, YOLO_C, YOLO_IN = 4, 7, 2, 20, 448


def one_stage() -> Result:
    """Choice card: which of YOLO / Mask R-CNN is a one-stage detector — count the stages by perturbation."""
    r = Result()
    with one_thread():
        torch.manual_seed(0)
        models = {
            "YOLO": (TinyYOLOv1(), torch.rand(1, 3, YOLO_IN, YOLO_IN)),
            "Mask R-CNN": (TinyMaskRCNN(), torch.rand(1, 3, 256, 256)),
        }
        stages = {}
        for name, (model, image) in models.items():
            stages[name] = count_stages(model, image)
    singles = [name for name, (n, _) in stages.items() if n == 1]
    r.claim(
        "exactly one of the two models is single-stage", len(singles) == 1, str({k: v[0] for k, v in stages.items()})
    )
    r.value = singles[0] if len(singles) == 1 else None
    r.demonstrated(
        "the stages are counted on our own miniature models, built one- and two-stage as the papers describe"
    )
    r.claim(
        "Mask R-CNN's class scores depend on its RPN's box predictions (proposals → RoIAlign)",
        stages["Mask R-CNN"][0] == 2 and "RPN" in stages["Mask R-CNN"][1][0],
        f"upstream box predictors: {stages['Mask R-CNN'][1]}",
    )
    for name, (n, upstream) in stages.items():
        r.note(
            f"{name}: {n} stage(s); box predictors whose output changes the final class scores: {upstream or 'none'}."
        )
    r.note(
        "Test: add a constant to each box-regression output in turn (forward hook) and see whether the final class "
        "scores move. In Mask R-CNN shifting the RPN's deltas moves the proposals, hence the RoIAlign crops, hence "
        "the classification: a second stage. YOLO's one head emits boxes and classes side by side from one pass."
    )
    return r


def rpn_deltas_shape() -> Result:
    r = Result()
    with one_thread():
        torch.manual_seed(0)
        head = RPNHead(RPN_C, RPN_K)
        with torch.no_grad():
            objectness, deltas = head(torch.randn(RPN_N, RPN_C, RPN_H, RPN_W))
    r.value = tuple(deltas.shape)
    r.demonstrated(
        "the 4k channels are what our own RPN head declares (torchvision, the independent reference, does not "
        "load with this torch: torchvision 0.28.0's CPU wheel fails with 'operator torchvision::nms does not exist')"
    )
    r.claim(
        "4 numbers (dx, dy, dw, dh) per anchor per location",
        deltas.shape[1] == 4 * RPN_K,
        f"{deltas.shape[1]} channels for k = {RPN_K}",
    )
    # The channels really are per-anchor deltas: regrouped as (N, k, 4, H, W) → one (dx, dy, dw, dh) per anchor,
    # zero deltas decode to the anchors themselves and dx = 0.5 moves each box by half its width.
    anchors = make_anchors(RPN_H, RPN_W, 16)
    decodes, rows = False, deltas.shape[1] * RPN_H * RPN_W // 4
    if deltas.shape[1] == 4 * RPN_K:  # otherwise the channels cannot be per-anchor deltas (claim above fails)
        per_anchor = deltas.view(RPN_N, RPN_K, 4, RPN_H, RPN_W).permute(0, 3, 4, 1, 2).reshape(RPN_N, -1, 4)
        shift = torch.zeros_like(per_anchor[0])
        shift[:, 0] = 0.5
        moved = decode(shift, anchors)
        rows = per_anchor.shape[1]
        decodes = (
            rows == anchors.shape[0]
            and torch.allclose(decode(torch.zeros_like(per_anchor[0]), anchors), anchors, atol=1e-4)
            and torch.allclose(moved[:, 0] - anchors[:, 0], 0.5 * (anchors[:, 2] - anchors[:, 0]), atol=1e-4)
        )
    r.claim(
        "regrouped per anchor they decode onto the H·W·k anchors: zero deltas give the anchors, dx = 0.5 shifts by "
        "half a width",
        decodes,
        f"{rows} (dx, dy, dw, dh) rows per image for {anchors.shape[0]} anchors",
    )
    r.note(
        f"RPN head on a ({RPN_N}, {RPN_C}, {RPN_H}, {RPN_W}) feature map, k = {RPN_K} anchors: objectness "
        f"{tuple(objectness.shape)}, box deltas {tuple(deltas.shape)}."
    )
    r.note(
        f"That is {RPN_H}·{RPN_W}·{RPN_K} = {RPN_H * RPN_W * RPN_K} anchors per image, each with one objectness logit "
        "and 4 regression targets."
    )
    return r


def yolo_shape() -> Result:
    r = Result()
    with one_thread():
        torch.manual_seed(0)
        model = TinyYOLOv1(S=YOLO_S, B=YOLO_B, C=YOLO_C)
        with torch.no_grad():
            out = model(torch.rand(YOLO_N, 3, YOLO_IN, YOLO_IN))["grid"]
    r.value = tuple(out.shape)
    r.demonstrated("the S×S×(B·5+C) layout is what our own YOLO v1 head reshapes its output to")
    r.claim(
        "per cell: B·5 + C numbers", out.shape[-1] == YOLO_B * 5 + YOLO_C, f"{out.shape[-1]} = {YOLO_B}·5 + {YOLO_C}"
    )
    r.note(
        f"YOLO v1-style network on {YOLO_N} images {YOLO_IN}×{YOLO_IN}: output {tuple(out.shape)} ({out[0].numel()} "
        "numbers per image, from one fully connected layer)."
    )
    r.note(
        f"Per cell: {YOLO_B} boxes × (x, y, w, h, confidence) + {YOLO_C} class probabilities shared by the cell's "
        "boxes."
    )
    return r


def outputs() -> Result:
    """Text card: describe the RPN outputs and the YOLO output; measure shapes and properties."""
    r = Result()
    with one_thread():
        torch.manual_seed(0)
        head = RPNHead(64, RPN_K)
        head2 = RPNHead(64, RPN_K, two_class_objectness=True)
        shapes = {}
        with torch.no_grad():
            for hw in ((38, 50), (25, 34)):
                f = torch.randn(1, 64, *hw)
                obj, dl = head(f)
                shapes[hw] = (tuple(obj.shape), tuple(dl.shape), tuple(head2(f)[0].shape))
        anchors = make_anchors(38, 50, 16)
        # Mask R-CNN decodes its RPN's deltas 4 per anchor: a head of another layout cannot feed it (a failed
        # claim below, not a crash)
        o = None
        if shapes[(38, 50)][1][1] == 4 * RPN_K:
            with torch.no_grad():
                o = TinyMaskRCNN()(torch.rand(1, 3, 256, 256))
        yolo = TinyYOLOv1()
        with torch.no_grad():
            yo = yolo(torch.rand(1, 3, 448, 448))["grid"]
        try:
            with torch.no_grad():
                yolo(torch.rand(1, 3, 384, 384))
            other_size = "ran"
        except RuntimeError:
            other_size = "fails"
    r.part("rpn_objectness", list(shapes[(38, 50)][0]))
    r.part("rpn_deltas", list(shapes[(38, 50)][1]))
    r.part("yolo", list(yo.shape))
    r.demonstrated("the shapes are what our own RPN and YOLO v1 heads declare (torchvision does not load here)")
    r.claim(
        "RPN: objectness (N, k, H, W) [(N, 2k, H, W) with the paper's 2-way softmax] and deltas (N, 4k, H, W)",
        shapes[(38, 50)] == ((1, 9, 38, 50), (1, 36, 38, 50), (1, 18, 38, 50)),
        str(shapes[(38, 50)]),
    )
    r.claim(
        "the RPN is fully convolutional: its output grid follows the feature-map size",
        shapes[(25, 34)][1] == (1, 36, 25, 34),
        str(shapes[(25, 34)]),
    )
    r.claim(
        "one anchor per (location, size, ratio): H·W·k boxes to score and refine",
        anchors.shape == (38 * 50 * 9, 4),
        f"{tuple(anchors.shape)}",
    )
    r.figure("anchor_count", anchors.shape[0], "{:,}")
    if o is None:
        r.claim("Mask R-CNN's second stage runs on the RPN's proposals", False, "its RPN gives no 4 deltas per anchor")
        return r
    R = o["proposals"].shape[0]
    r.claim(
        "Mask R-CNN's second stage outputs per RoI: C+1 scores, 4(C+1) class-specific deltas, C masks",
        tuple(o["scores"].shape) == (R, 4)
        and tuple(o["boxes"].shape) == (R, 16)
        and tuple(o["masks"].shape) == (R, 3, 28, 28),
        f"R = {R} proposals, C = 3: scores {tuple(o['scores'].shape)}, boxes {tuple(o['boxes'].shape)}, masks "
        f"{tuple(o['masks'].shape)}",
    )
    r.claim(
        "YOLO v1: one fixed S×S×(B·5+C) tensor, 7×7×30 for S=7, B=2, C=20",
        tuple(yo.shape) == (1, 7, 7, 30),
        str(tuple(yo.shape)),
    )
    r.claim(
        "YOLO v1's fully connected head fixes the input size", other_size == "fails", f"a 384×384 input {other_size}"
    )
    r.note(
        f"RPN on a 38×50 map, k=9: objectness {shapes[(38, 50)][0]} (or {shapes[(38, 50)][2]} as 2-way logits), deltas "
        f"{shapes[(38, 50)][1]}; on 25×34: {shapes[(25, 34)][1]}."
    )
    r.note(
        f"{anchors.shape[0]} anchors → decode deltas → top-k by objectness → NMS → {R} proposals (R, 4) for RoIAlign."
    )
    r.note(
        f"Mask R-CNN heads per proposal: scores {tuple(o['scores'].shape)}, box deltas {tuple(o['boxes'].shape)}, "
        f"masks {tuple(o['masks'].shape)}."
    )
    r.note(
        f"YOLO v1: {tuple(yo.shape)} — 7·7·2 = 98 candidate boxes; confidence × class probability gives the "
        "class-specific score, then NMS."
    )
    return r
