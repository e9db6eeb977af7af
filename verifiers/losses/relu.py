"""Question 4: three statements about ReLU, each decided by a measurement."""

from __future__ import annotations

import torch
from losses_common import (
    backward_profile,
    build_mlpirate,
    build_unshared_mlpirate,
    fmt,
    log10,
    mse,
    per_layer_factor,
    pirate_data,
    standardized_pirates,
    train,
)
from torch import nn
from torch_threads import one_thread

from quizzer.verifier import Result


def no_vanishing() -> Result:
    """Statement 1: 'In a model using exclusively ReLU activations, there can be no vanishing gradients.'

    The statement is universal, so one measured counterexample refutes it. The model: question 2's
    `mlpirate` with every nn.Sigmoid replaced by nn.ReLU (ReLU-only), at PyTorch's default init and
    after training it; nothing is planted (no hand-set weights or biases).
    """
    r = Result()
    with one_thread():
        Xt, yt, _, _ = standardized_pirates()
        baseline = mse(yt.mean().expand_as(yt), yt).item()

        torch.manual_seed(0)
        model = build_mlpirate(nn.ReLU)
        prof = backward_profile(model, Xt, yt)
        ratio = prof["z_grad"][0] / prof["z_grad"][-2]
        slopes = set()
        h = Xt
        for module in model:
            if isinstance(module, nn.ReLU):
                zz = h.detach().requires_grad_()
                (g,) = torch.autograd.grad(module(zz).sum(), zz)
                slopes |= set(g.unique().tolist())
            h = module(h).detach()
        r.claim(
            "ReLU's own slope is only ever 0 or 1 (it never scales a gradient down like σ' ≤ 1/4)",
            slopes <= {0.0, 1.0},
            f"distinct ReLU' values seen: {sorted(slopes)}",
        )

        # Counterexample 1: a deep ReLU-only net at PyTorch's default init.
        counterexamples = {"25 ReLU layers, default init": ratio}
        r.claim(
            "25 ReLU layers at default init: the first layer's gradient vanishes",
            ratio < 1e-3,
            f"||dL/dz_1|| = {fmt(prof['z_grad'][0])} vs ||dL/dz_25|| = {fmt(prof['z_grad'][-2])}, ratio {fmt(ratio)}",
        )
        torch.manual_seed(0)
        stuck = build_mlpirate(nn.ReLU)
        curve = train(stuck, Xt, yt, torch.optim.Adam(stuck.parameters(), lr=1e-3), 100)
        r.claim(
            "and it does not train: even Adam stays at the predict-the-mean loss",
            curve[-1] > 0.95 * baseline,
            f"{curve[-1]:.4f} vs {baseline:.4f} after 100 Adam steps",
        )

        trained_prof = backward_profile(stuck, Xt, yt)
        trained_ratio = trained_prof["z_grad"][0] / trained_prof["z_grad"][-2]
        counterexamples["the same net after 100 Adam steps"] = trained_ratio
        r.claim(
            "training does not rescue it: after the 100 Adam steps the first layer's gradient still vanishes",
            trained_ratio < 1e-3,
            f"first/last-hidden ratio {fmt(trained_ratio)} (at init {fmt(ratio)})",
        )

        torch.manual_seed(0)
        independent = backward_profile(build_unshared_mlpirate(nn.ReLU), Xt, yt)["z_grad"]
        counterexamples["24 independent ReLU layers, default init"] = independent[0] / independent[-2]
        r.claim(
            "the same with 24 independent hidden layers (no shared matrix): the gradient vanishes too",
            independent[0] / independent[-2] < 1e-3,
            f"first/last-hidden ratio {fmt(independent[0] / independent[-2])}",
        )

        # Contrast: the same architecture with He (Kaiming) init keeps the gradient alive.
        torch.manual_seed(0)
        he = build_mlpirate(nn.ReLU)
        for module in {id(m): m for m in he if isinstance(m, nn.Linear)}.values():
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            nn.init.zeros_(module.bias)
        he_prof = backward_profile(he, Xt, yt)
        he_ratio = he_prof["z_grad"][0] / he_prof["z_grad"][-2]
        r.claim(
            "contrast: with He init (variance 2/fan_in) the same ReLU net keeps its gradient",
            0.1 < he_ratio < 10,
            f"ratio {fmt(he_ratio)}",
        )

        r.figure("relu_ratio_init", ratio, "{:.1e}")
        r.figure("relu_factor", per_layer_factor(ratio, 24), "{:.2f}")
        r.figure("relu_ratio_trained", trained_ratio, "{:.1e}")
        r.figure("relu_ratio_independent", independent[0] / independent[-2], "{:.1e}")
        r.figure("relu_he_ratio", he_ratio, "{:.2f}")
        r.figure("relu_adam_loss", curve[-1], "{:.3f}")
        found = {k: v for k, v in counterexamples.items() if v < 1e-3}
        r.value = not found  # the statement claims no ReLU-only model can have vanishing gradients

        r.note("Model: the question-2 mlpirate with nn.ReLU in place of every nn.Sigmoid.")
        r.note(
            f"Default init draws W ~ U(±1/√fan_in): Var(W)·fan_in = 1/3, and ReLU zeroes half the units, so "
            f"each layer scales the gradient by ≈ √(1/6) ≈ 0.41; 24 layers give {fmt(ratio)}."
        )
        r.note(f"After 100 Adam steps the loss is {curve[-1]:.4f} (predicting the mean: {baseline:.4f}).")
        r.note(
            f"After those 100 Adam steps the first/last ratio is {fmt(trained_ratio)}: nothing was planted, the "
            "default init and the depth alone make the gradient vanish, and training does not undo it."
        )
        r.note(
            f"He init (Var(W) = 2/fan_in compensates ReLU's halving): first/last ratio {fmt(he_ratio)}. "
            "ReLU removes the activation's contribution to vanishing, not the weights' or dead units'."
        )
        r.note(
            "Figure: log10 ‖∂L/∂z_l‖ per Linear layer for the two ReLU nets. Default init: a steady slope down to "
            f"{fmt(prof['z_grad'][0])} at layer 1 (vanishing). He init: nearly flat."
        )
        for name, p in (("default init", prof), ("He init", he_prof)):
            r.plot(
                f"log10 ‖∂L/∂z_l‖, ReLU {name}",
                range(1, 27),
                log10(p["z_grad"]),
                xlabel="Linear layer",
                ylabel="log10 gradient norm",
            )
    return r


