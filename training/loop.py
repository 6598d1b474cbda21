"""The training loop: `fit(config, model, head, dataset, spec, ...)` and its callback API.

One process trains on CPU or one GPU; `torchrun --nproc_per_node=N python -m training train ...`
trains with torch DDP (initialised only when WORLD_SIZE > 1; every rank builds the same batches
and takes its slice, rank 0 saves). What makes a run reproducible and resumable: the batch order
is a function of (seed, epoch) and the loop's position in it; the learning rate is a function of
the step; the checkpoint holds every RNG state. So N steps + resume + N steps gives bit-identical
weights to 2N steps on CPU.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from training import checkpoint as ckpt
from training.config import TrainConfig
from training.data import Preprocess, augment_batch
from training.distributed import DistributedContext, init_distributed
from training.optim import apply_lr, build_optimizer, lr_factor, total_steps
from training.sampling import BatchPlan
from training.spec import ModelSpec


@dataclass
class Progress:
    """What a callback sees after every optimizer step."""

    step: int
    total_steps: int
    epoch: int  # epochs completed so far
    loss: float
    accuracy: float | None  # batch accuracy of the class-centre argmax (None for pair losses)
    lr: float  # the base (head) learning rate of this step; the backbone's is scaled
    images_per_s: float
    eta_s: float
    phase: str  # "head" while the backbone is frozen, then "full"


class Callback:
    """Override what you need. Callbacks run on rank 0 only."""

    def on_step(self, progress: Progress) -> bool | None:
        """Return True to stop cleanly after this step (a checkpoint is saved)."""
        return None

    def on_validation(self, step: int, value: float, is_best: bool) -> None:
        return None

    def on_checkpoint(self, path: str, step: int) -> None:
        return None

    def on_end(self, result: FitResult) -> None:
        return None


@dataclass
class FitResult:
    step: int
    epoch: int
    stopped: str  # "done", "cancelled" or "budget"
    loss: float  # mean over the last 20 steps
    accuracy: float | None
    seconds: float  # this run's wall time
    images_per_s: float
    best_value: float | None = None
    best_step: int | None = None
    last_checkpoint: str | None = None
    best_checkpoint: str | None = None
    validations: list[tuple[int, float]] = field(default_factory=list)


class Objective(nn.Module):
    """Backbone + head as one module, so DDP sees (and synchronises) both."""

    def __init__(self, backbone: nn.Module, head: nn.Module):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(
        self, images: torch.Tensor, labels: torch.Tensor, frozen: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if frozen:
            with torch.no_grad():
                embeddings = self.backbone(images)
        else:
            embeddings = self.backbone(images)
        return self.head.loss(embeddings, labels)


def select_amp(config: TrainConfig, device: torch.device) -> torch.dtype | None:
    """bf16 where supported (no scaler needed), else fp16 with a grad scaler; never on CPU."""
    if config.amp == "off" or (config.amp == "auto" and device.type != "cuda"):
        return None
    if config.amp == "fp16" or (config.amp == "auto" and not torch.cuda.is_bf16_supported()):
        return torch.float16
    return torch.bfloat16


def fit(
    config: TrainConfig,
    model: nn.Module,
    head: nn.Module,
    dataset: torch.utils.data.Dataset,
    spec: ModelSpec,
    *,
    callbacks: Sequence[Callback] = (),
    validate: Callable[[nn.Module], float] | None = None,
    cancel: threading.Event | None = None,
    resume: str | None = None,
    restore_best: bool = False,
) -> FitResult:
    """Train `model` (embeddings) with `head` (objective with `.loss(emb, labels)`) on `dataset`.

    `validate(model) -> float` (higher is better) runs every `config.validate_every` steps and at
    the end; the best value's weights are kept as checkpoint 'best' and, with `restore_best`,
    loaded back into `model` before returning. `cancel` (or a callback's `on_step` returning
    True) stops after the current step with a checkpoint saved; so does the time budget.
    The global torch RNG is seeded with `config.seed` (dropout draws from it); build the model
    and head after seeding too if the whole run must be reproducible.
    """
    trainer = Trainer(config, model, head, dataset, spec, list(callbacks), validate, cancel)
    if resume is not None:
        trainer.restore(resume)
    return trainer.run(restore_best)


class Trainer:
    """The state of one `fit` call; each method is one part of a step."""

    def __init__(self, config, model, head, dataset, spec, callbacks, validate, cancel):
        self.config, self.spec, self.dataset = config, spec, dataset
        self.callbacks, self.validate, self.cancel = callbacks, validate, cancel
        self.dist: DistributedContext = init_distributed(config.device)
        self.device = self.dist.device
        torch.manual_seed(config.seed)
        self.model, self.head = model.to(self.device), head.to(self.device)
        self.objective = self.dist.wrap(
            Objective(self.model, self.head), config.freeze_backbone_steps > 0
        )
        self.optimizer = build_optimizer(self.model, self.head, config)
        self.amp = select_amp(config, self.device)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp == torch.float16)
        self.plan = BatchPlan(
            dataset.labels,
            config.batch_size,
            config.seed,
            config.m_per_class,
            self.dist.rank,
            self.dist.world_size,
        )
        self.total = total_steps(config, len(self.plan))
        self.preprocess = Preprocess(spec)
        self.augment_rng = torch.Generator().manual_seed(config.seed + 1)
        self.step = self.epoch = self.position = 0
        self.best_value: float | None = None
        self.best_step: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.result = FitResult(0, 0, "done", float("nan"), None, 0.0, 0.0)
        self.recent: list[tuple[float, float | None]] = []

    # --- the loop -------------------------------------------------------------------------
    def run(self, restore_best: bool) -> FitResult:
        self.started, start_step = time.monotonic(), self.step
        stopped = "done" if self.step >= self.total else None
        while stopped is None:
            for images, labels in self._loader():
                metrics = self._train_step(images, labels)
                self._advance()
                stopped = self._after_step(metrics, start_step)
                if stopped:
                    break
        return self._finish(stopped, start_step, restore_best)

    def _loader(self) -> torch.utils.data.DataLoader:
        batches = self.plan.epoch_batches(self.epoch)[self.position :]
        return torch.utils.data.DataLoader(
            self.dataset,
            batch_sampler=batches,
            num_workers=self.config.num_workers,
            pin_memory=self.device.type == "cuda",
            # its own generator: a loader draws a worker seed from the global RNG otherwise,
            # and a resumed run opens a loader mid-epoch where a straight run does not
            generator=torch.Generator().manual_seed(self.config.seed + self.epoch),
        )

    def _train_step(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float | None]:
        frozen = self.step < self.config.freeze_backbone_steps
        self.model.train(not frozen)
        self.head.train()
        apply_lr(self.optimizer, self.step, self.total, self.config)
        images = images.to(self.device, non_blocking=True)
        labels = labels.to(self.device, non_blocking=True)
        pixels = augment_batch(images, self.augment_rng) if self.config.augment else images
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(self.device.type, dtype=self.amp, enabled=self.amp is not None):
            loss, logits = self.objective(self.preprocess(pixels), labels, frozen)
        self.scaler.scale(loss).backward()
        if self.config.clip_grad:
            self.scaler.unscale_(self.optimizer)
            params = [p for group in self.optimizer.param_groups for p in group["params"]]
            nn.utils.clip_grad_norm_(params, self.config.clip_grad)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        accuracy = None if logits is None else (logits.argmax(1) == labels).float().mean().item()
        return loss.item(), accuracy

    def _advance(self) -> None:
        self.step += 1
        self.position += 1
        if self.position >= len(self.plan):
            self.epoch, self.position = self.epoch + 1, 0

    def _after_step(self, metrics: tuple[float, float | None], start_step: int) -> str | None:
        self.recent = (self.recent + [metrics])[-20:]
        wants_stop = any(
            [cb.on_step(self._progress(metrics, start_step)) for cb in self._rank0_callbacks()]
        )
        if (
            self.config.validate_every
            and self.step % self.config.validate_every == 0
            and self.step < self.total
        ):
            self._validate()
        if self.config.checkpoint_every and self.step % self.config.checkpoint_every == 0:
            self._save("last")
        return self._stop_reason(wants_stop)

    def _stop_reason(self, wants_stop: bool) -> str | None:
        budget = self.config.budget_minutes
        over_budget = budget is not None and time.monotonic() - self.started > budget * 60
        cancelled = wants_stop or (self.cancel is not None and self.cancel.is_set())
        code = self.dist.agree(
            3 if self.step >= self.total else 2 if over_budget else 1 if cancelled else 0
        )
        return {0: None, 1: "cancelled", 2: "budget", 3: "done"}[code]

    def _progress(self, metrics: tuple[float, float | None], start_step: int) -> Progress:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        done = self.step - start_step
        images = done * self.config.batch_size * self.dist.world_size
        return Progress(
            step=self.step,
            total_steps=self.total,
            epoch=self.epoch,
            loss=metrics[0],
            accuracy=metrics[1],
            lr=self.config.lr * lr_factor(self.step - 1, self.total, self.config),
            images_per_s=images / elapsed,
            eta_s=(self.total - self.step) * elapsed / max(done, 1),
            phase="head" if self.step <= self.config.freeze_backbone_steps else "full",
        )

    def _finish(self, stopped: str, start_step: int, restore_best: bool) -> FitResult:
        if stopped != "cancelled":
            self._validate()
        self._save("last")
        if restore_best and self.best_value is not None:
            self.model.load_state_dict(self._best_weights())
        seconds = time.monotonic() - self.started
        losses = [loss for loss, _ in self.recent]
        accuracies = [acc for _, acc in self.recent if acc is not None]
        images = (self.step - start_step) * self.config.batch_size * self.dist.world_size
        result = self.result
        result.step, result.epoch, result.stopped, result.seconds = (
            self.step,
            self.epoch,
            stopped,
            seconds,
        )
        result.loss = sum(losses) / len(losses) if losses else float("nan")
        result.accuracy = sum(accuracies) / len(accuracies) if accuracies else None
        result.images_per_s = images / max(seconds, 1e-9)
        result.best_value, result.best_step = self.best_value, self.best_step
        for cb in self._rank0_callbacks():
            cb.on_end(result)
        self.dist.close()
        return result

    # --- validation and checkpoints ------------------------------------------------------
    def _validate(self) -> None:
        if (
            self.validate is None
            or not self.dist.is_main
            or (self.result.validations and self.result.validations[-1][0] == self.step)
        ):
            return
        self.model.eval()
        with torch.no_grad():
            value = float(self.validate(self.model))
        self.result.validations.append((self.step, value))
        is_best = self.best_value is None or value > self.best_value
        if is_best:
            self.best_value, self.best_step = value, self.step
            self.best_state = {
                k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()
            }
            self._save("best")
        for cb in self.callbacks:
            cb.on_validation(self.step, value, is_best)

    def _save(self, name: str) -> None:
        if self.config.checkpoint_dir is None or not self.dist.is_main:
            return
        tensors, meta = self._state()
        path = ckpt.save_checkpoint(
            ckpt.checkpoint_path(self.config.checkpoint_dir, name), tensors, meta
        )
        setattr(self.result, f"{name}_checkpoint", str(path))
        for cb in self.callbacks:
            cb.on_checkpoint(str(path), self.step)

    def _state(self) -> tuple[dict[str, torch.Tensor], dict]:
        optim_tensors, optim_meta = ckpt.optimizer_state(self.optimizer)
        tensors = {
            **ckpt.prefixed("model", self.model.state_dict()),
            **ckpt.prefixed("head", self.head.state_dict()),
            **optim_tensors,
            **ckpt.rng_state(self.augment_rng),
        }
        meta = {
            "step": self.step,
            "epoch": self.epoch,
            "position": self.position,
            "config": self.config.to_dict(),
            "spec": json.loads(self.spec.to_json()),
            "objective": repr(self.head),  # what was trained; config.head is only a name
            "num_classes": getattr(self.dataset, "num_classes", None),
            "classes": [str(c) for c in getattr(self.dataset, "classes", [])],
            "best_value": self.best_value,
            "best_step": self.best_step,
            "validations": self.result.validations,
            "optimizer": optim_meta,
            "scaler": self.scaler.state_dict(),
        }
        return tensors, meta

    def restore(self, path: str) -> None:
        """Continue exactly where the checkpoint at `path` stopped."""
        tensors, meta = ckpt.load_checkpoint(path)
        self.model.load_state_dict(ckpt.unprefixed("model", tensors))
        self.head.load_state_dict(ckpt.unprefixed("head", tensors))
        ckpt.restore_optimizer(self.optimizer, tensors, meta["optimizer"])
        ckpt.restore_rng(tensors, self.augment_rng)
        if meta["scaler"]:
            self.scaler.load_state_dict(meta["scaler"])
        self.step, self.epoch, self.position = meta["step"], meta["epoch"], meta["position"]
        self.best_value, self.best_step = meta["best_value"], meta["best_step"]
        self.result.validations = [tuple(v) for v in meta["validations"]]

    def _best_weights(self) -> dict[str, torch.Tensor]:
        if self.best_state is not None:
            return self.best_state
        tensors, _ = ckpt.load_checkpoint(ckpt.checkpoint_path(self.config.checkpoint_dir, "best"))
        return ckpt.unprefixed("model", tensors)

    def _rank0_callbacks(self) -> list[Callback]:
        return self.callbacks if self.dist.is_main else []
