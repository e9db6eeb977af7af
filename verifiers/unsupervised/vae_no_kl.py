"""Unsupervised Q1: a VAE trained without its KL term — reconstructions (x→z→x') and samples (z→x')."""

from __future__ import annotations

import torch
from torch_threads import one_thread
from unsupervised_toys import (
    CLUSTER_SD,
    K,
    kl_to_standard_normal,
    nearest_cluster_distance,
    trained_vae,
    vae_data,
)

from quizzer.verifier import Result


def _posterior_stats(model, X):
    with torch.no_grad():
        mu, logvar = model.posterior(X)
    sigma = (0.5 * logvar).exp()
    # Moment-matched Gaussian of the aggregate posterior q(z) = mean_x q(z|x), and its KL to N(0, I).
    m = mu.mean(0)
    cov = torch.cov(mu.T) + torch.diag((sigma**2).mean(0))
    kl_agg = 0.5 * (torch.trace(cov) + m @ m - len(m) - torch.logdet(cov))
    return {
        "mu_mean": m,
        "mu_std": mu.std(0),
        "sigma": sigma.mean().item(),
        "kl": kl_to_standard_normal(mu, logvar).mean().item(),
        "kl_aggregate": kl_agg.item(),
    }


def _vec(t) -> str:
    return "(" + ", ".join(f"{float(v):.2f}" for v in t) + ")"


def reconstructions() -> Result:
    r = Result()
    with one_thread():
        full, full_hist = trained_vae(True)
        nokl, nokl_hist = trained_vae(False)
        X = vae_data(2000, torch.Generator().manual_seed(123))
        torch.manual_seed(1)
        with torch.no_grad():
            mse = {name: ((m(X)[0] - X) ** 2).sum(-1).mean().item() for name, m in (("full", full), ("nokl", nokl))}
            mse_mu = {
                name: ((m.dec(m.posterior(X)[0]) - X) ** 2).sum(-1).mean().item()
                for name, m in (("full", full), ("nokl", nokl))
            }
        s_full, s_nokl = _posterior_stats(full, X), _posterior_stats(nokl, X)
    r.part("at_least_as_good", mse["nokl"] <= mse["full"])
    r.part("noise_shrinks", s_nokl["sigma"] < 0.5 * s_full["sigma"])
    r.claim(
        "without KL the reconstructions are at least as good (lower error, sampled z as in training)",
        mse["nokl"] <= mse["full"],
        f"mean ‖x−x'‖²: no KL {mse['nokl']:.4f} vs with KL {mse['full']:.4f}",
    )
    r.claim(
        "… and also when decoding the posterior mean μ(x)",
        mse_mu["nokl"] <= mse_mu["full"],
        f"no KL {mse_mu['nokl']:.4f} vs with KL {mse_mu['full']:.4f}",
    )
    r.claim(
        "without KL the encoder's noise shrinks (σ → 0): nothing pulls σ towards 1 any more",
        s_nokl["sigma"] < 0.5 * s_full["sigma"],
        f"mean σ(x): no KL {s_nokl['sigma']:.3f} vs with KL {s_full['sigma']:.3f}",
    )
    half = len(nokl_hist) // 2
    sig_mid, sig_end = nokl_hist[half][2], nokl_hist[-1][2]
    full_mid, full_end = full_hist[half][2], full_hist[-1][2]
    r.claim(
        "… and keeps shrinking without KL, while with KL it is pulled back up towards the prior's σ = 1",
        sig_end < 0.8 * sig_mid and full_end > full_mid,
        f"mean σ from step {half} to {len(nokl_hist)}: no KL {sig_mid:.3f} → {sig_end:.3f}; with KL {full_mid:.3f} → "
        f"{full_end:.3f}",
    )
    r.claim(
        "without KL the (unpenalised) KL divergence of q(z|x) from N(0,I) is larger",
        s_nokl["kl"] > 1.5 * s_full["kl"],
        f"mean KL(q(z|x)‖N(0,I)): no KL {s_nokl['kl']:.1f} vs with KL {s_full['kl']:.1f} nats",
    )
    r.note(
        f"Toy data: 2-D points on {K} tight clusters on a circle; 2-D latent; 400 Adam steps for each loss, same "
        "initialisation."
    )
    r.note(
        f"Reconstruction error ‖x−x'‖²: with KL {mse['full']:.4f}, without {mse['nokl']:.4f} "
        f"(cluster noise variance 2·{CLUSTER_SD}² = {2 * CLUSTER_SD**2:.3f})."
    )
    r.note(
        f"Posterior noise σ(x): with KL {s_full['sigma']:.3f}, without {s_nokl['sigma']:.3f} — the model is sliding "
        "towards a plain (deterministic) autoencoder: sharper reconstructions, codes as isolated points."
    )
    r.note(
        f"Figure: mean posterior σ(x) during training. Without KL it falls all the way ({nokl_hist[0][2]:.2f} → "
        f"{sig_end:.3f}, "
        f"still falling); with KL it dips while the codes organise, then the KL term pulls it back up ({full_end:.2f})."
    )
    r.plot(
        "σ(x), with KL", range(len(full_hist)), [h[2] for h in full_hist], xlabel="training step", ylabel="mean σ(x)"
    )
    r.plot(
        "σ(x), KL forgotten",
        range(len(nokl_hist)),
        [h[2] for h in nokl_hist],
        xlabel="training step",
        ylabel="mean σ(x)",
    )
    return r


