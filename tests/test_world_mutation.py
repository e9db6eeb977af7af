"""World mutation over the bundled decks: a verifier must fail when the world it measures differs.

test_mutation.py edits the stated answer; this file leaves every card as it is and changes the
*world* instead: the network the verifier builds, the data it draws, or the law it measures
(dropout's drop rate, ReLU's slope, PyTorch's default init, what `.detach()` cuts). Each change is
one that would make the card's fact false, so verification must come out `failed` (a wrong value or
a failed claim; an exception would prove nothing). That the unchanged world verifies is what the deck
items of the pytest plugin (`decks/*.toml::card`) check. The verifier runs in this process through
`quizzer.verify.execution.execute`, the function a verify worker calls, with the change monkeypatched in.

Every value card either has a change here or is listed in NOT_MUTATED with the reason; a card listed there is
one whose fact holds by construction, so its verifier must say so (`r.demonstrated(reason)`: its outcome is
`demonstrated`, never counted as verified).
"""

from __future__ import annotations

import functools
import importlib
import sys

import pytest

from quizzer.cards.loader import deck_files, load_deck
from quizzer.paths import bundled_decks
from quizzer.verify.execution import execute

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional

LOADED = {loaded.deck.id: loaded for loaded in (load_deck(path) for path in deck_files([bundled_decks()]))}
VALUE_CARDS = {
    f"{deck_id}/{card.id}": card
    for deck_id, loaded in LOADED.items()
    for card in loaded.deck.cards
    if any(part.checkable for part in card.parts) and not card.parametric  # parametric: tests/test_drills.py
}


def helper(folder: str, module: str):
    """A verifier helper module (verifiers/<folder>/<module>.py), imported the way the verifier imports it."""
    root = LOADED["cnn"].verifiers_root
    for path in (str(root), str(root / folder)):  # as execution.load_function does: shared helpers at the root
        if path not in sys.path:
            sys.path.insert(0, path)
    return importlib.import_module(module)


# ------------------------------------------------------------------ the changes of world


def dropout_drops_half_as_often(mp):
    original = F.dropout
    mp.setattr(F, "dropout", lambda x, p=0.5, training=True, inplace=False: original(x, p / 2, training, inplace))


def dropout_does_nothing(mp):
    mp.setattr(F, "dropout", lambda x, p=0.5, training=True, inplace=False: x)


def cnn_second_conv_stride_1(mp):
    tools = helper("cnn", "cnn_rf_tools")
    build = tools.question_cnn

    def variant():
        cnn = build()
        cnn[3].stride = (1, 1)
        return cnn

    mp.setattr(tools, "question_cnn", variant)


def pirate_net_one_hidden_layer(mp):
    common = helper("losses", "losses_common")
    mp.setattr(
        common, "build_mlpirate", lambda Act=nn.Sigmoid: nn.Sequential(nn.Linear(42, 128), Act(), nn.Linear(128, 1))
    )


def he_init_everywhere(mp):
    def reset(self):
        nn.init.kaiming_normal_(self.weight, nonlinearity="relu")
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    mp.setattr(nn.Linear, "reset_parameters", reset)


def relu_becomes_half_square(mp):
    mp.setattr(torch, "relu", lambda x: torch.where(x > 0, x * x / 2, torch.zeros_like(x)))


def relu_becomes_leaky(mp):
    mp.setattr(F, "relu", lambda x, inplace=False: F.leaky_relu(x, 0.01))


def loader_ignores_batch_size_1(mp):
    original = torch.utils.data.DataLoader.__init__

    def init(self, dataset, batch_size=1, *args, **kwargs):
        original(self, dataset, 2 if batch_size == 1 else batch_size, *args, **kwargs)

    mp.setattr(torch.utils.data.DataLoader, "__init__", init)


def every_sample_has_the_mean_gradient(mp):
    common = helper("optimization", "optim_common")
    per_sample = common.per_sample_grads
    mp.setattr(
        common,
        "per_sample_grads",
        lambda *a, **k: per_sample(*a, **k).mean(0, keepdim=True).expand_as(per_sample(*a, **k)),
    )


