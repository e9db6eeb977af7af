"""Unsupervised Q2 (VAE statements): measured on the toy VAE and, for the bound, on probabilistic PCA."""

from __future__ import annotations

import math

import torch
from torch_threads import one_thread
from unsupervised_toys import CENTERS, KL_WEIGHTS, kl_to_standard_normal, trained_vae, vae_data

from quizzer.verifier import Result


def posterior_is_standard_normal() -> Result:
    """Statement 1: q(z|x) for a specific input is N(0, I)."""
    r = Result()
    with one_thread():
        model, _ = trained_vae(True)
        x0 = CENTERS[:1] + torch.tensor([[0.05, -0.03]])  # one specific input, on cluster 0
        others = CENTERS[1:4]
        with torch.no_grad():
            mu0, lv0 = model.posterior(x0)
            mus, lvs = model.posterior(others)
            X = vae_data(4000, torch.Generator().manual_seed(5))
            mu_all, lv_all = model.posterior(X)
        sigma0 = (0.5 * lv0).exp()
        kl0 = kl_to_standard_normal(mu0, lv0).item()
        agg_mean = mu_all.mean(0)
        agg_var = mu_all.var(0) + lv_all.exp().mean(0)  # variance of the mixture mean_x q(z|x)
    r.value = bool(kl0 < 0.05)  # "is N(0,I)" only if the KL to N(0,I) is negligible
    r.figure("sigma_lo", sigma0.min().item(), "{:.2f}")
    r.figure("sigma_hi", sigma0.max().item(), "{:.2f}")
    r.figure("kl_one_input", kl0, "{:.1f}")
    r.figure("aggregate_mean_max", agg_mean.abs().max().item(), "{:.2f}")
    r.figure("aggregate_var_lo", agg_var.min().item(), "{:.2f}")
    r.figure("aggregate_var_hi", agg_var.max().item(), "{:.2f}")
    r.claim(
        "for one input, q(z|x) is far from N(0,I)",
        kl0 > 0.5,
        f"μ(x) = ({mu0[0, 0]:.2f}, {mu0[0, 1]:.2f}), σ(x) = ({sigma0[0, 0]:.3f}, {sigma0[0, 1]:.3f}), KL = {kl0:.2f} "
        "nats",
    )
    r.claim(
        "different inputs get different posteriors (the encoder's output depends on x)",
        torch.cdist(mu0, mus).min() > 3 * sigma0.max(),
        f"distance from μ(x) to the μ of the other clusters' centres ≥ {torch.cdist(mu0, mus).min():.2f}",
    )
    r.claim(
        "only the aggregate over the data, mean_x q(z|x), approximates N(0,I)",
        agg_mean.abs().max() < 0.3 and (agg_var - 1).abs().max() < 0.5,
        f"aggregate mean ({agg_mean[0]:.2f}, {agg_mean[1]:.2f}), variance ({agg_var[0]:.2f}, {agg_var[1]:.2f})",
    )
    r.note(
        f"Trained toy VAE (with KL): the input x = {tuple(round(v, 2) for v in x0[0].tolist())} is encoded as "
        f"q(z|x) = N(({mu0[0, 0]:.2f}, {mu0[0, 1]:.2f}), diag({sigma0[0, 0]:.3f}², {sigma0[0, 1]:.3f}²)) — "
        f"KL {kl0:.2f} nats from N(0,I)."
    )
    r.note(
        f"Over 4000 inputs the *mixture* of posteriors has mean ({agg_mean[0]:.2f}, {agg_mean[1]:.2f}) and variance "
        f"({agg_var[0]:.2f}, {agg_var[1]:.2f}): the KL term pushes the aggregate towards the prior, never one input's "
        "posterior."
    )
    return r


def same_reconstruction() -> Result:
    """Statement 2: feeding the same image several times gives the same reconstruction."""
    r = Result()
    with one_thread():
        model, _ = trained_vae(True)
        torch.manual_seed(1)  # the same noise draws whether or not the model came from the per-process cache
        x0 = CENTERS[2:3] + torch.tensor([[0.04, 0.02]])
        with torch.no_grad():
            recs = torch.cat([model(x0)[0] for _ in range(10)])  # the VAE's forward pass: z = μ + σ·ε
            mean_decoded = torch.cat([model.dec(model.posterior(x0)[0]) for _ in range(10)])
        spread = torch.pdist(recs).max().item()
        spread_mu = torch.pdist(mean_decoded).max().item()
    r.value = bool(spread < 1e-6)
    r.claim(
        "ten passes of the same input give different reconstructions",
        spread > 1e-3,
        f"largest distance between two reconstructions {spread:.3f}",
    )
    r.claim(
        "decoding the posterior mean μ(x) instead of a sample is deterministic",
        spread_mu == 0.0,
        f"largest distance {spread_mu:.2g}",
    )
    centre = recs.mean(0).tolist()
    r.note(
        f"Ten passes of one input (x→z~q(z|x)→x') give ten different points around ({centre[0]:.2f}, {centre[1]:.2f}), "
        f"up to {spread:.3f} apart, because z = μ(x) + σ(x)·ε with fresh ε ~ N(0,I) each time; "
        f"decoding μ(x) (a common inference-time shortcut) gives the same output every time (spread {spread_mu:.2g})."
    )
    return r


def _log_normal(x, mean, cov):
    d = x.shape[-1]
    diff = x - mean
    return -0.5 * (d * math.log(2 * math.pi) + torch.logdet(cov) + diff @ torch.linalg.solve(cov, diff))


