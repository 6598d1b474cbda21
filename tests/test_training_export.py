"""Model files: round trip through the registry, hash check, checkpoint export, ONNX."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from training.backbones import create_backbone
from training.config import TrainConfig, default_spec
from training.data import SyntheticFaces
from training.export import export_checkpoint, export_onnx, load_model, save_model
from training.heads import create_head
from training.loop import fit

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def mbf():
    torch.manual_seed(0)
    model = create_backbone("mbf", embedding_dim=32).eval()
    return model, default_spec("mbf", 32, name="tiny-mbf")


def test_save_and_load_round_trip(tmp_path, mbf):
    model, spec = mbf
    with torch.no_grad():  # move BN statistics off their defaults so that they must be saved
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
    weights, spec_path = save_model(model, spec, tmp_path)
    loaded, loaded_spec = load_model(weights)
    x = torch.randn(2, 3, 112, 112)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert loaded_spec.replace(weights_sha256=None) == spec and loaded_spec.weights_sha256
    assert spec_path.name == "tiny-mbf.json" and not loaded.training


def test_a_stale_spec_is_refused(tmp_path, mbf):
    model, spec = mbf
    weights, _ = save_model(model, spec, tmp_path)
    other = save_model(
        create_backbone("mbf", embedding_dim=32), spec.replace(name="other"), tmp_path
    )[0]
    with pytest.raises(ValueError, match="sha256"):
        load_model(other, tmp_path / "tiny-mbf.json")
    assert load_model(weights)[1].name == "tiny-mbf"


def test_export_checkpoint_records_training_and_parent(tmp_path, mbf):
    model, spec = mbf
    data = SyntheticFaces(3, 2, size=112, seed=0)
    config = TrainConfig(
        backbone="mbf",
        embedding_dim=32,
        head="cosface",
        init="base.safetensors",
        steps=1,
        batch_size=6,
        checkpoint_dir=str(tmp_path / "ck"),
    )
    result = fit(config, model, create_head("cosface", 32, 3), data, spec)
    weights, spec_path = export_checkpoint(result.last_checkpoint, tmp_path / "out")
    loaded, child = load_model(weights)
    assert child.name == "tiny-mbf-finetuned" and child.parent == "tiny-mbf"
    assert child.training["objective"].startswith("CombinedMarginHead(classes=3")
    assert (
        child.training["head"] == "cosface"
        and child.training["steps"] == 1
        and child.training["num_classes"] == 3
    )
    with torch.no_grad():
        x = torch.randn(2, 3, 112, 112)
        assert torch.equal(loaded(x), model.eval()(x))


@pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None,
    reason="needs onnx + onnxruntime",
)
def test_onnx_embeds_the_preprocessing(tmp_path, mbf):
    import onnxruntime

    from training.data import Preprocess

    model, spec = mbf
    path = export_onnx(model, spec, tmp_path / "m.onnx")
    pixels = torch.randint(0, 256, (3, 3, 112, 112)).float()
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"pixels": pixels.numpy()})
    with torch.no_grad():
        expected = model(Preprocess(spec)(pixels)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-3, atol=1e-4)