def gradient_linear() -> Result:
    """Statement 2: 'The gradient of ReLU is linear with its input when the input is positive.'

    Reading: the derivative d ReLU(x)/dx as a function of x > 0. 'Linear with its input' = changes in
    proportion to x (g(x) = a·x with a ≠ 0; we also accept an affine a·x + b with a ≠ 0).
    """
    r = Result()
    xs = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 100.0]
    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    y = torch.relu(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    xd = x.detach()
    # Least-squares fit g = a x + b.
    A = torch.stack([xd, torch.ones_like(xd)], 1)
    a, b = torch.linalg.lstsq(A, g.unsqueeze(1)).solution.squeeze(1).tolist()
    residual = (A @ torch.tensor([a, b], dtype=torch.float64) - g).abs().max().item()
    a, b = (v if abs(v) > 1e-12 else 0.0 for v in (a, b))  # show 0, not -0 or 1e-17
    r.value = abs(a) > 1e-9 and residual < 1e-9  # linear in x means a non-zero slope that fits exactly
    r.claim(
        "autograd: ReLU'(x) is the same constant at every positive x",
        (g == g[0]).all().item(),
        ", ".join(f"ReLU'({v:g})={d:g}" for v, d in zip(xs, g.tolist(), strict=True)),
    )
    r.claim(
        "doubling x does not double the gradient (it would, if the gradient were linear in x)",
        not torch.allclose(g[xs.index(2.0)], 2 * g[xs.index(1.0)]),
        f"ReLU'(2) = {g[xs.index(2.0)].item():g}, 2·ReLU'(1) = {2 * g[xs.index(1.0)].item():g}",
    )
    r.claim(
        "what IS linear for x > 0 is ReLU itself: ReLU(2x) = 2·ReLU(x) and ReLU(x) = x",
        torch.allclose(torch.relu(2 * xd), 2 * torch.relu(xd)) and torch.equal(y.detach(), xd),
        f"ReLU({xs}) = {y.detach().tolist()}",
    )
    v = torch.tensor([0.3, -1.7, 2.0], dtype=torch.float64)
    xx = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    (back1,) = torch.autograd.grad(torch.relu(xx), xx, grad_outputs=v)
    (back2,) = torch.autograd.grad(torch.relu(xx), xx, grad_outputs=3 * v)
    r.claim(
        "other reading: the backward map (upstream gradient v ↦ v·1[x>0]) is linear in v, not in x",
        torch.allclose(back2, 3 * back1) and torch.allclose(back1, v),
        f"{back1.tolist()} for v={v.tolist()}",
    )
    r.note(
        f"Fit ReLU'(x) = a·x + b over x ∈ {xs}: a = {a:g}, b = {b:g}. Slope zero: the gradient is the "
        "constant 1, not a linear function of x."
    )
    r.note("ReLU(x) = x for x > 0 is linear; its derivative is therefore constant (1), and 0 for x < 0.")
    grid = torch.linspace(-2.0, 4.0, 61, dtype=torch.float64, requires_grad=True)
    (slope,) = torch.autograd.grad(torch.relu(grid).sum(), grid)
    r.note(
        "Figure: ReLU(x) rises linearly for x > 0; its autograd derivative is flat: 0 for x < 0, then the constant 1."
    )
    r.plot("ReLU(x)", grid.tolist(), torch.relu(grid).tolist(), xlabel="x", ylabel="value")
    r.plot("ReLU'(x), autograd", grid.tolist(), slope.tolist(), xlabel="x", ylabel="value")
    return r


def _hidden_unit_training(act: nn.Module, X: torch.Tensor, y: torch.Tensor, steps: int, lr: float, hidden: int = 64):
    """Full-batch SGD on a one-hidden-layer net; per step, which hidden units get an exactly-zero gradient.

    Returns (model, active at init (H,), per-step zero-gradient masks (steps, H), per-step first-layer
    parameters (steps, H, 43) as they were *before* each step, losses).
    """
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(X.shape[1], hidden), act, nn.Linear(hidden, 1))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    with torch.no_grad():
        active0 = (model[1](model[0](X)) != 0).any(0)
    zero_grad, params, losses = [], [], []
    for _ in range(steps):
        params.append(torch.cat([model[0].weight, model[0].bias[:, None]], 1).detach().clone())
        opt.zero_grad()
        loss = mse(model(X), y)
        loss.backward()
        g = torch.cat([model[0].weight.grad, model[0].bias.grad[:, None]], 1)
        zero_grad.append((g == 0).all(1))
        opt.step()
        losses.append(loss.item())
    return model, active0, torch.stack(zero_grad), torch.stack(params), losses


