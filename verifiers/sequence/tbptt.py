"""Sequence models Q3: three statements about truncated backpropagation through time (TBPTT).

Each is decided by measurement on a small tanh RNN (tbptt_common.LagRNN).
"""

from __future__ import annotations

import tbptt_common as tc
import torch

from quizzer.verifier import Result

F64 = torch.float64


def _data(T: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, T, 1, generator=g, dtype=F64), torch.randn(2, T, 1, generator=g, dtype=F64)


def _mse(pred, y):
    return ((pred - y) ** 2).mean()


def modified_backprop() -> Result:
    """'TBPTT uses a modified version of the backpropagation algorithm.'"""
    r = Result()
    S, T = 4, 16
    model = tc.LagRNN(seed=0, hidden=8, dtype=F64)
    params = list(model.parameters())
    x, y = _data(T)
    parts = tc.chunks(T, S)

    # TBPTT: carry the hidden state, detach it at every chunk boundary, ordinary autograd per chunk
    tbptt = []
    for sl, pred in zip(parts, tc.run_chunked(model, x, S, "tbptt"), strict=True):
        tbptt.append(torch.autograd.grad(_mse(pred, y[:, sl]), params))

    # Plain backprop on a standalone short sequence: the chunk alone, started from the hidden
    # state value (a constant computed beforehand, without gradient)
    plain = []
    for sl in parts:
        with torch.no_grad():
            h0 = model(x[:, : sl.start])[1] if sl.start else None
        model.zero_grad()
        pred, _ = model(x[:, sl], h0)
        _mse(pred, y[:, sl]).backward()  # nothing but loss.backward()
        plain.append([p.grad.clone() for p in params])

    # Full BPTT of the same chunk losses (no truncation), for contrast
    full = []
    out, _ = model(x)
    for sl in parts:
        full.append(torch.autograd.grad(_mse(out[:, sl], y[:, sl]), params, retain_graph=True))

    diff_plain = max(
        (a - b).abs().max().item() for ga, gb in zip(tbptt, plain, strict=True) for a, b in zip(ga, gb, strict=True)
    )
    diff_full = [
        max((a - b).abs().max().item() for a, b in zip(ga, gb, strict=True)) for ga, gb in zip(tbptt, full, strict=True)
    ]
    identical = all(torch.equal(a, b) for ga, gb in zip(tbptt, plain, strict=True) for a, b in zip(ga, gb, strict=True))
    r.value = not identical  # 'modified' would mean TBPTT's gradients differ from plain backprop on the same graph
    r.demonstrated("TBPTT's gradients equal backprop on the truncated graph by how autograd treats detach()")
    r.claim(
        "TBPTT's gradients are exactly those of ordinary backprop on the truncated graph (every chunk, every "
        "parameter)",
        identical,
        f"{len(parts)} chunks × {len(params)} parameter tensors, max difference {diff_plain:.1e}",
    )
    r.claim(
        "the truncation changes the graph, hence the gradient, not the algorithm: full BPTT differs after chunk 1",
        diff_full[0] == 0 and all(d > 1e-6 for d in diff_full[1:]),
        "max |TBPTT − full BPTT| per chunk: " + ", ".join(f"{d:.1e}" for d in diff_full),
    )
    r.note(f"tanh RNN (8 hidden), sequence of T={T} steps, truncation S={S}: {len(parts)} chunks.")
    r.note(
        "TBPTT = forward chunk by chunk with h = h.detach() between chunks, then loss.backward(): the same chain rule "
        "autograd always runs; detach() just makes the incoming hidden state a constant."
    )
    r.note(
        "Rebuilding each chunk as a standalone sequence from that constant state gives bit-identical gradients (max "
        f"difference {diff_plain:.0e})."
    )
    r.note(
        "Against untruncated BPTT the first chunk agrees exactly (it has no history); later chunks differ by "
        + ", ".join(f"{d:.1e}" for d in diff_full[1:])
        + ": what TBPTT drops is the graph beyond S steps."
    )
    return r


