"""CNNs question 4: why a residual layer y = f(x; θ) + x learns different filters θ than a plain layer y = f(x; θ).

Both are trained on the same data from the same mapping (a fixed random conv, 4 -> 4 channels,
3x3): the plain layer's filter converges to the target kernel, the residual layer's filter to the
target minus the identity ("delta") kernel, i.e. to the residual. Both compute the same function.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from cnn_residual_layers import C, K, Plain, Residual

from quizzer.verifier import Result


def train(model, x, y, steps=200, track=None):
    """Adam with a cosine schedule; returns the losses and, if `track` is given, track(filter) at each step."""
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    losses = []
    tracked = []
    for _ in range(steps):
        if track is not None:
            tracked.append(track(model.f.weight.detach()))
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return (losses, tracked) if track is not None else losses


def verify() -> Result:
    r = Result()
    torch.manual_seed(0)
    target = nn.Conv2d(C, C, K, padding=1)  # the mapping both networks must learn
    x = torch.randn(16, C, 10, 10)
    with torch.no_grad():
        y = target(x)
    identity = torch.zeros(C, C, K, K)
    identity[range(C), range(C), K // 2, K // 2] = 1.0  # the delta kernel: conv with it is x itself
    with torch.no_grad():
        r.claim(
            "the delta kernel is the identity map",
            torch.allclose(F.conv2d(x, identity, padding=1), x),
            "conv(x, δ) == x",
        )

    torch.manual_seed(1)
    plain = Plain()
    torch.manual_seed(1)
    res = Residual()  # same initial filters as the plain layer
    wt_ = target.weight.detach()

    def distances(w):  # the filter's distance to the target W and to the residual W − δ
        return (w - wt_).norm().item(), (w - (wt_ - identity)).norm().item()

    lp, plain_track = train(plain, x, y, track=distances)
    lr_, res_track = train(res, x, y, track=distances)
    plain_to_w = [a for a, _ in plain_track]
    res_to_w, res_to_residual = [a for a, _ in res_track], [b for _, b in res_track]
    wt, wp, wr = target.weight.detach(), plain.f.weight.detach(), res.f.weight.detach()
    norm = lambda t: t.norm().item()  # noqa: E731
    d_plain_target = norm(wp - wt)
    d_res_residual = norm(wr - (wt - identity))
    d_res_target = norm(wr - wt)
    d_between = norm(wr - wp)
    with torch.no_grad():
        x_test = torch.randn(8, C, 12, 12)
        d_function = (plain(x_test) - res(x_test)).abs().max().item()

    r.figure("mse_plain", lp[-1], "{:.0e}")
    r.figure("mse_residual", lr_[-1], "{:.0e}")
    r.figure("function_gap", d_function, "{:.0e}")
    r.figure("plain_to_target", d_plain_target, "{:.0e}")
    r.figure("residual_to_target_minus_delta", d_res_residual, "{:.0e}")
    r.figure("filter_gap", d_between, "{:.3f}")
    r.claim(
        "both layers fit the mapping",
        lp[-1] < 1e-6 and lr_[-1] < 1e-6,
        f"final MSE plain {lp[-1]:.1e}, residual {lr_[-1]:.1e}",
    )
    r.claim(
        "both compute the same function on new inputs",
        d_function < 1e-2,
        f"max |plain(x) - residual(x)| = {d_function:.1e}",
    )
    r.claim("plain filter ≈ target kernel", d_plain_target < 1e-2, f"||θ_plain − W|| = {d_plain_target:.1e}")
    r.claim(
        "residual filter ≈ target − identity (it learns the residual)",
        d_res_residual < 1e-2,
        f"||θ_res − (W − δ)|| = {d_res_residual:.1e}",
    )
    r.claim(
        "residual filter is far from the target kernel: the filters differ by the identity",
        abs(d_between - norm(identity)) < 1e-2 and d_res_target > 100 * d_res_residual,
        f"||θ_res − θ_plain|| = {d_between:.3f} vs ||δ|| = √{C} = {norm(identity):.3f}",
    )
    centre = (slice(None), slice(None), K // 2, K // 2)
    diag_p = wp[centre].diagonal()
    diag_r = wr[centre].diagonal()
    r.part("centre_tap_difference", (diag_p - diag_r).mean().item())
    r.claim(
        "only the centre taps of the diagonal (in=out channel) filters differ, each by 1",
        torch.allclose(diag_p - diag_r, torch.ones(C), atol=1e-2),
        "centre-tap diagonal: plain "
        + ", ".join(f"{v:.3f}" for v in diag_p.tolist())
        + " | residual "
        + ", ".join(f"{v:.3f}" for v in diag_r.tolist()),
    )

    r.note(
        f"Same data, same target conv W, same initial filters, {len(lp)} Adam steps; final MSE: plain {lp[-1]:.1e}, "
        f"residual {lr_[-1]:.1e}; the two trained layers agree on new inputs to {d_function:.1e}."
    )
    r.figure("centre_tap_drop_lo", (diag_p - diag_r).min().item(), "{:.3f}")
    r.figure("centre_tap_drop_hi", (diag_p - diag_r).max().item(), "{:.3f}")
    r.note(
        "Centre tap of the in=out filters — plain: "
        + ", ".join(f"{v:+.3f}" for v in diag_p.tolist())
        + "; residual: "
        + ", ".join(f"{v:+.3f}" for v in diag_r.tolist())
        + " (1 lower: the skip connection already supplies x)."
    )
    # The typical deep-network situation: the wanted mapping is close to the identity. The plain
    # filter must then contain the whole identity; the residual filter only the small correction.
    torch.manual_seed(2)
    near = nn.Conv2d(C, C, K, padding=1, bias=False)
    with torch.no_grad():
        near.weight.mul_(0.1).add_(identity)
        y_near = near(x)
    torch.manual_seed(1)
    plain2 = Plain()
    torch.manual_seed(1)
    res2 = Residual()
    train(plain2, x, y_near)
    train(res2, x, y_near)
    n_plain, n_res = norm(plain2.f.weight.detach()), norm(res2.f.weight.detach())
    r.figure("near_identity_norm_residual", n_res, "{:.2f}")
    r.figure("near_identity_norm_plain", n_plain, "{:.2f}")
    r.claim(
        "for a near-identity target the residual filter is much smaller than the plain one",
        n_res < 0.5 * n_plain,
        f"||θ_res|| = {n_res:.3f} vs ||θ_plain|| = {n_plain:.3f}",
    )
    r.note(
        f"Near-identity target (W = δ + small): plain filter norm {n_plain:.3f} (it must rebuild the identity), "
        f"residual filter norm {n_res:.3f} (just the correction W − δ)."
    )
    r.note(
        f"Figure: during training, the plain filter's distance to W goes to 0; the residual filter's distance to W "
        f"levels off at ‖δ‖ = {norm(identity):.0f} while its distance to W − δ goes to 0. Same start, same data, "
        "same function learned."
    )
    curves = {"plain: ‖θ − W‖": plain_to_w, "residual: ‖θ − W‖": res_to_w, "residual: ‖θ − (W − δ)‖": res_to_residual}
    for name, curve in curves.items():
        r.plot(name, range(len(curve)), curve, xlabel="Adam step", ylabel="filter distance")
    return r