def samples() -> Result:
    r = Result()
    with one_thread():
        full, _ = trained_vae(True)
        nokl, _ = trained_vae(False)
        X = vae_data(2000, torch.Generator().manual_seed(123))
        s_full, s_nokl = _posterior_stats(full, X), _posterior_stats(nokl, X)
        z = torch.randn(4000, 2, generator=torch.Generator().manual_seed(7))
        with torch.no_grad():
            gen_full, gen_nokl = full.dec(z), nokl.dec(z)
        d_full, d_nokl = nearest_cluster_distance(gen_full), nearest_cluster_distance(gen_nokl)
        d_data = nearest_cluster_distance(X)
        near = lambda d: (d < 3 * CLUSTER_SD).double().mean().item()  # noqa: E731
    r.claim(
        "with KL the aggregate posterior is close to the prior N(0,I)",
        s_full["mu_mean"].abs().max() < 0.3 and ((s_full["mu_std"] - 1).abs().max() < 0.4),
        f"encoded μ: mean {_vec(s_full['mu_mean'])}, std {_vec(s_full['mu_std'])}",
    )
    r.claim(
        "without KL the aggregate posterior drifts away from N(0,I)",
        s_nokl["kl_aggregate"] > 2 * s_full["kl_aggregate"],
        f"KL(moment-matched q(z) ‖ N(0,I)): no KL {s_nokl['kl_aggregate']:.2f} vs with KL "
        f"{s_full['kl_aggregate']:.2f}; "
        f"no-KL μ mean {_vec(s_nokl['mu_mean'])}, std {_vec(s_nokl['mu_std'])}, σ {s_nokl['sigma']:.3f}",
    )
    r.claim(
        "prior samples decode much farther from the data without KL",
        d_nokl.mean() > 1.5 * d_full.mean(),
        f"mean distance of G(z), z~N(0,I), to the nearest cluster: no KL {d_nokl.mean():.3f} vs with KL "
        f"{d_full.mean():.3f} (real data {d_data.mean():.3f})",
    )
    r.part("as_plausible", near(d_nokl) >= 0.5 * near(d_full))
    r.figure("kl_mu_mean_max", s_full["mu_mean"].abs().max().item(), "{:.2f}")
    r.figure("kl_mu_std_lo", s_full["mu_std"].min().item(), "{:.2f}")
    r.figure("kl_mu_std_hi", s_full["mu_std"].max().item(), "{:.2f}")
    r.figure("aggregate_kl_ratio", s_nokl["kl_aggregate"] / s_full["kl_aggregate"], "{:.0f}")
    r.figure("prior_samples", z.shape[0])
    r.figure("near_with_kl", near(d_full), "{:.0%}")
    r.figure("near_without_kl", near(d_nokl), "{:.0%}")
    r.figure("distance_with_kl", d_full.mean().item(), "{:.2f}")
    r.figure("distance_without_kl", d_nokl.mean().item(), "{:.2f}")
    r.claim(
        "far fewer prior samples decode to plausible points without KL",
        near(d_nokl) < 0.5 * near(d_full),
        f"share within 3σ of a cluster: no KL {near(d_nokl):.0%} vs with KL {near(d_full):.0%} (real data "
        f"{near(d_data):.0%})",
    )
    r.note(
        f"Encoded μ(x) over the data: with KL mean {_vec(s_full['mu_mean'])}, std {_vec(s_full['mu_std'])}; "
        f"without KL mean {_vec(s_nokl['mu_mean'])}, std {_vec(s_nokl['mu_std'])} with σ(x) ≈ {s_nokl['sigma']:.3f}: "
        "the codes are isolated points at an arbitrary scale, with holes between them."
    )
    r.note(
        f"Decoding 4000 draws z ~ N(0,I): {near(d_full):.0%} land near a cluster with KL, {near(d_nokl):.0%} without; "
        f"mean distance to the nearest cluster {d_full.mean():.2f} vs {d_nokl.mean():.2f}."
    )
    r.note(
        "The decoder was only ever trained on the no-KL encoder's codes, so most of the prior's mass falls on latent "
        "regions it never saw: the outputs are off-distribution (between or away from the clusters)."
    )
    qs = torch.linspace(0, 1, 21)
    r.plot(
        "quantiles of distance to data, with KL",
        qs.tolist(),
        torch.quantile(d_full, qs).tolist(),
        xlabel="quantile",
        ylabel="distance",
    )
    r.plot(
        "quantiles of distance to data, no KL",
        qs.tolist(),
        torch.quantile(d_nokl, qs).tolist(),
        xlabel="quantile",
        ylabel="distance",
    )
    return r