def only_limit_length() -> Result:
    """'To implement TBPTT we only need to limit the length of the sequence provided to the model to length S.'"""
    r = Result()
    S, T = 4, 16
    model = tc.LagRNN(seed=0, hidden=8, dtype=F64)
    x, _ = _data(T)
    x = x.clone().requires_grad_(True)

    # (a) forward: TBPTT keeps the true hidden state; cutting the sequence into length-S pieces does not
    full, _ = model(x)
    tb = torch.cat(tc.run_chunked(model, x, S, "tbptt"), dim=1)
    cut = torch.cat(tc.run_chunked(model, x, S, "reset"), dim=1)
    tb_err = (tb - full).abs().max().item()
    cut_err = (cut - full).abs().max().item()
    r.claim(
        "carrying the hidden state across chunks reproduces the full-sequence outputs",
        torch.allclose(tb, full, rtol=1e-12, atol=1e-12),
        f"max |TBPTT forward − full forward| = {tb_err:.1e}",
    )
    r.claim(
        "feeding independent length-S pieces does not: every chunk after the first forgets the past",
        cut_err > 1e-3 and torch.equal(cut[:, :S], full[:, :S]),
        f"max |cut − full| = {cut_err:.3f} (first chunk identical)",
    )

    # (b) carrying the state but not detaching it: backward goes through all the history
    outs = tc.run_chunked(model, x, S, "carry")
    outs[0].sum().backward()
    try:
        outs[1].sum().backward()
        error = ""
    except RuntimeError as e:
        error = str(e).split(".")[0]
    r.claim(
        "without detach(), the second chunk's backward runs into the first chunk's (freed) graph",
        "backward through the graph a second time" in error,
        error or "no error",
    )
    x.grad = None
    outs = tc.run_chunked(model, x, S, "carry")
    reach_carry = torch.autograd.grad(outs[-1].sum(), x)[0][:, :S].abs().max().item()
    outs = tc.run_chunked(model, x, S, "tbptt")
    reach_tbptt = torch.autograd.grad(outs[-1].sum(), x)[0][:, :S].abs().max().item()
    r.claim(
        "and its gradient is not truncated: the last chunk's loss still reaches the first chunk's inputs",
        reach_carry > 1e-6 and reach_tbptt == 0,
        f"max |∂loss_last/∂x_(first chunk)|: no detach {reach_carry:.1e}, with detach {reach_tbptt:.0f}",
    )

    # (c) learning: recall the input from L = 6 steps back, chunks of S = 2
    S2, L = 2, 6
    tbptt_model = tc.train_lag(tc.LagRNN("orthogonal"), S2, L, "tbptt")
    cut_model = tc.train_lag(tc.LagRNN("orthogonal"), S2, L, "reset")
    mse_tb = tc.lag_mse(tbptt_model, L)
    mse_cut = min(tc.lag_mse(cut_model, L), tc.lag_mse(cut_model, L, S=S2))
    r.claim(
        "trained on length-S pieces the model cannot learn what TBPTT learns",
        mse_cut > 0.8 and mse_tb < 0.5 * mse_cut,
        f"recall x(t−{L}) with S={S2}: test MSE {mse_tb:.3f} (TBPTT) vs {mse_cut:.3f} (cut sequences; 1.0 = no recall)",
    )
    same = torch.allclose(cut, tb) and mse_cut <= 1.1 * mse_tb
    r.value = same  # the statement holds only if cutting the sequence behaved like TBPTT
    r.figure("cut_error", cut_err, "{:.2f}")
    r.figure("mse_tbptt", mse_tb, "{:.2f}")
    r.figure("mse_cut", mse_cut, "{:.2f}")
    r.note(
        f"Forward over T={T} with S={S}: TBPTT matches the full sequence to {tb_err:.0e}; independent pieces are off "
        f"by up to {cut_err:.2f}."
    )
    r.note(f"No detach(): second chunk's backward → RuntimeError '{error[:70]}…'.")
    r.note(
        f"Back-propagated through the un-detached graph, the last chunk's loss reaches the first chunk's inputs "
        f"({reach_carry:.1e}; with detach: 0): that is full BPTT, its cost growing with the whole history."
    )
    r.note(
        f"Recall task (target = input {L} steps earlier, S = {S2}): TBPTT test MSE {mse_tb:.3f}; cut pieces "
        f"{mse_cut:.3f} ≈ predicting 0."
    )
    return r