def no_minibatch_noise(mp):
    common = helper("optimization", "optim_common")
    offsets = common.well_offsets
    mp.setattr(common, "well_offsets", lambda *a, **k: torch.zeros_like(offsets(*a, **k)))


def detach_cuts_nothing(mp):
    mp.setattr(torch.Tensor, "detach", lambda self: self)


def tbptt_forgets_the_state(mp):
    common = helper("sequence", "tbptt_common")
    run = common.run_chunked
    mp.setattr(common, "run_chunked", lambda model, x, S, mode: run(model, x, S, "reset" if mode == "tbptt" else mode))


def dice_is_iou(mp):
    metrics = helper("detection", "detection_metrics")
    mp.setattr(metrics, "mask_dice", metrics.mask_iou)


def rpn_five_numbers_per_anchor(mp):
    models = helper("detection", "detection_models")
    init = models.RPNHead.__init__

    def widened(self, in_channels, num_anchors, two_class_objectness=False):
        init(self, in_channels, num_anchors, two_class_objectness)
        self.bbox_pred = nn.Conv2d(in_channels, 5 * num_anchors, 1)

    mp.setattr(models.RPNHead, "__init__", widened)


def embedding_sums_its_vectors(mp):
    forward = nn.Embedding.forward
    mp.setattr(nn.Embedding, "forward", lambda self, x: forward(self, x).sum(-2))


def cross_entropy_becomes_l2(mp):
    mp.setattr(F, "binary_cross_entropy_with_logits", lambda z, y, **_: (torch.sigmoid(z) - y) ** 2)


def tanh_gain_init(mp):
    def reset(self):  # Glorot init with tanh's gain 5/3: the weights no longer shrink the gradient
        nn.init.xavier_normal_(self.weight, gain=5 / 3)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    mp.setattr(nn.Linear, "reset_parameters", reset)


def minibatches_without_sampling_noise(mp):
    mp.setattr(torch, "randint", lambda low, high, size, generator=None, **_: torch.zeros(size, dtype=torch.long))


def generator_loss_is_non_saturating(mp):
    toys = helper("unsupervised", "unsupervised_toys")
    mp.setattr(toys, "g_loss_minimax", toys.g_loss_nonsaturating)


def generator_gets_no_signal(mp):
    toys = helper("unsupervised", "unsupervised_toys")
    mp.setattr(toys, "g_loss_nonsaturating", lambda D, x_fake: 0 * D(x_fake).sum())


def generator_also_matches_the_data_moments(mp):
    """G gets a signal D does not give: its samples' mean and spread are pulled to the data's."""
    toys = helper("unsupervised", "unsupervised_toys")
    adversarial = toys.g_loss_nonsaturating
    mp.setattr(
        toys,
        "g_loss_nonsaturating",
        lambda D, x_fake: (
            adversarial(D, x_fake) + 10 * ((x_fake.mean() - toys.MU) ** 2 + (x_fake.std() - toys.SD) ** 2)
        ),
    )


class _Credulous(nn.Module):
    """A discriminator that rates every sample 3 logits more real than the trained one does."""

    def __init__(self, D):
        super().__init__()
        self.D = D

    def forward(self, x):
        return self.D(x) + 3.0


def discriminator_is_fooled_at_the_ideal(mp):
    toys = helper("unsupervised", "unsupervised_toys")
    ideal = toys.equilibrium_discriminator
    mp.setattr(toys, "equilibrium_discriminator", lambda *a, **k: (lambda G, D: (G, _Credulous(D)))(*ideal(*a, **k)))


def fresh_vae_cache(mp):
    """Trained VAEs are cached per process; a changed world must train its own."""
    toys = helper("unsupervised", "unsupervised_toys")
    pair = getattr(toys._train_pair, "__wrapped__", None)
    if pair is not None:
        mp.setattr(toys, "_train_pair", functools.cache(pair))


def vae_encoder_without_noise(mp):
    fresh_vae_cache(mp)
    mp.setattr(torch, "randn_like", lambda t, **_: torch.zeros_like(t))


