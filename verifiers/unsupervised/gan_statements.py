"""Unsupervised Q2 (GAN statements), measured on a 1-D GAN: data N(4, 1.25²), tiny MLP G and D."""

from __future__ import annotations

import copy
import math

import torch
from torch_threads import one_thread
from unsupervised_toys import (
    MU,
    SD,
    adam,
    d_loss,
    d_step,
    discriminator_mlp,
    equilibrium_discriminator,
    exact_generator,
    g_loss_minimax,
    g_loss_nonsaturating,
    generator_mlp,
    grad_norm,
    real,
    w1_to_data,
)

from quizzer.verifier import Result

LOG2, LOG4 = math.log(2), math.log(4)


def ideal_losses() -> Result:
    """Statement 1: ideally G's loss is low and D's loss high, D being fooled."""
    r = Result()
    with one_thread():
        torch.manual_seed(0)
        G, D = equilibrium_discriminator()
        x, z = real(20000), torch.randn(20000, 1)
        with torch.no_grad():
            fake = G(z)
            d_real, d_fake = torch.sigmoid(D(x)), torch.sigmoid(D(fake))
            LD, LG = d_loss(D, x, fake).item(), g_loss_nonsaturating(D, fake).item()
            acc = 0.5 * ((d_real > 0.5).double().mean() + (d_fake < 0.5).double().mean()).item()
            w_ideal = w1_to_data(fake)
        # A state that does have "G loss low, D loss high": a D trained against an off-target G (shifted by
        # −1.5), and G collapsed onto the point that D rates most "real" — D is fooled.
        G_off, D_off = exact_generator(MU - 1.5), discriminator_mlp()
        opt = adam(D_off.parameters())
        for _ in range(300):
            d_step(D_off, opt, G_off)
        grid = torch.linspace(MU - 3 * SD, MU + 3 * SD, 1201)[:, None]  # within the data range
        with torch.no_grad():
            x_star = grid[D_off(grid).argmax()].item()
        G_c = copy.deepcopy(G)
        with torch.no_grad():
            G_c[2].weight.zero_()
            G_c[2].bias.fill_(x_star)
            fake_c = G_c(z)
            LD_c, LG_c = d_loss(D_off, x, fake_c).item(), g_loss_nonsaturating(D_off, fake_c).item()
            w_c = w1_to_data(fake_c)
        D_c = D_off
        opt = adam(D_c.parameters())
        for _ in range(50):
            d_step(D_c, opt, G_c)
        with torch.no_grad():
            LD_c_after = d_loss(D_c, x, fake_c).item()
    fooled = d_fake.mean().item() > 0.6
    r.figure("ideal_d_fake", d_fake.mean().item(), "{:.2f}")
    r.figure("ideal_accuracy", acc, "{:.0%}")
    r.figure("ideal_loss_d", LD, "{:.3f}")
    r.figure("ideal_loss_g", LG, "{:.3f}")
    r.figure("collapsed_loss_g", LG_c, "{:.3f}")
    r.figure("collapsed_loss_d", LD_c, "{:.3f}")
    r.figure("collapsed_loss_d_after", LD_c_after, "{:.3f}")
    r.figure("collapsed_w1", w_c, "{:.2f}")
    r.figure("ideal_w1", w_ideal, "{:.3f}")
    r.value = bool(fooled and LG < 0.5 * LOG2)  # the statement: at the ideal, D is fooled and G's loss is low
    r.claim(
        "at the ideal (p_g = p_data, D trained to optimum) D outputs ≈ 1/2 everywhere: it is not fooled, just unable "
        "to tell",
        abs(d_real.mean() - 0.5) < 0.02 and abs(d_fake.mean() - 0.5) < 0.02 and abs(acc - 0.5) < 0.05,
        f"mean D(x) {d_real.mean():.3f}, mean D(G(z)) {d_fake.mean():.3f}, accuracy {acc:.3f}",
    )
    r.claim(
        "the equilibrium losses are log 4 for D and log 2 for G — neither 'low' nor 'high'",
        abs(LD - LOG4) < 0.01 and abs(LG - LOG2) < 0.03,
        f"L_D = {LD:.4f} (log 4 = {LOG4:.4f}), L_G = −log D(G(z)) = {LG:.4f} (log 2 = {LOG2:.4f})",
    )
    r.claim(
        "a state with low G loss and high D loss exists but is a bad generator and is not stable",
        LG_c < 0.5 * LG and LD_c > LD and w_c > 10 * w_ideal and LD_c_after < 0.5 * LD_c,
        f"collapsed G at x = {x_star:.2f}: L_G {LG_c:.3f}, L_D {LD_c:.3f}, W1 to data {w_c:.2f} (ideal {w_ideal:.3f}); "
        f"50 D steps bring L_D to {LD_c_after:.3f}",
    )
    r.note(
        f"Generator with p_g = p_data exactly (G(z) = {MU} + {SD}z), D trained 300 steps against it: D(x) ≈ "
        f"{d_real.mean():.3f}, D(G(z)) ≈ {d_fake.mean():.3f}, accuracy {acc:.1%}."
    )
    r.note(
        f"Losses there: L_D = {LD:.4f} ≈ log 4, L_G = {LG:.4f} ≈ log 2 — the value of the minimax game at its optimum."
    )
    r.note(
        f"'G loss low, D loss high' is reached by collapsing G onto a point D rates as real: L_G {LG_c:.3f}, L_D "
        f"{LD_c:.2f}, "
        f"but W1 to the data is {w_c:.2f} and D recovers within 50 steps (L_D {LD_c_after:.3f})."
    )
    return r


