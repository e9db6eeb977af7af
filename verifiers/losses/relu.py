"""Question 4: three statements about ReLU, each decided by a measurement."""

from __future__ import annotations

import torch
from losses_common import (
    backward_profile,
    build_mlpirate,
    fmt,
    mse,
    single_thread,
    standardized_pirates,
    train,
)
from torch import nn

from quizzer.verifier import Result


def no_vanishing() -> Result:
    """Statement 1: 'In a model using exclusively ReLU activations, there can be no vanishing gradients.'

    The statement is universal, so one measured counterexample refutes it. The model: question 2's
    `mlpirate` with every nn.Sigmoid replaced by nn.ReLU (ReLU-only), at PyTorch's default init.
    """
    r = Result()
    with single_thread():
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
        r.claim("ReLU's own slope is only ever 0 or 1 (it never scales a gradient down like σ' ≤ 1/4)",
                slopes <= {0.0, 1.0}, f"distinct ReLU' values seen: {sorted(slopes)}")

        # Counterexample 1: a deep ReLU-only net at PyTorch's default init.
        counterexamples = {"25 ReLU layers, default init": ratio}
        r.claim("25 ReLU layers at default init: the first layer's gradient vanishes",
                ratio < 1e-3, f"||dL/dz_1|| = {fmt(prof['z_grad'][0])} vs ||dL/dz_25|| = {fmt(prof['z_grad'][-2])}, "
                              f"ratio {fmt(ratio)}")
        torch.manual_seed(0)
        stuck = build_mlpirate(nn.ReLU)
        curve = train(stuck, Xt, yt, torch.optim.Adam(stuck.parameters(), lr=1e-3), 100)
        r.claim("and it does not train: even Adam stays at the predict-the-mean loss",
                curve[-1] > 0.95 * baseline, f"{curve[-1]:.4f} vs {baseline:.4f} after 100 Adam steps")

        # Counterexample 2: a layer whose units are all dead passes back exactly zero.
        torch.manual_seed(0)
        dead = build_mlpirate(nn.ReLU)
        with torch.no_grad():
            dead[0].bias.fill_(-100.0)
        dead_prof = backward_profile(dead, Xt, yt)
        counterexamples["first layer's units dead (bias −100)"] = dead_prof["z_grad"][0] / dead_prof["z_grad"][-1]
        r.claim("if a layer's ReLUs are all inactive, the gradient below it is exactly zero",
                dead_prof["w_first"] == 0.0, f"||dL/dW_1|| = {dead_prof['w_first']:g}")

        # Contrast: the same architecture with He (Kaiming) init keeps the gradient alive.
        torch.manual_seed(0)
        he = build_mlpirate(nn.ReLU)
        for module in {id(m): m for m in he if isinstance(m, nn.Linear)}.values():
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            nn.init.zeros_(module.bias)
        he_prof = backward_profile(he, Xt, yt)
        he_ratio = he_prof["z_grad"][0] / he_prof["z_grad"][-2]
        r.claim("contrast: with He init (variance 2/fan_in) the same ReLU net keeps its gradient",
                0.1 < he_ratio < 10, f"ratio {fmt(he_ratio)}")

        found = {k: v for k, v in counterexamples.items() if v < 1e-3}
        r.value = not found  # the statement claims no ReLU-only model can have vanishing gradients

        r.note("Model: the question-2 mlpirate with nn.ReLU in place of every nn.Sigmoid.")
        r.note("||dL/dz_l|| per Linear layer, default init: " + ", ".join(fmt(v) for v in prof["z_grad"]))
        r.note(f"Default init draws W ~ U(±1/√fan_in): Var(W)·fan_in = 1/3, and ReLU zeroes half the units, so "
               f"each layer scales the gradient by ≈ √(1/6) ≈ 0.41; 24 layers give {fmt(ratio)}.")
        r.note(f"After 100 Adam steps the loss is {curve[-1]:.4f} (predicting the mean: {baseline:.4f}).")
        r.note(f"Dead first layer (bias −100): gradient to its weights is exactly {dead_prof['w_first']:g}.")
        r.note(f"He init (Var(W) = 2/fan_in compensates ReLU's halving): first/last ratio {fmt(he_ratio)}. "
               "ReLU removes the activation's contribution to vanishing, not the weights' or dead units'.")
        r.plot("||dL/dz||, ReLU default init", range(1, 27), prof["z_grad"], xlabel="Linear layer", ylabel="grad norm")
        r.plot("||dL/dz||, ReLU He init", range(1, 27), he_prof["z_grad"], xlabel="Linear layer", ylabel="grad norm")
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
    r.claim("autograd: ReLU'(x) is the same constant at every positive x", (g == g[0]).all().item(),
            ", ".join(f"ReLU'({v:g})={d:g}" for v, d in zip(xs, g.tolist(), strict=True)))
    r.claim("doubling x does not double the gradient (it would, if the gradient were linear in x)",
            not torch.allclose(g[xs.index(2.0)], 2 * g[xs.index(1.0)]),
            f"ReLU'(2) = {g[xs.index(2.0)].item():g}, 2·ReLU'(1) = {2 * g[xs.index(1.0)].item():g}")
    r.claim("what IS linear for x > 0 is ReLU itself: ReLU(2x) = 2·ReLU(x) and ReLU(x) = x",
            torch.allclose(torch.relu(2 * xd), 2 * torch.relu(xd)) and torch.equal(y.detach(), xd),
            f"ReLU({xs}) = {y.detach().tolist()}")
    v = torch.tensor([0.3, -1.7, 2.0], dtype=torch.float64)
    xx = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    (back1,) = torch.autograd.grad(torch.relu(xx), xx, grad_outputs=v)
    (back2,) = torch.autograd.grad(torch.relu(xx), xx, grad_outputs=3 * v)
    r.claim("other reading: the backward map (upstream gradient v ↦ v·1[x>0]) is linear in v, not in x",
            torch.allclose(back2, 3 * back1) and torch.allclose(back1, v), f"{back1.tolist()} for v={v.tolist()}")
    r.note(f"Fit ReLU'(x) = a·x + b over x ∈ {xs}: a = {a:g}, b = {b:g}. Slope zero: the gradient is the "
           "constant 1, not a linear function of x.")
    r.note("ReLU(x) = x for x > 0 is linear; its derivative is therefore constant (1), and 0 for x < 0.")
    r.plot("ReLU'(x), autograd", xs, g.tolist(), xlabel="x", ylabel="dReLU/dx")
    return r


