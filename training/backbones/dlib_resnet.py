"""dlib's face-recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`) as a torch module.

The network is the one in dlib's `dnn_face_recognition_ex.cpp`: a 7x7/2 conv stem, 14 residual
blocks (3 at 32 channels; down + 3 at 64; down + 2 at 128; down + 2 at 256; down at 256), a
global average and a bias-free 256->128 fc. Its input is a 150x150 RGB chip as (pixel - mean)/256
(the embedder applies that from the model spec); its output is dlib's raw, unnormalized
descriptor, which dlib compares at Euclidean distance 0.6.

Two dlib quirks are reproduced because the weights depend on them:
- a stride-2 conv has no padding, and a down block's shortcut is a 2x2/2 average pool with no
  projection; the sum takes the larger spatial size and channel count, zero-filling the smaller
  operand at the bottom/right (3x3 + 4x4 -> 4x4 happens in the last stages).
- dlib's `affine_` layers are batch norms frozen into a per-channel scale and shift. They stay
  separate learnable modules (`Affine`) so the network can be fine-tuned without batch statistics
  (small user batches would corrupt them); `fused()` folds them into the convs for inference.

The `.dat` file is parsed with `training.dlib_format.DlibReader`; loading never unpickles.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from training.backbones import register_backbone
from training.dlib_format import DlibFormatError, DlibReader, shipped_model_path
from training.spec import ModelSpec, sha256_file

DAT_NAME = "dlib_face_recognition_resnet_model_v1.dat"
INPUT_SIZE = 150
PIXEL_SCALE = 256.0  # dlib divides (pixel - mean) by 256, not 255
# (width, stride) of each residual block, input to output
_BLOCKS = (
    *[(32, 1)] * 3,
    (64, 2),
    *[(64, 1)] * 3,
    (128, 2),
    *[(128, 1)] * 2,
    (256, 2),
    *[(256, 1)] * 2,
    (256, 2),
)


class Affine(nn.Module):
    """dlib's `affine_` layer: y = weight * x + bias per channel (a frozen batch norm)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