def backprop_into_generator() -> Result:
    """Statement 2: it is crucial to backprop into G when training D."""
    r = Result()
    with one_thread():
        torch.manual_seed(0)
        G, D = generator_mlp(), discriminator_mlp()
        x, z = real(256), torch.randn(256, 1)
        G_before = [p.detach().clone() for p in G.parameters()]
        grads = {}
        for detach in (True, False):
            D.zero_grad()
            G.zero_grad()
            fake = G(z)
            d_loss(D, x, fake.detach() if detach else fake).backward()
            grads[detach] = (
                [p.grad.clone() for p in D.parameters()],
                [None if p.grad is None else p.grad.clone() for p in G.parameters()],
            )
        d_diff = max((a - b).abs().max().item() for a, b in zip(grads[True][0], grads[False][0], strict=True))
        g_none_when_detached = all(g is None for g in grads[True][1])
        g_from_dloss = torch.cat([g.flatten() for g in grads[False][1]])
        # A D step with its own optimizer never touches G's parameters.
        opt_D = adam(D.parameters())
        opt_D.step()
        g_unchanged = all(torch.equal(a, b) for a, b in zip(G_before, G.parameters(), strict=True))
        # If those gradients were applied to G (descending D's loss), G would help D.
        G.zero_grad()
        g_loss_nonsaturating(D, G(z)).backward()
        g_own = torch.cat([p.grad.flatten() for p in G.parameters()])
        cos = torch.nn.functional.cosine_similarity(g_from_dloss, g_own, dim=0).item()
    r.value = bool(d_diff > 0)  # "crucial" only if D's update depends on it
    r.demonstrated("detach() leaving D's own gradient unchanged is an identity of autograd, not a measurement")
    r.claim(
        "D's gradients are identical with and without backprop into G",
        d_diff == 0.0,
        f"max |Δ∂L_D/∂θ_D| = {d_diff:.2g}",
    )
    r.claim("with .detach() no gradient reaches G at all", g_none_when_detached, "G's .grad is None after backward")
    r.claim("a D optimizer step leaves G unchanged anyway", g_unchanged, "all G parameters bit-identical")
    r.claim(
        "the G-gradient of D's loss points against G's own objective",
        cos < 0,
        f"cosine(∂L_D/∂θ_G, ∂L_G/∂θ_G) = {cos:.3f}",
    )
    r.note(
        f"Without detach the D-step backward also fills G's gradients (‖∂L_D/∂θ_G‖ = {g_from_dloss.norm():.3f}), at "
        f"the cost of a pass through G — and D's gradient is bit-identical ({d_diff:.1g} difference)."
    )
    r.note(
        f"Those G-gradients would move G to make D's job easier (cosine {cos:.2f} with G's own gradient): they must "
        "not be applied, so one detaches the fake batch."
    )
    return r