def dead_neurons() -> Result:
    """Statement 3: 'ReLU can cause dead neurons, i.e. activations that remain at a constant value of zero.'

    Nothing is planted: a one-hidden-layer ReLU regressor (64 units) is trained with plain SGD at a
    large-ish learning rate on the pirate counts as they come (non-negative, not centred: a common
    "forgot to standardize" setting). We record, per unit and step, whether the unit outputs 0 on every
    example and whether its incoming weights and bias get an exactly-zero gradient. Control: the same
    run with LeakyReLU(0.01), whose slope for z < 0 is not zero.
    """
    r = Result()
    steps, lr = 200, 0.1
    with one_thread():
        X, y = pirate_data(128)
        X = X / X.mean()  # positive features of mean 1, not centred
        y = (y - y.mean()) / y.std()
        relu, active0, zero_grad, params, losses = _hidden_unit_training(nn.ReLU(), X, y, steps, lr)
        with torch.no_grad():
            dead_end = (relu[1](relu[0](X)) == 0).all(0)
        hidden = len(active0)

        # Units alive at initialization that training killed; the step each died (first zero-gradient step).
        killed = active0 & dead_end
        died_at = torch.where(zero_grad.any(0), zero_grad.int().argmax(0), torch.full((hidden,), steps))
        stays = torch.zeros(hidden, dtype=torch.bool)
        for u in killed.nonzero().flatten().tolist():
            t = died_at[u].item()
            stays[u] = bool(zero_grad[t:, u].all()) and bool((params[t:, u] == params[t, u]).all())
        n_killed, n_stay = int(killed.sum()), int(stays.sum())

        leaky, _, zero_grad_leaky, _, losses_leaky = _hidden_unit_training(nn.LeakyReLU(0.01), X, y, steps, lr)

        r.value = n_stay > 0  # ReLU killed units during training, and they stayed at exactly zero
        r.claim(
            "training kills units: some units active at initialization end up outputting exactly 0 on every example",
            n_killed > 0,
            f"{n_killed} of the {int(active0.sum())} units active at init are dead after {steps} SGD steps",
        )
        r.claim(
            "a dead unit stays dead: from the step it died, its gradient is exactly 0 and its weights never "
            "change again",
            n_stay == n_killed,
            f"{n_stay} of {n_killed} killed units frozen bit-for-bit from their death to the end",
        )
        r.claim(
            "the network around them still learns (this is not divergence)",
            losses[-1] < 0.2 * losses[0] and all(v == v for v in losses),
            f"loss {losses[0]:.3f} → {losses[-1]:.3f}",
        )
        n_zero_leaky = int(zero_grad_leaky.any(0).sum())
        r.claim(
            "control: with LeakyReLU (slope 0.01 for z < 0) no unit ever gets an exactly-zero gradient",
            n_zero_leaky == 0,
            f"units with a zero gradient at some step: {n_zero_leaky} of {hidden}; "
            f"loss {losses_leaky[0]:.3f} → {losses_leaky[-1]:.3f}",
        )

        r.figure("hidden_units", hidden)
        r.figure("examples", len(X))
        r.figure("learning_rate", lr, "{:g}")
        r.figure("active_at_init", int(active0.sum()))
        r.figure("killed", n_killed)
        r.figure("loss_start", losses[0], "{:.2f}")
        r.figure("loss_end", losses[-1], "{:.2f}")
        counts, counts_leaky = zero_grad.sum(1).tolist(), zero_grad_leaky.sum(1).tolist()
        first_deaths = sorted(died_at[killed].tolist())
        r.note(
            f"Figure: units with an exactly-zero gradient (dead) at each step, out of {hidden}. ReLU: "
            f"{counts[0]} at step 0, {counts[-1]} at step {steps - 1}; "
            + (
                f"half of the new deaths happen by step {first_deaths[len(first_deaths) // 2]}. "
                if first_deaths
                else "no unit dies during training. "
            )
            + f"LeakyReLU: at most {max(counts_leaky)} at any step."
        )
        r.note(
            f"Why: early SGD steps are large (lr {lr}, large initial error) and pushed these units' pre-activations "
            "below 0 on every example, which is easy when the inputs are all ≥ 0 and not centred (lowering the "
            "weights lowers every pre-activation at once). Then ReLU'(z) = 0 on all the data, the gradient is "
            "exactly 0, and nothing moves the unit back: it is dead for good."
        )
        r.note(
            f"{hidden - int(active0.sum())} units were already dead at initialization, for the same reason "
            "(non-negative inputs). Standardizing the inputs, a smaller learning rate, or Leaky ReLU/ELU/GELU "
            "avoid this."
        )
        r.plot("dead units (exactly-zero gradient), ReLU", range(steps), counts, xlabel="SGD step", ylabel="units")
        r.plot("dead units, LeakyReLU(0.01)", range(steps), counts_leaky, xlabel="SGD step", ylabel="units")
    return r