def dead_neurons() -> Result:
    """Statement 3: 'ReLU can cause dead neurons, i.e. activations that remain at a constant value of zero.'

    A one-hidden-layer ReLU regressor on the pirate data; hidden unit 0 gets a large negative bias.
    We track its activation and its parameters' gradients over the whole dataset during training.
    """
    r = Result()
    with single_thread():
        Xt, yt, _, _ = standardized_pirates()
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(42, 16), nn.ReLU(), nn.Linear(16, 1))
        with torch.no_grad():
            model[0].bias[0] = -10.0
        w0, b0 = model[0].weight[0].clone(), model[0].bias[0].clone()
        others0 = model[0].weight[1:].clone()
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        max_act, max_grad, max_pre, losses, act_curve = 0.0, 0.0, -float("inf"), [], []
        steps = 200
        for _ in range(steps):
            opt.zero_grad()
            pre = model[0](Xt)
            hidden = model[1](pre)
            loss = mse(model[2](hidden), yt)
            loss.backward()
            max_act = max(max_act, hidden[:, 0].abs().max().item())
            max_pre = max(max_pre, pre[:, 0].max().item())
            max_grad = max(max_grad, model[0].weight.grad[0].abs().max().item(), abs(model[0].bias.grad[0].item()))
            act_curve.append(hidden[:, 0].abs().max().item())
            losses.append(loss.item())
            opt.step()
        unchanged = torch.equal(model[0].weight[0], w0) and torch.equal(model[0].bias[0], b0)
        others_moved = (model[0].weight[1:] - others0).abs().max().item()
        alive = (model[1](model[0](Xt))[:, 1:] > 0).any(0).sum().item()

        r.value = max_act == 0.0 and max_grad == 0.0 and unchanged  # it can happen, and it stays dead
        r.claim("unit 0's pre-activation is negative for every example at every step",
                max_pre < 0, f"largest pre-activation seen {max_pre:.3f}")
        r.claim("its gradient is exactly zero, so nothing (not even Adam) can revive it",
                max_grad == 0.0 and unchanged, f"max |grad| over {steps} steps = {max_grad:g}; parameters unchanged: {unchanged}")
        r.claim("meanwhile the rest of the network trains normally",
                others_moved > 0.05 and losses[-1] < 0.5 * losses[0],
                f"other units' weights moved up to {others_moved:.3f}; loss {losses[0]:.3f} → {losses[-1]:.3f}")
        r.note(f"Unit 0 (bias −10): output = {max_act:g} on all {len(Xt)} examples at each of {steps} Adam steps; "
               f"its weights and bias are bit-for-bit unchanged. {alive} of the other 15 units are active somewhere.")
        r.note("ReLU'(z) = 0 for z < 0, so a unit that is negative on the whole dataset gets no gradient through "
               "its own weights: dead. Typical causes: a large update (high learning rate) or a large negative bias.")
        r.note("In a deeper layer a dead unit can be revived only indirectly, if the layers below change its inputs.")
        r.plot("unit 0: max output over the data", range(steps), act_curve, xlabel="step", ylabel="max ReLU output")
        r.plot("training loss", range(steps), losses, xlabel="step", ylabel="MSE")
    return r
