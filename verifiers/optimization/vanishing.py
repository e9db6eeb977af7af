"""Q6: vanishing and exploding gradients in deep networks y_l = f_l(x; θ_l).

Two deep MLPs whose forward activations stay bounded (sigmoid / tanh), so what we see is the backward
signal alone:
- vanishing: sigmoid, weights N(0, 1/fan_in): every layer multiplies the gradient by ≈ σ'(z)·|W| < 1;
- exploding: tanh, weights N(0, 3²/fan_in): every layer multiplies it by ≈ 3·E[tanh'(z)] > 1.
"""

import math

import torch
from optim_common import DTYPE
from torch import nn

from quizzer.verifier import Result, samples

WIDTH, D_IN = 32, 8
ACTS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
VANISH, EXPLODE, HEALTHY = ("sigmoid", 1.0), ("tanh", 3.0), ("tanh", 1.0)


def deep_mlp(depth: int, act: str, gain: float, seed: int = 0) -> nn.Sequential:
    """`depth` hidden layers Linear → act, weights N(0, gain²/fan_in), zero biases, then a linear read-out."""
    torch.manual_seed(seed)
    layers = []
    for i in range(depth):
        lin = nn.Linear(D_IN if i == 0 else WIDTH, WIDTH).to(DTYPE)
        nn.init.normal_(lin.weight, 0.0, gain / math.sqrt(lin.in_features))
        nn.init.zeros_(lin.bias)
        layers += [lin, ACTS[act]()]
    return nn.Sequential(*layers, nn.Linear(WIDTH, 1).to(DTYPE))


def task(n: int = 128):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, D_IN, generator=g, dtype=DTYPE)
    return X, torch.sin(X[:, 0]) + 0.5 * X[:, 1]


def hidden_weight_grads(model, X, y) -> list[float]:
    """‖∂L/∂W_l‖ for every hidden layer l = 1..depth (read-out excluded)."""
    model.zero_grad()
    ((model(X).squeeze(-1) - y) ** 2).mean().backward()
    return [m.weight.grad.norm().item() for m in list(model)[:-1] if isinstance(m, nn.Linear)]


def log_fit(xs, ys):
    """Least-squares line through (x, log10 y): slope, R²."""
    x = torch.tensor(xs, dtype=DTYPE)
    ly = torch.tensor(ys, dtype=DTYPE).log10()
    xm, ym = x.mean(), ly.mean()
    slope = ((x - xm) * (ly - ym)).sum() / ((x - xm) ** 2).sum()
    resid = ly - (ym + slope * (x - xm))
    return slope.item(), 1 - (resid**2).sum().item() / ((ly - ym) ** 2).sum().item()


