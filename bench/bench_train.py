"""Training throughput (images/s) and peak memory per backbone, through the real `fit` loop.

    python bench/bench_train.py                       # every 112px backbone, batch 32, 3 steps
    python bench/bench_train.py --batch-size 128 --steps 5 --backbones mbf iresnet18
    python bench/bench_train.py --device cuda --amp bf16

Each backbone runs in a fresh subprocess so that its peak memory (max RSS on CPU, max allocated
on CUDA) is its own. One warm-up step is excluded from the timing. Synthetic data (generated on
the fly, part of the measured time as data loading would be), ArcFace head with 1000 classes,
SGD, augmentation on.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

DEFAULT_BACKBONES = ["mbf", "iresnet18", "iresnet34", "iresnet50", "iresnet100"]


def measure(
    name: str, batch_size: int, steps: int, device: str, amp: str, threads: int | None
) -> dict:
    import torch

    from training.backbones import create_backbone
    from training.config import TrainConfig, default_spec
    from training.data import SyntheticFaces
    from training.heads import create_head
    from training.loop import Callback, fit

    if threads:
        torch.set_num_threads(threads)
    spec = default_spec(name, 512)
    model = create_backbone(name, embedding_dim=spec.embedding_dim, pretrained=False)
    head = create_head("arcface", spec.embedding_dim, 1000)
    data = SyntheticFaces(1000, 2, size=spec.input_size)
    stamps: list[float] = []

    class Clock(Callback):
        def on_step(self, progress) -> None:
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            stamps.append(time.perf_counter())

    config = TrainConfig(steps=steps + 1, batch_size=batch_size, device=device, amp=amp, lr=0.01)
    fit(config, model, head, data, spec, callbacks=[Clock()])
    seconds = stamps[-1] - stamps[0]
    if device.startswith("cuda"):
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "backbone": name,
        "batch": batch_size,
        "steps": steps,
        "images_per_s": steps * batch_size / seconds,
        "s_per_step": seconds / steps,
        "peak_mb": peak_mb,
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
    }


def run_isolated(name: str, args: argparse.Namespace) -> dict:
    command = [
        sys.executable,
        __file__,
        "--one",
        name,
        "--batch-size",
        str(args.batch_size),
        "--steps",
        str(args.steps),
        "--device",
        args.device,
        "--amp",
        args.amp,
    ]
    if args.threads:
        command += ["--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {
            "backbone": name,
            "error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed",
        }
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(rows: list[dict]) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, torch threads as set, load average {load} (after the runs)")
    print(
        f"{'backbone':<12}{'params M':>9}{'batch':>7}{'steps':>7}{'s/step':>9}{'img/s':>9}{'peak MB':>9}"
    )
    for row in rows:
        if "error" in row:
            print(f"{row['backbone']:<12} error: {row['error']}")
            continue
        print(
            f"{row['backbone']:<12}{row['params_m']:>9.1f}{row['batch']:>7}{row['steps']:>7}{row['s_per_step']:>9.2f}{row['images_per_s']:>9.1f}{row['peak_mb']:>9.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backbones", nargs="+", default=DEFAULT_BACKBONES)
    parser.add_argument(
        "--batch-size", type=int, default=32, help="128 is the GPU setting; CPU default 32"
    )
    parser.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up step")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", default="auto", choices=("auto", "bf16", "fp16", "off"))
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(
            json.dumps(
                measure(args.one, args.batch_size, args.steps, args.device, args.amp, args.threads)
            )
        )
        return
    rows = []
    for name in args.backbones:
        rows.append(run_isolated(name, args))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print_table(rows)


if __name__ == "__main__":
    main()