def upper_bound() -> Result:
    """Statement 3: we minimise an upper bound of the intractable loss. Probabilistic PCA has an exact
    log p(x), so the VAE loss (−ELBO) can be compared with −log p(x) for any Gaussian q(z|x)."""
    r = Result()
    kl_weight = KL_WEIGHTS[0]  # the KL term's weight in the loss the deck's VAE minimises (1: the loss is −ELBO)
    torch.manual_seed(0)
    dt = torch.float64
    d, k, s = 5, 2, 0.5
    W, b = torch.randn(d, k, dtype=dt), torch.randn(d, dtype=dt)
    x = W @ torch.randn(k, dtype=dt) + b + s * torch.randn(d, dtype=dt)
    nll = -_log_normal(x, b, W @ W.T + s**2 * torch.eye(d, dtype=dt)).item()  # exact −log p(x) = −log ∫p(x|z)p(z)dz

    def vae_loss(m, S):
        """The VAE loss −E_q[log p(x|z)] + kl_weight·KL(q ‖ N(0,I)) for q = N(m, S), in closed form."""
        resid = x - W @ m - b
        rec = 0.5 * d * math.log(2 * math.pi * s**2) + (resid @ resid + torch.trace(W.T @ W @ S)) / (2 * s**2)
        kl = 0.5 * (torch.trace(S) + m @ m - k - torch.logdet(S))
        return (rec + kl_weight * kl).item()

    M = W.T @ W + s**2 * torch.eye(k, dtype=dt)
    post_m, post_S = torch.linalg.solve(M, W.T @ (x - b)), s**2 * torch.linalg.inv(M)  # exact p(z|x)

    def kl_gauss(m1, S1, m0, S0):
        S0inv = torch.linalg.inv(S0)
        return (
            0.5
            * (torch.trace(S0inv @ S1) + (m0 - m1) @ S0inv @ (m0 - m1) - k + torch.logdet(S0) - torch.logdet(S1)).item()
        )

    gaps, kls = [], []
    L_post = torch.linalg.cholesky(post_S)
    for eps in torch.logspace(-3, 0.5, 300, dtype=dt):  # from nearly the true posterior to far from it
        m = post_m + eps * torch.randn(k, dtype=dt)
        B = torch.eye(k, dtype=dt) + eps * torch.randn(k, k, dtype=dt)
        S = L_post @ B @ B.T @ L_post.T + 1e-9 * torch.eye(k, dtype=dt)
        gaps.append(vae_loss(m, S) - nll)
        kls.append(kl_gauss(m, S, post_m, post_S))
    gap_post = vae_loss(post_m, post_S) - nll
    # Monte-Carlo check of the closed form on one q (the reparameterised estimate a VAE uses).
    m, S = post_m + 0.7, post_S * 2
    L = torch.linalg.cholesky(S)
    z = m + torch.randn(200000, k, dtype=dt) @ L.T
    log_lik = -0.5 * (((x - z @ W.T - b) ** 2).sum(-1) / s**2 + d * math.log(2 * math.pi * s**2))
    mc = (-log_lik.mean() + kl_weight * 0.5 * (torch.trace(S) + m @ m - k - torch.logdet(S))).item()
    mc_se = (log_lik.std() / math.sqrt(len(log_lik))).item()

    r.value = bool(min(gaps) >= -1e-9)  # loss ≥ −log p(x) for every q: it is an upper bound
    r.figure("random_q", len(gaps))
    r.figure("gap_vs_kl", max(abs(g - kl) for g, kl in zip(gaps, kls, strict=True)), "{:.0e}")
    r.claim(
        "the VAE loss (−ELBO) ≥ −log p(x) for 300 random Gaussian q(z|x)",
        min(gaps) >= -1e-9,
        f"smallest gap {min(gaps):.3g}, largest {max(gaps):.3g} (−log p(x) = {nll:.4f})",
    )
    r.claim(
        "the gap is exactly KL(q(z|x) ‖ p(z|x)) (independent computation)",
        max(abs(g - kl) for g, kl in zip(gaps, kls, strict=True)) < 1e-8,
        f"max |gap − KL| = {max(abs(g - kl) for g, kl in zip(gaps, kls, strict=True)):.2g}",
    )
    r.claim("the bound is tight at the true posterior", abs(gap_post) < 1e-9, f"gap at q = p(z|x): {gap_post:.2g}")
    r.claim(
        "a Monte-Carlo (reparameterised) VAE loss agrees with the closed form",
        abs(mc - vae_loss(m, S)) < 4 * mc_se,
        f"MC {mc:.4f} ± {mc_se:.4f} vs closed form {vae_loss(m, S):.4f}",
    )
    r.note(
        f"Probabilistic PCA (d={d}, latent {k}, σ={s}): exact −log p(x) = {nll:.4f} (x ~ N(b, WWᵀ+σ²I)); this is the "
        "quantity a VAE cannot compute, because ∫p(x|z)p(z)dz has no closed form for a neural decoder."
    )
    r.note(
        f"Over 300 random q: −ELBO − (−log p(x)) ranges {min(gaps):.2g}…{max(gaps):.3g}, never negative, and equals "
        f"KL(q‖p(z|x)); at q = p(z|x) the gap is {gap_post:.1g}."
    )
    r.note(
        "So minimising −ELBO = reconstruction + KL(q‖prior) pushes down an upper bound on −log p(x), tight when q "
        "matches the true posterior."
    )
    return r
