"""Backpropagation Q2: gradients from the limit definition of the derivative, on the Q1 MLP.

`how`: the recipe (perturb one parameter, re-run the forward pass, divide) reproduces autograd.
`drawbacks`: what it costs (forward passes counted) and how its error depends on the step h.
"""

from __future__ import annotations

import math

import bp_common as bp
import torch

from quizzer.verifier import Result


def how() -> Result:
    r = Result()
    p = bp.problem(seed=0)
    f = bp.CountingLoss(p)
    theta = bp.flatten(p)
    P = theta.numel()
    exact = bp.autograd_gradient(f, theta)

    f.calls = 0
    fwd = bp.forward_difference(f, theta, h=1e-7)
    fwd_calls = f.calls
    f.calls = 0
    ctr = bp.central_difference(f, theta, h=1e-5)
    ctr_calls = f.calls
    e_fwd = (fwd - exact).abs().max().item()
    e_ctr = (ctr - exact).abs().max().item()
    scale = exact.abs().max().item()

    r.claim(
        "forward differences (h = 1e-7) reproduce autograd's gradient of all parameters",
        torch.allclose(fwd, exact, rtol=1e-5, atol=1e-6),
        f"max error {e_fwd:.1e} (largest gradient entry {scale:.3f}), P = {P} parameters",
    )
    r.claim(
        "central differences (h = 1e-5) are far more accurate than forward differences",
        torch.allclose(ctr, exact, rtol=1e-8, atol=1e-9) and e_ctr < e_fwd / 100,
        f"max error {e_ctr:.1e} vs {e_fwd:.1e}",
    )
    r.figure("parameters", P)
    r.figure("forward_error", e_fwd, "{:.0e}")
    r.figure("central_error", e_ctr, "{:.0e}")
    r.part("evaluations_per_parameter", ctr_calls / P)
    r.demonstrated(
        "the loss evaluations per parameter are counted on our own central-difference loop, which evaluates the "
        "formula's two terms: the count holds by construction (its agreement with autograd is measured)"
    )
    r.claim(
        "cost: forward differences need P + 1 loss evaluations, central 2P",
        fwd_calls == P + 1 and ctr_calls == 2 * P,
        f"counted {fwd_calls} and {ctr_calls} forward passes for P = {P}",
    )
    W1_fd = bp.unflatten(ctr, p)["W1"]
    W1 = p["W1"].clone().requires_grad_(True)
    (W1_ad,) = torch.autograd.grad(bp.loss(p["X"], p["y"], W1, p["b1"], p["W2"], p["b2"]), W1)
    r.claim(
        "each entry's quotient lands in the matching position: the reshaped ∂L/∂W₁ estimate equals autograd run on W₁ "
        "itself",
        W1_fd.shape == W1.shape and torch.allclose(W1_fd, W1_ad, rtol=1e-8, atol=1e-9),
        f"shape {tuple(W1_fd.shape)}, max |estimate − autograd| {(W1_fd - W1_ad).abs().max().item():.1e}",
    )
    r.note(
        f"The Q1 MLP ({bp.PHI.__name__}, N={bp.N}, D={bp.D}, H={bp.H}, λ={bp.LAM}, float64) has P = {P} scalar "
        f"parameters; L(θ) = {f(theta).item():.6f}."
    )
    j = int(exact.abs().argmax())
    r.note(
        f"Largest entry θ_{j}: autograd {exact[j].item():+.10f}, forward diff {fwd[j].item():+.10f}, "
        f"central diff {ctr[j].item():+.10f}."
    )
    r.note(f"Forward differences: {fwd_calls} forward passes, max error {e_fwd:.1e} (error ∝ h).")
    r.note(f"Central differences: {ctr_calls} forward passes, max error {e_ctr:.1e} (error ∝ h²).")
    return r


