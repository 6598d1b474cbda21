"""The fast mode's scorer: the mmod CNN on a uint8 canvas, in int8 on the CPU.

Two changes to how dlib runs the same network, neither touching dlib mode:

* **The mean moves into the first convolution.** dlib feeds (pixel - mean) / 256. The first
  convolution has no padding, so conv(W, (p - mean) / 256) + b = conv(W, p / 256) + b', with
  b' = b - sum(W * mean) / 256, exactly. The canvas then stays uint8 (the pixels themselves;
  gaps and borders hold the mean colour, i.e. 0 after normalization, as in dlib's canvas):
  building it is a few byte copies instead of float arithmetic over the whole pyramid.
* **int8 on the CPU** (`precision="int8"`): weights quantized per output channel (symmetric,
  their own maximum), activations per layer with ranges measured once on sample photos that a
  dependency ships (`bench/calibrate_mmod_int8.py` writes `resources/models/mmod_int8.json`),
  7-bit activations (`reduce_range`) so CPUs without VNNI cannot overflow. The input needs no
  quantizing: uint8 pixels ARE the quantized p / 256 (scale 1/256, zero point 0). Measured
  (bench/bench_e2e.py): 5.4x the fp32 speed on one core; on faces-dev the same photos and faces
  are found; scores differ by ~0.04 on average. The network's scores plateau near 1 around a
  face, so which of the plateau's windows wins non-maximum suppression is arbitrary in both
  precisions: the detector votes the box over the winning window's neighbours (see
  `album.faces.detector`), which makes fp32 and int8 boxes agree.

On CUDA, and wherever PyTorch has no quantized engine, the fp32 network with the folded mean
runs instead (`precision="fp32"`).
"""

from __future__ import annotations

import json
import warnings
from functools import cache

import numpy as np
import torch
from torch import nn

from album.faces.mmod_net import MMODNet
from album.resources import resource_path

INT8_RANGES = "mmod_int8.json"
ACTIVATION_QMAX = 127  # reduce_range: 7-bit activations, safe on CPUs without VNNI
ENGINES = ("x86", "qnnpack")  # PyTorch's quantized CPU engines, preferred first


def mean_pixel(net: MMODNet) -> np.ndarray:
    """The colour that normalizes to (nearly) 0: what fills gaps and borders of the canvas."""
    return np.round(np.asarray(net.options.mean_rgb)).astype(np.uint8)


def _convs(net: MMODNet) -> list[nn.Conv2d]:
    return [m for m in net.body if isinstance(m, nn.Conv2d)]


