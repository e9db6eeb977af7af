"""Sequence models Q2.2 (bonus): run the card's own nn.Embedding re-implementation and compare.

Beyond the snippet's own asserts, the verifier tests the snippet's `MyEmbedding` on fresh inputs of
several shapes (including a 0-d index), in forward and backward.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from quizzer.verifier import Context, Result


def verify(ctx: Context) -> Result:
    r = Result()
    ns, printed = ctx.run_snippet()  # the snippet's asserts must pass
    MyEmbedding, embedding_one_hot = ns["MyEmbedding"], ns["embedding_one_hot"]

    torch.manual_seed(1)
    ref = nn.Embedding(num_embeddings=42, embedding_dim=10)
    mine = MyEmbedding(42, 10)
    r.claim(
        "MyEmbedding holds a (num_embeddings, embedding_dim) weight tensor that requires grad, N(0,1) init like "
        "nn.Embedding",
        tuple(mine.weight.shape) == (42, 10) and mine.weight.requires_grad,
        f"weight {tuple(mine.weight.shape)}, requires_grad={mine.weight.requires_grad}, std "
        f"{mine.weight.std().item():.2f}",
    )
    with torch.no_grad():
        mine.weight.copy_(ref.weight)

    results = []
    for shape in [(), (7,), (3, 4), (5, 6, 7, 8)]:
        X = torch.randint(0, 42, shape)
        a, b = ref(X), mine(X)
        G = torch.randn_like(a)
        ga = torch.autograd.grad(a, ref.weight, G)[0]
        gb = torch.autograd.grad(b, mine.weight, G)[0]
        c = embedding_one_hot(X, mine.weight)
        gc_ = torch.autograd.grad(c, mine.weight, G)[0]
        results.append(
            {
                "shape": shape,
                "forward": a.shape == b.shape and torch.equal(a, b),
                "backward": torch.equal(ga, gb),
                "one_hot_forward": torch.equal(a, c),
                "one_hot_grad_err": (ga - gc_).abs().max().item(),
            }
        )
    r.claim(
        "forward: MyEmbedding(X) is bit-identical to nn.Embedding(X), same shape, for every index shape",
        all(x["forward"] for x in results),
        "; ".join(f"{x['shape']}: {x['forward']}" for x in results),
    )
    r.claim(
        "backward: the gradient w.r.t. the weight is bit-identical too (repeated ids accumulate)",
        all(x["backward"] for x in results),
        "; ".join(f"{x['shape']}: {x['backward']}" for x in results),
    )
    worst = max(x["one_hot_grad_err"] for x in results)
    r.claim(
        "one_hot(X) @ W: same forward exactly, same gradient up to float32 summation order",
        all(x["one_hot_forward"] for x in results) and worst < 1e-4,
        f"forward equal for all shapes; max gradient difference {worst:.1e}",
    )
    r.note("Snippet output: " + " | ".join(printed.strip().splitlines()))
    r.note(
        "An embedding is W[X]: advanced indexing returns X.shape + (embedding_dim,), and its backward scatters-adds G "
        "into W's rows."
    )
    r.note(
        "one_hot @ W matches exactly in forward; its gradient one_hotᵀ G adds the same terms (possibly in another "
        f"order): max difference {worst:.1e}."
    )
    return r
