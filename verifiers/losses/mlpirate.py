"""Question 2: the pirate MLP (25 sigmoids deep) stops training after a few iterations. Why?

Builds `mlpirate` exactly as the course writes it, measures the backward signal reaching every
layer, and trains it (plain SGD and Adam) on synthetic pirates-vs-temperature data, next to a
one-hidden-layer sigmoid control on the same data.
"""

from __future__ import annotations

import torch
from losses_common import (
    backward_profile,
    build_mlpirate,
    build_unshared_mlpirate,
    distinct_linears,
    fmt,
    log10,
    mse,
    per_layer_factor,
    standardized_pirates,
    train,
)
from torch import nn
from torch_threads import one_thread

from quizzer.verifier import Result

VANISHING, EXPLODING, OVERFITTING = "vanishing gradients", "exploding gradients", "overfitting"
STEPS = 100


def _sharing(model: nn.Sequential) -> dict:
    linear_calls = [m for m in model if isinstance(m, nn.Linear)]
    params_if_independent = sum(p.numel() for m in linear_calls for p in m.parameters())
    return {
        "modules": len(model),
        "unique_modules": len({id(m) for m in model}),
        "linear_calls": len(linear_calls),
        "unique_linears": len({id(m) for m in linear_calls}),
        "param_tensors": len(list(model.parameters())),
        "params": sum(p.numel() for p in model.parameters()),
        "params_if_independent": params_if_independent,
        "hidden_share_weight": all(m.weight is linear_calls[1].weight for m in linear_calls[1:-1]),
    }


def cause() -> Result:
    """Choice: the most likely cause of the plateau, diagnosed from measurements."""
    r = Result()
    with one_thread():
        Xt, yt, Xv, yv = standardized_pirates()
        torch.manual_seed(0)
        model = build_mlpirate()
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        losses = train(model, Xt, yt, opt, STEPS)
        with torch.no_grad():
            train_loss, val_loss = mse(model(Xt), yt).item(), mse(model(Xv), yv).item()
        baseline = mse(yt.mean().expand_as(yt), yt).item()  # loss of always predicting the mean
        val_baseline = mse(yt.mean().expand_as(yv), yv).item()  # the same constant, on held-out data
        prof = backward_profile(model, Xt, yt)
        ratio = prof["z_grad"][0] / prof["z_grad"][-1]
        r.figure("output_z_grad", prof["z_grad"][-1], "{:.2f}")
        r.figure("first_z_grad", prof["z_grad"][0], "{:.0e}")
        r.figure("mean_predictor_loss", baseline, "{:.3f}")

        finite = all(torch.isfinite(torch.tensor(losses)).tolist())
        plateau = train_loss > 0.95 * baseline
        overfit = train_loss < 0.5 * baseline and val_loss > 2 * train_loss
        # Diagnosis: compare the gradient reaching the first layer with the one at the output layer.
        if ratio < 1e-3:
            r.value = VANISHING
        elif ratio > 1e3 or not finite:
            r.value = EXPLODING
        elif overfit:
            r.value = OVERFITTING
        else:
            r.value = "no diagnosis"
        r.claim(
            "the loss really plateaus: training loss stays at the predict-the-mean loss",
            plateau,
            f"train MSE {train_loss:.4f} vs mean-predictor {baseline:.4f} after {STEPS} SGD steps",
        )
        r.claim(
            "no overfitting: on held-out data the model is exactly as good as predicting the mean",
            not overfit and abs(val_loss / val_baseline - 1) < 0.05,
            f"train {train_loss:.4f} (mean-predictor {baseline:.4f}), "
            f"validation {val_loss:.4f} (mean-predictor {val_baseline:.4f})",
        )
        r.claim(
            "no exploding: every loss finite, gradients shrink (not grow) towards the input",
            finite and ratio < 1,
            f"first/last backward-signal ratio {fmt(ratio)}",
        )
        r.note(
            f"Loss at steps 0, 5, 10, 50, {STEPS - 1}: "
            + ", ".join(f"{losses[s]:.4f}" for s in (0, 5, 10, 50, STEPS - 1))
            + f" — flat at the mean-predictor loss {baseline:.4f} after ~10 steps."
        )
        r.note(
            f"At the plateau ||dL/dz|| is {fmt(prof['z_grad'][-1])} at the output layer, "
            f"{fmt(prof['z_grad'][-2])} at the last hidden layer and {fmt(prof['z_grad'][0])} at the first: "
            f"a ratio of {fmt(ratio)}."
        )
        r.note(
            f"Held out: MSE {val_loss:.4f}, the same as predicting the training mean ({val_baseline:.4f}). "
            "Not memorizing: it has learned nothing beyond the mean temperature."
        )
        r.plot("training loss, mlpirate (SGD lr 0.01)", range(STEPS), losses, xlabel="step", ylabel="MSE")
    return r


