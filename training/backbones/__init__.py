"""Backbone registry: one front door, `create_backbone(name, **kwargs)`.

Each backbone module decorates its factory with `@register_backbone("key")`. Modules are listed
here explicitly and imported on first use, so `import training` stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from torch import nn

_MODULES: dict[str, str] = {
    "dlib_resnet": "training.backbones.dlib_resnet",
    "iresnet18": "training.backbones.iresnet",
    "iresnet34": "training.backbones.iresnet",
    "iresnet50": "training.backbones.iresnet",
    "iresnet100": "training.backbones.iresnet",
    "mbf": "training.backbones.mobilefacenet",
}
_FACTORIES: dict[str, Callable[..., nn.Module]] = {}


def register_backbone(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    def decorate(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        _FACTORIES[name] = factory
        return factory

    return decorate


def backbone_names() -> list[str]:
    return sorted(_MODULES)


def create_backbone(name: str, **kwargs) -> nn.Module:
    if name not in _MODULES:
        raise KeyError(f"unknown backbone {name!r}; known: {', '.join(backbone_names())}")
    if name not in _FACTORIES:
        importlib.import_module(_MODULES[name])
    return _FACTORIES[name](**kwargs)
