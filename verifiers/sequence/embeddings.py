"""Sequence models Q1: what an embedding is, and what happens without one.

All three cards train on the toy sentiment task of `seq_common` (random word polarities, so a
token's id carries no meaning) with the same bag-of-words classifier; only the input layer changes.
"""

from __future__ import annotations

import seq_common as sc
import torch
import torch.nn as nn
import torch.nn.functional as F

from quizzer.verifier import Result


def _trained(first: str, steps: int = 150):
    polarity, train, test = sc.task(seed=0)
    torch.manual_seed(0)
    model = sc.TokenModel(first)
    losses = sc.train(model, train, steps=steps)
    return model, polarity, train, test, losses


@torch.no_grad()
def _token_scores(model: sc.TokenModel) -> torch.Tensor:
    """How much each token id pushes the logit: out.w · tanh(vector of the token)."""
    return torch.tanh(model.token_vectors(torch.arange(sc.V))) @ model.out.weight[0]


def what_why() -> Result:
    r = Result()
    # 1. an embedding is a lookup table = a linear layer applied to one-hot vectors
    emb = nn.Embedding(sc.V, sc.DIM)
    ids = torch.randint(0, sc.V, (4, sc.T))
    with torch.no_grad():
        looked_up = emb(ids)
        via_one_hot = F.one_hot(ids, sc.V).float() @ emb.weight
    r.claim(
        "embedding(ids) is row lookup in a V×d table: identical to one_hot(ids) @ W",
        torch.equal(looked_up, via_one_hot),
        f"V = {sc.V}, d = {sc.DIM}, {ids.numel()} tokens, max difference "
        f"{(looked_up - via_one_hot).abs().max().item()}",
    )
    # 2. one-hot vectors carry no notion of similarity
    oh = F.one_hot(torch.arange(sc.V), sc.V).float()
    cos = oh @ oh.T
    dist = torch.cdist(oh, oh)
    off = ~torch.eye(sc.V, dtype=torch.bool)
    r.part("one_hot_cosine", cos[off].abs().max().item())
    r.claim(
        "one-hot vectors: every pair of distinct words is orthogonal and equally far apart",
        cos[off].abs().max().item() == 0 and torch.allclose(dist[off], torch.full_like(dist[off], 2**0.5)),
        f"cosine {cos[off].max().item():.0f}, distance √2 = {dist[off].mean().item():.4f} for all {int(off.sum())} "
        "pairs",
    )
    # 3. trained embeddings place words of similar meaning close together
    model, polarity, train, test, losses = _trained("embedding")
    E = model.inp.weight.detach()
    En = E / E.norm(dim=1, keepdim=True)
    C = En @ En.T
    same = (polarity[:, None] == polarity[None, :]) & off
    opposite = polarity[:, None] != polarity[None, :]
    c_same, c_opp = C[same].mean().item(), C[opposite].mean().item()
    r.part("trained_similar", c_same > 0.5 and c_opp < -0.5)
    r.claim(
        "after training, same-sentiment words have similar vectors, opposite ones dissimilar",
        c_same > 0.5 and c_opp < -0.5,
        f"mean cosine similarity: same polarity {c_same:.2f}, opposite {c_opp:.2f}",
    )
    acc = sc.accuracy(model, test)
    r.claim("the embedding model solves the task", acc > 0.95, f"test accuracy {acc:.3f}")
    E0 = nn.Embedding(sc.V, sc.DIM).weight.detach()
    E0n = E0 / E0.norm(dim=1, keepdim=True)
    C0 = E0n @ E0n.T
    r.note(
        f"Toy sentiment task: {sc.V} words, half positive, half negative at random ids; sentences of {sc.T} words; "
        f"classifier = {sc.DIM}-d embedding → tanh → mean → linear."
    )
    r.figure("cos_same", c_same, "{:+.2f}")
    r.figure("cos_opposite", c_opp, "{:+.2f}")
    r.figure("cos_init_same", C0[same].mean().item(), "{:+.2f}")
    r.figure("cos_init_opposite", C0[opposite].mean().item(), "{:+.2f}")
    r.note(
        f"Before training (random init) same/opposite-polarity cosines are {C0[same].mean().item():+.2f} / "
        f"{C0[opposite].mean().item():+.2f}; after training {c_same:+.2f} / {c_opp:+.2f}: meaning became geometry."
    )
    r.note(f"Training loss {losses[0]:.3f} → {losses[-1]:.4f}; held-out accuracy {acc:.3f}.")
    r.note(
        f"Dense and small: {sc.DIM} numbers per word instead of a {sc.V}-dimensional one-hot vector "
        f"(for a 50,000-word vocabulary: 300 instead of 50,000)."
    )
    return r