def _add_zero_fill(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's add_prev: the sum over the larger shape, the smaller operand zero-filled."""
    if a.shape == b.shape:
        return a + b
    c, h, w = (max(a.shape[i], b.shape[i]) for i in (1, 2, 3))

    def grow(x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (0, w - x.shape[3], 0, h - x.shape[2], 0, c - x.shape[1]))

    return grow(a) + grow(b)


class DlibBlock(nn.Module):
    """relu(affine(conv(relu(affine(conv(x))))) + shortcut(x)), dlib's `ares`/`ares_down`."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, padding=1 if stride == 1 else 0)
        self.affine1 = Affine(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, padding=1)
        self.affine2 = Affine(cout)
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.affine2(self.conv2(F.relu(self.affine1(self.conv1(x)))))
        shortcut = F.avg_pool2d(x, 2, 2) if self.stride == 2 else x
        return F.relu(_add_zero_fill(y, shortcut))


class DlibResNet(nn.Module):
    """(N, 3, 150, 150) normalized RGB -> (N, embedding_dim) raw descriptors."""

    def __init__(self, embedding_dim: int = 128) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 7, 2, padding=0)
        self.affine = Affine(32)
        blocks, cin = [], 32
        for width, stride in _BLOCKS:
            blocks.append(DlibBlock(cin, width, stride))
            cin = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, embedding_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.affine(self.conv(x))), 3, 2)
        x = self.blocks(x).mean(dim=(2, 3))
        return self.fc(x)

    def conv_affine_pairs(self) -> list[tuple[str, str]]:
        """Names of each conv and the affine after it, in forward order (also the file's order)."""
        pairs = [("conv", "affine")]
        for i in range(len(self.blocks)):
            pairs += [(f"blocks.{i}.conv1", f"blocks.{i}.affine1")]
            pairs += [(f"blocks.{i}.conv2", f"blocks.{i}.affine2")]
        return pairs

    def fused(self) -> DlibResNet:
        """A copy for inference with every affine folded into the conv before it (idempotent)."""
        model = copy.deepcopy(self).eval()
        with torch.no_grad():
            for conv_name, affine_name in model.conv_affine_pairs():
                conv, affine = model.get_submodule(conv_name), model.get_submodule(affine_name)
                if not isinstance(affine, Affine):  # already folded
                    continue
                conv.weight.mul_(affine.weight.view(-1, 1, 1, 1))
                conv.bias.mul_(affine.weight).add_(affine.bias)
                parent, _, attr = affine_name.rpartition(".")
                setattr(model.get_submodule(parent) if parent else model, attr, nn.Identity())
        return model


@dataclass(frozen=True)
class DlibResNetDat:
    """What the .dat holds: the weights (keyed for `DlibResNet`) and the input's mean pixel."""

    state_dict: dict[str, torch.Tensor]
    mean_rgb: tuple[float, float, float]


def default_dat_path() -> Path:
    """The .dat shipped by the PyPI package `face_recognition_models`."""
    return shipped_model_path(DAT_NAME)


def _read_alias(reader: DlibReader) -> tuple[int, ...]:
    if reader.int() != 1:
        raise DlibFormatError("expected an alias_tensor (version 1)")
    return tuple(reader.int() for _ in range(4))


def _read_conv(reader: DlibReader) -> dict[str, np.ndarray | tuple]:
    params = reader.tensor().ravel()
    out, kh, kw, sy, sx, py, px = (reader.int() for _ in range(7))
    filters, _biases = _read_alias(reader), _read_alias(reader)
    for _ in range(4):  # learning-rate and weight-decay multipliers
        reader.float()
    n = int(np.prod(filters))
    return {
        "weight": params[:n].reshape(filters),
        "bias": params[n : n + out],
        "geometry": (out, kh, kw, sy, sx, py, px),
    }


def _read_affine(reader: DlibReader) -> dict[str, np.ndarray]:
    params = reader.tensor().ravel()
    gamma, _beta = _read_alias(reader), _read_alias(reader)
    reader.int()  # mode: conv (per channel)
    n = int(np.prod(gamma))
    return {"weight": params[:n], "bias": params[n : 2 * n]}


def _read_fc(reader: DlibReader) -> np.ndarray:
    outputs, inputs = reader.int(), reader.int()
    params = reader.tensor().reshape(inputs, -1)
    for _ in range(2):  # weights and (empty) biases views
        _read_alias(reader)
    if reader.int() != 1:
        raise DlibFormatError("expected a bias-free fc layer")
    for _ in range(4):
        reader.float()
    return params[:, :outputs].T  # stored (inputs, outputs)


def _skip_layer_tail(reader: DlibReader) -> None:
    """Three flags and the (empty) gradient/output caches after each layer's record."""
    for _ in range(3):
        reader.bool()
    for _ in range(3):
        reader.tensor()


def _read_records(reader: DlibReader) -> tuple[list[dict], list[dict], np.ndarray]:
    convs, affines, fc = [], [], None
    first = True
    while not reader.at_end():
        name = reader.string()
        if name == "con_4":
            convs.append(_read_conv(reader))
        elif name == "affine_":
            affines.append(_read_affine(reader))
        elif name.startswith(("max_pool_", "avg_pool_")):
            for _ in range(6):  # window, stride, padding: fixed by the architecture
                reader.int()
        elif name == "fc_2":
            fc = _read_fc(reader)
        elif name not in ("relu_", "add_prev_"):
            raise DlibFormatError(f"unexpected layer {name!r} in the dlib ResNet")
        _skip_layer_tail(reader)
        if first:  # the innermost layer also stores its sample expansion factor
            reader.int()
            first = False
    if fc is None:
        raise DlibFormatError("no fc layer found")
    return convs, affines, fc


def read_dlib_resnet_dat(path: str | Path) -> DlibResNetDat:
    """Parse the .dat: loss record, layer versions, input record, then layers from the input."""
    reader = DlibReader.open(path)
    reader.int()
    reader.expect_string("loss_metric_2")
    reader.float(), reader.float()  # margin, distance threshold
    while reader.int() != 3:  # one version per layer wrapper, 3 = the one over the input
        pass
    reader.expect_string("input_rgb_image_sized")
    mean = (reader.float(), reader.float(), reader.float())
    if (reader.int(), reader.int()) != (INPUT_SIZE, INPUT_SIZE):
        raise DlibFormatError("expected a 150x150 input")
    convs, affines, fc = _read_records(reader)
    return DlibResNetDat(_to_state_dict(convs, affines, fc), mean)


def _to_state_dict(convs: list[dict], affines: list[dict], fc: np.ndarray) -> dict:
    """Map the records, in forward order, onto `DlibResNet`'s names, checking the geometry."""
    skeleton = DlibResNet()
    pairs = skeleton.conv_affine_pairs()
    if len(convs) != len(pairs) or len(affines) != len(pairs):
        raise DlibFormatError(f"{len(convs)} convs / {len(affines)} affines, need {len(pairs)}")
    state = {}
    for (conv_name, affine_name), conv, affine in zip(pairs, convs, affines, strict=True):
        module = skeleton.get_submodule(conv_name)
        expected = (module.out_channels, *module.kernel_size, *module.stride, *module.padding)
        if conv["geometry"] != expected:
            raise DlibFormatError(f"{conv_name}: file has {conv['geometry']}, need {expected}")
        state[f"{conv_name}.weight"] = torch.from_numpy(conv["weight"].copy())
        state[f"{conv_name}.bias"] = torch.from_numpy(conv["bias"].copy())
        state[f"{affine_name}.weight"] = torch.from_numpy(affine["weight"].copy())
        state[f"{affine_name}.bias"] = torch.from_numpy(affine["bias"].copy())
    state["fc.weight"] = torch.from_numpy(np.ascontiguousarray(fc))
    return state


def load_dlib_resnet_dat(path: str | Path) -> dict[str, torch.Tensor]:
    """The `DlibResNet` state dict held by a dlib ResNet .dat file."""
    return read_dlib_resnet_dat(path).state_dict


@register_backbone("dlib_resnet")
def dlib_resnet(
    pretrained: bool = True, embedding_dim: int = 128, dat_path: str | Path | None = None
) -> DlibResNet:
    """dlib's ResNet; `pretrained` loads dlib's weights (the default .dat unless `dat_path`).

    With `embedding_dim` other than 128 the pretrained trunk is loaded and the fc starts fresh,
    which is the starting point for fine-tuning to a new embedding size.
    """
    model = DlibResNet(embedding_dim)
    if pretrained:
        state = load_dlib_resnet_dat(dat_path or default_dat_path())
        if embedding_dim != 128:
            del state["fc.weight"]
        model.load_state_dict(state, strict=embedding_dim == 128)
    return model


def dlib_resnet_spec(mean_rgb: tuple[float, float, float], **changes) -> ModelSpec:
    """The spec of dlib's model: preprocessing as dlib does it; thresholds come from calibration."""
    spec = ModelSpec(
        name="dlib_resnet_v1",
        backbone="dlib_resnet",
        input_size=INPUT_SIZE,
        alignment="dlib_chip",
        embedding_dim=128,
        channel_order="RGB",
        mean=tuple(float(m) for m in mean_rgb),
        std=(PIXEL_SCALE,) * 3,
        training={"source": DAT_NAME},
    )
    return spec.replace(**changes)


def convert_dlib_resnet(
    out_dir: str | Path, dat_path: str | Path | None = None, spec: ModelSpec | None = None
) -> tuple[Path, Path]:
    """Write `<name>.safetensors` + `<name>.json` from the .dat; `spec` (e.g. the calibrated one)
    is used as is apart from the weights' hash, else a spec without calibration is built."""
    data = read_dlib_resnet_dat(dat_path or default_dat_path())
    spec = spec or dlib_resnet_spec(data.mean_rgb)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights_path, spec_path = out_dir / f"{spec.name}.safetensors", out_dir / f"{spec.name}.json"
    save_file(data.state_dict, str(weights_path), metadata={"format": "pt"})
    spec_path.write_text(spec.replace(weights_sha256=sha256_file(weights_path)).to_json())
    return weights_path, spec_path