def concepts() -> Result:
    """6.1: what vanishing / exploding gradients look like, layer by layer."""
    r = Result()
    X, y = task()
    depth = 20
    g_van = hidden_weight_grads(deep_mlp(depth, *VANISH), X, y)
    g_exp = hidden_weight_grads(deep_mlp(depth, *EXPLODE), X, y)
    ratio_van, ratio_exp = g_van[0] / g_van[-1], g_exp[0] / g_exp[-1]
    r.part("first_below_last", ratio_van < 1)
    r.figure("ratio_vanishing", ratio_van, "{:.0e}")
    r.figure("ratio_exploding", ratio_exp, "{:.0e}")
    r.claim(
        "vanishing: the first layer's gradient is many orders of magnitude below the last layer's",
        ratio_van < 1e-6,
        f"‖∇W_1‖/‖∇W_{depth}‖ = {ratio_van:.1e} (sigmoid, gain 1)",
    )
    r.claim(
        "exploding: the first layer's gradient is orders of magnitude above the last layer's",
        ratio_exp > 1e2,
        f"‖∇W_1‖/‖∇W_{depth}‖ = {ratio_exp:.1e} (tanh, gain 3)",
    )
    with torch.no_grad():
        out_v, out_e = deep_mlp(depth, *VANISH)(X), deep_mlp(depth, *EXPLODE)(X)
    r.claim(
        "the forward outputs stay bounded in both nets: the effect is in the backward pass",
        out_v.abs().max() < 10 and out_e.abs().max() < 10,
        f"max |output| {out_v.abs().max().item():.2f} and {out_e.abs().max().item():.2f}",
    )
    # A learning rate that suits the last layer is useless / dangerous for the first one.
    r.note(
        f"{depth}-layer sigmoid MLP: ‖∇W_l‖ from layer 1 to {depth}: {g_van[0]:.1e} … {g_van[-1]:.1e} — "
        "an SGD step barely moves the early layers (vanishing)."
    )
    r.note(
        f"{depth}-layer tanh MLP with large weights (gain 3): {g_exp[0]:.1e} … {g_exp[-1]:.1e} — a step sized "
        "for the late layers is huge for the early ones (exploding)."
    )
    layers = list(range(1, depth + 1))
    r.note(
        "Figure: log10 ‖∂L/∂W_l‖ by layer. Vanishing: the line climbs steeply towards the output, the first layers "
        "get almost nothing. Exploding: it falls towards the output, the first layers get the most."
    )
    r.plot(
        "log10 ‖∂L/∂W_l‖, sigmoid (vanishing)",
        layers,
        [math.log10(v) for v in g_van],
        xlabel="layer l",
        ylabel="log10 gradient norm",
    )
    r.plot(
        "log10 ‖∂L/∂W_l‖, tanh gain 3 (exploding)",
        layers,
        [math.log10(v) for v in g_exp],
        xlabel="layer l",
        ylabel="log10 gradient norm",
    )
    return r


def depth() -> Result:
    """6.2: the same per-layer factor, compounded over more layers."""
    r = Result()
    X, y = task()
    depths = [5, 10, 20, 30]
    ratios = {}
    for name, spec in (("sigmoid", VANISH), ("tanh×3", EXPLODE)):
        ratios[name] = []
        for L in depths:
            g = hidden_weight_grads(deep_mlp(L, *spec), X, y)
            ratios[name].append(g[0] / g[-1])
    s_van, r2_van = log_fit(depths, ratios["sigmoid"])
    s_exp, r2_exp = log_fit(depths, ratios["tanh×3"])
    r.figure("factor_sigmoid", 10**s_van, "{:.2f}")
    r.figure("factor_tanh", 10**s_exp, "{:.2f}")
    r.figure("r2_sigmoid", r2_van, "{:.3f}")
    r.figure("r2_tanh", r2_exp, "{:.3f}")
    r.figure("factor_tanh_depth5", 10 ** (5 * s_exp), "{:.0f}")
    r.figure("factor_tanh_depth40", 10 ** (40 * s_exp), "{:.0e}")
    r.claim(
        "vanishing: log(first/last gradient) falls linearly with depth (a constant factor < 1 per layer)",
        s_van < 0 and r2_van > 0.98,
        f"per-layer factor 10^{s_van:.3f} = {10**s_van:.3f}, R² = {r2_van:.3f}",
    )
    r.claim(
        "exploding: log(first/last gradient) grows with depth (a constant factor > 1 per layer)",
        s_exp > 0 and r2_exp > 0.9,
        f"per-layer factor 10^{s_exp:.3f} = {10**s_exp:.3f}, R² = {r2_exp:.3f}",
    )
    # Where the sigmoid factor comes from: σ' ≤ 1/4, so each layer's Jacobian diag(σ'(z))W shrinks vectors.
    z = torch.linspace(-10, 10, 2001, dtype=DTYPE).requires_grad_(True)
    (dsig,) = torch.autograd.grad(torch.sigmoid(z).sum(), z)
    r.part("sigmoid_slope_max", dsig.max().item())
    r.claim(
        "the sigmoid's derivative never exceeds 1/4",
        dsig.max().item() <= 0.25 + 1e-12,
        f"max σ'(z) = {dsig.max().item():.4f}",
    )
    r.note("∂L/∂h_0 = J_1ᵀ J_2ᵀ ⋯ J_Lᵀ ∂L/∂h_L with J_l = diag(φ'(z_l)) W_l: one more layer, one more factor.")
    r.note(
        "sigmoid, first/last-layer gradient ratio for depth "
        + ", ".join(f"{L}: {v:.1e}" for L, v in zip(depths, ratios["sigmoid"], strict=True))
        + f" → ×{10**s_van:.2f} per layer."
    )
    r.note(
        "tanh with gain 3, same ratio: "
        + ", ".join(f"{L}: {v:.1e}" for L, v in zip(depths, ratios["tanh×3"], strict=True))
        + f" → ×{10**s_exp:.2f} per layer."
    )
    f_v, f_e = 10**s_van, 10**s_exp
    r.note(
        f"Compounded: ×{f_e:.2f} per layer is ×{f_e**5:.1f} at depth 5 but ×{f_e**40:.0e} at depth 40; "
        f"×{f_v:.2f} is {f_v**5:.0e} at depth 5 and {f_v**40:.0e} at depth 40."
    )
    r.note(
        "Figure: log10 of the first/last-layer gradient ratio against depth: two straight lines, so the ratio is "
        "exponential in depth, with slope log10 of the per-layer factor."
    )
    r.plot(
        "log10 ‖∇W_1‖/‖∇W_L‖, sigmoid",
        depths,
        [math.log10(v) for v in ratios["sigmoid"]],
        xlabel="depth L",
        ylabel="log10 ratio",
    )
    r.plot(
        "log10 ‖∇W_1‖/‖∇W_L‖, tanh gain 3",
        depths,
        [math.log10(v) for v in ratios["tanh×3"]],
        xlabel="depth L",
        ylabel="log10 ratio",
    )
    return r


