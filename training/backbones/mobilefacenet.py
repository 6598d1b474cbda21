"""MobileFaceNet (`mbf`, insightface arcface_torch shape): 112x112 RGB in, 512-d out.

Depthwise-separable bottlenecks (Chen et al. 2018) at width scale 2 with blocks (1, 4, 6, 2), as
insightface's `mbf`, ending in a global depthwise conv (GDC) instead of pooling so that the 7x7
spatial layout still informs the embedding. About 2M parameters: the CPU-friendly backbone.
No pretrained weights are shipped: `pretrained=True` raises; use `--init` / `load_model`.
"""

from __future__ import annotations

import torch
from torch import nn

from training.backbones import register_backbone


def _conv_bn(
    cin: int, cout: int, kernel: int = 1, stride: int = 1, groups: int = 1, act: bool = True
) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act:
        layers.append(nn.PReLU(cout))
    return nn.Sequential(*layers)


class DepthWise(nn.Module):
    """1x1 expand, 3x3 depthwise (stride), 1x1 linear project; residual when shapes allow."""

    def __init__(self, cin: int, cout: int, expand: int, stride: int, residual: bool):
        super().__init__()
        self.residual = residual
        self.body = nn.Sequential(
            _conv_bn(cin, expand),
            _conv_bn(expand, expand, 3, stride, groups=expand),
            _conv_bn(expand, cout, act=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.residual else out


def _residual(channels: int, count: int, expand: int) -> nn.Sequential:
    return nn.Sequential(
        *[DepthWise(channels, channels, expand, 1, residual=True) for _ in range(count)]
    )


class MobileFaceNet(nn.Module):
    def __init__(
        self,
        embedding_dim: int = 512,
        blocks: tuple[int, int, int, int] = (1, 4, 6, 2),
        scale: int = 2,
    ):
        super().__init__()
        c64, c128 = 64 * scale, 128 * scale
        self.body = nn.Sequential(
            _conv_bn(3, c64, 3, 2),
            _conv_bn(c64, c64, 3, 1, groups=c64)
            if blocks[0] == 1
            else _residual(c64, blocks[0], 128),
            DepthWise(c64, c64, 128, 2, residual=False),
            _residual(c64, blocks[1], 128),
            DepthWise(c64, c128, 256, 2, residual=False),
            _residual(c128, blocks[2], 256),
            DepthWise(c128, c128, 512, 2, residual=False),
            _residual(c128, blocks[3], 256),
            _conv_bn(c128, 512),
        )
        self.gdc = nn.Sequential(
            nn.Conv2d(512, 512, 7, groups=512, bias=False), nn.BatchNorm2d(512)
        )
        self.fc = nn.Linear(512, embedding_dim, bias=False)
        self.features = nn.BatchNorm1d(embedding_dim)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.gdc(self.body(x))
        return self.features(self.fc(torch.flatten(x, 1)))


@register_backbone("mbf")
def mbf(embedding_dim: int = 512, pretrained: bool = False) -> MobileFaceNet:
    """MobileFaceNet: 112x112 RGB in, `embedding_dim` out (random init; no weights shipped)."""
    if pretrained:
        raise ValueError("no pretrained weights ship for mbf; fine-tune from a model file (--init)")
    return MobileFaceNet(embedding_dim)