def _shared_uses(model: nn.Sequential, X: torch.Tensor, y: torch.Tensor) -> list[float]:
    """Norm of the shared hidden matrix's gradient contributed by each of its 24 uses, input side first.

    The weight gradient of a module used many times is the sum over its uses of dL/dz_u^T h_u (the
    backward signal at that use times the use's input); this returns each term's norm.
    """
    shared = distinct_linears(model)[1]
    h, uses = X, []
    for module in model:
        if module is shared:
            z = module(h)
            z.retain_grad()
            uses.append((h.detach(), z))
            h = z
        else:
            h = module(h)
    mse(h, y).backward()
    return [(z.grad.T @ inp).double().norm().item() for inp, z in uses]


def _train_and_track(build, make_opt, X: torch.Tensor, y: torch.Tensor) -> dict:
    """Train a fresh model; per distinct Linear: its weight gradient at init and how far it moved (relative)."""
    torch.manual_seed(0)
    model = build()
    linears = distinct_linears(model)
    mse(model(X), y).backward()
    grads = [lin.weight.grad.double().norm().item() for lin in linears]
    start = [lin.weight.detach().clone() for lin in linears]
    losses = train(model, X, y, make_opt(model.parameters()), STEPS)
    moved = [((lin.weight.detach() - w0).norm() / w0.norm()).item() for lin, w0 in zip(linears, start, strict=True)]
    return {"grads": grads, "moved": moved, "losses": losses, "spread": backward_profile(model, X, y)["spread"]}


OPTIMIZERS = {
    "SGD lr 0.01": lambda p: torch.optim.SGD(p, lr=0.01),
    "Adam lr 1e-3": lambda p: torch.optim.Adam(p, lr=1e-3),
}
MODELS = {"as written (shared)": build_mlpirate, "24 independent layers": build_unshared_mlpirate}


