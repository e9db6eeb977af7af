"""Dropout question 3: the 1/(1-p) scaling keeps every activation unchanged in expectation — measured."""

import torch
import torch.nn as nn

from quizzer.verifier import Result, samples

PS = [0.1, 0.3, 0.5, 0.8]
XS = [-2.0, 0.5, 3.0]
N = 200_000  # samples of each activation value


def verify() -> Result:
    r = Result()
    torch.manual_seed(0)
    x = torch.tensor(XS).repeat_interleave(N)  # N copies of each activation value
    ok_scaled, ok_unscaled, ok_factor, ok_var, worst_z = True, True, True, True, 0.0
    min_gap_z, worst_factor, worst_var = float("inf"), 0.0, 0.0
    ratio_scaled, ratio_unscaled, needed = [], [], []  # per p, averaged over the activation values
    for p in PS:
        drop = nn.Dropout(p).train()
        with torch.no_grad():
            out = drop(x).view(len(XS), N)
        mask = (out != 0).float()  # the Bernoulli(1-p) keep mask PyTorch drew
        unscaled = mask * x.view(len(XS), N)  # the same mask, without the 1/(1-p) factor
        mean_s, mean_u = out.mean(1), unscaled.mean(1)
        se_s = out.std(1) / N**0.5
        xt = torch.tensor(XS)
        z = ((mean_s - xt).abs() / se_s).max().item()
        worst_z = max(worst_z, z)
        ok_scaled &= z < 5  # E[dropout(x)] == x within 5 standard errors
        gap_z = ((mean_u - xt).abs() / se_s).min().item()
        min_gap_z = min(min_gap_z, gap_z)
        ok_unscaled &= gap_z > 20  # without scaling the mean is visibly off
        factor = xt / mean_u  # the factor needed to restore the mean
        worst_factor = max(worst_factor, (factor * (1 - p) - 1).abs().max().item())
        ok_factor &= worst_factor < 0.02
        var = out.var(1)
        worst_var = max(worst_var, (var / (xt**2 * p / (1 - p)) - 1).abs().max().item())
        ok_var &= worst_var < 0.05
        ratio_scaled.append((mean_s / xt).mean().item())
        ratio_unscaled.append((mean_u / xt).mean().item())
        needed.append(factor.mean().item())
    r.figure("worst_scaled_se", worst_z, "{:.1f}")
    r.figure("min_unscaled_se", min_gap_z, "{:.0f}")
    r.figure("factor_error", worst_factor, "{:.1%}")
    r.figure("variance_error", worst_var, "{:.1%}")
    r.part("factor", samples([({"p": p}, f) for p, f in zip(PS, needed, strict=True)], tolerance=0.04))
    shown = ", ".join(f"{v:g}" for v in XS)
    r.note(
        f"Figure: measured E[output]/x against p (averaged over x = {shown}). With nn.Dropout's scaling it stays at 1 "
        f"({min(ratio_scaled):.3f}–{max(ratio_scaled):.3f}); with the same masks unscaled it falls to 1 − p "
        f"({', '.join(f'{v:.3f}' for v in ratio_unscaled)}); the factor that would restore it, x/E[mask·x], climbs "
        f"as 1/(1 − p) ({', '.join(f'{v:.2f}' for v in needed)} vs {', '.join(f'{1 / (1 - p):.2f}' for p in PS)})."
    )
    r.plot("E[dropout(x)]/x, with the 1/(1−p) factor", PS, ratio_scaled, xlabel="drop probability p", ylabel="ratio")
    r.plot("E[mask·x]/x, without it", PS, ratio_unscaled, xlabel="drop probability p", ylabel="ratio")
    r.plot("factor needed, x / E[mask·x]", PS, needed, xlabel="drop probability p", ylabel="ratio")
    r.claim(
        "with the 1/(1-p) scaling, E[dropout(x)] = x for every p and x",
        ok_scaled,
        f"worst deviation {worst_z:.1f} standard errors ({N:,} samples per value)",
    )
    r.claim(
        "without the scaling, E[mask·x] = (1-p)·x ≠ x",
        ok_unscaled,
        f"closest unscaled mean is {min_gap_z:.0f} standard errors from x",
    )
    r.claim(
        "the factor that restores the mean is 1/(1-p), measured as x / E[mask·x]",
        ok_factor,
        f"worst relative error {worst_factor:.2%}",
    )
    r.claim(
        "the scaling keeps the mean, not the variance: Var = x²·p/(1-p)",
        ok_var,
        f"worst relative error {worst_var:.2%}",
    )

    # At test time dropout is the identity: nothing is dropped and nothing is rescaled.
    drop = nn.Dropout(0.5).eval()
    with torch.no_grad():
        same = drop(x).equal(x)
    r.claim("in eval mode nn.Dropout returns its input unchanged", same, f"eval(x) == x: {same}")
    r.note(
        "Eval mode: nn.Dropout(0.5).eval()(x) == x exactly, so the test-time activation is x — which is why the "
        "training-time expectation must equal x."
    )

    # The expectation is kept for the unit itself; a nonlinearity after it does not preserve it.
    drop = nn.Dropout(0.5).train()
    with torch.no_grad():
        e_tanh = torch.tanh(drop(x)).view(len(XS), N).mean(1)
    gap = (e_tanh - torch.tanh(torch.tensor(XS))).abs().max().item()
    r.figure("tanh_mean_gap", gap, "{:.2f}")
    r.claim(
        "a nonlinearity after dropout is not preserved in expectation",
        gap > 0.1,
        f"max |E[tanh(dropout(x))] − tanh(x)| = {gap:.3f} at p=0.5",
    )
    r.note(
        "Caveat: only the activation's own mean is preserved. E[tanh(dropout(x))] differs from tanh(x) by up to "
        f"{gap:.3f} (p=0.5)."
    )
    return r