def latent_from_standard_normal() -> Result:
    """Statement 3: to generate, sample a latent vector from N(0, I)."""
    r = Result()
    with one_thread():
        torch.manual_seed(0)
        G, D = generator_mlp(), discriminator_mlp()
        opt_G, opt_D = adam(G.parameters()), adam(D.parameters())
        for _ in range(800):
            d_step(D, opt_D, G)
            loss = g_loss_nonsaturating(D, G(torch.randn(256, 1)))  # trained with z ~ N(0, 1)
            opt_G.zero_grad()
            loss.backward()
            opt_G.step()
        n = 20000
        with torch.no_grad():
            priors = {
                "N(0,1)": G(torch.randn(n, 1)),
                "U(0,1)": G(torch.rand(n, 1)),
                "N(0,3²)": G(3 * torch.randn(n, 1)),
            }
        stats = {k: (v.mean().item(), v.std().item(), w1_to_data(v)) for k, v in priors.items()}
    m, s, w = stats["N(0,1)"]
    matches = abs(m - MU) < 0.2 * SD and 0.8 < s / SD < 1.25
    others_worse = all(stats[k][2] > 2 * w for k in ("U(0,1)", "N(0,3²)"))
    r.value = bool(matches and others_worse)
    r.claim(
        "z ~ N(0,1) (the training prior) generates the data distribution",
        matches,
        f"generated mean {m:.2f} (data {MU}), std {s:.2f} (data {SD}), W1 {w:.3f}",
    )
    r.claim(
        "latents from other distributions give wrong outputs",
        others_worse,
        "; ".join(f"{k}: mean {a:.2f}, std {b:.2f}, W1 {c:.2f}" for k, (a, b, c) in stats.items() if k != "N(0,1)"),
    )
    r.note(f"1-D GAN (tiny MLPs, 800 steps) on N({MU}, {SD}²), latent z ~ N(0,1) during training.")
    r.note(
        "Generating = drawing fresh z from the same prior and running G: "
        + "; ".join(f"{k} → mean {a:.2f}, std {b:.2f}, W1 {c:.2f}" for k, (a, b, c) in stats.items())
    )
    r.note("Only the prior used in training works: G maps that distribution, and no other, onto the data.")
    return r


FEW_D_STEPS = 10  # "a handful" of D steps, the short reading of "a few epochs"


