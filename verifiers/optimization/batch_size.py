"""Q3: batch B → 2B, same learning rate: do the iterations needed to reach a loss l0 decrease or increase?

Toy problem: noisy least squares (N=1024, d=10), mini-batch SGD with a fixed learning rate, 32 seeds
run in parallel. The excess loss L(w) − L(w*) is computed exactly from the Hessian.
"""

import torch
from optim_common import lsq_iterations_to_target, lsq_problem

from quizzer.verifier import Result

N, SEEDS, STEPS, LR = 1024, 32, 300, 0.1
B = 8  # the question's B; 2B = 16
L0 = 0.03  # the target excess loss: batch B reaches it in every seed
SWEEP = [4, 8, 16, 32, 64, 128]


def stats(h):
    return h.mean().item(), h.std().item(), h.std().item() / len(h) ** 0.5


def verify() -> Result:
    r = Result()
    X, y, H, w_star = lsq_problem(N)
    its = {b: lsq_iterations_to_target(b, LR, X, y, H, w_star, L0, SEEDS, STEPS) for b in SWEEP}
    r.claim(
        f"every seed reaches l0 with batch B={B} and 2B={2 * B} (so n is well defined)",
        (its[B] > 0).all() and (its[2 * B] > 0).all(),
        f"never reached: B {(its[B] < 0).sum().item()}, 2B {(its[2 * B] < 0).sum().item()} of {SEEDS}",
    )
    (m1, s1, e1), (m2, s2, e2) = stats(its[B]), stats(its[2 * B])
    significant = abs(m1 - m2) > 3 * (e1**2 + e2**2) ** 0.5
    r.claim(
        "the difference between B and 2B exceeds 3 standard errors",
        significant,
        f"B: {m1:.1f} ± {s1:.1f} (s.e. {e1:.1f}); 2B: {m2:.1f} ± {s2:.1f} (s.e. {e2:.1f})",
    )
    r.value = "decrease" if m2 < m1 else "increase"
    r.figure("iterations_b", m1, "{:.1f}")
    r.figure("spread_b", s1, "{:.1f}")
    r.figure("iterations_2b", m2, "{:.1f}")
    r.figure("spread_2b", s2, "{:.1f}")
    if e1 or e2:  # without sampling noise there is no standard error (and the claim above fails)
        r.figure("gap_in_se", abs(m1 - m2) / (e1**2 + e2**2) ** 0.5, "{:.1f}")

    censored = {b: (its[b] < 0).any().item() for b in SWEEP}  # some seed never got there within STEPS
    means = [stats(torch.where(its[b] < 0, float(STEPS), its[b]))[0] for b in SWEEP]
    gd = stats(lsq_iterations_to_target(N, LR, X, y, H, w_star, L0, SEEDS, STEPS))[
        0
    ]  # full batch: the noise-free limit
    r.claim(
        "diminishing returns: doubling a large batch (64 → 128) saves under 5% of the iterations",
        means[-1] > 0.95 * means[-2] and means[-1] <= means[-2] + 1,
        f"n(64) = {means[-2]:.1f}, n(128) = {means[-1]:.1f}",
    )
    r.claim(
        "large batches approach the full-batch GD iteration count from above",
        gd <= means[-1] <= gd * 1.1,
        f"n(128) = {means[-1]:.1f}, GD (B=N) = {gd:.1f}",
    )
    r.figure("iterations_64", means[-2], "{:.1f}")
    r.figure("iterations_128", means[-1], "{:.1f}")
    r.figure("iterations_gd", gd, "{:.0f}")
    epochs1, epochs2 = m1 * B / N, m2 * 2 * B / N
    r.figure("epochs_b", epochs1, "{:.2f}")
    r.figure("epochs_2b", epochs2, "{:.2f}")
    r.claim(
        "but 2B uses more samples (epochs) in total to reach l0",
        epochs2 > epochs1,
        f"B: {epochs1:.3f} epochs, 2B: {epochs2:.3f} epochs",
    )
    scaled = stats(lsq_iterations_to_target(2 * B, 2 * LR, X, y, H, w_star, L0, SEEDS, STEPS))[0]
    r.figure("iterations_scaled_lr", scaled, "{:.1f}")
    r.claim(
        "with the linear-scaling rule (2B and 2× learning rate) the iterations drop further",
        scaled < m2,
        f"2B at lr {2 * LR}: {scaled:.1f} iterations vs {m2:.1f} at lr {LR}",
    )

    r.note(f"Noisy least squares, N={N}, lr={LR}, {SEEDS} seeds, target excess loss l0={L0}.")
    r.note(f"B={B}: n = {m1:.1f} ± {s1:.1f} iterations; 2B={2 * B}: n = {m2:.1f} ± {s2:.1f} (mean ± std over seeds).")
    r.note(
        "Iterations to l0 for B = "
        + ", ".join(f"{b}: {'≥' if censored[b] else ''}{m:.1f}" for b, m in zip(SWEEP, means, strict=True))
        + f", GD: {gd:.0f} — falls fast while gradient noise dominates, then flattens at the noise-free limit."
    )
    r.note(f"Per sample it is the other way: B needs {epochs1:.3f} epochs, 2B {epochs2:.3f}.")
    r.note(f"Doubling the learning rate with the batch (linear scaling) gives {scaled:.1f} iterations.")
    r.plot(
        "iterations to reach l0 vs batch size",
        SWEEP,
        means,
        xlabel="batch size",
        ylabel="iterations (mean of 32 seeds)",
    )
    return r
