"""Backpropagation Q1: the hand-derived gradients of the regularised BCE loss, checked against autograd.

The formulas below are the card's answer, transcribed term by term (no autograd on this side):

    zᵢ = W₁xᵢ + b₁,  aᵢ = φ(zᵢ),  ŷᵢ = W₂aᵢ + b₂,  pᵢ = σ(ŷᵢ)
    δᵢ = ∂L/∂ŷᵢ = (pᵢ − yᵢ)/N                 (BCE read on σ(ŷ), i.e. BCE-with-logits)
    δᵢ = (ŷᵢ − yᵢ) / (N ŷᵢ(1 − ŷᵢ))            (the literal reading: ŷ itself in the log, needs 0 < ŷ < 1)
    gᵢ = ∂L/∂zᵢ = φ'(zᵢ) ⊙ (W₂ᵀ δᵢ)
    ∂L/∂W₂ = Σᵢ δᵢ aᵢᵀ + λW₂      ∂L/∂b₂ = Σᵢ δᵢ
    ∂L/∂W₁ = Σᵢ gᵢ xᵢᵀ + λW₁      ∂L/∂b₁ = Σᵢ gᵢ
    ∂L/∂xᵢ = W₁ᵀ gᵢ

Each card checks its tensor for φ = tanh and φ = ReLU (the formula keeps φ' general), for both
readings of ℓ (the literal one on data whose outputs all lie in (0, 1)), and shows that a typical
mistake would be caught.
"""

from __future__ import annotations

import bp_common as bp
import torch
import torch.nn.functional as F

from quizzer.verifier import Result, tensor_samples


def hand_gradients(p: dict, phi_prime, lam: float = bp.LAM, mistake: str | None = None, reading: str = "logit") -> dict:
    """The answer's formulas, sample by sample. `mistake` injects a common error (to show the check has teeth).

    reading: "logit" (ℓ applied to σ(ŷ)) or "literal" (ℓ applied to ŷ itself, only defined for 0 < ŷ < 1)."""
    X, y, W1, b1, W2, b2 = (p[k] for k in ("X", "y", "W1", "b1", "W2", "b2"))
    phi = {"tanh": torch.tanh, "relu": torch.relu}[p["phi"]]
    n = X.shape[0]
    grads = {
        "W1": lam * W1 if mistake != "no-reg" else torch.zeros_like(W1),
        "W2": lam * W2 if mistake != "no-reg" else torch.zeros_like(W2),
        "b1": torch.zeros_like(b1),
        "b2": torch.zeros_like(b2),
        "x": torch.zeros_like(X),
        "delta": torch.zeros(n, dtype=X.dtype),
    }
    for i in range(n):
        x_i = X[i]  # (D,)
        z = W1 @ x_i + b1  # (H,)
        a = phi(z)
        yhat = W2 @ a + b2  # (1,)
        if mistake == "logit-as-probability":
            delta = (yhat - y[i]) / n
        elif mistake == "no-1/N":
            delta = torch.sigmoid(yhat) - y[i]
        elif reading == "literal":
            delta = (yhat - y[i]) / (yhat * (1 - yhat)) / n  # ∂L/∂ŷᵢ with ŷ itself as the probability
        else:
            delta = (torch.sigmoid(yhat) - y[i]) / n  # ∂L/∂ŷᵢ
        dphi = torch.ones_like(z) if mistake == "no-phi-prime" else phi_prime(z)
        g = dphi * (W2.T @ delta)  # ∂L/∂zᵢ, (H,)
        grads["delta"][i] = delta[0]
        grads["W2"] = grads["W2"] + torch.outer(delta, a)
        grads["b2"] = grads["b2"] + delta
        grads["W1"] = grads["W1"] + torch.outer(g, x_i)
        grads["b1"] = grads["b1"] + g
        grads["x"][i] = W1.T @ g
    return grads