def explain() -> Result:
    """Text: vanishing gradients through 25 sigmoids; the facts the model answer rests on, in both models."""
    r = Result()
    with one_thread():
        Xt, yt, _, _ = standardized_pirates()
        baseline = mse(yt.mean().expand_as(yt), yt).item()

        torch.manual_seed(0)
        model = build_mlpirate()
        share = _sharing(model)
        r.claim(
            "as written, `[Linear, Sigmoid]*24` repeats the SAME two module objects: 24 hidden layers share one weight",
            share["unique_linears"] == 3 and share["linear_calls"] == 26 and share["hidden_share_weight"],
            f"{share['linear_calls']} Linear calls but {share['unique_linears']} distinct Linear modules; "
            f"{share['modules']} entries, {share['unique_modules']} distinct modules",
        )
        r.note(
            f"Surprise in the model as written: list multiplication copies references, so the 24 hidden "
            f"Linear layers are one module used 24 times. mlpirate has {share['param_tensors']} parameter "
            f"tensors and {share['params']:,} parameters, not the {share['params_if_independent']:,} of 26 "
            "independent layers. Both models are measured below."
        )

        r.figure("linear_calls", share["linear_calls"], "{}")
        r.figure("unique_linears", share["unique_linears"], "{}")
        r.figure("param_tensors", share["param_tensors"], "{}")
        r.figure("params", share["params"], "{:,}")
        r.figure("params_if_independent", share["params_if_independent"], "{:,}")
        prof = backward_profile(model, Xt, yt)
        z = prof["z_grad"]
        ratio = z[0] / z[-2]  # first Linear vs last hidden Linear (both behind the same 24 sigmoid layers)
        factor = per_layer_factor(ratio, 24)
        max_slope = max(prof["act_slope"])
        predicted = max_slope / 3**0.5  # sigma' times the default-init gain 1/sqrt(3) of ||W^T v||
        r.claim(
            "every sigmoid's local slope σ'(z) ≤ 1/4 (measured mean per layer)",
            max_slope <= 0.25,
            f"largest layer-mean σ' = {max_slope:.4f}",
        )
        r.claim(
            "the backward signal ∂L/∂z vanishes: first layer ≪ last hidden layer",
            ratio < 1e-12,
            f"||dL/dz_1|| = {fmt(z[0])}, ||dL/dz_25|| = {fmt(z[-2])}, ratio {fmt(ratio)}",
        )
        r.claim(
            "it shrinks by ≈ σ'·(1/√3) ≈ 0.14 per layer (σ' ≤ 1/4 times the default-init weight gain)",
            abs(factor / predicted - 1) < 0.15,
            f"measured ×{factor:.4f} per layer, predicted ×{predicted:.4f}",
        )
        spread = prof["spread"]
        r.claim(
            "the forward signal collapses too: deep activations no longer depend on the input",
            spread[-2] < 1e-5 * spread[0],
            f"std over the batch of z: layer 1 {fmt(spread[0])}, layer 25 {fmt(spread[-2])}",
        )
        steps_down = [z[i] / z[i + 1] for i in range(len(z) - 2)] or [1.0]  # hidden layer l vs l+1 (none: no shrink)
        r.note(
            f"Figure: log10 ‖∂L/∂z_l‖ for Linear layers 1..26 at the default init, from {fmt(z[-1])} at the output "
            f"to {fmt(z[0])} at layer 1. Each hidden layer multiplies it by between ×{min(steps_down):.3f} and "
            f"×{max(steps_down):.3f} (average ×{factor:.3f}): σ' ≈ {max_slope:.3f} (≤ 1/4) times ≈ 1/√3 from "
            f"PyTorch's default U(±1/√128) weights."
        )

        torch.manual_seed(0)
        uses = _shared_uses(build_mlpirate(), Xt, yt)
        runs = {(m, o): _train_and_track(MODELS[m], OPTIMIZERS[o], Xt, yt) for m in MODELS for o in OPTIMIZERS}
        shared, unshared = runs["as written (shared)", "Adam lr 1e-3"], runs["24 independent layers", "Adam lr 1e-3"]
        shared_sgd = runs["as written (shared)", "SGD lr 0.01"]
        r.claim(
            "as written, the shared hidden matrix gets an O(1) gradient, not a vanishing one",
            shared["grads"][1] > 1e-2 * shared["grads"][-1] and shared["grads"][1] > 1e15 * shared["grads"][0],
            f"‖∇W‖: first Linear {fmt(shared['grads'][0])}, shared hidden {fmt(shared['grads'][1])}, "
            f"output {fmt(shared['grads'][-1])}",
        )
        r.claim(
            "that gradient comes from its uses near the output: the use next to the output gives most of it",
            uses[-1] > 0.5 * shared["grads"][1] and uses[0] < 1e-12 * uses[-1],
            f"‖term of use 24 (next to the output)‖ {fmt(uses[-1])}, "
            f"use 23 {fmt(uses[-2]) if len(uses) > 1 else 'none'}, use 1 {fmt(uses[0])}; "
            f"‖sum‖ {fmt(shared['grads'][1])}",
        )
        r.claim(
            "so the shared matrix moves in training; only the first Linear is frozen",
            all(
                runs[m, o]["moved"][1] > 1e-3 and runs[m, o]["moved"][0] < 1e-9
                for m, o in runs
                if m == "as written (shared)"
            ),
            ", ".join(
                f"{o}: first Linear moved {fmt(runs[m, o]['moved'][0])}, shared {fmt(runs[m, o]['moved'][1])}"
                for m, o in runs
                if m == "as written (shared)"
            ),
        )
        r.part("shrink_factor", factor)
        r.part(
            "shared_matrix_frozen",
            not all(runs[m, o]["moved"][1] > 1e-3 for m, o in runs if m == "as written (shared)"),
        )
        frozen = sum(1 for moved in unshared["moved"][:-1] if moved < 1e-9)
        learning = sum(1 for moved in unshared["moved"] if moved > 1e-2)
        r.claim(
            "with 24 independent layers the gradient really vanishes layer by layer: the input-side layers are "
            "frozen, only those near the output move",
            unshared["grads"][1] < 1e-15 * unshared["grads"][-1]
            and frozen >= 5
            and all(moved < 1e-2 for moved in unshared["moved"][:12]),
            f"Adam, relative movement: layers 1..{frozen} exactly 0, layer 13 {fmt(unshared['moved'][12])}, "
            f"{learning} layers moved > 1 %, output {fmt(unshared['moved'][-1])}",
        )
        r.claim(
            "the first layer's weight gradient is negligible next to the output layer's, in both models",
            all(runs[m, o]["grads"][0] < 1e-12 * runs[m, o]["grads"][-1] for m, o in runs),
            "; ".join(
                f"{m}: {fmt(runs[m, o]['grads'][0])} vs {fmt(runs[m, o]['grads'][-1])}"
                for m, o in runs
                if o == "Adam lr 1e-3"
            ),
        )
        r.claim(
            "both models plateau within ~10 steps at the predict-the-mean loss, with SGD and with Adam",
            all(
                run["losses"][-1] > 0.95 * baseline and abs(run["losses"][10] - run["losses"][-1]) < 0.01
                for run in runs.values()
            ),
            "; ".join(
                f"{m}, {o}: {run['losses'][0]:.3f} → {run['losses'][10]:.3f} (step 10) → {run['losses'][-1]:.3f}"
                for (m, o), run in runs.items()
            )
            + f"; mean-predictor {baseline:.3f}",
        )
        r.claim(
            "after training the deep activations still do not depend on the input (in both models): "
            "moving the shared matrix does not reopen the path from the input",
            all(run["spread"][-2] < 1e-5 * run["spread"][0] for run in runs.values()),
            ", ".join(f"{m}: {fmt(runs[m, o]['spread'][-2])}" for m, o in runs if o == "Adam lr 1e-3"),
        )
        torch.manual_seed(0)
        control = nn.Sequential(nn.Linear(42, 128), nn.Sigmoid(), nn.Linear(128, 1))
        shallow = train(control, Xt, yt, torch.optim.SGD(control.parameters(), lr=0.01), STEPS)[-1]
        r.claim(
            "the data are learnable: a 1-hidden-layer sigmoid net trained the same way gets well below it",
            shallow < 0.5 * baseline,
            f"{shallow:.3f} vs {baseline:.3f}",
        )
        figures = {
            "z_out": z[-1], "z_25": z[-2], "z_1": z[0],
            "shrink": factor, "slope": max_slope, "w_first": prof["w_first"], "w_last": prof["w_last"],
            "spread_1": spread[0], "spread_25": spread[-2], "use_24": uses[-1], "shared_grad": shared["grads"][1],
            "shared_moved": shared["moved"][1], "frozen_layers": frozen, "learning_layers": learning,
            "z_ratio": ratio, "predicted": predicted, "plateau_loss": shared["losses"][-1],
            "spread_after": shared["spread"][-2], "shallow_loss": shallow,
        }  # fmt: skip
        # Layers 20 and 10 of the table exist only in a stack that deep (a changed world may be shallower).
        figures.update({name: z[layer - 1] for name, layer in (("z_20", 20), ("z_10", 10)) if layer < len(z)})
        formats = {"shared_moved": "{:.0%}", "frozen_layers": "{}", "learning_layers": "{}", "shrink": "{:.3f}",
                   "slope": "{:.3f}", "predicted": "{:.3f}", "z_ratio": "{:.0e}", "plateau_loss": "{:.3f}",
                   "shallow_loss": "{:.2f}"}  # fmt: skip
        for name, value in figures.items():
            r.figure(name, value, formats.get(name, "{:.2g}"))
        r.note(
            f"As written, the shared matrix moved {shared['moved'][1]:.1%} under Adam ({shared_sgd['moved'][1]:.2%} "
            "under SGD) while the first Linear did not move at all; the loss still stayed at "
            f"{shared['losses'][-1]:.3f} "
            f"(predicting the mean gives {baseline:.3f}) because nothing the input does reaches the output."
        )
        r.plot(
            "log10 ‖∂L/∂z_l‖, mlpirate (sigmoid)",
            range(1, len(z) + 1),
            log10(z),
            xlabel="Linear layer",
            ylabel="log10 gradient norm",
        )
        r.plot(
            "log10 relative weight change after 100 Adam steps, 24 independent layers",
            range(1, len(unshared["moved"]) + 1),
            log10(unshared["moved"]),
            xlabel="Linear layer",
            ylabel="log10 ‖ΔW‖/‖W‖",
        )
    return r