def _sweep(p: dict, dtype, hs):
    """Max |estimate − autograd| over all parameters, for forward and central differences, per h."""
    f = bp.CountingLoss(p, dtype=dtype)
    theta = bp.flatten(p).to(dtype)
    exact = bp.autograd_gradient(bp.CountingLoss(p), bp.flatten(p))  # float64 reference
    P = theta.numel()
    eye = torch.eye(P, dtype=dtype)
    fwd_err, ctr_err = [], []
    with torch.no_grad():
        base = f(theta)
        for h in hs:
            plus, minus = f(theta + h * eye), f(theta - h * eye)  # P perturbed θ's at once (P passes each)
            fwd_err.append(((plus - base) / h - exact.to(dtype)).abs().max().item())
            ctr_err.append(((plus - minus) / (2 * h) - exact.to(dtype)).abs().max().item())
    return fwd_err, ctr_err, f.calls


def _slope(hs, errs, lo, hi):
    """Least-squares slope of log10(error) against log10(h) for h in [lo, hi]."""
    pts = [(math.log10(h), math.log10(e)) for h, e in zip(hs, errs, strict=True) if lo <= h <= hi and e > 0]
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)


def drawbacks() -> Result:
    r = Result()
    p = bp.problem(seed=0)
    P = bp.flatten(p).numel()

    # 1. cost: count forward passes; autograd needs one forward and one backward, whatever P is
    f = bp.CountingLoss(p)
    theta = bp.flatten(p)
    bp.central_difference(f, theta, 1e-5)
    central_calls = f.calls
    f.calls = 0
    bp.autograd_gradient(f, theta)
    ad_calls = f.calls
    r.claim(
        "cost grows with the number of parameters: 2 forward passes per parameter (central) vs 1 for autograd",
        central_calls == 2 * P and ad_calls == 1,
        f"{central_calls} forward passes for P = {P} vs {ad_calls} forward (+1 backward) with autograd",
    )
    r.note(
        f"Cost: {central_calls} forward passes for P = {P} parameters (2 per parameter; forward differences "
        f"need P + 1); autograd: {ad_calls} forward + 1 backward. For a 25M-parameter ResNet-50 that is "
        "≈51 million forward passes per gradient step."
    )

    # 2. accuracy: sweep h from 1e-1 to 1e-12 (half decades)
    hs = [10 ** (-k / 2) for k in range(2, 25)]
    exact_scale = bp.autograd_gradient(f, theta).abs().max().item()
    fwd, ctr, calls = _sweep(p, bp.DTYPE, hs)
    r.plot(
        "forward difference, float64",
        [math.log10(h) for h in hs],
        [math.log10(e) for e in fwd],
        xlabel="log10 h",
        ylabel="log10 max |error|",
    )
    r.plot(
        "central difference, float64",
        [math.log10(h) for h in hs],
        [math.log10(e) for e in ctr],
        xlabel="log10 h",
        ylabel="log10 max |error|",
    )
    s_fwd = _slope(hs, fwd, 1e-4, 1e-1)
    s_ctr = _slope(hs, ctr, 1e-4, 1e-1)
    s_fwd_round = _slope(hs, fwd, 1e-12, 1e-10)
    s_ctr_round = _slope(hs, ctr, 1e-12, 1e-10)
    r.claim(
        "large h: truncation error ∝ h for forward differences (log-log slope ≈ 1)",
        0.9 <= s_fwd <= 1.1,
        f"slope {s_fwd:.2f} for h ∈ [1e-4, 1e-1]",
    )
    r.part("central_order", s_ctr)
    r.claim(
        "large h: truncation error ∝ h² for central differences (slope ≈ 2)",
        1.9 <= s_ctr <= 2.1,
        f"slope {s_ctr:.2f} for h ∈ [1e-4, 1e-1]",
    )
    r.claim(
        "small h: round-off error ∝ ε/h (slope ≈ −1) for both",
        -1.4 <= s_fwd_round <= -0.7 and -1.4 <= s_ctr_round <= -0.7,
        f"slopes {s_fwd_round:.2f} (forward), {s_ctr_round:.2f} (central) for h ∈ [1e-12, 1e-10]",
    )
    i_f, i_c = min(range(len(hs)), key=fwd.__getitem__), min(range(len(hs)), key=ctr.__getitem__)
    eps = torch.finfo(torch.float64).eps
    r.claim(
        "the error curve is U-shaped: best forward h near √ε ≈ 1e-8, best central h near ε^(1/3) ≈ 1e-5",
        1e-9 <= hs[i_f] <= 1e-7 and 1e-6 <= hs[i_c] <= 1e-4 and fwd[0] > fwd[i_f] < fwd[-1],
        f"argmin h: {hs[i_f]:.1e} (error {fwd[i_f]:.1e}) and {hs[i_c]:.1e} (error {ctr[i_c]:.1e}); "
        f"√ε = {eps**0.5:.1e}, ε^(1/3) = {eps ** (1 / 3):.1e}",
    )
    r.figure("slope_forward", s_fwd, "{:.2f}")
    r.figure("slope_central", s_ctr, "{:.2f}")
    r.figure("slope_roundoff", s_fwd_round, "{:.2f}")
    r.figure("best_h_forward", hs[i_f], "{:.0e}")
    r.figure("best_h_central", hs[i_c], "{:.0e}")
    r.note(
        f"float64 sweep h = 1e-1 … 1e-12: forward-difference error falls as h (slope {s_fwd:.2f}) down to "
        f"{fwd[i_f]:.1e} at h = {hs[i_f]:.0e}, then rises again as ε/h (slope {s_fwd_round:.2f}) to {fwd[-1]:.1e} at "
        "1e-12."
    )
    digits = -math.log10(ctr[-1] / exact_scale)
    r.note(
        f"Central differences fall as h² (slope {s_ctr:.2f}) to {ctr[i_c]:.1e} at h = {hs[i_c]:.0e}: better, "
        f"but never exact; at h = 1e-12 only ~{digits:.0f} correct digits of the gradient are left."
    )

    # 3. precision: in float32 the best achievable accuracy is much worse
    fwd32, ctr32, _ = _sweep(p, torch.float32, hs)
    best32 = min(ctr32)
    r.claim(
        "in float32 (ε ≈ 1.2e-7) even the best central-difference estimate is orders of magnitude worse",
        best32 > 1000 * ctr[i_c],
        f"best float32 error {best32:.1e} vs float64 {ctr[i_c]:.1e}",
    )
    r.figure("float32_orders_worse", math.log10(best32 / ctr[i_c]), "{:.0f}")
    r.plot(
        "central difference, float32",
        [math.log10(h) for h in hs],
        [math.log10(e) for e in ctr32],
        xlabel="log10 h",
        ylabel="log10 max |error|",
    )
    r.note(
        f"float32 (what networks train in): best central-difference error {best32:.1e}; best forward {min(fwd32):.1e}."
    )

    # 4. kinks: at a non-differentiable point the quotient mixes both sides
    z = torch.tensor([1e-7], dtype=torch.float64)
    h = 1e-6
    fd = ((torch.relu(z + h) - torch.relu(z - h)) / (2 * h)).item()
    zz = z.clone().requires_grad_(True)
    ad = torch.autograd.grad(torch.relu(zz).sum(), zz)[0].item()
    r.claim(
        "near a ReLU kink (closer than h) the finite difference is wrong",
        abs(fd - ad) > 0.1,
        f"relu'(1e-7): central difference with h = 1e-6 gives {fd:.3f}, autograd {ad:.0f}",
    )
    r.figure("kink_estimate", fd, "{:.2f}")
    r.figure("kink_autograd", ad, "{:.0f}")
    r.note(f"ReLU at z = 1e-7 with h = 1e-6: the quotient straddles the kink and returns {fd:.2f} instead of {ad:.0f}.")
    return r
