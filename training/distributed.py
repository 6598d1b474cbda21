"""Multi-GPU through torch.distributed + DDP, switched on only by `torchrun` (WORLD_SIZE > 1).

A single process never touches torch.distributed. Under torchrun each rank uses the GPU
LOCAL_RANK, the model is wrapped in DistributedDataParallel, and the ranks agree on when to stop
(the time budget or a cancel can trip on one rank first). Only the full-softmax head is
supported (no partial FC): every rank holds all class centres, fine up to ~100k identities.
tests/test_training_ddp.py checks on CPU (gloo) that two ranks of half a batch train exactly
what one process does with the whole batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from training.model import resolve_device


@dataclass
class DistributedContext:
    device: torch.device
    rank: int = 0
    world_size: int = 1
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, module: nn.Module, has_frozen_phase: bool) -> nn.Module:
        if self.world_size == 1:
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        # a frozen backbone produces no gradients for a while: DDP must not wait for them
        return nn.parallel.DistributedDataParallel(
            module.to(self.device), device_ids=ids, find_unused_parameters=has_frozen_phase
        )

    def agree(self, code: int) -> int:
        """The largest stop code over all ranks, so that every rank stops at the same step."""
        if self.world_size == 1:
            return code
        value = torch.tensor([code], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return int(value.item())

    def close(self) -> None:
        if self.owns_group:
            dist.barrier()
            dist.destroy_process_group()
            self.owns_group = False


def init_distributed(device_name: str) -> DistributedContext:
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext(resolve_device(device_name))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_name != "cpu" and torch.cuda.is_available()
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    owns = not dist.is_initialized()
    if owns:
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return DistributedContext(device, dist.get_rank(), world_size, owns)
