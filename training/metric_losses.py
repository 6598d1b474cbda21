"""Metric-learning objectives that work on pairs inside a batch instead of class centres.

They share the heads' interface, `loss(embeddings, labels) -> (loss, logits or None)`, so the
training loop treats every objective alike. Distances are Euclidean between L2-normalized
embeddings (0..2), the geometry the app searches in. Contrastive and triplet losses need several
samples per identity in each batch: train them with the class-balanced sampler.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from training.heads import MarginHead, create_head

METRIC_LOSS_NAMES = ("contrastive", "triplet", "center")


def pairwise_distances(embeddings: torch.Tensor) -> torch.Tensor:
    """(B, B) Euclidean distances of normalized fp32 embeddings; finite gradient at 0."""
    with torch.autocast(embeddings.device.type, enabled=False):
        features = F.normalize(embeddings.float(), dim=1)
        squared = (2.0 - 2.0 * features @ features.t()).clamp_min(0.0)
    return squared.clamp_min(1e-12).sqrt()


def _pair_masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    same = labels.view(-1, 1) == labels.view(1, -1)
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same & ~eye, ~same


class ContrastiveLoss(nn.Module):
    """Hadsell et al. 2006 over all pairs in the batch: pull positives to 0, push negatives past
    `margin`. Positive and negative terms are averaged separately so that the (many more)
    negatives do not drown the positives."""

    def __init__(self, margin: float = 1.0):
        super().__init__()
        self.margin = margin

    def loss(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, None]:
        distances = pairwise_distances(embeddings)
        positive, negative = _pair_masks(labels)
        zero = distances.sum() * 0.0
        pos = distances[positive].pow(2).mean() if positive.any() else zero
        neg = F.relu(self.margin - distances[negative]).pow(2).mean() if negative.any() else zero
        return pos + neg, None


class TripletLoss(nn.Module):
    """Batch-hard triplet loss (Hermans et al. 2017): for each anchor, its farthest positive and
    nearest negative in the batch. Online mining keeps the loss informative without building
    triplets offline; anchors with no positive or no negative in the batch are skipped."""

    def __init__(self, margin: float = 0.2):
        super().__init__()
        self.margin = margin

    def loss(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, None]:
        distances = pairwise_distances(embeddings)
        positive, negative = _pair_masks(labels)
        valid = positive.any(dim=1) & negative.any(dim=1)
        if not valid.any():
            return distances.sum() * 0.0, None
        hardest_pos = distances.masked_fill(~positive, float("-inf")).amax(dim=1)
        hardest_neg = distances.masked_fill(~negative, float("inf")).amin(dim=1)
        losses = F.relu(hardest_pos - hardest_neg + self.margin)
        return losses[valid].mean(), None


class CenterLoss(nn.Module):
    """Wen et al. 2016: a softmax-family head plus `weight` * 1/2 ||x - c_y||^2 on normalized
    features. The centres are parameters learned by the same optimizer (the paper's separate
    centre learning rate is replaced by `weight`, as pytorch-metric-learning does)."""

    def __init__(self, classifier: MarginHead, weight: float = 0.01):
        super().__init__()
        self.classifier = classifier
        self.center_weight = weight
        self.centers = nn.Parameter(
            torch.randn(classifier.num_classes, classifier.embedding_dim) * 0.01
        )

    def loss(
        self, embeddings: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        ce, logits = self.classifier.loss(embeddings, labels)
        features = F.normalize(embeddings.float(), dim=1)
        pull = 0.5 * (features - self.centers[labels.long()]).pow(2).sum(dim=1).mean()
        return ce + self.center_weight * pull, logits

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.classifier(embeddings, labels)


def create_metric_loss(
    name: str,
    embedding_dim: int,
    num_classes: int,
    margin: float | None = None,
    s: float | None = None,
) -> nn.Module:
    """contrastive (margin 1.0), triplet (margin 0.2), or center (softmax head + centre loss,
    weight `margin` or 0.01)."""
    if name == "contrastive":
        return ContrastiveLoss(1.0 if margin is None else margin)
    if name == "triplet":
        return TripletLoss(0.2 if margin is None else margin)
    if name == "center":
        classifier = create_head("softmax", embedding_dim, num_classes, s=s)
        return CenterLoss(classifier, 0.01 if margin is None else margin)
    raise KeyError(f"unknown metric loss {name!r}; known: {', '.join(METRIC_LOSS_NAMES)}")
