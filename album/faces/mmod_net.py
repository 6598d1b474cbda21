"""dlib's mmod face detector CNN (`mmod_human_face_detector.dat`) read into a torch module.

The file is dlib's serialization of `loss_mmod<con<1,9,9,1,1, rcon5<rcon5<rcon5<downsampler<
input_rgb_image_pyramid<pyramid_down<6>>>>>>>>`: three strided 5x5 convolutions (16, 32, 32
channels), three 5x5 convolutions with 45 channels, then a 9x9 convolution to one score map.
Each hidden convolution is followed by batch-norm statistics (`bn_con2`) and a ReLU; dlib's
Python API runs them as frozen `affine_` layers, so we fold them into the convolutions.
Format facts: `training.dlib_format` and the project notes (`notes/dlib-models.md`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from training.dlib_format import DlibFormatError, DlibReader


@dataclass(frozen=True)
class MMODOptions:
    """What the loss layer and input layer of the file say about running the net."""

    window_width: int
    window_height: int
    nms_iou: float
    nms_covered: float
    mean_rgb: tuple[float, float, float]


@dataclass(frozen=True)
class ConvSpec:
    weight: np.ndarray  # (out, in, kh, kw) float32
    bias: np.ndarray  # (out,) float32
    stride: int
    padding: int


@dataclass(frozen=True)
class BatchNormSpec:
    gamma: np.ndarray
    beta: np.ndarray
    running_mean: np.ndarray
    running_var: np.ndarray
    eps: float


def _skip_wrapper_state(reader: DlibReader, innermost: bool) -> None:
    """Skip what dlib's layer wrapper writes after a layer: 3 bools and 3 (empty) tensors;
    the innermost wrapper (over the input layer) adds its sample expansion factor."""
    for _ in range(3):
        reader.bool()
    for _ in range(3):
        reader.tensor()
    if innermost:
        reader.int()


def _skip_alias(reader: DlibReader) -> None:
    """An alias_tensor: version 1 and four dimensions, no data (a view into the params)."""
    version = reader.int()
    if version != 1:
        raise DlibFormatError(f"alias_tensor version {version}, expected 1")
    for _ in range(4):
        reader.int()


def _read_loss(reader: DlibReader) -> tuple[int, int, float, float]:
    reader.int()  # add_loss_layer version
    reader.expect_string("loss_mmod_")
    version = reader.int()
    if version != 1:
        raise DlibFormatError(f"mmod_options version {version}: only one-window v1 is supported")
    width, height = reader.int(), reader.int()
    reader.float()  # loss_per_false_alarm
    reader.float()  # loss_per_missed_target
    reader.float()  # truth_match_iou_threshold
    nms_iou, nms_covered = reader.float(), reader.float()
    reader.float(), reader.float()  # overlaps_ignore
    return width, height, nms_iou, nms_covered


def _read_input(reader: DlibReader) -> tuple[float, float, float]:
    reader.expect_string("input_rgb_image_pyramid")
    return (reader.float(), reader.float(), reader.float())


def _read_conv(reader: DlibReader) -> ConvSpec:
    params = reader.tensor().reshape(-1)
    filters, nr, nc = reader.int(), reader.int(), reader.int()
    stride_y, stride_x = reader.int(), reader.int()
    pad_y, pad_x = reader.int(), reader.int()
    if stride_y != stride_x or pad_y != pad_x or nr != nc:
        raise DlibFormatError("only square kernels, strides and paddings are supported")
    _skip_alias(reader)  # filters
    _skip_alias(reader)  # biases
    for _ in range(4):
        reader.float()  # learning-rate / weight-decay multipliers
    n_weights = params.size - filters
    in_channels = n_weights // (filters * nr * nc)
    weight = params[:n_weights].reshape(filters, in_channels, nr, nc)
    return ConvSpec(weight, params[n_weights:].copy(), stride_y, pad_y)


def _read_bn(reader: DlibReader) -> BatchNormSpec:
    params = reader.tensor().reshape(-1)
    _skip_alias(reader)  # gamma
    _skip_alias(reader)  # beta
    reader.tensor(), reader.tensor()  # batch means / invstds
    running_mean = reader.tensor().reshape(-1)
    running_var = reader.tensor().reshape(-1)
    reader.int(), reader.int()  # num_updates, running_stats_window_size
    for _ in range(4):
        reader.float()
    eps = reader.float()
    k = params.size // 2
    return BatchNormSpec(params[:k], params[k:], running_mean, running_var, eps)


def _read_layers(reader: DlibReader) -> list[ConvSpec | BatchNormSpec | str]:
    layers: list[ConvSpec | BatchNormSpec | str] = []
    while not reader.at_end():
        name = reader.string()
        if name == "con_4":
            layers.append(_read_conv(reader))
        elif name == "bn_con2":
            layers.append(_read_bn(reader))
        elif name == "relu_":
            layers.append("relu")
        else:
            raise DlibFormatError(f"unexpected layer {name!r}")
        _skip_wrapper_state(reader, innermost=not layers[:-1])
    return layers


def read_mmod_file(path: str | Path) -> tuple[MMODOptions, list[ConvSpec | BatchNormSpec | str]]:
    """Parse the detector file into its options and its layers in forward order."""
    reader = DlibReader.open(path)
    width, height, nms_iou, nms_covered = _read_loss(reader)
    while True:  # one version integer per layer wrapper; 3 marks the one over the input
        if reader.int() == 3:
            break
    mean = _read_input(reader)
    layers = _read_layers(reader)
    return MMODOptions(width, height, nms_iou, nms_covered, mean), layers


def _fold(conv: ConvSpec, bn: BatchNormSpec | None) -> nn.Conv2d:
    """A torch conv equal to conv followed by dlib's affine_ made from the bn statistics."""
    out_ch, in_ch, k, _ = conv.weight.shape
    module = nn.Conv2d(in_ch, out_ch, k, stride=conv.stride, padding=conv.padding)
    weight = torch.from_numpy(conv.weight.astype(np.float64))
    bias = torch.from_numpy(conv.bias.astype(np.float64))
    if bn is not None:
        var = torch.from_numpy(bn.running_var.astype(np.float64))
        gain = torch.from_numpy(bn.gamma.astype(np.float64)) / torch.sqrt(var + bn.eps)
        shift = torch.from_numpy(bn.beta.astype(np.float64)) - gain * torch.from_numpy(
            bn.running_mean.astype(np.float64)
        )
        weight = weight * gain[:, None, None, None]
        bias = bias * gain + shift
    with torch.no_grad():
        module.weight.copy_(weight.float())
        module.bias.copy_(bias.float())
    return module


