"""Margin heads: class centres on the unit sphere and a margin that rewrites only the target logit.

The backbone makes the embedding; a head owns one weight vector per class (or K sub-centres per
class) and turns embeddings into logits for a cross-entropy. Every head works on L2-normalized
features and weights and computes its logits in fp32 with autocast off, so mixed precision never
reaches the margin arithmetic. Near cos = +-1 the derivative of acos is infinite, so its input is
clamped a hair inside [-1, 1]; losses and gradients stay finite for every input.

Heads (all through `create_head`):
- `softmax`   NormFace: s * cos(theta), no margin; the baseline.
- `arcface`   s * cos(theta + m), additive angular margin (Deng et al. 2019).
- `cosface`   s * (cos(theta) - m), additive cosine margin (Wang et al. 2018).
- `combined`  s * (cos(m1 * theta + m2) - m3), which covers the three above (insightface).
- `sphereface` A-Softmax psi(theta) = (-1)^k cos(m theta) - 2k with the original lambda annealing.
Each accepts `sub_centers=K` (sub-center ArcFace, Deng et al. 2020): the class cosine is the
maximum over its K centres, so noisy or multi-modal identities do not drag one centre around.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

_ACOS_EPS = 1e-6
LARGE_CLASS_COUNT = 1000
"""From this many classes up, `s=None` means the usual s = 64."""


def auto_scale(num_classes: int) -> float:
    """The scale s to use when none is given.

    s = 64 is tuned for tens of thousands of identities: the softmax over C classes needs a large
    s before the target can reach a high probability at all. With few classes (a family album has
    5-50 people) s = 64 makes the loss a near-hard max: it saturates within a few steps, gradients
    vanish for every sample but the worst, and fine-tuning overfits. AdaCos (Zhang et al. 2019)
    derives the fixed scale s = sqrt(2) * ln(C - 1) at which the logit-to-probability curve is
    steepest around the class boundary, and shows it trains as well as a tuned s. Below
    `LARGE_CLASS_COUNT` classes we use that rule, floored at 4: the derivation assumes the other
    classes sit near 90 degrees, which fails for a handful of classes, where it would give s < 1
    (a flat softmax that barely learns); the floor matters below 18 classes.
    """
    if num_classes >= LARGE_CLASS_COUNT:
        return 64.0
    return max(math.sqrt(2.0) * math.log(max(num_classes - 1, 1)), 4.0)


class MarginHead(nn.Module):
    """Base head: normalized class centres (with optional sub-centres) and target-logit rewriting.

    `forward(embeddings, labels)` returns fp32 logits with the margin applied to the target
    class; without labels it returns plain scaled cosines (for accuracy or inference).
    Subclasses implement `target_logit(cos_target)` on the unscaled target cosines.
    """

    def __init__(self, embedding_dim: int, num_classes: int, s: float, sub_centers: int = 1):
        super().__init__()
        if sub_centers < 1:
            raise ValueError("sub_centers must be >= 1")
        self.embedding_dim = embedding_dim
        self.num_classes = num_classes
        self.sub_centers = sub_centers
        self.s = float(s)
        self.weight = nn.Parameter(torch.empty(num_classes * sub_centers, embedding_dim))
        nn.init.normal_(self.weight, std=0.01)

    def cosine(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(B, C) cosines in fp32; with sub-centres, the best centre of each class."""
        with torch.autocast(embeddings.device.type, enabled=False):
            features = F.normalize(embeddings.float(), dim=1)
            centres = F.normalize(self.weight.float(), dim=1)
            cos = features @ centres.t()
        if self.sub_centers > 1:
            cos = cos.view(-1, self.num_classes, self.sub_centers).amax(dim=2)
        return cos.clamp(-1.0, 1.0)

    def target_logit(self, cos_target: torch.Tensor) -> torch.Tensor:
        """Margin-rewritten target cosine (before scaling); identity for the plain softmax."""
        return cos_target

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        cos = self.cosine(embeddings)
        return cos * self.s if labels is None else self._with_margin(cos, labels)

    def _with_margin(self, cos: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        index = labels.view(-1, 1).long()
        target = self.target_logit(cos.gather(1, index))
        return cos.scatter(1, index, target) * self.s

    def loss(
        self, embeddings: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-entropy over the margin logits, and the plain scaled cosines (for accuracy:
        the margin would make training accuracy look worse than the classifier is)."""
        cos = self.cosine(embeddings)
        loss = F.cross_entropy(self._with_margin(cos, labels), labels.long())
        return loss, (cos * self.s).detach()

    def extra_repr(self) -> str:
        return f"classes={self.num_classes}, dim={self.embedding_dim}, s={self.s:.3g}, K={self.sub_centers}"


class CombinedMarginHead(MarginHead):
    """s * (cos(m1 * theta + m2) - m3): ArcFace (1, m, 0), CosFace (1, 0, m), and mixes of them.

    When m1 * theta + m2 passes pi the curve turns back up and a wrong-side sample would be
    rewarded for moving further away; from theta > (pi - m2) / m1 on we use the insightface
    fallback cos(theta) - m2 * sin(m2) - m3, which keeps the logit monotone in theta.
    `easy_margin` applies the margin only where cos(theta) > 0 (as in the ArcFace code).
    """

    def __init__(
        self,
        embedding_dim: int,
        num_classes: int,
        s: float,
        m1: float = 1.0,
        m2: float = 0.5,
        m3: float = 0.0,
        easy_margin: bool = False,
        sub_centers: int = 1,
    ):
        super().__init__(embedding_dim, num_classes, s, sub_centers)
        self.m1, self.m2, self.m3 = float(m1), float(m2), float(m3)
        self.easy_margin = easy_margin

    def target_logit(self, cos_target: torch.Tensor) -> torch.Tensor:
        if self.m1 == 1.0 and self.m2 == 0.0:
            return cos_target - self.m3
        theta = torch.acos(cos_target.clamp(-1.0 + _ACOS_EPS, 1.0 - _ACOS_EPS))
        with_margin = torch.cos(self.m1 * theta + self.m2) - self.m3
        if self.easy_margin:
            return torch.where(cos_target > 0, with_margin, cos_target)
        fallback = cos_target - self.m2 * math.sin(self.m2) - self.m3
        return torch.where(theta * self.m1 + self.m2 <= math.pi, with_margin, fallback)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, m=({self.m1}, {self.m2}, {self.m3})"


class SphereFaceHead(MarginHead):
    """A-Softmax: psi(theta) = (-1)^k cos(m theta) - 2k, k = floor(m theta / pi), m integer.

    psi is monotone decreasing on [0, pi], unlike cos(m theta). As in the original Caffe layer,
    the target logit is blended with the plain cosine, (lambda cos + psi) / (1 + lambda), and
    lambda anneals from `base` by lambda = max(lambda_min, base * (1 + gamma * it) ** -power) so
    the margin is switched on gradually (a hard m = 4 from step 0 does not converge). The
    iteration counter is a buffer, so it is checkpointed and resumes exactly; it advances once per
    training-mode forward with labels. Features are normalized here (scale s), as in NormFace and
    SphereFace-R, rather than the unnormalized feature norm of the 2017 paper.
    """

    def __init__(
        self,
        embedding_dim: int,
        num_classes: int,
        s: float,
        m: int = 4,
        base: float = 1000.0,
        gamma: float = 0.12,
        power: float = 1.0,
        lambda_min: float = 5.0,
        sub_centers: int = 1,
    ):
        super().__init__(embedding_dim, num_classes, s, sub_centers)
        if int(m) != m or m < 1:
            raise ValueError("SphereFace needs an integer margin m >= 1")
        self.m = int(m)
        self.base, self.gamma, self.power, self.lambda_min = base, gamma, power, lambda_min
        self.register_buffer("iteration", torch.zeros((), dtype=torch.long))

    def current_lambda(self) -> float:
        it = float(self.iteration.item())
        return max(self.lambda_min, self.base * (1.0 + self.gamma * it) ** (-self.power))

    def target_logit(self, cos_target: torch.Tensor) -> torch.Tensor:
        theta = torch.acos(cos_target.clamp(-1.0 + _ACOS_EPS, 1.0 - _ACOS_EPS))
        k = torch.floor(self.m * theta.detach() / math.pi)
        sign = 1.0 - 2.0 * torch.remainder(k, 2.0)
        psi = sign * torch.cos(self.m * theta) - 2.0 * k
        lam = self.current_lambda()
        if self.training:
            self.iteration += 1
        return (lam * cos_target + psi) / (1.0 + lam)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, m={self.m}, lambda={self.current_lambda():.3g}"


_DEFAULT_MARGINS = {"arcface": 0.5, "cosface": 0.35, "sphereface": 4, "softmax": 0.0}
HEAD_NAMES = ("softmax", "arcface", "cosface", "combined", "sphereface")


def create_head(
    name: str,
    embedding_dim: int,
    num_classes: int,
    s: float | None = None,
    m: float | tuple[float, float, float] | None = None,
    sub_centers: int = 1,
    easy_margin: bool = False,
    **sphereface_options: float,
) -> MarginHead:
    """The one front door for heads.

    s=None picks `auto_scale(num_classes)`. m=None picks the published default: ArcFace 0.5,
    CosFace 0.35, SphereFace 4, combined (1.0, 0.3, 0.2) (insightface's mixed setting). For
    `combined`, m is the triple (m1, m2, m3).
    """
    scale = auto_scale(num_classes) if s is None else float(s)
    common = {"sub_centers": sub_centers}
    if name == "softmax":
        return MarginHead(embedding_dim, num_classes, scale, **common)
    if name == "arcface":
        margin = _DEFAULT_MARGINS[name] if m is None else float(m)
        return CombinedMarginHead(
            embedding_dim, num_classes, scale, 1.0, margin, 0.0, easy_margin, **common
        )
    if name == "cosface":
        margin = _DEFAULT_MARGINS[name] if m is None else float(m)
        return CombinedMarginHead(embedding_dim, num_classes, scale, 1.0, 0.0, margin, **common)
    if name == "combined":
        m1, m2, m3 = (1.0, 0.3, 0.2) if m is None else m
        return CombinedMarginHead(
            embedding_dim, num_classes, scale, m1, m2, m3, easy_margin, **common
        )
    if name == "sphereface":
        margin = 4 if m is None else m
        return SphereFaceHead(
            embedding_dim, num_classes, scale, margin, **sphereface_options, **common
        )
    raise KeyError(f"unknown head {name!r}; known: {', '.join(HEAD_NAMES)}")