def trainable() -> Result:
    """Can the model be trained directly on token ids (no embedding)? Decided by training it."""
    r = Result()
    raw, polarity, train, test, losses = _trained("raw-id")
    acc_train, acc_test = sc.accuracy(raw, train), sc.accuracy(raw, test)
    chance = max(test[1].mean().item(), 1 - test[1].mean().item())
    q = train[1].mean()
    constant = F.binary_cross_entropy(q.expand_as(train[1]), train[1]).item()  # best input-blind predictor
    learned = losses[-1] < constant - 0.02 and acc_test > chance + 0.05
    r.value = learned
    r.claim(
        "gradient descent works on raw ids: the loss falls below that of the best constant prediction",
        losses[-1] < constant - 0.02,
        f"training loss {losses[0]:.3f} → {losses[-1]:.3f}; best constant predictor {constant:.3f}",
    )
    r.claim(
        "and the model learns something: held-out accuracy above the majority baseline",
        acc_test > chance + 0.05,
        f"{acc_test:.3f} vs baseline {chance:.3f}",
    )
    emb, *_ = _trained("embedding")
    acc_emb = sc.accuracy(emb, test)
    r.figure("acc_raw", acc_test, "{:.2f}")
    r.figure("acc_baseline", chance, "{:.2f}")
    r.figure("acc_embedding", acc_emb, "{:.2f}")
    r.claim("but far worse than with an embedding", acc_emb - acc_test > 0.2, f"{acc_test:.3f} vs {acc_emb:.3f}")
    r.note(f"Input = token id / {sc.V - 1} as one number per position, then the same tanh → mean → linear classifier.")
    r.note(
        f"Raw ids: loss {losses[0]:.3f} → {losses[-1]:.3f}, train accuracy {acc_train:.3f}, held-out {acc_test:.3f} "
        f"(baseline {chance:.3f})."
    )
    r.note(f"Same classifier with an embedding: held-out {acc_emb:.3f}. Trainable, yes; good, no.")
    return r


def consequence() -> Result:
    r = Result()
    raw, polarity, train, test, _ = _trained("raw-id")
    emb, *_ = _trained("embedding")
    onehot, *_ = _trained("one-hot")
    a_raw, a_emb, a_oh = (sc.accuracy(m, test) for m in (raw, emb, onehot))

    # fake ordinal structure: the first layer is affine in the id
    with torch.no_grad():
        pre = raw.token_vectors(torch.tensor([0, 19, 38]))
    r.part("halfway", torch.allclose(pre[2] - pre[0], 2 * (pre[1] - pre[0]), atol=1e-6))
    r.claim(
        "raw ids impose arithmetic on words: token 19 is exactly halfway between tokens 0 and 38",
        torch.allclose(pre[2] - pre[0], 2 * (pre[1] - pre[0]), atol=1e-6),
        f"max |(v38 − v0) − 2(v19 − v0)| = {((pre[2] - pre[0]) - 2 * (pre[1] - pre[0])).abs().max().item():.1e}",
    )
    s_raw, s_emb = _token_scores(raw), _token_scores(emb)
    flips = lambda s: int(((s[1:] > 0) != (s[:-1] > 0)).sum())  # noqa: E731
    n_raw, n_emb, n_true = flips(s_raw), flips(s_emb), flips(polarity)
    r.claim(
        "neighbouring ids get near-identical meanings: the raw-id model's per-word score is a smooth function of the "
        "id",
        n_raw < n_true / 2 and n_emb == n_true,
        f"sign changes along ids 0…{sc.V - 1}: true polarity {n_true}, embedding model {n_emb}, raw-id model {n_raw}",
    )
    r.claim(
        "so it cannot fit arbitrary word meanings",
        a_emb - a_raw > 0.2,
        f"held-out accuracy raw ids {a_raw:.3f} vs embedding {a_emb:.3f}",
    )
    r.plot("per-word score, raw-id model", range(sc.V), s_raw.tolist(), xlabel="token id", ylabel="push on logit")
    r.plot("per-word score, embedding model", range(sc.V), s_emb.tolist(), xlabel="token id", ylabel="push on logit")

    # one-hot: works, but it *is* an embedding, paid for with V-dimensional inputs
    with torch.no_grad():
        X = test[0]
        same = torch.equal(F.one_hot(X, sc.V).float() @ onehot.inp.weight.T, F.embedding(X, onehot.inp.weight.T))
    r.claim(
        "one-hot inputs work as well, because one_hot @ W is an embedding lookup",
        same and a_oh > 0.95,
        f"forward identical: {same}; held-out accuracy {a_oh:.3f}",
    )
    ratio = F.one_hot(X, sc.V).float().numel() / X.numel()
    r.claim(
        "…at V times the input size", ratio == sc.V, f"one-hot input has {ratio:.0f}× the elements of the id tensor"
    )
    r.figure("flips_true", n_true)
    r.figure("flips_raw", n_raw)
    r.figure("acc_raw", a_raw, "{:.2f}")
    r.figure("acc_embedding", a_emb, "{:.2f}")
    r.figure("acc_one_hot", a_oh, "{:.2f}")
    r.figure("one_hot_ratio", ratio, "{:.0f}")
    r.note(f"Held-out accuracy: embedding {a_emb:.3f}, one-hot + linear {a_oh:.3f}, raw id as a number {a_raw:.3f}.")
    r.note(
        f"Walking through ids 0…{sc.V - 1} the true polarity flips sign {n_true} times; the raw-id model's score only "
        f"{n_raw} time{'s' if n_raw != 1 else ''}: it can only say 'low ids are negative, high ids positive' "
        "(or a few bands)."
    )
    r.note(
        "One-hot input gives every word its own weights, but each token costs a V-long vector: "
        "50,000 floats (200 kB) per token for a real vocabulary, only to select one row of the table."
    )
    return r