def at_most_s_apart() -> Result:
    """'TBPTT allows the model to learn relations between input that are at most S timesteps apart.'"""
    r = Result()
    S, T = 5, 20
    model = tc.LagRNN(seed=0, hidden=8, dtype=F64)
    x, _ = _data(T)
    x = x.clone().requires_grad_(True)

    # (a) gradient reach under TBPTT: loss at step t → inputs t−k
    outs = torch.cat(tc.run_chunked(model, x, S, "tbptt"), dim=1)
    reach = []
    for t in range(T):
        g = torch.autograd.grad(outs[:, t].sum(), x, retain_graph=True)[0].abs().sum((0, 2))
        nz = (g[: t + 1].flip(0) > 0).nonzero()
        reach.append(int(nz.max()) if len(nz) else -1)
    r.claim(
        "gradients flow at most S−1 steps back (from the last step of a chunk; 0 steps from its first step)",
        max(reach) == S - 1 and reach[S] == 0,
        f"furthest input reached by ∂loss_t/∂x, per t: {reach}",
    )

    # (b) the forward pass still depends on the far past
    full, _ = model(x)
    t = T - 1
    sens = torch.autograd.grad(full[:, t].sum(), x)[0].abs().sum((0, 2))
    far = [sens[t - k].item() for k in (S, 2 * S, 3 * S)]
    r.claim(
        "but the output at t depends on inputs 2S and 3S steps back (the hidden state carries them)",
        all(v > 1e-8 for v in far),
        f"|∂ŷ_t/∂x_(t−k)| for k = {S}, {2 * S}, {3 * S}: " + ", ".join(f"{v:.1e}" for v in far),
    )

    # (c) learning a relation longer than S: recall x(t−6) with S = 2
    S2, L = 2, 6
    trained = tc.train_lag(tc.LagRNN("orthogonal"), S2, L, "tbptt")
    mse = tc.lag_mse(trained, L)
    learned = mse < 0.3
    r.value = not learned  # 'at most S apart' holds only if the longer relation could not be learned
    r.claim(
        f"a relation {L} steps apart is learned with truncation S = {S2}",
        learned,
        f"test MSE {mse:.3f} (predicting 0 gives ≈ 1.0)",
    )
    xs = torch.randn(64, 40, 1, generator=torch.Generator().manual_seed(5)).requires_grad_(True)
    pred, _ = trained(xs)
    jac = torch.autograd.grad(pred[:, 30].sum(), xs)[0][:, :, 0].mean(0)
    lags = list(range(11))
    dep = [jac[30 - k].item() for k in lags]
    peak = max(lags, key=lambda k: abs(dep[k]))
    r.claim(
        "the trained output responds most to the input exactly L steps back",
        peak == L,
        f"mean ∂ŷ_30/∂x_(30−k) peaks at k = {peak}: {dep[peak]:.2f}",
    )
    r.plot("trained model: mean ∂ŷ_t/∂x_(t−k)", lags, dep, xlabel="k (steps back)", ylabel="sensitivity")

    # (d) not guaranteed: with a default init the state does not keep x(t−6), and TBPTT cannot teach it to
    default = tc.train_lag(tc.LagRNN("default"), S2, L, "tbptt")
    mse_default = tc.lag_mse(default, L)
    r.figure("max_reach", max(reach))
    r.figure("first_step_reach", reach[S])
    r.figure("mse_tbptt", mse, "{:.2f}")
    r.figure("peak_lag", peak)
    r.figure("mse_default_init", mse_default, "{:.2f}")
    r.claim(
        "…but not guaranteed: from a default init the same TBPTT training does not learn it",
        mse_default > 0.8,
        f"test MSE {mse_default:.3f}",
    )
    r.note(
        f"Gradient reach under TBPTT (S={S}, T={T}): the loss at step t reaches back 0, 1, …, {max(reach)} steps "
        f"within each chunk and restarts at 0 at every chunk boundary: never more than S−1 = {S - 1}."
    )
    r.note(
        f"Yet the forward pass is never cut: ŷ_{t} depends on x_{t - S}, x_{t - 2 * S}, x_{t - 3 * S} with "
        "sensitivities " + ", ".join(f"{v:.1e}" for v in far) + "."
    )
    r.note(
        f"Recall x(t−{L}) trained with S = {S2} (orthogonal recurrent init): test MSE {mse:.3f}; "
        f"sensitivity peaks at k = {peak} ({dep[peak]:.2f}), although with S = {S2} no gradient spans more than S−1 = "
        f"{S2 - 1} step."
    )
    r.note(
        f"Same training from PyTorch's default init: MSE {mse_default:.3f}. Longer relations *can* be learned, not "
        "reliably."
    )
    return r
