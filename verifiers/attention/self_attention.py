"""Attention Q1.2: queries, keys and values all from the encoder states (self-attention replaces
the decoder→encoder attention). Measure what the decoder can still get from the attention."""

from __future__ import annotations

import torch

from attention_seq2seq import D, T, Seq2Seq, batch, one_thread, per_position_accuracy, probe_accuracy, train
from quizzer.verifier import Result


def _fmt(xs) -> str:
    return "[" + ", ".join(f"{float(x):.2g}" for x in xs) + "]"


def _contexts(model: Seq2Seq, src, tgt_in, s0=None):
    H = model.encode(model.emb(src))
    return model.decode(H, tgt_in, s0)[2]


def verify() -> Result:
    r = Result()
    with one_thread():
        gen = torch.Generator().manual_seed(2)
        src, tgt_in, tgt = batch(256, gen)
        torch.manual_seed(0)
        selfm, cross = Seq2Seq("self"), Seq2Seq("cross")
        cross.load_state_dict(selfm.state_dict())  # identical weights: only the query's origin differs

        # 1. Is the context the same at every decoding step?
        with torch.no_grad():
            C_self = torch.stack(_contexts(selfm, src, tgt_in), 1)  # (B, T_tgt, D)
            C_cross = torch.stack(_contexts(cross, src, tgt_in), 1)
        drift_self = (C_self - C_self[:, :1]).abs().max().item()
        drift_cross = (C_cross - C_cross[:, :1]).abs().max().item()
        r.claim(
            "self-attention: the context is identical at every decoder step",
            drift_self == 0.0,
            f"max |c_t − c_1| over steps: {drift_self:.2g}",
        )
        r.claim(
            "decoder-query attention (same weights): the context changes from step to step",
            drift_cross > 1e-3,
            f"max |c_t − c_1|: {drift_cross:.3g}",
        )

        # 2. Does the decoder state enter the attention at all? Gradient of a later context w.r.t. s_0.
        grads = {}
        for name, model in (("self", selfm), ("cross", cross)):
            s0 = torch.randn(len(src), D, requires_grad=True)
            c = _contexts(model, src, tgt_in, s0)[2]
            (g,) = torch.autograd.grad(c.sum(), s0, allow_unused=True)
            grads[name] = 0.0 if g is None else g.norm().item()
        r.claim(
            "self-attention: ∂c_t/∂(decoder state) = 0 — the decoder cannot steer what it reads",
            grads["self"] == 0.0 and grads["cross"] > 1e-4,
            f"‖∂c_3/∂s_0‖: self {grads['self']:.2g}, decoder-query {grads['cross']:.3g}",
        )
        other_in = torch.cat([tgt_in[:, :1], torch.randint(1, 9, tgt_in[:, 1:].shape, generator=gen)], 1)
        with torch.no_grad():
            swap_self = (torch.stack(_contexts(selfm, src, other_in), 1) - C_self).abs().max().item()
            swap_cross = (torch.stack(_contexts(cross, src, other_in), 1) - C_cross).abs().max().item()
        r.claim(
            "changing what the decoder has emitted leaves the self-attention context untouched",
            swap_self == 0.0 and swap_cross > 1e-3,
            f"max context change: self {swap_self:.2g}, decoder-query {swap_cross:.3g}",
        )

        # 3. Trained on reversal: what does the fixed context learn to hold?
        selfm, self_loss = train("self")
        cross, cross_loss = train("cross")
        psrc, pin, ptgt = batch(2000, gen)
        with torch.no_grad():
            c_self = _contexts(selfm, psrc, pin)[0]
            c_cross = _contexts(cross, psrc, pin)[0]
        in_self = [probe_accuracy(c_self, psrc[:, j]) for j in range(T)]
        in_cross = [probe_accuracy(c_cross, psrc[:, j]) for j in range(T)]
        r.claim(
            "trained: the self-attention context is a whole-sentence summary (every word partly decodable, none sharply)",
            min(in_self) > 0.3 and max(in_self) < 0.9,
            f"probe accuracy of x_j from the (fixed) context: {_fmt(in_self)}",
        )
        r.claim(
            "trained: the decoder-query context at step 1 holds the aligned word x_T sharply, the distant words less than the summary does",
            in_cross[-1] > 0.9 and sum(in_cross[:3]) / 3 < sum(in_self[:3]) / 3,
            f"probe accuracy of x_j from c_1: {_fmt(in_cross)}",
        )
        acc_self = per_position_accuracy(selfm, psrc, pin, ptgt)
        acc_cross = per_position_accuracy(cross, psrc, pin, ptgt)
        r.claim(
            "trained: losing the target-dependent selection costs accuracy",
            sum(acc_self) / T < sum(acc_cross) / T,
            f"mean accuracy: self {sum(acc_self) / T:.3f}, decoder-query {sum(acc_cross) / T:.3f}",
        )

    r.note(
        f"Same weights, only the query changed: context drift across the {T} decoder steps is {drift_self:.2g} with "
        f"self-attention vs {drift_cross:.3g} with decoder queries; ‖∂c_3/∂s_0‖ = {grads['self']:.2g} vs {grads['cross']:.3g}."
    )
    r.note(
        "The self-attention weights form a source×source matrix computed once per sentence; there is no row per "
        "target word any more, so there is nothing to align."
    )
    r.note(
        f"After 100 steps on reversal, probes on the context: self-attention {_fmt(in_self)} (a blurred summary of all "
        f"words), decoder-query attention at step 1 {_fmt(in_cross)} (exactly the word to emit)."
    )
    r.note(
        f"Per-step accuracy: self-attention {_fmt(acc_self)}, decoder-query attention {_fmt(acc_cross)}: the "
        "self-attention model is back to a fixed-context encoder–decoder, so the decoder state must itself keep track "
        "of which word comes next."
    )
    r.plot("training loss, self-attention context", range(len(self_loss)), self_loss, xlabel="step", ylabel="cross-entropy")
    r.plot("training loss, decoder-query attention", range(len(cross_loss)), cross_loss, xlabel="step", ylabel="cross-entropy")
    return r
