"""Question 1: L2 loss vs binary cross-entropy for a dog (0) / hotdog (1) classifier.

The model outputs a logit z and p = sigmoid(z). We compare, with autograd, dL/dz for
  L2:  (sigmoid(z) - y)^2            -> 2 (p - y) p (1 - p)   (vanishes when p saturates)
  BCE: binary_cross_entropy_with_logits(z, y) -> p - y        (stays ~ -1 when confidently wrong)
and train a logistic classifier from a confidently wrong start with each loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from losses_common import fmt
from torch_threads import one_thread

from quizzer.verifier import Result, samples

L2 = "L2 loss (MSE) on the sigmoid output"
BCE = "binary cross-entropy (log loss) on the logit"


def l2_loss(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (torch.sigmoid(z) - y) ** 2


def bce_loss(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(z, y, reduction="none")


LOSSES = {L2: l2_loss, BCE: bce_loss}


def logit_grads(loss, z_values, y_values):
    z = torch.tensor(z_values, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(y_values, dtype=torch.float64)
    values = loss(z, y)
    (grad,) = torch.autograd.grad(values.sum(), z)
    return values.detach(), grad


def dog_hotdog_data(n: int = 200, seed: int = 0):
    """Two image features per example; label 1 = hotdog, 0 = dog (linearly separable-ish)."""
    g = torch.Generator().manual_seed(seed)
    labels = (torch.arange(n) % 2).float()
    direction = torch.tensor([1.5, 1.0])
    X = torch.randn(n, 2, generator=g) + (2 * labels[:, None] - 1) * direction
    return X, labels, direction


def train_from_confidently_wrong(loss, steps: int = 200, lr: float = 0.5):
    """Logistic classifier initialised pointing the WRONG way (large logits of the wrong sign)."""
    X, labels, direction = dog_hotdog_data()
    w = (-4 * direction).clone().requires_grad_()
    b = torch.zeros((), requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=lr)
    accuracy = lambda: (((X @ w + b) > 0).float() == labels).float().mean().item()  # noqa: E731
    acc0 = accuracy()
    first_grad = None
    curve = []
    for _ in range(steps):
        opt.zero_grad()
        value = loss(X @ w + b, labels).mean()
        value.backward()
        if first_grad is None:
            first_grad = w.grad.norm().item()
        curve.append(accuracy())
        opt.step()
    return acc0, accuracy(), first_grad, curve


def recommended() -> Result:
    """Choice: which loss to train the classifier with, decided by the confidently-wrong gradient."""
    r = Result()
    with one_thread():
        wrong_z = [-10.0, -5.0, 10.0, 5.0]  # confidently wrong: hotdogs (y=1) with negative logits, dogs the reverse
        wrong_y = [1.0, 1.0, 0.0, 0.0]
        smallest = {}
        for name, loss in LOSSES.items():
            _, grad = logit_grads(loss, wrong_z, wrong_y)
            smallest[name] = grad.abs().min().item()
            r.note(
                f"{name}: |dL/dz| on confidently wrong logits {wrong_z} = "
                + ", ".join(fmt(g) for g in grad.abs().tolist())
            )
        # The recommended loss is the one that still pushes hardest on its worst mistakes.
        r.value = max(smallest, key=smallest.get)
        ratio = smallest[BCE] / smallest[L2]
        r.claim(
            "the two losses' smallest confidently-wrong gradients differ by orders of magnitude",
            ratio > 100 or ratio < 0.01,
            f"BCE {fmt(smallest[BCE])} vs L2 {fmt(smallest[L2])} (×{fmt(ratio)})",
        )

        trained = {name: train_from_confidently_wrong(loss) for name, loss in LOSSES.items()}
        best = max(trained, key=lambda name: trained[name][1])
        r.figure("l2_wrong_gradient", smallest[L2], "{:.0e}")
        r.figure("bce_wrong_gradient", smallest[BCE], "{:.2f}")
        r.figure("bce_over_l2", smallest[BCE] / smallest[L2], "{:.0e}")
        r.figure("start_accuracy", trained[BCE][0], "{:.0%}")
        r.figure("bce_accuracy", trained[BCE][1], "{:.0%}")
        r.figure("l2_accuracy", trained[L2][1], "{:.0%}")
        r.claim(
            "training from a confidently wrong start agrees: the chosen loss reaches the higher accuracy",
            best == r.value and trained[best][1] - min(t[1] for t in trained.values()) > 0.5,
            ", ".join(f"{name}: {fmt(t[0])} -> {fmt(t[1])}" for name, t in trained.items()),
        )
        for name, (acc0, acc1, g0, curve) in trained.items():
            r.note(
                f"{name}: logistic dog/hotdog classifier started confidently wrong (accuracy {acc0:.0%}); "
                f"first-step |grad w| = {fmt(g0)}; after 200 SGD steps (lr 0.5) accuracy {acc1:.0%}."
            )
            r.plot(f"accuracy, {name.split(' (')[0]}", range(len(curve)), curve, xlabel="SGD step", ylabel="accuracy")
        r.note(
            "L2 barely moves a classifier that is confidently wrong: its gradient carries a factor "
            "p(1-p) that vanishes exactly where the mistakes are worst. Cross-entropy's gradient is p - y."
        )
    return r


def numerical_example() -> Result:
    """Text: the numbers of the model answer, each computed with autograd in float64."""
    r = Result()
    zs = [-10.0, -5.0, -2.0, 0.0, 2.0, 5.0]
    ys = [1.0] * len(zs)  # a hotdog
    l2, g2 = logit_grads(l2_loss, zs, ys)
    ce, gce = logit_grads(bce_loss, zs, ys)
    z = torch.tensor(zs, dtype=torch.float64)
    p = torch.sigmoid(z)

    r.claim(
        "autograd dL2/dz equals 2(p-y)p(1-p)",
        torch.allclose(g2, 2 * (p - 1) * p * (1 - p)),
        f"max diff {fmt((g2 - 2 * (p - 1) * p * (1 - p)).abs().max().item())}",
    )
    r.claim(
        "autograd dBCE/dz equals p - y",
        torch.allclose(gce, p - 1),
        f"max diff {fmt((gce - (p - 1)).abs().max().item())}",
    )

    r.part("l2_grad", samples([({"p": pi}, gi) for pi, gi in zip(p.tolist(), g2.tolist(), strict=True)], 1e-9))
    r.part("bce_grad", samples([({"p": pi}, gi) for pi, gi in zip(p.tolist(), gce.tolist(), strict=True)], 1e-9))
    i = zs.index(-10.0)
    r.claim(
        "at z=-10 (p=4.5e-5, label hotdog) the L2 loss is ~1 and its gradient ~ -9.1e-5",
        abs(l2[i].item() - 1) < 1e-3 and abs(g2[i].item() + 9.08e-5) < 1e-6,
        f"p={fmt(p[i].item())}, L2={l2[i].item():.5f}, dL2/dz={fmt(g2[i].item())}",
    )
    r.claim(
        "at z=-10 the BCE loss is ~10 and its gradient ~ -1",
        abs(ce[i].item() - 10) < 1e-3 and abs(gce[i].item() + 1) < 1e-3,
        f"BCE={ce[i].item():.5f}, dBCE/dz={gce[i].item():.5f}",
    )
    j = zs.index(-2.0)
    r.claim(
        "L2 pushes a confidently wrong example (z=-10) LESS than a mildly wrong one (z=-2)",
        abs(g2[i].item()) < abs(g2[j].item()) / 1000,
        f"|{fmt(g2[i].item())}| vs |{fmt(g2[j].item())}|",
    )
    r.claim(
        "L2 caps the cost of any mistake at 1, BCE grows ~ linearly in the logit",
        l2.max().item() < 1 and ce[i].item() / ce[zs.index(-5.0)].item() > 1.9,
        f"L2 max {l2.max().item():.5f}; BCE(-10)/BCE(-5) = {ce[i].item() / ce[zs.index(-5.0)].item():.3f}",
    )

    zz = torch.tensor(-3.0, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(l2_loss(zz, torch.tensor(1.0, dtype=torch.float64)), zz, create_graph=True)
    (curv,) = torch.autograd.grad(g, zz)
    zb = torch.tensor(-3.0, dtype=torch.float64, requires_grad=True)
    (gb,) = torch.autograd.grad(bce_loss(zb, torch.tensor(1.0, dtype=torch.float64)), zb, create_graph=True)
    (curv_b,) = torch.autograd.grad(gb, zb)
    r.claim(
        "L2∘sigmoid is non-convex in the logit (negative curvature at z=-3); BCE is convex there",
        curv.item() < 0 < curv_b.item(),
        f"d²L2/dz² = {fmt(curv.item())}, d²BCE/dz² = {fmt(curv_b.item())}",
    )

    r.figure("curvature_l2", curv.item(), "{:+.3f}")
    r.figure("curvature_bce", curv_b.item(), "{:+.3f}")
    table = {  # the explanation's table, the wrong and the undecided side of a hotdog: p, L2, ∂L2/∂z, BCE, ∂BCE/∂z
        -10.0: ("p_m10", "l2_m10", "l2_grad_m10", "bce_m10", "bce_grad_m10"),
        -5.0: ("p_m5", "l2_m5", "l2_grad_m5", "bce_m5", "bce_grad_m5"),
        -2.0: ("p_m2", "l2_m2", "l2_grad_m2", "bce_m2", "bce_grad_m2"),
        0.0: ("p_0", "l2_0", "l2_grad_0", "bce_0", "bce_grad_0"),
    }
    for zk, names in table.items():
        k = zs.index(zk)
        columns = ((p[k], "{:.2g}"), (l2[k], "{:.5f}"), (g2[k], "{:.3g}"), (ce[k], "{:.5f}"), (gce[k], "{:.5f}"))
        for name, (value, pattern) in zip(names, columns, strict=True):
            r.figure(name, value.item(), pattern)

    two_class = F.cross_entropy(
        torch.stack([torch.zeros_like(z), z], 1), torch.ones(len(zs), dtype=torch.long), reduction="none"
    )
    r.claim(
        "softmax cross-entropy on logits [0, z] is the same loss as BCE on z",
        torch.allclose(two_class, ce),
        f"max diff {fmt((two_class - ce).abs().max().item())}",
    )

    raw = torch.tensor([3.0], requires_grad=True)  # L2 on a raw (no sigmoid) output, label 1
    loss_raw = (raw - 1) ** 2
    (g_raw,) = torch.autograd.grad(loss_raw.sum(), raw)
    r.claim(
        "L2 on a raw score punishes a correct, confident output (3 for a hotdog) and pushes it back",
        loss_raw.item() > 1 and g_raw.item() > 0,
        f"loss {loss_raw.item():g}, gradient {g_raw.item():+g}",
    )

    grid = [i / 4 for i in range(-40, 21)]  # z from -10 (confidently wrong) to +5 (confidently right)
    _, g2_grid = logit_grads(l2_loss, grid, [1.0] * len(grid))
    _, gce_grid = logit_grads(bce_loss, grid, [1.0] * len(grid))
    peak = grid[int(g2_grid.abs().argmax())]
    r.note(
        f"A confidently wrong hotdog (z = −10, p = {p[i].item():.1e}) gets an L2 gradient of {g2[i].item():.2e}, "
        f"{abs(gce[i].item() / g2[i].item()):,.0f}× smaller than cross-entropy's {gce[i].item():.4f}."
    )
    r.note(
        f"Figure: |∂L/∂z| for a hotdog (y = 1) from z = −10 (confidently wrong) to z = +5. Cross-entropy's "
        f"stays ≈ 1 as long as the model is wrong; L2's is largest at z = {peak:g} and fades towards 0 for the "
        "worst mistakes."
    )
    r.plot("|dL/dz|, L2 on sigmoid (label 1)", grid, g2_grid.abs().tolist(), xlabel="logit z", ylabel="|dL/dz|")
    r.plot("|dL/dz|, BCE (label 1)", grid, gce_grid.abs().tolist(), xlabel="logit z", ylabel="|dL/dz|")
    return r
