"""Toy VAEs and GANs shared by the unsupervised-learning cards.

VAE: 2-D points on K=6 tight clusters around a circle (a stand-in for images), a 2-D latent, MLP
encoder/decoder, Gaussian decoder with fixed σ_x = 0.1 (reconstruction = ‖x−x'‖²/(2σ_x²)).
GAN: 1-D data N(4, 1.25²), tiny MLP generator (latent z ~ N(0, 1)) and discriminator (logit output),
binary cross-entropy losses as in the course.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch_threads import one_thread

# ----------------------------------------------------------------------------- shared


# ----------------------------------------------------------------------------- VAE

K, RADIUS, CLUSTER_SD, SIGMA_X = 6, 2.0, 0.1, 0.1
CENTERS = torch.tensor(
    [[RADIUS * math.cos(2 * math.pi * k / K), RADIUS * math.sin(2 * math.pi * k / K)] for k in range(K)]
)


def vae_data(n: int, generator: torch.Generator) -> torch.Tensor:
    idx = torch.randint(0, K, (n,), generator=generator)
    return CENTERS[idx] + CLUSTER_SD * torch.randn(n, 2, generator=generator)


class VAE(nn.Module):
    def __init__(self, latent: int = 2, hidden: int = 32):
        super().__init__()
        self.enc = nn.Sequential(
            nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2 * latent)
        )
        self.dec = nn.Sequential(
            nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2)
        )

    def posterior(self, x):
        mu, logvar = self.enc(x).chunk(2, -1)
        return mu, logvar

    def forward(self, x):
        """x → q(z|x) → one reparameterised sample z = μ + σ·ε → x'. (The VAE as trained.)"""
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return self.dec(z), mu, logvar


def kl_to_standard_normal(mu, logvar):
    """KL(N(μ, diag σ²) ‖ N(0, I)) per example."""
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(-1)


def reconstruction_term(x, x_rec):
    return ((x_rec - x) ** 2).sum(-1) / (2 * SIGMA_X**2)


class _Stacked(nn.Module):
    """Two independent Linear layers evaluated in one batched matmul (weights stacked on dim 0)."""

    def __init__(self, layers: list[nn.Linear]):
        super().__init__()
        self.w = nn.Parameter(torch.stack([lin.weight.detach().T for lin in layers]).clone())
        self.b = nn.Parameter(torch.stack([lin.bias.detach()[None] for lin in layers]).clone())

    def forward(self, x):
        return torch.baddbmm(self.b, x, self.w)


def _stack(models: list[nn.Sequential]) -> nn.Sequential:
    return nn.Sequential(
        *[
            _Stacked([m[i] for m in models]) if isinstance(layer, nn.Linear) else layer
            for i, layer in enumerate(models[0])
        ]
    )


def _unstack(stacked: nn.Sequential, target: nn.Sequential, index: int) -> None:
    with torch.no_grad():
        for layer, out in zip(stacked, target, strict=True):
            if isinstance(out, nn.Linear):
                out.weight.copy_(layer.w[index].T)
                out.bias.copy_(layer.b[index, 0])


# The KL term's weight in the loss of the two VAEs `_train_pair` trains: the full loss, and the KL forgotten.
# The first is the VAE loss's weight wherever a card measures that loss (vae_statements.upper_bound bounds it).
KL_WEIGHTS = (1.0, 0.0)


@functools.cache
def _train_pair(steps: int, seed: int):
    """Train two identically initialised toy VAEs on the same data: [with KL, KL forgotten].
    History per step: (reconstruction term, KL term, mean posterior σ), each averaged over the data.

    Both run in one batched forward/backward (stacked weights; Adam is element-wise, so the two models
    stay exactly independent) — half the Python overhead of two loops. Cached per process."""
    with one_thread():
        torch.manual_seed(seed)
        X = vae_data(512, torch.Generator().manual_seed(seed))
        init = VAE()
        models = [VAE(), VAE()]
        for m in models:
            m.load_state_dict(init.state_dict())
        enc, dec = _stack([m.enc for m in models]), _stack([m.dec for m in models])
        opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=8e-3)
        kl_weight = torch.tensor(KL_WEIGHTS)
        Xb = X.expand(2, -1, -1)
        history = [], []
        for _ in range(steps):
            mu, logvar = enc(Xb).chunk(2, -1)
            z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
            rec = reconstruction_term(Xb, dec(z)).mean(-1)
            kl = kl_to_standard_normal(mu, logvar).mean(-1)
            loss = (rec + kl_weight * kl).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sigma = (0.5 * logvar).exp().mean((1, 2))
            for i in range(2):
                history[i].append((rec[i].item(), kl[i].item(), sigma[i].item()))
        for i, m in enumerate(models):
            _unstack(enc, m.enc, i)
            _unstack(dec, m.dec, i)
    return models, history