def pretrain_discriminator() -> Result:
    """Statement 4: pre-training D for a while helps G, since D's output is then not arbitrary."""
    r = Result()
    with one_thread():
        torch.manual_seed(0)
        mu, sd = 4.0, 0.5  # well separated from G's initial output, as real images are from initial fakes
        G, D = generator_mlp(), discriminator_mlp()
        opt_D = adam(D.parameters(), lr=5e-3)
        z = torch.randn(4096, 1)
        rows = []
        for step in range(301):
            if step % 10 == 0:
                fake = G(z)
                conf = torch.sigmoid(D(fake)).mean().item()
                rows.append(
                    (step, conf, grad_norm(g_loss_minimax(D, fake), G), grad_norm(g_loss_nonsaturating(D, fake), G))
                )
            d_step(D, opt_D, G, mu=mu, sd=sd)
    start, few, after = rows[0], rows[FEW_D_STEPS // 10], rows[-1]
    # The verdict's reading: the original minimax generator loss, and "a few epochs" long enough for D to
    # become confident; "beneficial" = G receives a larger learning signal than from an untrained D.
    r.value = bool(after[2] > start[2])
    r.claim(
        "after pre-training D is confident: D(G(z)) → 0",
        after[1] < 0.01,
        f"mean D(G(z)) {start[1]:.3f} → {after[1]:.5f}",
    )
    r.claim(
        "with the minimax loss log(1−D(G(z))) G's gradient has all but vanished",
        after[2] < 0.05 * start[2],
        f"‖∂L_G/∂θ_G‖ {start[2]:.4f} (arbitrary D) → {after[2]:.5f} (pre-trained D)",
    )
    r.claim(
        f"the verdict flips with the number of D steps: after only {FEW_D_STEPS} D steps the minimax gradient is "
        "larger than with an untrained D",
        few[2] > start[2],
        f"‖∇G‖ {start[2]:.4f} → {few[2]:.4f} after {FEW_D_STEPS} D steps",
    )
    r.claim(
        "the verdict flips with the generator loss: with the non-saturating −log D(G(z)) the gradient grows with "
        "D's confidence",
        after[3] > start[3],
        f"‖∇G‖ {start[3]:.4f} (arbitrary D) → {after[3]:.4f} (pre-trained D)",
    )
    r.figure("pretrained_confidence", after[1], "{:.0e}")
    r.figure("minimax_collapse", start[2] / after[2], "{:.0f}")
    r.figure("minimax_untrained", start[2], "{:.3f}")
    r.figure("minimax_few_steps", few[2], "{:.3f}")
    r.figure("nonsat_untrained", start[3], "{:.3f}")
    r.figure("nonsat_pretrained", after[3], "{:.2f}")
    peak = max(rows, key=lambda row: row[2])
    r.note(
        "Figure: log10 of G's gradient norm against the number of steps D was trained first. With the minimax loss "
        f"log(1−D(G(z))) it rises briefly (peak at {peak[0]} D steps), then collapses {start[2] / after[2]:.0f}× as D "
        "becomes "
        f"confident (D(G(z)) {start[1]:.2f} → {after[1]:.1e}). With the non-saturating loss −log D(G(z)) it keeps "
        "growing "
        f"({rows[0][3]:.2f} → {after[3]:.2f})."
    )
    r.note(
        "The minimax gradient is ∝ D(G(z)) at the logit, so a confident D silences it; G learns from D's gradient, not "
        "from its accuracy. The verdict False rests on that reading (minimax loss, D trained to confidence): after "
        f"{FEW_D_STEPS} D steps, or with the non-saturating loss, G gets a larger gradient than from an untrained D."
    )
    xs = [row[0] for row in rows]
    r.plot(
        "minimax loss log(1−D(G(z)))",
        xs,
        [math.log10(row[2]) for row in rows],
        xlabel="D pre-training steps",
        ylabel="log10 ‖∇G‖",
    )
    r.plot(
        "non-saturating loss −log D(G(z))",
        xs,
        [math.log10(row[3]) for row in rows],
        xlabel="D pre-training steps",
        ylabel="log10 ‖∇G‖",
    )
    return r


def _accuracy(D, G) -> float:
    with torch.no_grad():
        fake = G(torch.randn(20000, 1))
        return (
            0.5
            * (
                (torch.sigmoid(D(real(20000))) > 0.5).double().mean() + (torch.sigmoid(D(fake)) < 0.5).double().mean()
            ).item()
        )


def _w1(G) -> float:
    with torch.no_grad():
        return w1_to_data(G(torch.randn(20000, 1)))


def _keep_training(G, D, steps: int = 200):
    """Alternating training (one D step, one G step with the non-saturating loss); W1 to the data every 20 steps."""
    opt_G, opt_D = adam(G.parameters()), adam(D.parameters())
    trace = [(0, _w1(G))]
    for step in range(steps):
        d_step(D, opt_D, G)
        loss = g_loss_nonsaturating(D, G(torch.randn(256, 1)))
        opt_G.zero_grad()
        loss.backward()
        opt_G.step()
        if step % 20 == 19:
            trace.append((step + 1, _w1(G)))
    return trace


def train_past_equilibrium() -> Result:
    """Statement 5: at the 50%-accuracy stable state, training G more improves it further.

    Two stable 50% states: (a) the equilibrium p_g = p_data with a capable D; (b) a plausible but
    imperfect G (right mean, too narrow) against a D too weak to see the flaw (linear logit). In (b) G
    *could* still improve, so the outcome is not fixed by construction. Control: the same imperfect G
    against a capable D, which is not at 50%, does improve."""
    r = Result()
    with one_thread():
        torch.manual_seed(0)
        G, D = equilibrium_discriminator()
        # For comparison: G off target (shifted by −1.5), D trained against it.
        G_off, D_off = exact_generator(MU - 1.5), discriminator_mlp()
        opt = adam(D_off.parameters())
        for _ in range(300):
            d_step(D_off, opt, G_off)
        z = torch.randn(4096, 1)
        acc = _accuracy(D, G)
        g_eq = grad_norm(g_loss_nonsaturating(D, G(z)), G)
        g_off = grad_norm(g_loss_nonsaturating(D_off, G_off(z)), G_off)
        trace = _keep_training(G, D)

        # (b) plausible, imperfect G; a linear D cannot tell a narrower distribution with the same mean.
        narrow_sd = 0.7 * SD
        G_b, D_b = exact_generator(MU, narrow_sd), torch.nn.Linear(1, 1)
        opt = adam(D_b.parameters())
        for _ in range(300):
            d_step(D_b, opt, G_b)
        acc_b = _accuracy(D_b, G_b)
        trace_b = _keep_training(G_b, D_b)

        # control: the same imperfect G against a capable D
        G_c, D_c = exact_generator(MU, narrow_sd), discriminator_mlp()
        opt = adam(D_c.parameters())
        for _ in range(300):
            d_step(D_c, opt, G_c)
        acc_c = _accuracy(D_c, G_c)
        trace_c = _keep_training(G_c, D_c)

    improved = lambda tr: tr[-1][1] < 0.9 * tr[0][1]  # noqa: E731  "further improve" = closer to the data
    r.value = bool(improved(trace) or improved(trace_b))  # the statement, tested in both 50% states
    r.claim("(a) at the equilibrium p_g = p_data, D's accuracy is 50%", abs(acc - 0.5) < 0.05, f"D accuracy {acc:.3f}")
    r.claim(
        "(a) there G's gradient is tiny compared with an off-equilibrium G",
        g_eq < 0.05 * g_off,
        f"‖∇G‖ at equilibrium {g_eq:.4f} vs {g_off:.3f} for G shifted by −1.5",
    )
    r.claim(
        "(a) 200 more steps of alternating training do not bring G closer to the data",
        not improved(trace),
        f"W1(p_g, p_data): {trace[0][1]:.3f} before, {trace[-1][1]:.3f} after",
    )
    r.claim(
        "(b) a plausible but too narrow G against a D that cannot see the flaw: also a stable 50% state",
        abs(acc_b - 0.5) < 0.05,
        f"G sd {narrow_sd:.2f} (data {SD}), linear D accuracy {acc_b:.3f}",
    )
    r.claim(
        "(b) 200 more steps do not improve G there either, although it is still imperfect",
        not improved(trace_b),
        f"W1: {trace_b[0][1]:.3f} before, {trace_b[-1][1]:.3f} after",
    )
    r.claim(
        "control: a capable D sees the same flaw (accuracy above 50%), and then training G does improve it",
        acc_c > 0.55 and improved(trace_c),
        f"MLP D accuracy {acc_c:.3f}; W1: {trace_c[0][1]:.3f} → {trace_c[-1][1]:.3f}",
    )
    lo, hi = min(w for _, w in trace), max(w for _, w in trace)
    r.figure("equilibrium_accuracy", acc, "{:.0%}")
    if g_eq > 0:
        r.figure("off_target_gradient_ratio", g_off / g_eq, "{:.0f}")
    r.figure("linear_d_accuracy", acc_b, "{:.0%}")
    r.figure("capable_d_accuracy", acc_c, "{:.0%}")
    r.figure("w1_equilibrium_before", trace[0][1], "{:.3f}")
    r.figure("w1_equilibrium_after", trace[-1][1], "{:.3f}")
    r.note(
        f"(a) G with p_g = p_data, D trained to the stable state: accuracy {acc:.1%}, ‖∇G‖ = {g_eq:.4f} (vs "
        f"{g_off:.3f} when G is off target)."
    )
    r.note(
        f"Figure: W1 to the data while training continues. (a) Equilibrium: W1 only fluctuates ({lo:.3f}–{hi:.3f}, "
        "start "
        f"{trace[0][1]:.3f}). (b) Imperfect G, 50% linear D: {trace_b[0][1]:.2f} → {trace_b[-1][1]:.2f}, no better (it "
        "drifts, chasing noise). "
        f"Control, capable D ({acc_c:.0%} accuracy): {trace_c[0][1]:.2f} → {trace_c[-1][1]:.2f}."
    )
    r.note(
        "At a stable 50% the gradient D hands to G carries no information about the remaining flaws: there is nothing "
        "left "
        "to learn, only noise to chase. Improvement needs a change of setup (here a stronger D), not more of the same "
        "training."
    )
    for name, tr in (
        ("(a) equilibrium", trace),
        ("(b) imperfect G, 50% linear D", trace_b),
        ("control: imperfect G, capable D", trace_c),
    ):
        r.plot(name, [s for s, _ in tr], [w for _, w in tr], xlabel="extra training steps", ylabel="W1 to data")
    return r
