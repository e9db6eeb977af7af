"""Backpropagation Q3: run the card's own snippet and check what it computed.

The snippet's asserts are the question's `torch.allclose` checks; on top of them this verifier
recomputes autograd independently, checks shapes, the closed form of this linear `foo`, and that
the numerical gradient really is an independent estimate (not autograd's tensor handed back).
"""

from __future__ import annotations

import torch

from quizzer.verifier import Context, Result


def verify(ctx: Context) -> Result:
    r = Result()
    ns, printed = ctx.run_snippet()  # raises (fails the card) if the snippet's asserts fail
    X, W, b, foo = ns["X"], ns["W"], ns["b"], ns["foo"]
    grad_W, grad_b = ns["grad_W"], ns["grad_b"]
    N, d = X.shape

    r.claim(
        "grad_W and grad_b have the shapes of W and b",
        grad_W.shape == W.shape and grad_b.shape == b.shape,
        f"{tuple(grad_W.shape)}, {tuple(grad_b.shape)}",
    )
    Wl, bl = W.detach().clone().requires_grad_(True), b.detach().clone().requires_grad_(True)
    aW, ab = torch.autograd.grad(foo(Wl, bl), (Wl, bl))
    eW, eb = (grad_W - aW).abs().max().item(), (grad_b - ab).abs().max().item()
    r.claim(
        "the numerical gradients match a fresh autograd computation (torch.allclose)",
        torch.allclose(grad_W, aW) and torch.allclose(grad_b, ab),
        f"max |numerical − autograd|: W {eW:.1e}, b {eb:.1e}",
    )
    r.figure("roundoff_error", max(eW, eb), "{:.0e}")
    r.claim(
        "they are estimates, not autograd's tensors: not bit-identical, not the same object",
        grad_W is not W.grad and not (torch.equal(grad_W, aW) and torch.equal(grad_b, ab)),
        f"max differences {eW:.1e} and {eb:.1e} are round-off of the finite difference",
    )
    closed_W = (X.mean(0) / d).unsqueeze(1).expand(d, d)
    closed_b = torch.full((d,), 1 / d, dtype=X.dtype)
    r.claim(
        "closed form of this linear loss: ∂L/∂W_jk = mean_i X_ij / d and ∂L/∂b_k = 1/d",
        torch.allclose(grad_W, closed_W) and torch.allclose(grad_b, closed_b),
        f"grad_b = {[round(v, 6) for v in grad_b.tolist()]}, 1/d = {1 / d}",
    )
    r.claim(
        "the snippet printed the loss, as in the question", printed.startswith("loss=tensor("), printed.strip()[:60]
    )
    r.note(f"The snippet printed: {printed.strip()}")
    r.note(
        f"N={N}, d={d}: {W.numel() + b.numel()} parameters, so {2 * (W.numel() + b.numel())} evaluations of foo "
        "for central differences."
    )
    r.note(f"grad_W column 0 = {[round(v, 5) for v in grad_W[:, 0].tolist()]}: every column equals mean(X, 0)/d.")
    r.note(
        f"Because foo is linear in W and b, the truncation error is zero: the {eW:.0e} residual is pure "
        "round-off (≈ ε·|loss|/h)."
    )
    return r