def kl_weights(mp, full: float, forgotten: float):
    """Train the toy VAEs with these KL weights (the card's VAE, the one whose KL term is forgotten)."""
    fresh_vae_cache(mp)
    mp.setattr(helper("unsupervised", "unsupervised_toys"), "KL_WEIGHTS", (full, forgotten))


def forgetting_the_kl_changes_nothing(mp):
    kl_weights(mp, 1.0, 1.0)


def kl_term_dominates(mp):  # a heavily weighted KL: every input's posterior collapses onto the prior
    kl_weights(mp, 1000.0, 0.0)


def vae_loss_weighs_its_kl_by_half(mp):  # reconstruction + ½·KL: below −log p(x) wherever q is near p(z|x)
    kl_weights(mp, 0.5, 0.0)


def skip_connection_adds_half_the_input(mp):
    """The residual layer's skip connection carries x/2: y = f(x) + x/2, so its filter must supply the other half."""
    layers = helper("cnn", "cnn_residual_layers")
    mp.setattr(layers.Residual, "forward", lambda self, x: self.f(x) + x / 2)


def dilated_convolutions_compute_undilated(mp):
    """A conv declared with dilation d computes with adjacent taps: the law k_eff = d(k−1)+1 no longer holds
    (the declared layers, which the recurrence reads, are unchanged)."""
    conv2d = F.conv2d
    mp.setattr(
        F,
        "conv2d",
        lambda x, w, b=None, stride=1, padding=0, dilation=1, groups=1: conv2d(x, w, b, stride, padding, 1, groups),
    )


def finite_differences_on_a_relu_mlp(mp):
    """The differentiated MLP has ReLU's kinks: large steps h cross them, so the error is no Taylor remainder."""
    mp.setattr(helper("backprop", "bp_common"), "PHI", torch.relu)


def labels_unrelated_to_tokens(mp):
    common = helper("sequence", "seq_common")
    task = common.task

    def shuffled(*a, **k):
        polarity, (Xt, yt), (Xv, yv) = task(*a, **k)
        g = torch.Generator().manual_seed(1)
        return polarity, (Xt, yt[torch.randperm(len(yt), generator=g)]), (Xv, yv[torch.randperm(len(yv), generator=g)])

    mp.setattr(common, "task", shuffled)


def word_meanings_follow_their_ids(mp):
    """Negative words at the low ids, positive ones at the high ids: a raw id then carries the meaning."""
    common = helper("sequence", "seq_common")
    task = common.task

    def ordered(*a, **k):
        polarity, (Xt, _), (Xv, _) = task(*a, **k)
        ordinal = polarity.sort().values
        label = lambda X: (ordinal[X].sum(1) > 0).float()  # noqa: E731
        return ordinal, (Xt, label(Xt)), (Xv, label(Xv))

    mp.setattr(common, "task", ordered)


def decoder_starts_from_every_encoder_state(mp):
    """Without attention, the decoder starts from the mean of h_1..h_T instead of h_T alone."""
    seq2seq = helper("attention", "attention_seq2seq").Seq2Seq
    decode = seq2seq.decode

    def from_the_mean(self, H, tgt_in, s0=None):
        return decode(self, H, tgt_in, H.mean(1) if s0 is None and self.mode == "none" else s0)

    mp.setattr(seq2seq, "decode", from_the_mean)


def self_attention_is_queried_by_the_decoder(mp):
    """The question's variant is not what it says: its queries still come from the decoder state."""
    seq2seq = helper("attention", "attention_seq2seq").Seq2Seq
    init = seq2seq.__init__
    mp.setattr(seq2seq, "__init__", lambda self, mode: init(self, "cross" if mode == "self" else mode))


def yolo_three_boxes_per_cell(mp):
    models = helper("detection", "detection_models")
    init = models.TinyYOLOv1.__init__
    mp.setattr(models.TinyYOLOv1, "__init__", lambda self, S=7, B=2, C=20, **k: init(self, S, B + 1, C, **k))


def loss_is_squared_error(mp):
    common = helper("backprop", "bp_common")
    mp.setattr(common, "bce", lambda y, p: (y - p) ** 2)


def convolutions_ignore_dilation(mp):
    init = nn.Conv2d.__init__
    mp.setattr(nn.Conv2d, "__init__", lambda self, *a, dilation=1, padding=0, **k: init(self, *a, padding=padding, **k))