class MMODNet(nn.Module):
    """Normalized RGB tensor (N, 3, H, W) -> score map (N, 1, H', W').

    Output cell (r, c) scores the detector window centred at input pixel
    (`stride * c + offset`, `stride * r + offset`).
    """

    def __init__(self, options: MMODOptions, body: nn.Sequential, stride: int, offset: int):
        super().__init__()
        self.options = options
        self.body = body
        self.stride = stride
        self.offset = offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    @property
    def min_input_size(self) -> int:
        """The smallest input side that yields at least one output cell."""
        need = 1
        for conv in reversed([m for m in self.body if isinstance(m, nn.Conv2d)]):
            need = (need - 1) * conv.stride[0] + conv.kernel_size[0] - 2 * conv.padding[0]
        return need

    @classmethod
    def from_file(cls, path: str | Path) -> MMODNet:
        options, layers = read_mmod_file(path)
        modules: list[nn.Module] = []
        stride, offset = 1, 0
        for i, layer in enumerate(layers):
            if isinstance(layer, ConvSpec):
                nxt = layers[i + 1] if i + 1 < len(layers) else None
                modules.append(_fold(layer, nxt if isinstance(nxt, BatchNormSpec) else None))
                k = layer.weight.shape[-1]
                offset += stride * ((k - 1) // 2 - layer.padding)
                stride *= layer.stride
            elif layer == "relu":
                modules.append(nn.ReLU(inplace=True))
        net = cls(options, nn.Sequential(*modules), stride, offset)
        return net.eval().requires_grad_(False)
