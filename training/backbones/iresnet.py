"""IResNet (insightface arcface_torch shape): 112x112 RGB in, an embedding (512-d) out.

Pre-activation-style "improved" residual blocks (BN-conv-BN-PReLU-conv-BN, stride in the second
conv), four stages to 7x7, then the BN-dropout-FC-BN embedding head of ArcFace. No pretrained
weights are shipped with this package (and nothing is downloaded at run time): `pretrained=True`
raises; start from a model file with `--init` / `load_model` instead.
"""

from __future__ import annotations

import torch
from torch import nn

from training.backbones import register_backbone

_DEPTHS = {
    "iresnet18": (2, 2, 2, 2),
    "iresnet34": (3, 4, 6, 3),
    "iresnet50": (3, 4, 14, 3),
    "iresnet100": (3, 13, 30, 3),
}
_WIDTHS = (64, 128, 256, 512)
INPUT_SIZE = 112


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


class IBasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(cin, eps=1e-5),
            _conv3x3(cin, cout),
            nn.BatchNorm2d(cout, eps=1e-5),
            nn.PReLU(cout),
            _conv3x3(cout, cout, stride),
            nn.BatchNorm2d(cout, eps=1e-5),
        )
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout, eps=1e-5)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return self.body(x) + identity


class IResNet(nn.Module):
    def __init__(self, depths: tuple[int, ...], embedding_dim: int = 512, dropout: float = 0.0):
        super().__init__()
        self.stem = nn.Sequential(_conv3x3(3, 64), nn.BatchNorm2d(64, eps=1e-5), nn.PReLU(64))
        stages, cin = [], 64
        for width, depth in zip(_WIDTHS, depths, strict=True):
            blocks = [IBasicBlock(cin, width, 2)] + [
                IBasicBlock(width, width, 1) for _ in range(depth - 1)
            ]
            stages.append(nn.Sequential(*blocks))
            cin = width
        self.stages = nn.Sequential(*stages)
        self.bn = nn.BatchNorm2d(512, eps=1e-5)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(512 * 7 * 7, embedding_dim)
        self.features = nn.BatchNorm1d(embedding_dim, eps=1e-5)
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False  # as in ArcFace: only the shift is learned
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0, 0.1)
        for block in self.modules():
            if isinstance(
                block, IBasicBlock
            ):  # zero-init the last BN: each block starts as identity
                nn.init.zeros_(block.body[-1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        x = self.dropout(torch.flatten(self.bn(x), 1))
        return self.features(self.fc(x))


def _factory(name: str):
    def create(embedding_dim: int = 512, pretrained: bool = False, dropout: float = 0.0) -> IResNet:
        if pretrained:
            raise ValueError(
                f"no pretrained weights ship for {name}; fine-tune from a model file (--init)"
            )
        return IResNet(_DEPTHS[name], embedding_dim, dropout)

    create.__name__ = name
    create.__doc__ = f"{name}: {INPUT_SIZE}x{INPUT_SIZE} RGB in, `embedding_dim` out (random init)."
    return register_backbone(name)(create)


iresnet18 = _factory("iresnet18")
iresnet34 = _factory("iresnet34")
iresnet50 = _factory("iresnet50")
iresnet100 = _factory("iresnet100")