def autograd_gradients(p: dict, reading: str = "logit") -> dict:
    phi = {"tanh": torch.tanh, "relu": torch.relu}[p["phi"]]
    leaves = {k: p[k].detach().clone().requires_grad_(True) for k in ("X", "W1", "b1", "W2", "b2")}
    yhat = bp.logits(leaves["X"], leaves["W1"], leaves["b1"], leaves["W2"], leaves["b2"], phi)
    yhat.retain_grad()
    prob = yhat if reading == "literal" else torch.sigmoid(yhat)
    L = bp.bce(p["y"], prob).mean() + bp.LAM / 2 * (leaves["W1"].pow(2).sum() + leaves["W2"].pow(2).sum())
    L.backward()
    out = {k: leaves[k].grad for k in ("W1", "b1", "W2", "b2")}
    out["x"] = leaves["X"].grad
    out["delta"] = yhat.grad
    out["L"] = L.detach()
    out["yhat"] = yhat.detach()
    return out


MISTAKE = {  # the slip each card shows would be caught
    "W1": ("no-reg", "forgetting the +λW₁ term of the regulariser"),
    "W2": ("no-reg", "forgetting the +λW₂ term of the regulariser"),
    "b1": ("no-phi-prime", "dropping φ'(z) (treating the activation as linear)"),
    "b2": ("logit-as-probability", "using (ŷ − y)/N, as if the logit ŷ were the probability"),
    "x": ("no-1/N", "forgetting the 1/N of the mean"),
}


def formula_samples(tensor: str) -> dict:
    """The tensor part's samples: the network's tensors in batch form (rows of X are the samples; y and ŷ as
    N×1 columns; A = φ(Z) and dphi = φ'(Z) for Z = X W₁ᵀ + b₁) and autograd's gradient, for φ = tanh and ReLU."""
    points = []
    for name, (phi, phi_prime) in bp.PHIS.items():
        p = bp.problem(seed=0) | {"phi": name}
        auto = autograd_gradients(p)
        Z = p["X"] @ p["W1"].T + p["b1"]
        inputs = {k: p[k] for k in ("X", "W1", "b1", "W2", "b2")} | {
            "y": p["y"][:, None],
            "yhat": auto["yhat"][:, None],
            "A": phi(Z),
            "dphi": phi_prime(Z),
            "lam": bp.LAM,
            "N": float(bp.N),
        }
        points.append((inputs, auto[tensor]))
    return tensor_samples(points, tolerance=1e-9)


def _check(tensor: str) -> Result:
    r = Result()
    r.part("gradient", formula_samples(tensor))
    shown = {"W1": "W₁", "W2": "W₂", "b1": "b₁", "b2": "b₂", "x": "x⁽ⁱ⁾ (every row of X)"}[tensor]
    for name, (_, phi_prime) in bp.PHIS.items():
        p = bp.problem(seed=0) | {"phi": name}
        hand = hand_gradients(p, phi_prime)
        auto = autograd_gradients(p)
        err = (hand[tensor] - auto[tensor]).abs().max().item()
        r.claim(
            f"φ = {name}: the formula for ∂L/∂{shown} equals autograd (torch.allclose, float64)",
            torch.allclose(hand[tensor], auto[tensor], rtol=1e-10, atol=1e-12),
            f"max |formula − autograd| = {err:.2e} over {hand[tensor].numel()} entries",
        )
        if name == "tanh":
            d_err = (hand["delta"] - auto["delta"]).abs().max().item()
            r.claim(
                "∂L/∂ŷᵢ = (σ(ŷᵢ) − yᵢ)/N matches autograd's gradient at the logit",
                torch.allclose(hand["delta"], auto["delta"], rtol=1e-10, atol=1e-14),
                f"max error {d_err:.1e}",
            )
            r.note(
                f"φ = tanh, N={bp.N}, D={bp.D}, H={bp.H}, λ={bp.LAM}: L = {auto['L'].item():.6f}; "
                f"‖∂L/∂{shown}‖ = {auto[tensor].norm().item():.4f}, formula vs autograd max error {err:.1e}."
            )
        else:
            r.note(f"φ = ReLU (φ' = 1[z>0]), same data: formula vs autograd max error {err:.1e}.")
    # The literal reading: ŷ itself is the probability in ℓ. Only δ changes; checked where 0 < ŷ < 1.
    lit_errs = []
    for name, (_, phi_prime) in bp.PHIS.items():
        p = bp.problem_in_unit_interval(seed=0) | {"phi": name}
        auto = autograd_gradients(p, reading="literal")
        inside = bool(((auto["yhat"] > 0) & (auto["yhat"] < 1)).all())
        hand = hand_gradients(p, phi_prime, reading="literal")
        logit_reading = hand_gradients(p, phi_prime)[tensor]
        err = (hand[tensor] - auto[tensor]).abs().max().item()
        apart = (logit_reading - auto[tensor]).abs().max().item()
        lit_errs.append(err)
        r.claim(
            f"φ = {name}, literal reading (ℓ on ŷ itself, all ŷ in (0,1)): the same formula with "
            f"δᵢ = (ŷᵢ − yᵢ)/(N ŷᵢ(1 − ŷᵢ)) equals autograd, and differs from the σ(ŷ) reading",
            inside and torch.allclose(hand[tensor], auto[tensor], rtol=1e-10, atol=1e-12) and apart > 1e-3,
            f"ŷ ∈ [{auto['yhat'].min():.2f}, {auto['yhat'].max():.2f}]; max error {err:.1e}; "
            f"the σ(ŷ)-reading formula would be off by {apart:.3g}",
        )
    r.note(
        f"Literal reading (ŷ itself in the log, data rescaled so every ŷ lies in (0,1)): with "
        f"δᵢ = (ŷᵢ − yᵢ)/(N ŷᵢ(1 − ŷᵢ)) the same formula matches autograd to {max(lit_errs):.0e}."
    )
    mistake, words = MISTAKE[tensor]
    p = bp.problem(seed=0) | {"phi": "tanh"}
    wrong = hand_gradients(p, bp.PHIS["tanh"][1], mistake=mistake)[tensor]
    auto = autograd_gradients(p)[tensor]
    off = (wrong - auto).abs().max().item()
    r.claim(
        f"the check has teeth: {words} is caught",
        not torch.allclose(wrong, auto, rtol=1e-10, atol=1e-12) and off > 1e-3,
        f"max error {off:.3g}",
    )
    r.note(f"A common slip, {words}, would be off by up to {off:.3g}: the comparison is not vacuous.")
    return r