def orthogonal_linear_net(depth: int, gain: float, width: int = 16, dtype=DTYPE, seed: int = 0):
    """W_l = gain · Q_l with Q_l random orthogonal: every layer's Jacobian scales vectors by exactly `gain`."""
    g = torch.Generator().manual_seed(seed)
    return [
        gain * torch.linalg.qr(torch.randn(width, width, generator=g, dtype=DTYPE))[0].to(dtype) for _ in range(depth)
    ]


def input_grad_norm(weights, dtype=DTYPE) -> float:
    """‖∂L/∂x‖ for L = v·(W_L ⋯ W_1 x), ‖v‖ = 1."""
    width = weights[0].shape[0]
    g = torch.Generator().manual_seed(1)
    x = torch.randn(width, generator=g, dtype=DTYPE).to(dtype).requires_grad_(True)
    v = torch.randn(width, generator=g, dtype=DTYPE)
    v = (v / v.norm()).to(dtype)
    h = x
    for W in weights:
        h = W @ h
    (grad,) = torch.autograd.grad(v @ h, x)
    return grad.norm().item()


def numeric() -> Result:
    """6.3: a numerical example — per-layer scale 0.5 vs 1.5 in a deep linear network."""
    r = Result()
    depths = [1, 5, 10, 20, 30, 40, 50]
    measured = {gain: [input_grad_norm(orthogonal_linear_net(L, gain)) for L in depths] for gain in (0.5, 1.5)}
    for gain, values in measured.items():
        worst = max(abs(m / gain**L - 1) for m, L in zip(values, depths, strict=True))
        r.claim(
            f"gradient norm = {gain}^L exactly (per-layer Jacobian scale {gain})",
            worst < 1e-9,
            f"worst relative deviation {worst:.1e}; L=50: {values[-1]:.3e}",
        )
    at = dict(zip(depths, range(len(depths)), strict=True))
    for name, gain, L in (
        ("grad_s05_L10", 0.5, 10),
        ("grad_s05_L30", 0.5, 30),
        ("grad_s05_L50", 0.5, 50),
        ("grad_s15_L10", 1.5, 10),
        ("grad_s15_L30", 1.5, 30),
        ("grad_s15_L50", 1.5, 50),
    ):
        r.figure(name, measured[gain][at[L]], "{:.2g}")
    deviation = max(
        abs(m / gain**L - 1) for gain, values in measured.items() for m, L in zip(values, depths, strict=True)
    )
    r.figure("digits_of_agreement", -math.log10(deviation) if deviation > 0 else 16, "{:.0f}")
    points = [
        ({"g": gain, "L": L}, m) for gain, values in measured.items() for m, L in zip(values, depths, strict=True)
    ]
    r.part("gradient_norm", samples([(at, m) for at, m in points if at["L"] <= 20], tolerance=1e-5))
    r.demonstrated(
        "the verifier builds every layer as g·Q with Q orthogonal, so ‖∂L/∂x‖ = g^L is an identity of its own "
        "matrices; autograd reproduces it, and no choice of Q, width or input changes it"
    )
    g32 = input_grad_norm(orthogonal_linear_net(160, 0.5, dtype=torch.float32), dtype=torch.float32)
    r.figure("float32_depth160", g32, "{!r}")
    r.claim(
        "in float32, at depth 160 the vanishing gradient underflows to exactly 0",
        g32 == 0.0,
        f"0.5^160 = {0.5**160:.1e} < smallest float32 {torch.finfo(torch.float32).smallest_normal * 2**-23:.1e}; "
        f"measured {g32}",
    )
    r.note(
        "Deep linear net h_l = W_l h_{l−1}, W_l = s·Q_l (Q_l orthogonal), loss v·h_L: ∂L/∂x = W_1ᵀ⋯W_Lᵀ v, "
        "so ‖∂L/∂x‖ = s^L."
    )
    r.note(
        "Figure: log10 ‖∂L/∂x‖ against depth, measured by autograd: two straight lines of slope log10 0.5 ≈ −0.30 "
        "and log10 1.5 ≈ +0.18 per layer."
    )
    r.note(
        f"0.5^50 ≈ {0.5**50:.1e} (no learning signal reaches the input layers); 1.5^50 ≈ {1.5**50:.1e} "
        "(one step would throw the weights to infinity)."
    )
    r.note(
        f"In float32 a 160-layer s=0.5 net returns a gradient of exactly {g32}: "
        "the signal is not just small, it is gone."
    )
    for gain, values in measured.items():
        r.plot(
            f"log10 ‖∂L/∂x‖, per-layer scale {gain}",
            depths,
            [math.log10(v) for v in values],
            xlabel="depth L",
            ylabel="log10 gradient norm",
        )
    return r


