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


def explain() -> Result:
    """Text: vanishing gradients through 25 sigmoids; the facts the model answer rests on."""
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
            "independent layers. It changes nothing about the diagnosis (measured below)."
        )

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
            "the backward signal vanishes: first layer ≪ last hidden layer",
            ratio < 1e-12,
            f"||dL/dz_1|| = {fmt(z[0])}, ||dL/dz_25|| = {fmt(z[-2])}, ratio {fmt(ratio)}",
        )
        r.claim(
            "it shrinks by ≈ σ'·(1/√3) ≈ 0.14 per layer (σ' ≤ 1/4 times the default-init weight gain)",
            abs(factor / predicted - 1) < 0.15,
            f"measured ×{factor:.4f} per layer, predicted ×{predicted:.4f}",
        )
        r.claim(
            "the first layer's weight gradient is negligible next to the output layer's",
            prof["w_first"] < 1e-12 * prof["w_last"],
            f"{fmt(prof['w_first'])} vs {fmt(prof['w_last'])}",
        )
        spread = prof["spread"]
        r.claim(
            "the forward signal collapses too: deep activations no longer depend on the input",
            spread[-2] < 1e-5 * spread[0],
            f"std over the batch of z: layer 1 {fmt(spread[0])}, layer 25 {fmt(spread[-2])}",
        )
        steps_down = [z[i] / z[i + 1] for i in range(len(z) - 2)]  # hidden layer l vs l+1
        r.note(
            f"Figure: log10 ‖∂L/∂z_l‖ for Linear layers 1..26 at the default init, from {fmt(z[-1])} at the output "
            f"to {fmt(z[0])} at layer 1. Each hidden layer multiplies it by between ×{min(steps_down):.3f} and "
            f"×{max(steps_down):.3f} (average ×{factor:.3f}): σ' ≈ {max_slope:.3f} (≤ 1/4) times ≈ 1/√3 from "
            f"PyTorch's default U(±1/√128) weights."
        )

        curves = {}
        for name, make_opt in (
            ("SGD lr 0.01", lambda p: torch.optim.SGD(p, lr=0.01)),
            ("Adam lr 1e-3", lambda p: torch.optim.Adam(p, lr=1e-3)),
        ):
            torch.manual_seed(0)
            m = build_mlpirate()
            curves[name] = train(m, Xt, yt, make_opt(m.parameters()), STEPS)
        torch.manual_seed(0)
        control = nn.Sequential(nn.Linear(42, 128), nn.Sigmoid(), nn.Linear(128, 1))
        curves["1 hidden sigmoid layer, SGD lr 0.01"] = train(
            control, Xt, yt, torch.optim.SGD(control.parameters(), lr=0.01), STEPS
        )
        deep_final = {k: v[-1] for k, v in curves.items() if k.startswith(("SGD", "Adam"))}
        r.claim(
            "mlpirate plateaus within ~10 steps at the predict-the-mean loss, with SGD and with Adam",
            all(v > 0.95 * baseline for v in deep_final.values())
            and all(abs(v[10] - v[-1]) < 0.01 for k, v in curves.items() if k in deep_final),
            ", ".join(
                f"{k}: {v[0]:.3f} → {v[10]:.3f} (step 10) → {v[-1]:.3f}" for k, v in curves.items() if k in deep_final
            )
            + f"; mean-predictor {baseline:.3f}",
        )
        shallow = curves["1 hidden sigmoid layer, SGD lr 0.01"][-1]
        r.claim(
            "the data are learnable: a 1-hidden-layer sigmoid net trained the same way gets well below it",
            shallow < 0.5 * baseline,
            f"{shallow:.3f} vs {baseline:.3f}",
        )
        r.note(
            f"Training {STEPS} full-batch steps: "
            + "; ".join(f"{k} ends at {v[-1]:.3f}" for k, v in curves.items())
            + f" (predicting the mean gives {baseline:.3f})."
        )
        r.note(
            "Only the layers next to the output get a usable gradient; the output bias learns the mean "
            "temperature in a few steps and then nothing else moves: the plateau."
        )
        r.plot(
            "log10 ‖∂L/∂z_l‖, mlpirate (sigmoid)",
            range(1, len(z) + 1),
            log10(z),
            xlabel="Linear layer",
            ylabel="log10 gradient norm",
        )
    return r
