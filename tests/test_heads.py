"""Margin heads and metric losses: formulas, numerics at cos = +-1, and that each one learns."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.training_support import tiny_spec
from training.config import TrainConfig
from training.data import SyntheticFaces
from training.heads import HEAD_NAMES, auto_scale, create_head
from training.loop import fit
from training.metric_losses import METRIC_LOSS_NAMES, TripletLoss, create_metric_loss

ALL_OBJECTIVES = HEAD_NAMES + METRIC_LOSS_NAMES


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _objective(name: str, dim: int, classes: int, **kwargs) -> nn.Module:
    if name in METRIC_LOSS_NAMES:
        return create_metric_loss(name, dim, classes)
    return create_head(name, dim, classes, **kwargs)


def _cosines(head, embeddings):
    return (
        F.normalize(embeddings.double(), dim=1) @ F.normalize(head.weight.double(), dim=1).t()
    ).clamp(-1, 1)


def test_arcface_matches_formula_and_falls_back_past_pi_minus_m():
    torch.manual_seed(0)
    head = create_head("arcface", 8, 5, s=10.0, m=0.5)
    embeddings, labels = torch.randn(64, 8), torch.randint(0, 5, (64,))
    embeddings[0] = -head.weight[labels[0]].detach()  # theta = pi: the fallback branch
    logits = head(embeddings, labels).double()
    cos = _cosines(head, embeddings)
    target = cos.gather(1, labels.view(-1, 1)).squeeze(1)
    theta = torch.acos(target)
    expected = torch.where(
        theta + 0.5 <= math.pi, torch.cos(theta + 0.5), target - 0.5 * math.sin(0.5)
    )
    assert torch.allclose(logits.gather(1, labels.view(-1, 1)).squeeze(1), 10 * expected, atol=1e-4)
    others = torch.ones_like(cos, dtype=torch.bool).scatter(1, labels.view(-1, 1), False)
    assert torch.allclose(logits[others], 10 * cos[others], atol=1e-4)
    assert (theta + 0.5 > math.pi).any()
    wrong_side = torch.tensor([[-0.999]])  # theta near pi: the fallback, monotone in theta
    assert head.target_logit(wrong_side).item() == pytest.approx(
        -0.999 - 0.5 * math.sin(0.5), abs=1e-6
    )


def test_easy_margin_leaves_negative_cosines_alone():
    head = create_head("arcface", 4, 3, s=1.0, m=0.5, easy_margin=True)
    cos = torch.tensor([[-0.3], [0.6]])
    out = head.target_logit(cos)
    assert out[0].item() == pytest.approx(-0.3)
    assert out[1].item() == pytest.approx(math.cos(math.acos(0.6) + 0.5), abs=1e-6)


def test_cosface_subtracts_m_from_target_only():
    torch.manual_seed(1)
    head = create_head("cosface", 8, 4, s=30.0, m=0.35)
    embeddings, labels = torch.randn(16, 8), torch.randint(0, 4, (16,))
    expected = _cosines(head, embeddings).scatter_add(
        1, labels.view(-1, 1), torch.full((16, 1), -0.35, dtype=torch.double)
    )
    assert torch.allclose(head(embeddings, labels).double(), 30 * expected, atol=1e-4)


@pytest.mark.parametrize(
    "name, margins", [("arcface", (1.0, 0.4, 0.0)), ("cosface", (1.0, 0.0, 0.25))]
)
def test_combined_reproduces_arcface_and_cosface(name, margins):
    torch.manual_seed(2)
    single = create_head(name, 16, 6, s=32.0, m=margins[1] or margins[2])
    combined = create_head("combined", 16, 6, s=32.0, m=margins)
    combined.load_state_dict(single.state_dict())
    embeddings, labels = torch.randn(32, 16), torch.randint(0, 6, (32,))
    assert torch.allclose(single(embeddings, labels), combined(embeddings, labels), atol=1e-5)


def test_sphereface_psi_is_monotone_and_lambda_anneals():
    head = create_head("sphereface", 4, 3, s=1.0, m=4, lambda_min=0.0, base=0.0)
    head.train()
    theta = torch.linspace(0.01, math.pi - 0.01, 200, dtype=torch.float64)
    psi = head.target_logit(torch.cos(theta).view(-1, 1).float()).squeeze(1).double()
    k = torch.floor(4 * theta / math.pi)
    expected = (-1) ** k * torch.cos(4 * theta) - 2 * k
    assert torch.allclose(psi, expected, atol=1e-3)
    assert (psi[1:] <= psi[:-1] + 1e-5).all()
    annealed = create_head("sphereface", 4, 3, s=1.0)
    assert annealed.current_lambda() == pytest.approx(1000.0)
    annealed.iteration.fill_(10)
    assert annealed.current_lambda() == pytest.approx(1000.0 / (1 + 0.12 * 10))
    annealed.iteration.fill_(10**6)
    assert annealed.current_lambda() == pytest.approx(5.0)


def test_sub_centres_take_the_best_centre_per_class():
    head = create_head("softmax", 2, 2, s=1.0, sub_centers=2)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]))
    cos = head.cosine(torch.tensor([[0.0, 1.0], [-1.0, 0.0]]))
    assert torch.allclose(cos, torch.tensor([[1.0, 0.0], [0.0, 1.0]]), atol=1e-6)


@pytest.mark.parametrize("name", ALL_OBJECTIVES)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_no_nan_or_inf_at_cos_plus_minus_one(name, sign):
    head = _objective(name, 4, 3)
    head.train()
    centres = F.normalize(torch.randn(3, 4), dim=1)
    with torch.no_grad():
        for module in head.modules():
            if isinstance(getattr(module, "weight", None), nn.Parameter):
                module.weight.copy_(centres)
            if hasattr(module, "centers"):
                module.centers.copy_(centres)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    embeddings = (sign * centres[labels] * 3.0).clone().requires_grad_(True)
    loss, _ = head.loss(embeddings, labels)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(embeddings.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in head.parameters() if p.grad is not None)


def test_auto_scale_is_adacos_for_few_classes_and_64_for_many():
    assert auto_scale(50) == pytest.approx(math.sqrt(2) * math.log(49))
    assert auto_scale(999) < auto_scale(1000) == 64.0
    assert auto_scale(3) == 4.0
    assert auto_scale(100_000) == 64.0
    assert create_head("arcface", 8, 100).s == pytest.approx(math.sqrt(2) * math.log(99))
    assert create_head("arcface", 8, 10, s=30).s == 30.0


def test_unknown_names_raise():
    with pytest.raises(KeyError):
        create_head("nope", 4, 2)
    with pytest.raises(KeyError):
        create_metric_loss("nope", 4, 2)
    with pytest.raises(ValueError):
        create_head("sphereface", 4, 2, m=1.5)


def test_triplet_mines_the_hardest_pair():
    embeddings = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.6, 0.8]])
    labels = torch.tensor([0, 0, 1, 1])
    loss, _ = TripletLoss(margin=1.0).loss(embeddings, labels)
    distance = torch.cdist(embeddings, embeddings)
    hardest = [
        (distance[0, 1] - distance[0, 3]),
        (distance[1, 0] - distance[1, 3]),
        (distance[2, 3] - distance[2, 1]),
        (distance[3, 2] - distance[3, 1]),
    ]
    assert loss.item() == pytest.approx(
        float(torch.relu(torch.stack(hardest) + 1.0).mean()), abs=1e-5
    )


SPEC = tiny_spec(16)


def _embed(model: nn.Module, dataset) -> tuple[torch.Tensor, torch.Tensor]:
    from training.data import Preprocess

    chips = torch.stack([dataset[i][0] for i in range(len(dataset))])
    with torch.no_grad():
        return F.normalize(model.eval()(Preprocess(SPEC)(chips)), dim=1), torch.from_numpy(
            dataset.labels
        )


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_OBJECTIVES)
def test_each_objective_separates_synthetic_identities(name):
    """Held-out nearest-class-mean accuracy after 300 CPU steps: chance is 5%, the untrained
    network about 30% (the noise is heavy), a trained one must pass 80%."""
    train = SyntheticFaces(20, 20, size=8, noise=150.0, seed=3)
    test = SyntheticFaces(20, 10, size=8, noise=150.0, seed=3, noise_seed=99)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 64), nn.PReLU(), nn.Linear(64, 16))
    untrained = _class_mean_accuracy(model, train, test)
    config = TrainConfig(
        steps=300, batch_size=40, m_per_class=4, lr=0.05, warmup_steps=20, augment=False
    )
    fit(config, model, _objective(name, 16, 20), train, SPEC)
    accuracy = _class_mean_accuracy(model, train, test)
    assert accuracy > 0.8 and accuracy > untrained + 0.4, (untrained, accuracy)


def _class_mean_accuracy(model: nn.Module, train, test) -> float:
    train_emb, train_labels = _embed(model, train)
    test_emb, test_labels = _embed(model, test)
    classes = range(train.num_classes)
    means = F.normalize(torch.stack([train_emb[train_labels == c].mean(0) for c in classes]), dim=1)
    return ((test_emb @ means.t()).argmax(1) == test_labels).float().mean().item()


@pytest.mark.parametrize("name", ALL_OBJECTIVES)
def test_logits_and_distances_stay_fp32_under_autocast(name):
    head = _objective(name, 8, 4)
    embeddings = torch.randn(8, 8).bfloat16().requires_grad_(True)
    labels = torch.tensor([0, 1, 2, 3] * 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, logits = head.loss(embeddings, labels)
        if logits is not None:
            assert logits.dtype == torch.float32
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(embeddings.grad.float()).all()


def test_fit_with_bf16_autocast_on_cpu():
    config = TrainConfig(steps=2, batch_size=20, amp="bf16")
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16))
    result = fit(config, model, create_head("arcface", 16, 10), SyntheticFaces(10, 4, size=8), SPEC)
    assert result.step == 2 and math.isfinite(result.loss)