def w1() -> Result:
    r = _check("W1")
    r.note("∂L/∂W₁ is a sum of outer products gᵢxᵢᵀ (H×D, the shape of W₁) plus the weight-decay pull λW₁.")
    return r


def w2() -> Result:
    r = _check("W2")
    r.note("∂L/∂W₂ = Σᵢ δᵢ φ(zᵢ)ᵀ + λW₂: each sample's error at the logit times the hidden activations it multiplied.")
    return r


def b1() -> Result:
    r = _check("b1")
    r.note("∂L/∂b₁ is ∂L/∂W₁ without the xᵢᵀ factor and without a regulariser (biases are not decayed).")
    return r


def b2() -> Result:
    r = _check("b2")
    p = bp.problem(seed=0) | {"phi": "tanh"}
    auto = autograd_gradients(p)
    yhat = auto["yhat"]
    outside = int(((yhat <= 0) | (yhat >= 1)).sum())
    literal = bp.bce(p["y"], yhat)
    nan = int(torch.isnan(literal).sum())
    r.claim(
        "read literally, ℓ(y, ŷ) is undefined: the affine output leaves (0, 1) and log gives NaN",
        outside > 0 and nan > 0,
        f"{outside}/{bp.N} logits outside (0,1), {nan} NaN pointwise losses; ŷ ∈ [{yhat.min():.2f}, {yhat.max():.2f}]",
    )
    reading = bp.bce(p["y"], torch.sigmoid(yhat)).mean()
    logits_loss = F.binary_cross_entropy_with_logits(yhat, p["y"])
    r.claim(
        "BCE applied to σ(ŷ) is exactly PyTorch's BCE-with-logits",
        torch.allclose(reading, logits_loss, rtol=1e-12, atol=0),
        f"{reading.item():.12f} vs {logits_loss.item():.12f}",
    )
    r.note(f"With this data {outside} of {bp.N} logits lie outside (0,1): only ℓ(y, σ(ŷ)) makes sense.")
    return r


def x() -> Result:
    r = _check("x")
    r.note(
        "Each xᵢ appears in one term of the mean only, so ∂L/∂xᵢ carries the 1/N; the regulariser does not involve x."
    )
    return r