def folded_first(net: MMODNet) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias of the first convolution for input p / 256 instead of (p - mean) / 256."""
    conv = _convs(net)[0]
    if conv.padding != (0, 0):
        raise ValueError("the mean folds into the first convolution only without padding")
    weight = conv.weight.detach().double()
    mean = torch.tensor(net.options.mean_rgb, dtype=torch.float64)[None, :, None, None]
    bias = conv.bias.detach().double() - (weight * mean / 256).sum((1, 2, 3))
    return weight.float(), bias.float()


def folded_net(net: MMODNet) -> nn.Sequential:
    """The fp32 network for input p / 256: a new first convolution, then `net`'s other layers
    (shared, not copied; `net` is unchanged)."""
    first = _convs(net)[0]
    conv = nn.Conv2d(first.in_channels, first.out_channels, first.kernel_size, first.stride)
    weight, bias = folded_first(net)
    with torch.no_grad():
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
    body = [conv, *list(net.body)[1:]]
    return nn.Sequential(*body).eval().requires_grad_(False)


def activations(net: MMODNet, pixels: torch.Tensor) -> list[torch.Tensor]:
    """The output of each convolution (after its ReLU, if it has one) for a uint8 canvas
    tensor (1, 3, H, W): what the int8 ranges are measured on."""
    body = folded_net(net)
    outputs = []
    x = pixels.float() / 256
    for i, module in enumerate(body):
        x = module(x)
        follows = body[i + 1] if i + 1 < len(body) else None
        if isinstance(module, nn.ReLU) or (
            isinstance(module, nn.Conv2d) and not isinstance(follows, nn.ReLU)
        ):
            outputs.append(x)
    return outputs


def load_ranges() -> list[tuple[float, float]]:
    """Per-convolution output ranges (low, high) from resources/models/mmod_int8.json."""
    data = json.loads(resource_path("models", INT8_RANGES).read_text())
    return [(float(lo), float(hi)) for lo, hi in data["ranges"]]


def quantized_engine() -> str | None:
    """The quantized CPU engine this PyTorch build has (None: int8 unavailable)."""
    supported = torch.backends.quantized.supported_engines
    return next((e for e in ENGINES if e in supported), None)


def quantized_net(net: MMODNet, ranges: list[tuple[float, float]]) -> nn.Sequential:
    """The int8 network: uint8 canvas (scale 1/256) in, quantized scores out."""
    import torch.ao.nn.intrinsic.quantized as nniq
    import torch.ao.nn.quantized as nnq

    convs = _convs(net)
    if len(ranges) != len(convs):
        raise ValueError(f"{len(ranges)} activation ranges for {len(convs)} convolutions")
    modules: list[nn.Module] = []
    for i, (conv, (low, high)) in enumerate(zip(convs, ranges)):
        weight, bias = folded_first(net) if i == 0 else (conv.weight.detach(), conv.bias.detach())
        last = i == len(convs) - 1
        kind = nnq.Conv2d if last else nniq.ConvReLU2d
        with warnings.catch_warnings():  # torch.ao's deprecation notes: the kernels are current
            warnings.simplefilter("ignore")
            module = kind(
                conv.in_channels,
                conv.out_channels,
                conv.kernel_size,
                stride=conv.stride,
                padding=conv.padding,
            )
            scales = (weight.abs().amax((1, 2, 3)).clamp_min(1e-12) / 127).double()
            zeros = torch.zeros(len(scales), dtype=torch.long)
            qweight = torch.quantize_per_channel(weight, scales, zeros, 0, torch.qint8)
            module.set_weight_bias(qweight, bias.float())
        scale = (high - low) / ACTIVATION_QMAX
        module.scale, module.zero_point = float(scale), int(round(-low / scale))
        modules.append(module)
    return nn.Sequential(*modules).eval()


class FastScorer:
    """uint8 canvas (H, W, 3) -> score map (H', W') float32, in int8 or fp32."""

    def __init__(self, net: MMODNet, device: str, precision: str = "auto") -> None:
        if precision not in ("auto", "int8", "fp32"):
            raise ValueError("precision must be auto, int8 or fp32")
        engine = quantized_engine() if device == "cpu" else None
        if precision == "int8" and engine is None:
            raise ValueError("int8 needs the CPU and a PyTorch build with a quantized engine")
        self.precision = "int8" if precision != "fp32" and engine is not None else "fp32"
        self.device = device
        self.min_input_size = net.min_input_size
        if self.precision == "int8":
            torch.backends.quantized.engine = engine
            self.net = _cached_int8(net)
        else:
            self.net = folded_net(net).to(device)

    def __call__(self, canvas: np.ndarray) -> np.ndarray:
        if min(canvas.shape[:2]) < self.min_input_size:
            return np.zeros((0, 0), dtype=np.float32)
        pixels = torch.from_numpy(canvas).permute(2, 0, 1)[None]  # a channels_last view
        with torch.inference_mode():
            if self.precision == "int8":
                x = torch._make_per_tensor_quantized_tensor(pixels, 1 / 256, 0)
                return self.net(x).dequantize()[0, 0].numpy()
            x = pixels.to(self.device).float().mul_(1 / 256)
            return self.net(x)[0, 0].float().cpu().numpy()


@cache
def _cached_int8(net: MMODNet) -> nn.Sequential:
    return quantized_net(net, load_ranges())