def matching_ignores_localisation(mp):
    """mAP's matching takes any overlap (or none) as a hit: the IoU threshold no longer enters it."""
    metrics = helper("detection", "detection_metrics")
    match = metrics.match_detections
    mp.setattr(metrics, "match_detections", lambda dets, gts, cls, iou_thr: match(dets, gts, cls, 0.0))


def weights_drawn_wider(mp, factor: float):
    """Every normal init draws with `factor` times the std."""
    normal = nn.init.normal_
    mp.setattr(nn.init, "normal_", lambda tensor, mean=0.0, std=1.0, **k: normal(tensor, mean, factor * std, **k))


def weights_drawn_four_times_wider(mp):  # sigmoid's ≤ 1/4 slope is then offset by the weights
    weights_drawn_wider(mp, 4)


# ---- detection, unsupervised, backprop, cnn (worldD)


def yolo_rescores_its_own_boxes(mp):
    """YOLO with a second stage: each cell's class scores are scored again from the backbone features cropped
    (RoIAlign) at the cell's first predicted box, as a two-stage detector classifies its proposals."""
    models = helper("detection", "detection_models")
    forward = models.TinyYOLOv1.forward

    def two_stage(self, images):
        out = forward(self, images)
        features = self.backbone(images)  # (N, C, S, S)
        size = images.shape[-1]
        centre, extent = (out["boxes"][..., :4].sigmoid() * size).split(2, -1)
        boxes = torch.cat([centre - extent / 2, centre + extent / 2], -1).flatten(1, 2)  # (N, S·S, 4)
        crops = torch.stack(
            [
                models.roi_align(f[None], b, size // self.S, 1).mean((1, 2, 3))
                for f, b in zip(features, boxes, strict=True)
            ]
        )
        return {**out, "scores": out["scores"] + crops.view(len(images), self.S, self.S, 1)}

    mp.setattr(models.TinyYOLOv1, "forward", two_stage)


# ---- optimization (worldC)


def the_well_has_one_minimum(mp):
    """Tilt the double well F = (x²−1)² + t·x three times as hard: its shallow local minimum disappears."""
    mp.setattr(helper("optimization", "optim_common"), "TILT", 3.0)


def labels_drowned_in_noise(mp):
    """Label noise 100x stronger (σ = 10 against a signal of variance ~1.3): the samples' gradients no longer agree,
    so a small batch does not point the full gradient's way."""
    common = helper("optimization", "optim_common")
    data = common.regression_data
    mp.setattr(common, "regression_data", lambda n=256, d=8, noise=0.1, seed=0: data(n, d, 100 * noise, seed))


def the_mlp_normalizes_over_its_batch(mp):
    """BatchNorm after each hidden layer: a sample's output depends on the others in its batch, so the loss of the
    data set is no longer the sum of its chunks' losses."""
    common = helper("optimization", "optim_common")

    def batch_normalized(d=8, h=32, seed=0):
        torch.manual_seed(seed)
        hidden = [nn.Linear(d, h), nn.BatchNorm1d(h), nn.Tanh(), nn.Linear(h, h), nn.BatchNorm1d(h), nn.Tanh()]
        return nn.Sequential(*hidden, nn.Linear(h, 1)).to(common.DTYPE)

    mp.setattr(common, "mlp", batch_normalized)


def ravine_walls_grow_linearly(mp):
    """Pseudo-Huber residual loss √(1+r²) − 1: still a smooth convex ravine with the same curvatures at its minimum,
    but linear in its walls, where the curvature vanishes: pure Newton's first step flies off (to w ≈ (3e4, −2e4))."""
    mp.setattr(helper("optimization", "optim_common"), "residual_loss", lambda residual: (1 + residual**2).sqrt() - 1)


def inner_problem_is_a_lasso(mp):
    """The bi-level layer's inner problem penalises λ‖w‖₁ (smoothed, √(w² + 10⁻⁶) per weight) instead of λ‖w‖²:
    the layer's one linear solve is no longer its argmin."""
    mp.setattr(
        helper("optimization", "optim_common"),
        "inner_objective",
        lambda w, Phi, y, lam: ((Phi @ w - y) ** 2).sum() + lam * (w**2 + 1e-6).sqrt().sum(),
    )


def weights_drawn_sixteen_times_wider(mp):
    """The sigmoid net in its chaotic phase: the weights multiply E[σ'(z)²] by the scale², saturation divides it only by
    the scale, so past ~10x the backward signal grows with depth (×1.21 per layer) instead of vanishing."""
    weights_drawn_wider(mp, 16)


WORLD_CHANGES = {
    "dropout/stacked-dropout-q": dropout_drops_half_as_often,
    "dropout/dropout-after-activation": dropout_does_nothing,
    "cnn/receptive-field-size": cnn_second_conv_stride_1,
    "losses-activations/mlpirate-plateau-cause": pirate_net_one_hidden_layer,
    "losses-activations/mlpirate-plateau-explain": pirate_net_one_hidden_layer,
    "losses-activations/relu-no-vanishing-gradients": he_init_everywhere,
    "losses-activations/relu-gradient-linear": relu_becomes_half_square,
    "losses-activations/relu-dead-neurons": relu_becomes_leaky,
    "optimization/sgd-step-per-sample": loader_ignores_batch_size_1,
    "optimization/sgd-less-variance": every_sample_has_the_mean_gradient,
    "optimization/sgd-local-minima": no_minibatch_noise,
    "sequence-models/tbptt-modified-backprop": tbptt_forgets_the_state,
    "sequence-models/embedding-output-shape": embedding_sums_its_vectors,
    "unsupervised/gan-backprop-into-generator": detach_cuts_nothing,
    "detection/dice-in-terms-of-iou": dice_is_iou,
    "detection/rpn-box-deltas-shape": rpn_five_numbers_per_anchor,
    "detection/yolo-v1-output-shape": yolo_three_boxes_per_cell,
    "losses-activations/l2-loss-dog-hotdog-choice": cross_entropy_becomes_l2,
    "losses-activations/mlpirate-tanh-instead": tanh_gain_init,
    "optimization/batch-size-doubling": minibatches_without_sampling_noise,
    "sequence-models/no-embedding-trainable": labels_unrelated_to_tokens,
    "sequence-models/tbptt-only-limit-length": tbptt_forgets_the_state,
    "sequence-models/tbptt-at-most-s-apart": tbptt_forgets_the_state,
    "sequence-models/no-embedding-consequence": word_meanings_follow_their_ids,
    "unsupervised/gan-pretrain-discriminator": generator_loss_is_non_saturating,
    "unsupervised/gan-latent-from-standard-normal": generator_gets_no_signal,
    "unsupervised/gan-ideal-losses": discriminator_is_fooled_at_the_ideal,
    "unsupervised/gan-train-past-equilibrium": generator_also_matches_the_data_moments,
    "unsupervised/vae-same-reconstruction": vae_encoder_without_noise,
    "unsupervised/vae-no-kl-reconstructions": forgetting_the_kl_changes_nothing,
    "unsupervised/vae-no-kl-generated": forgetting_the_kl_changes_nothing,
    "unsupervised/vae-posterior-is-standard-normal": kl_term_dominates,
    "backprop/mlp-grad-w1": loss_is_squared_error,
    "backprop/mlp-grad-w2": loss_is_squared_error,
    "backprop/mlp-grad-b1": loss_is_squared_error,
    "backprop/mlp-grad-b2": loss_is_squared_error,
    "backprop/mlp-grad-x": loss_is_squared_error,
    "cnn/receptive-field-growth": convolutions_ignore_dilation,
    "attention/attention-effect-on-hidden-states": decoder_starts_from_every_encoder_state,
    "attention/self-attention-instead-of-decoder-queries": self_attention_is_queried_by_the_decoder,
    "dropout/dropout-scaling-proof": dropout_drops_half_as_often,
    "detection/iou-vs-dice": dice_is_iou,
    "losses-activations/l2-loss-dog-hotdog-example": cross_entropy_becomes_l2,
    "optimization/sgd-minibatch-gd": loader_ignores_batch_size_1,
    "sequence-models/embeddings-what-why": labels_unrelated_to_tokens,
    "sequence-models/embedding-output-content": embedding_sums_its_vectors,
    # worldA
    "detection/rpn-and-yolo-outputs": rpn_five_numbers_per_anchor,
    "detection/iou-vs-map": matching_ignores_localisation,
    "optimization/vanishing-exploding-concepts": weights_drawn_four_times_wider,
    "optimization/vanishing-exploding-diagnose": weights_drawn_four_times_wider,
    # ---- detection, unsupervised, backprop, cnn (worldD)
    "detection/one-stage-detector": yolo_rescores_its_own_boxes,
    "unsupervised/vae-minimize-upper-bound": vae_loss_weighs_its_kl_by_half,
    "cnn/residual-filters": skip_connection_adds_half_the_input,
    "cnn/receptive-field-meaning": dilated_convolutions_compute_undilated,
    "backprop/numerical-gradient-drawbacks": finite_differences_on_a_relu_mlp,
    # ---- optimization (worldC)
    "optimization/convergence-guarantees": the_well_has_one_minimum,
    "optimization/why-sgd-over-gd": labels_drowned_in_noise,
    "optimization/when-gd-impossible": the_mlp_normalizes_over_its_batch,
    "optimization/ravine-momentum-vs-newton": ravine_walls_grow_linearly,
    "optimization/bilevel-inner-descent": inner_problem_is_a_lasso,
    "optimization/vanishing-exploding-depth": weights_drawn_sixteen_times_wider,
}

NOT_MUTATED = {
    "optimization/sgd-more-memory": "demonstrated: autograd keeps each layer's per-sample inputs, so the saved bytes "
    "grow with the batch for any model or data (measured: fixed + B × per-sample); no world makes B < N keep more",
    "backprop/numerical-gradient-how": "demonstrated: counts the loss evaluations of its own central-difference "
    "loop, two per parameter by the formula's definition",
    "optimization/vanishing-exploding-example": "demonstrated: ‖∂L/∂x‖ = g^L is an identity of the orthogonal "
    "matrices the verifier builds; a world with other layers would change the question, not the answer",
}


@pytest.fixture(autouse=True, scope="module")
def one_thread_as_in_a_worker():
    """A verify worker runs torch on one thread (zygote); so do the verifiers here, as fast as there."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("key", sorted(WORLD_CHANGES))
def test_a_changed_world_fails_verification(key, monkeypatch):
    card = VALUE_CARDS[key]
    loaded = LOADED[key.split("/")[0]]
    change = WORLD_CHANGES[key]
    with monkeypatch.context() as mp:
        change(mp)
        outcome = execute(card, loaded.verifiers_root)
    reported = outcome.status == "error" and any(not claim["holds"] for claim in outcome.claims)
    assert outcome.status == "failed" or reported, (  # reported: failed claims, then a value outside the options
        f"{key}: with the world changed ({change.__name__}) verification is {outcome.status!r}, not 'failed': "
        f"{outcome.message}\n" + "\n".join(outcome.details())
    )


def test_every_value_card_has_a_world_change_or_a_reason():
    assert set(WORLD_CHANGES) | set(NOT_MUTATED) == set(VALUE_CARDS), (
        "value cards without a world change or a reason: "
        + ", ".join(sorted(set(VALUE_CARDS) - set(WORLD_CHANGES) - set(NOT_MUTATED)))
    )
    assert not set(WORLD_CHANGES) & set(NOT_MUTATED)


@pytest.mark.parametrize("key", sorted(NOT_MUTATED))
def test_a_card_without_a_world_change_is_only_demonstrated(key):
    """No changed world fails it, so it must not pass as verified: its unchanged world verifies as `demonstrated`."""
    outcome = execute(VALUE_CARDS[key], LOADED[key.split("/")[0]].verifiers_root)
    assert outcome.status == "demonstrated", (
        f"{key} has no world change ({NOT_MUTATED[key]}) yet verifies as {outcome.status!r}: give it a change in "
        f"WORLD_CHANGES, or have its verifier call r.demonstrated(reason). {outcome.message}"
    )
