"""Sequence models Q2.1: run the question's exact snippet; what is Y, and why that shape?

Y holds 5·6·7·8·42000 float32 = 282 MB: it is built once per card and freed before returning.
"""

from __future__ import annotations

import gc

import torch
import torch.nn as nn

from quizzer.verifier import Result


def _question_snippet():
    """The code of the question, verbatim (plus the `import torch` of an earlier notebook cell)."""
    X = torch.randint(low=0, high=42, size=(5, 6, 7, 8))
    embedding = nn.Embedding(num_embeddings=42, embedding_dim=42000)
    Y = embedding(X)
    print(f"{Y.shape=}")
    return X, embedding, Y


def shape() -> Result:
    r = Result()
    X, embedding, Y = _question_snippet()
    measured = list(Y.shape)
    megabytes = Y.numel() * Y.element_size() / 1e6
    r.value = measured
    r.claim(
        "output shape = index shape + (embedding_dim,)",
        measured == [*X.shape, embedding.embedding_dim],
        f"X.shape {tuple(X.shape)}, embedding_dim {embedding.embedding_dim} → Y.shape {tuple(measured)}",
    )
    r.figure("y_million_values", Y.numel() / 1e6, "{:.2f}")
    r.figure("y_mb", megabytes, "{:.0f}")
    r.figure("table_mb", embedding.weight.numel() * embedding.weight.element_size() / 1e6, "{:.1f}")
    r.note(f"Y.shape = torch.Size({measured}) — {Y.numel():,} float32 numbers, {megabytes:.0f} MB.")
    r.note(f"The embedding table itself is only {embedding.weight.numel() * 4 / 1e6:.1f} MB (42 × 42000).")
    del X, embedding, Y
    gc.collect()
    return r


def content() -> Result:
    r = Result()
    X, embedding, Y = _question_snippet()
    W = embedding.weight.detach()
    rows, flat_ids = Y.detach().reshape(-1, W.shape[1]), X.reshape(-1)
    matches = 0
    with torch.no_grad():  # one row per id, or no position can match (the claim below then fails)
        for start in range(
            0, rows.shape[0] if rows.shape[0] == flat_ids.numel() else 0, 240
        ):  # compare 240 rows (40 MB) at a time
            block = slice(start, start + 240)
            matches += int((rows[block] == W[flat_ids[block]]).all(dim=1).sum())
    r.claim(
        "Y[i,j,k,l] is exactly row X[i,j,k,l] of the weight matrix, for every position",
        matches == X.numel(),
        f"{matches} of {X.numel()} positions equal embedding.weight[X[i,j,k,l]] bit for bit",
    )
    distinct_ids = int(X.unique().numel())
    with torch.no_grad():  # distinct rows of Y, counted through a random projection of each 42000-long row
        v = torch.randn(W.shape[1], generator=torch.Generator().manual_seed(0))
        distinct_rows = int(torch.unique(rows @ v).numel())
    r.part("row_lookup", matches == X.numel())
    r.part("distinct_vectors", distinct_rows)
    r.claim(
        "so Y holds only as many distinct vectors as X has distinct ids (at most 42), repeated",
        distinct_rows == distinct_ids <= embedding.num_embeddings,
        f"{X.numel()} vectors of length 42000 in Y, {distinct_rows} distinct; {distinct_ids} distinct ids in X",
    )
    r.claim(
        "Y is a learnable function of the table: gradients flow back to embedding.weight",
        Y.requires_grad and type(Y.grad_fn).__name__.startswith("Embedding"),
        f"Y.grad_fn = {type(Y.grad_fn).__name__}",
    )
    mb_y, mb_w = Y.numel() * Y.element_size() / 1e6, W.numel() * W.element_size() / 1e6
    r.figure("positions", X.numel())
    r.figure("distinct_rows", distinct_rows)
    r.figure("y_mb", mb_y, "{:.0f}")
    r.figure("table_mb", mb_w, "{:.1f}")
    r.figure("size_ratio", mb_y / mb_w, "{:.0f}")
    r.claim(
        "the lookup output is far larger than the table", mb_y > 10 * mb_w, f"Y {mb_y:.0f} MB vs table {mb_w:.1f} MB"
    )
    r.note(f"X: {tuple(X.shape)} integer ids in [0, 42); weight: {tuple(W.shape)}.")
    r.note(
        f"Each of the {X.numel()} ids is replaced by its 42000-long row: Y.shape = {tuple(X.shape)} + (42000,) "
        f"= {tuple(Y.shape)}."
    )
    r.note(
        f"Memory: Y is {mb_y:.0f} MB although the table is {mb_w:.1f} MB: an embedding dim of 42000 for 42 tokens is "
        "wasteful (a one-hot code would need 42)."
    )
    del X, embedding, Y, W, rows
    gc.collect()
    return r
