"""DDP through torchrun on CPU (gloo): two ranks of half a batch train exactly one full batch."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.distributed as dist

from training import checkpoint as ckpt

SCRIPT = textwrap.dedent(
    """
    import os, sys, torch
    from torch import nn
    from training.config import TrainConfig
    from training.data import SyntheticFaces
    from training.heads import create_head
    from training.loop import fit
    from training.spec import ModelSpec

    torch.set_num_threads(1)
    spec = ModelSpec(name="t", backbone="t", input_size=8, alignment="none", embedding_dim=8,
                     mean=(127.5,) * 3, std=(64.0,) * 3)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(192, 16), nn.PReLU(), nn.Linear(16, 8))
    head = create_head("arcface", 8, 6)
    config = TrainConfig(steps=6, batch_size=12 // world, augment=False, device="cpu",
                         checkpoint_dir=sys.argv[1], freeze_backbone_steps=2)
    fit(config, model, head, SyntheticFaces(6, 10, size=8, seed=1), spec)
    """
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs gloo")
def test_two_cpu_ranks_match_one_process(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    single = [sys.executable, str(script), str(tmp_path / "one")]
    torchrun = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        str(_free_port()),
        str(script),
        str(tmp_path / "two"),
    ]
    for command in (single, torchrun):
        done = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
    one, _ = ckpt.load_checkpoint(tmp_path / "one" / "last.ckpt.safetensors")
    two, meta = ckpt.load_checkpoint(tmp_path / "two" / "last.ckpt.safetensors")
    assert meta["step"] == 6
    for key in (k for k in one if k.startswith(("model.", "head."))):
        torch.testing.assert_close(one[key], two[key], rtol=1e-5, atol=1e-6)
