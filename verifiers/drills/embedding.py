"""Drills on nn.Embedding: the output shape for an index tensor of any shape."""

import torch
import torch.nn as nn

from quizzer.verifier import Context, Result


def output_shape(ctx: Context) -> Result:
    p = ctx.params
    vocab, dim = p["vocab"], p["dim"]
    index_shape = [p["batch"], p["length"]] + ([p["extra"]] if p["rank"] == 3 else [])
    torch.manual_seed(0)
    table = nn.Embedding(vocab, dim)
    ids = torch.randint(0, vocab, index_shape)
    out = table(ids)
    r = Result()
    r.value = list(out.shape)
    # Independent route: a lookup is one-hot rows times the weight matrix.
    flat = ids.reshape(-1)[:64]
    one_hot = nn.functional.one_hot(flat, vocab).float() @ table.weight
    r.claim(
        "the lookup equals one-hot rows @ weight",
        torch.allclose(out.reshape(-1, dim)[:64], one_hot),
        f"{len(flat)} rows",
    )
    r.figure("weights", vocab * dim, "{:,}")
    r.figure("index_shape", str(tuple(index_shape)))
    return r
