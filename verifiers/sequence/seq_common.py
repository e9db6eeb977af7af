"""A toy sentiment task for the embedding questions, and the three ways to feed tokens to a model.

Vocabulary of V tokens; each token has a polarity +1/−1 assigned at random (so a token's meaning has
nothing to do with its id). A sentence of T tokens is positive iff the sum of polarities is > 0.
The model is the bag-of-words classifier of the tutorials, reduced to its core:
    token → 8-d vector → tanh → mean over the sentence → linear → logit.
Only the first step differs: an nn.Embedding, a Linear on one-hot vectors, or a Linear on the raw id.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

V, T, DIM = 40, 7, 8


def task(seed: int = 0, n_train: int = 512, n_test: int = 2048):
    g = torch.Generator().manual_seed(seed)
    polarity = torch.ones(V)
    polarity[torch.randperm(V, generator=g)[: V // 2]] = -1.0  # half the words positive, half negative
    X = torch.randint(0, V, (n_train + n_test, T), generator=g)
    y = (polarity[X].sum(1) > 0).float()
    return polarity, (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


class TokenModel(nn.Module):
    def __init__(self, first: str):
        super().__init__()
        self.first = first
        if first == "embedding":
            self.inp = nn.Embedding(V, DIM)
        elif first == "one-hot":
            self.inp = nn.Linear(V, DIM, bias=False)
        elif first == "raw-id":
            self.inp = nn.Linear(1, DIM)  # the id itself, scaled to [0, 1], is the feature
        else:
            raise ValueError(first)
        self.out = nn.Linear(DIM, 1)

    def token_vectors(self, X: torch.Tensor) -> torch.Tensor:
        if self.first == "embedding":
            return self.inp(X)
        if self.first == "one-hot":
            return self.inp(F.one_hot(X, V).float())
        return self.inp((X.float() / (V - 1)).unsqueeze(-1))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.out(torch.tanh(self.token_vectors(X)).mean(-2)).squeeze(-1)


class Adam:
    """Plain Adam, written out (torch.optim's first step lazily imports torch._dynamo: ~2 s per process)."""

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params = [p for p in params]
        self.lr, (self.b1, self.b2), self.eps, self.t = lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            m.mul_(self.b1).add_(p.grad, alpha=1 - self.b1)
            v.mul_(self.b2).addcmul_(p.grad, p.grad, value=1 - self.b2)
            m_hat = m / (1 - self.b1**self.t)
            v_hat = v / (1 - self.b2**self.t)
            p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))


def train(model: nn.Module, data, steps: int = 150, lr: float = 0.05):
    X, y = data
    opt = Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def accuracy(model: nn.Module, data) -> float:
    X, y = data
    return ((model(X) > 0).float() == y).float().mean().item()
