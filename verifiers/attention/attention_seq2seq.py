"""A tiny GRU encoder–decoder (tutorial-5 style) in three variants, shared by the attention cards.

- "none":  the decoder starts from the last encoder state and never looks at the encoder again;
- "cross": Luong-style attention, query = decoder state s_t, keys/values = learned projections of
           the encoder states h_1..h_T (the tutorial's model);
- "self":  the question's variant: queries, keys and values are all projections of the encoder
           states; the T self-attention outputs are mean-pooled into the context the decoder reads.

Toy task: reverse a sequence of T=6 tokens over a vocabulary of 8 (0 is BOS). Reversal makes the
ideal alignment known (target step t ↔ source position T-1-t).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, T, D = 8, 6, 32
BOS = 0


class Seq2Seq(nn.Module):
    def __init__(self, mode: str):
        super().__init__()
        assert mode in ("none", "cross", "self")
        self.mode = mode
        attends = mode != "none"
        self.emb = nn.Embedding(VOCAB + 1, D)
        self.enc = nn.GRU(D, D, batch_first=True)
        self.dec = nn.GRUCell(D + (D if attends else 0), D)
        self.q = nn.Linear(D, D, bias=False)
        self.k = nn.Linear(D, D, bias=False)
        self.v = nn.Linear(D, D, bias=False)
        self.out = nn.Linear(2 * D if attends else D, VOCAB + 1)

    def encode(self, src_emb: torch.Tensor) -> torch.Tensor:
        H, _ = self.enc(src_emb)
        return H  # (B, T, D): the encoder hidden states h_1..h_T

    def cross_attention(self, s: torch.Tensor, H: torch.Tensor):
        a = torch.softmax((self.q(s)[:, None] * self.k(H)).sum(-1) / D**0.5, dim=-1)  # (B, T_src)
        return (a[..., None] * self.v(H)).sum(1), a

    def self_attention(self, H: torch.Tensor):
        a = torch.softmax(self.q(H) @ self.k(H).transpose(1, 2) / D**0.5, dim=-1)  # (B, T_src, T_src)
        return (a @ self.v(H)).mean(1), a

    def decode(self, H: torch.Tensor, tgt_in: torch.Tensor, s0: torch.Tensor | None = None):
        """Teacher-forced decoding. Returns logits (B, T_tgt, V+1), decoder states, contexts, weights."""
        B = H.shape[0]
        s = H[:, -1] if s0 is None else s0
        c = torch.zeros(B, D)
        if self.mode == "self":
            fixed, self_weights = self.self_attention(H)
        logits, states, contexts, weights = [], [], [], []
        for t in range(tgt_in.shape[1]):
            x = self.emb(tgt_in[:, t])
            if self.mode == "none":
                s = self.dec(x, s)
                states.append(s)
                logits.append(self.out(s))
                continue
            s = self.dec(torch.cat([x, c], -1), s)
            if self.mode == "cross":
                c, a = self.cross_attention(s, H)
            else:
                c, a = fixed, self_weights
            states.append(s)
            contexts.append(c)
            weights.append(a)
            logits.append(self.out(torch.cat([s, c], -1)))
        return torch.stack(logits, 1), states, contexts, weights

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor):
        return self.decode(self.encode(self.emb(src)), tgt_in)[0]


def batch(n: int, generator: torch.Generator | None = None):
    src = torch.randint(1, VOCAB + 1, (n, T), generator=generator)
    tgt = src.flip(1)
    tgt_in = torch.cat([torch.full((n, 1), BOS), tgt[:, :-1]], 1)
    return src, tgt_in, tgt


def loss_of(model: Seq2Seq, src, tgt_in, tgt) -> torch.Tensor:
    return F.cross_entropy(model(src, tgt_in).reshape(-1, VOCAB + 1), tgt.reshape(-1))


def train(mode: str, steps: int = 100, seed: int = 0) -> tuple[Seq2Seq, list[float]]:
    torch.manual_seed(seed)
    model = Seq2Seq(mode)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        loss = loss_of(model, *batch(128))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, losses


def probe_accuracy(features: torch.Tensor, labels: torch.Tensor) -> float:
    """Linear probe (ridge least squares, one-vs-all), fit on the first half, scored on the second."""
    n = len(features) // 2
    X = torch.cat([features, torch.ones(len(features), 1)], 1).double()
    Y = F.one_hot(labels, VOCAB + 1).double()
    W = torch.linalg.solve(X[:n].T @ X[:n] + 1e-2 * torch.eye(X.shape[1], dtype=X.dtype), X[:n].T @ Y[:n])
    return ((X[n:] @ W).argmax(-1) == labels[n:]).double().mean().item()


def per_position_accuracy(model: Seq2Seq, src, tgt_in, tgt) -> list[float]:
    with torch.no_grad():
        return (model(src, tgt_in).argmax(-1) == tgt).double().mean(0).tolist()
