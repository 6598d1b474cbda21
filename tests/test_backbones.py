"""Contract tests over every registered backbone (one that cannot be created fails, never
skips), plus the IResNet/MobileFaceNet specifics."""

from __future__ import annotations

import pytest
import torch

from training.backbones import backbone_names, create_backbone
from training.config import default_spec

DIMS = {"dlib_resnet": 128}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("name", backbone_names())
def test_backbone_contract(name):
    dim = DIMS.get(name, 512)
    model = create_backbone(name, embedding_dim=dim, pretrained=False).eval()
    size = default_spec(name, dim).input_size
    with torch.no_grad():
        out = model(torch.randn(2, 3, size, size))
    assert out.shape == (2, dim) and torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["iresnet18", "mbf"])
def test_train_mode_backward_and_embedding_dim(name):
    model = create_backbone(name, embedding_dim=64).train()
    out = model(torch.randn(2, 3, 112, 112))
    out.square().sum().backward()
    assert out.shape == (2, 64)
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize("name", ["iresnet18", "iresnet34", "iresnet50", "iresnet100", "mbf"])
def test_no_pretrained_weights_ship(name):
    with pytest.raises(ValueError, match="no pretrained weights"):
        create_backbone(name, pretrained=True)