def train_curve(model, X, y, lr, steps):
    losses = []
    for _ in range(steps):
        model.zero_grad()
        loss = ((model(X).squeeze(-1) - y) ** 2).mean()
        loss.backward()
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            break
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
    return losses


def diagnose() -> Result:
    """6.4: tell which problem it is from the loss curve alone."""
    r = Result()
    X, y = task()
    baseline = ((y - y.mean()) ** 2).mean().item()  # the loss of predicting the mean: what a net that ignores x reaches
    depth, steps = 20, 150
    van_net = deep_mlp(depth, *VANISH)
    first0, readout0 = van_net[0].weight.detach().clone(), van_net[-1].weight.detach().clone()
    vanish = train_curve(van_net, X, y, lr=0.5, steps=steps)
    moved_first = ((van_net[0].weight.detach() - first0).norm() / first0.norm()).item()
    moved_readout = ((van_net[-1].weight.detach() - readout0).norm() / readout0.norm()).item()
    explode = train_curve(deep_mlp(depth, "relu", 1.5 * math.sqrt(2)), X, y, lr=0.01, steps=steps)
    healthy = train_curve(deep_mlp(depth, *HEALTHY), X, y, lr=0.05, steps=steps)

    r.figure("baseline_loss", baseline, "{:.3f}")
    r.figure("vanishing_start", vanish[0], "{:.3f}")
    r.figure("vanishing_end", vanish[-1], "{:.3f}")
    r.figure("first_layer_moved", moved_first, "{:.0e}")
    r.figure("readout_moved", moved_readout, "{:.0f}")
    r.figure("explode_loss_1", explode[0], "{:.0e}")
    r.figure("explode_loss_2", explode[1], "{:.0e}")
    r.figure("explode_steps", len(explode))
    r.figure("healthy_start", healthy[0], "{:.3f}")
    r.figure("healthy_end", healthy[-1], "{:.3f}")
    plateau = all(abs(v - baseline) < 0.02 * baseline for v in vanish[-100:])
    r.claim(
        "vanishing: the loss plateaus early at the 'predict the mean' level and stays there",
        plateau,
        f"last 100 steps within 2% of {baseline:.3f} (start {vanish[0]:.4f}, final {vanish[-1]:.4f})",
    )
    r.part("first_layer_moves", moved_first >= 1e-6)
    r.claim(
        "vanishing, seen in the weights: the first layer never leaves its initialization, the read-out does",
        moved_first < 1e-6 and moved_readout > 1e-2,
        f"relative change after {steps} steps: first layer {moved_first:.1e}, read-out {moved_readout:.1e}",
    )
    blew_up = (not math.isfinite(explode[-1])) or max(explode) > 1e3 * explode[0]
    r.claim(
        "exploding: the loss is enormous and becomes inf/NaN within a few steps",
        blew_up and len(explode) < 10,
        f"losses {', '.join(f'{v:.2g}' for v in explode[:5])} (stopped after {len(explode)} steps)",
    )
    r.claim(
        "a same-depth net with a healthy per-layer gain does learn",
        healthy[-1] < 0.8 * baseline,
        f"tanh gain 1: {healthy[0]:.3f} → {healthy[-1]:.3f}",
    )

    r.note(f"Task: regression with {len(X)} samples; predicting the mean scores {baseline:.3f}.")
    r.note(
        f"Vanishing ({depth}-layer sigmoid): loss {vanish[0]:.3f} → {vanish[-1]:.3f}, flat at the baseline after a "
        "few steps: only the read-out learns, on features that carry almost no information about x."
    )
    r.note(
        f"Its weights tell the same story: after {steps} steps the first layer moved by {moved_first:.0e} of its "
        f"norm, the read-out by {moved_readout:.0f}× its initial norm."
    )
    r.note(
        f"Exploding ({depth}-layer ReLU, per-layer gain 1.5): loss {explode[0]:.2g} at step 0, then "
        f"{explode[1]:.2g}, i.e. spikes / inf / NaN."
    )
    r.note(f"Healthy control (tanh, gain 1, same depth): {healthy[0]:.3f} → {healthy[-1]:.3f}.")
    r.note(
        "So: loss (or activations/weights) blowing up to NaN ⇒ exploding; loss stuck from the start near a trivial "
        "value while the net is clearly under-fitting ⇒ vanishing."
    )
    r.note(
        f"Figure: training loss of the vanishing net (flat at {baseline:.3f} after a few steps) and of the healthy "
        "control (falling steadily). The exploding run is left out: it lasts two finite steps, "
        f"{explode[0]:.1e} then {explode[1]:.1e}, before NaN."
    )
    r.plot("loss, vanishing (sigmoid ×20)", range(len(vanish)), vanish, xlabel="step", ylabel="MSE")
    r.plot("loss, healthy (tanh gain 1 ×20)", range(len(healthy)), healthy, xlabel="step", ylabel="MSE")
    r.plot("loss of predicting the mean", [0, len(vanish) - 1], [baseline, baseline], xlabel="step", ylabel="MSE")
    return r