def trained_vae(with_kl: bool, steps: int = 400, seed: int = 0):
    """The toy VAE trained with the full loss (with_kl=True) or with the KL term forgotten."""
    models, history = _train_pair(steps, seed)
    i = 0 if with_kl else 1
    return models[i], history[i]


def nearest_cluster_distance(points: torch.Tensor) -> torch.Tensor:
    return torch.cdist(points, CENTERS).min(1).values


# ----------------------------------------------------------------------------- GAN

MU, SD = 4.0, 1.25


def real(n: int, mu: float = MU, sd: float = SD) -> torch.Tensor:
    return mu + sd * torch.randn(n, 1)


def generator_mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))


def exact_generator(mu: float = MU, sd: float = SD) -> nn.Sequential:
    """A 1-16-1 ReLU MLP whose weights realise G(z) = mu + sd·(relu(z) − relu(−z)) = mu + sd·z exactly:
    with z ~ N(0, 1) its samples follow N(mu, sd²) — for mu=MU, sd=SD, p_g = p_data."""
    G = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
    with torch.no_grad():
        G[0].weight.zero_()
        G[0].bias.zero_()
        G[2].weight.zero_()
        G[0].weight[0, 0], G[0].weight[1, 0] = 1.0, -1.0
        G[2].weight[0, 0], G[2].weight[0, 1] = sd, -sd
        G[2].bias.fill_(mu)
    return G


def discriminator_mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(1, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))


def d_loss(D, x_real, x_fake):
    """−[log D(x) + log(1 − D(G(z)))], from logits."""
    lr, lf = D(x_real), D(x_fake)
    return F.binary_cross_entropy_with_logits(lr, torch.ones_like(lr)) + F.binary_cross_entropy_with_logits(
        lf, torch.zeros_like(lf)
    )


def g_loss_nonsaturating(D, x_fake):
    """−log D(G(z)) (the BCE-with-label-1 generator loss used in practice)."""
    lf = D(x_fake)
    return F.binary_cross_entropy_with_logits(lf, torch.ones_like(lf))


def g_loss_minimax(D, x_fake):
    """log(1 − D(G(z))): the generator's side of the original minimax game (G minimises it)."""
    return -F.softplus(D(x_fake)).mean()  # log(1 − σ(l)) = −softplus(l)


def d_step(D, opt, G, batch: int = 256, mu: float = MU, sd: float = SD) -> float:
    loss = d_loss(D, real(batch, mu, sd), G(torch.randn(batch, 1)).detach())
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def adam(params, lr: float = 1e-3):
    return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))


def grad_norm(loss: torch.Tensor, module: nn.Module) -> float:
    grads = torch.autograd.grad(loss, list(module.parameters()), retain_graph=True, allow_unused=True)
    return math.sqrt(sum(float((g**2).sum()) for g in grads if g is not None))


def w1_to_data(samples: torch.Tensor, mu: float = MU, sd: float = SD) -> float:
    """1-D Wasserstein-1 distance between the samples and N(mu, sd²) (sorted samples vs true quantiles)."""
    xs = samples.flatten().sort().values
    q = (torch.arange(len(xs), dtype=xs.dtype) + 0.5) / len(xs)
    return (xs - (mu + sd * math.sqrt(2) * torch.erfinv(2 * q - 1))).abs().mean().item()


def equilibrium_discriminator(steps: int = 300):
    """p_g = p_data exactly (exact_generator); train D against it: the stable state of the game."""
    G, D = exact_generator(), discriminator_mlp()
    opt = adam(D.parameters())
    for _ in range(steps):
        d_step(D, opt, G)
    return G, D
