"""A small RNN and truncated BPTT, for the TBPTT statements (Sequence models Q3).

TBPTT with truncation length S, as used in practice (k1 = k2 = S): run the long sequence in chunks
of S steps, carrying the hidden state from chunk to chunk but *detaching* it, so the backward pass
of a chunk's loss stops at the chunk's first step.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from seq_common import Adam

HIDDEN = 24


class LagRNN(nn.Module):
    """x_t ∈ ℝ → tanh RNN (HIDDEN units) → linear read-out ŷ_t."""

    def __init__(self, init: str = "default", seed: int = 0, hidden: int = HIDDEN, dtype=torch.float32):
        super().__init__()
        torch.manual_seed(seed)
        self.rnn = nn.RNN(1, hidden, batch_first=True, dtype=dtype)
        self.head = nn.Linear(hidden, 1, dtype=dtype)
        if init == "orthogonal":  # recurrent weights that preserve information for many steps
            with torch.no_grad():
                q, _ = torch.linalg.qr(torch.randn(hidden, hidden, dtype=dtype))
                self.rnn.weight_hh_l0.copy_(0.95 * q)
                self.rnn.bias_hh_l0.zero_()
                self.rnn.bias_ih_l0.zero_()

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None):
        out, h = self.rnn(x, h)
        return self.head(out), h


def chunks(T: int, S: int):
    return [slice(c, min(c + S, T)) for c in range(0, T, S)]


def run_chunked(model: LagRNN, x: torch.Tensor, S: int, mode: str):
    """Forward a long sequence chunk by chunk. mode: 'tbptt' (carry + detach), 'reset' (each chunk
    starts from zeros: just 'limit the length to S'), 'carry' (carry without detach).
    Returns the per-chunk outputs (each with its own graph)."""
    h, outs = None, []
    for sl in chunks(x.shape[1], S):
        if mode == "reset":
            h = None
        elif mode == "tbptt" and h is not None:
            h = h.detach()
        y, h = model(x[:, sl], h)
        outs.append(y)
    return outs


def lag_batch(generator: torch.Generator, batch: int, T: int, lag: int):
    """Recall task: the target at step t is the input from `lag` steps earlier (x_t ~ N(0, 1))."""
    x = torch.randn(batch, T, 1, generator=generator)
    y = torch.zeros_like(x)
    y[:, lag:] = x[:, :-lag]
    return x, y


def train_lag(
    model: LagRNN, S: int, lag: int, mode: str, steps: int = 100, T: int = 40, batch: int = 32, lr: float = 1e-2
):
    """Train on the recall task with chunks of S steps (forwarded by `run_chunked` in `mode`); the
    gradients of all chunks of a batch are summed and applied once per batch. Loss only where a target
    exists (t ≥ lag)."""
    g = torch.Generator().manual_seed(1)
    opt = Adam(model.parameters(), lr=lr)
    mask = (torch.arange(T) >= lag).float().view(1, T, 1)
    for _ in range(steps):
        x, y = lag_batch(g, batch, T, lag)
        opt.zero_grad()
        pred = torch.cat(run_chunked(model, x, S, mode), dim=1)
        ((((pred - y) ** 2) * mask).sum() / (batch * (T - lag))).backward()
        opt.step()
    return model


@torch.no_grad()
def lag_mse(model: LagRNN, lag: int, S: int | None = None, T: int = 40, batch: int = 256) -> float:
    """Test MSE on fresh sequences (t ≥ lag). S=None: stateful over the whole sequence; else reset every S steps."""
    x, y = lag_batch(torch.Generator().manual_seed(99), batch, T, lag)
    if S is None:
        pred, _ = model(x)
    else:
        pred = torch.cat(run_chunked(model, x, S, "reset"), dim=1)
    return ((pred - y) ** 2)[:, lag:].mean().item()
