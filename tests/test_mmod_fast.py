"""The fast mode's scorer: mean folded into the first convolution, int8 on the CPU, box voting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from album.faces import mmod_fast
from album.faces.detector import MMODDetector, load_mmod_net, suppress, vote
from album.faces.mmod_fast import FastScorer, activations, load_ranges, mean_pixel
from album.faces.types import Detection
from tests.detector_support import iou


@pytest.fixture(scope="module")
def net(model_path):
    return load_mmod_net(str(model_path), "cpu")


def test_folding_the_mean_changes_nothing(net, crop) -> None:
    """conv(W, p/256) + b' == conv(W, (p - mean)/256) + b, inside and on the mean-filled gaps."""
    canvas, _ = MMODDetector(device="cpu")._fast_canvas(crop)
    folded = FastScorer(net, "cpu", "fp32")(canvas)
    planes = (canvas.astype(np.float32) - np.asarray(net.options.mean_rgb, np.float32)) / 256
    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(planes.transpose(2, 0, 1)))[None]
        reference = net(x)[0, 0].numpy()
    # the gaps hold round(mean), so they normalize to within 0.5/256 of dlib's exact 0
    assert np.abs(folded - reference).max() < 2e-3


@pytest.mark.skipif(mmod_fast.quantized_engine() is None, reason="no quantized engine")
def test_int8_scores_follow_fp32(net, crop) -> None:
    canvas, _ = MMODDetector(device="cpu")._fast_canvas(crop)
    fp32 = FastScorer(net, "cpu", "fp32")(canvas)
    int8 = FastScorer(net, "cpu", "int8")
    assert int8.precision == "int8"
    scores = int8(canvas)
    assert scores.shape == fp32.shape
    low, high = load_ranges()[-1]
    in_range = (fp32 > low) & (fp32 < high)  # beyond it scores saturate, harmlessly
    assert in_range.mean() > 0.1
    assert np.abs(scores - fp32)[in_range].mean() < 0.08
    # the threshold is exact: every clearly positive or negative window keeps its sign
    clear = np.abs(fp32) > 0.25
    assert (np.sign(scores[clear]) == np.sign(fp32[clear])).mean() > 0.999


@pytest.mark.skipif(mmod_fast.quantized_engine() is None, reason="no quantized engine")
@pytest.mark.parametrize("flip", [False, True])
def test_int8_and_fp32_find_the_same_faces(model_path, t1, flip) -> None:
    image = np.ascontiguousarray(t1[:, ::-1]) if flip else t1
    fp32 = MMODDetector(device="cpu", precision="fp32").detect(image)
    int8 = MMODDetector(device="cpu", precision="int8").detect(image)
    assert len(fp32) == len(int8) == 6
    for want in fp32:
        assert max(iou(got.box, want.box) for got in int8) > 0.8


def test_auto_precision_falls_back_to_fp32_without_a_quantized_engine(net, monkeypatch) -> None:
    monkeypatch.setattr(mmod_fast, "quantized_engine", lambda: None)
    assert FastScorer(net, "cpu", "auto").precision == "fp32"
    with pytest.raises(ValueError, match="int8"):
        FastScorer(net, "cpu", "int8")


def test_ranges_cover_every_convolution(net) -> None:
    ranges = load_ranges()
    assert len(ranges) == sum(isinstance(m, torch.nn.Conv2d) for m in net.body)
    assert all(low == 0 < high for low, high in ranges[:-1])
    low, high = ranges[-1]
    assert low == -high < 0  # scores: symmetric, so 0 is exact and in the middle


def test_activations_are_one_per_convolution(net) -> None:
    pixels = torch.full((1, 3, 64, 64), 120, dtype=torch.uint8)
    with torch.inference_mode():
        outs = activations(net, pixels)
    assert len(outs) == len(load_ranges())
    assert all((o >= 0).all() for o in outs[:-1])
    assert tuple(outs[-1].shape[:2]) == (1, 1)


def test_mean_pixel_is_the_rounded_mean(net) -> None:
    assert np.array_equal(mean_pixel(net), np.round(net.options.mean_rgb).astype(np.uint8))


def test_vote_averages_the_near_ties_of_the_winner() -> None:
    candidates = [
        Detection((0, 0, 100, 100), 1.05),
        Detection((10, 0, 110, 100), 1.00),  # a near tie: pulls the box right
        Detection((-40, 0, 60, 100), 0.50),  # overlapping but clearly worse: ignored
        Detection((500, 500, 600, 600), 0.90),  # another face: its own box
    ]
    kept = suppress(candidates, 0.338, 1.0)
    voted = vote(kept, candidates, 0.338, 1.0, margin=0.1)
    assert len(voted) == 2
    left = (0 * 1.05 + 10 * 1.0) / 2.05
    assert voted[0].box == pytest.approx((left, 0, left + 100, 100))
    assert voted[0].score == 1.05
    assert voted[1].box == (500, 500, 600, 600)
