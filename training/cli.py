"""`python -m training train|evaluate|export`: the training module on its own.

  python -m training train --data synthetic --backbone mbf --head arcface --steps 200 --out runs/a
  python -m training train --data chips/ --init base.safetensors --freeze-backbone-steps 200 \\
      --backbone-lr-factor 0.1 --budget-minutes 10 --out runs/ft
  python -m training train --resume runs/a/checkpoints/last.ckpt.safetensors
  python -m training export runs/a/checkpoints/best.ckpt.safetensors --out models/ --onnx
  python -m training evaluate --model models/mbf.safetensors --chips val_chips/
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from pathlib import Path

import torch

from training.config import TrainConfig, build_model, build_objective
from training.heads import HEAD_NAMES
from training.loop import Callback, FitResult, Progress
from training.metric_losses import METRIC_LOSS_NAMES

_OPTIONAL = argparse.SUPPRESS  # train flags left out keep the config (or checkpoint) value


def _add_train_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--data",
        help="'synthetic', 'synthetic:CLASSES:PER_CLASS', a folder DIR/<identity>/<chip>, or an insightface .rec",
    )
    add(
        "--out",
        type=Path,
        default=Path("runs/train"),
        help="run folder: checkpoints/ and the exported model (default: runs/train)",
    )
    add(
        "--resume",
        type=Path,
        metavar="CKPT",
        help="continue a run exactly from its checkpoint (other flags: only --steps, --device, --budget-minutes, --workers apply)",
    )
    _add_model_arguments(parser.add_argument_group("model"))
    _add_optimization_arguments(parser.add_argument_group("optimization"))
    _add_run_arguments(parser.add_argument_group("run"))


def _add_model_arguments(model: argparse._ArgumentGroup) -> None:
    model.add_argument(
        "--backbone",
        default=_OPTIONAL,
        help="registry key: iresnet18/34/50/100, mbf, dlib_resnet (default mbf)",
    )
    model.add_argument("--embedding-dim", type=int, default=_OPTIONAL, help="default 512")
    model.add_argument(
        "--init",
        default=_OPTIONAL,
        metavar="WEIGHTS",
        help="fine-tune from a model file (.safetensors + its .json spec)",
    )
    model.add_argument(
        "--head",
        default=_OPTIONAL,
        choices=HEAD_NAMES + METRIC_LOSS_NAMES,
        help="objective (default arcface)",
    )
    model.add_argument(
        "--s",
        type=float,
        default=_OPTIONAL,
        help="scale; default 64, or sqrt(2)*ln(C-1) below 1000 classes",
    )
    model.add_argument(
        "--m",
        type=float,
        nargs="+",
        default=_OPTIONAL,
        help="margin (arcface 0.5, cosface 0.35, sphereface 4, triplet 0.2, contrastive 1.0); m1 m2 m3 for 'combined' (default 1 0.3 0.2); the centre-loss weight for 'center' (0.01)",
    )
    model.add_argument(
        "--sub-centers", type=int, default=_OPTIONAL, help="sub-centres per class (default 1)"
    )


def _add_optimization_arguments(opt: argparse._ArgumentGroup) -> None:
    opt.add_argument(
        "--steps", type=int, default=_OPTIONAL, help="total steps (wins over --epochs)"
    )
    opt.add_argument("--epochs", type=float, default=_OPTIONAL, help="default 1")
    opt.add_argument("--batch-size", type=int, default=_OPTIONAL, help="per device (default 128)")
    opt.add_argument(
        "--m-per-class",
        type=int,
        default=_OPTIONAL,
        help="class-balanced batches, M chips per identity",
    )
    opt.add_argument("--optimizer", choices=("sgd", "adamw"), default=_OPTIONAL)
    opt.add_argument("--lr", type=float, default=_OPTIONAL, help="default 0.1 (sgd)")
    opt.add_argument("--weight-decay", type=float, default=_OPTIONAL, help="default 5e-4")
    opt.add_argument("--schedule", choices=("cosine", "poly", "constant"), default=_OPTIONAL)
    opt.add_argument("--warmup-steps", type=int, default=_OPTIONAL)
    opt.add_argument(
        "--clip-grad", type=float, default=_OPTIONAL, help="max grad norm (default 5; 0 = off)"
    )
    opt.add_argument(
        "--freeze-backbone-steps", type=int, default=_OPTIONAL, help="train only the head first"
    )
    opt.add_argument(
        "--backbone-lr-factor", type=float, default=_OPTIONAL, help="backbone lr = lr * this"
    )
    opt.add_argument("--no-augment", dest="augment", action="store_false", default=_OPTIONAL)


def _add_run_arguments(run: argparse._ArgumentGroup) -> None:
    run.add_argument("--device", default=_OPTIONAL, help="auto (default), cpu, cuda, cuda:1")
    run.add_argument("--amp", choices=("auto", "bf16", "fp16", "off"), default=_OPTIONAL)
    run.add_argument("--seed", type=int, default=_OPTIONAL)
    run.add_argument(
        "--workers", dest="num_workers", type=int, default=_OPTIONAL, help="data loader processes"
    )
    run.add_argument(
        "--checkpoint-every",
        type=int,
        default=_OPTIONAL,
        help="steps (a checkpoint is always saved at the end)",
    )
    run.add_argument(
        "--validate-every",
        type=int,
        default=_OPTIONAL,
        help="steps; needs --val-chips or --val-bin",
    )
    run.add_argument(
        "--val-chips",
        type=Path,
        help="DIR/<person>/<chip>: verification accuracy picks the best checkpoint",
    )
    run.add_argument("--val-bin", type=Path, help="an insightface .bin pair pack, as --val-chips")
    run.add_argument(
        "--budget-minutes", type=float, default=_OPTIONAL, help="stop cleanly after this long"
    )
    run.add_argument(
        "--name", help="exported model name (default: backbone, or '<parent>-finetuned')"
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")


_RUNTIME = {"steps", "device", "budget_minutes", "num_workers"}


def _train_config(args: argparse.Namespace) -> TrainConfig:
    known = set(TrainConfig().to_dict())
    given = {k: v for k, v in vars(args).items() if k in known and v is not None}
    if "m" in given and len(given["m"]) == 1:
        given["m"] = given["m"][0]
    if args.resume:
        from training.checkpoint import load_checkpoint

        _, meta = load_checkpoint(args.resume)
        base = TrainConfig.from_dict(meta["config"])
        return base.replace(**{k: v for k, v in given.items() if k in _RUNTIME})
    if not given.get("data"):
        raise SystemExit("train: --data is required (or --resume)")
    config = TrainConfig(**given)
    return config.replace(checkpoint_dir=str(args.out / "checkpoints"))


class ProgressBar(Callback):
    """A tqdm bar with loss, accuracy, lr and images/s; validations and checkpoints as lines."""

    def __init__(self) -> None:
        self.bar = None

    def on_step(self, progress: Progress) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=progress.total_steps,
                initial=progress.step - 1,
                unit="step",
                dynamic_ncols=True,
            )
        acc = "" if progress.accuracy is None else f" acc={progress.accuracy:.3f}"
        self.bar.set_postfix_str(
            f"loss={progress.loss:.4f}{acc} lr={progress.lr:.2g} {progress.images_per_s:.3g} img/s {progress.phase}"
        )
        self.bar.update(progress.step - self.bar.n)

    def on_validation(self, step: int, value: float, is_best: bool) -> None:
        line = f"step {step}: validation {value:.4f}{' (best)' if is_best else ''}"
        self.bar.write(line) if self.bar is not None else print(line)

    def on_end(self, result: FitResult) -> None:
        if self.bar is not None:
            self.bar.close()


def _validator(args: argparse.Namespace, spec, device: str):
    """validate(model) -> verification accuracy on --val-chips/--val-bin, or None."""
    if args.val_chips is None and args.val_bin is None:
        return None
    from training.evaluate import bin_pairs, chip_folder_pairs, evaluate_pairs, model_embedder

    pairs = chip_folder_pairs(args.val_chips) if args.val_chips else bin_pairs(args.val_bin)

    def validate(model) -> float:
        embed = model_embedder(model, spec, device)
        return evaluate_pairs(embed, pairs, size=spec.input_size).best_accuracy

    return validate


def _build(args: argparse.Namespace, config: TrainConfig):
    """(model, spec, dataset, head) for a new run, or for the run being resumed."""
    from training.data import open_dataset

    torch.manual_seed(config.seed)
    if args.resume:
        from training.export import model_from_checkpoint

        model, spec, _ = model_from_checkpoint(args.resume)
    else:
        model, spec = build_model(config)
    dataset = open_dataset(config.data, spec, config.seed)
    return model, spec, dataset, build_objective(config, spec.embedding_dim, dataset.num_classes)


def run_train(args: argparse.Namespace) -> int:
    from training.loop import fit
    from training.model import resolve_device

    config = _train_config(args)
    model, spec, dataset, head = _build(args, config)
    callbacks = [] if args.no_progress else [ProgressBar()]
    validate = _validator(args, spec, str(resolve_device(config.device)))
    cancel = threading.Event()
    resume = str(args.resume) if args.resume else None
    with _ctrl_c_sets(cancel):
        result = fit(config, model, head, dataset, spec, callbacks=callbacks, validate=validate, cancel=cancel, resume=resume)  # fmt: skip
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, rank 0 exports and reports
        _export_and_report(result, config, args.name)
    return 0


def _export_and_report(result: FitResult, config: TrainConfig, name: str | None) -> None:
    """Export the best checkpoint (else the last) beside checkpoints/ and print a JSON summary."""
    from training.checkpoint import checkpoint_path
    from training.export import export_checkpoint

    kept = "best" if result.best_value is not None else "last"
    chosen = checkpoint_path(config.checkpoint_dir, kept)
    weights, spec_path = export_checkpoint(chosen, Path(config.checkpoint_dir).parent, name=name)
    summary = {
        "stopped": result.stopped,
        "step": result.step,
        "loss": round(result.loss, 5),
        "accuracy": result.accuracy,
        "best_value": result.best_value,
        "images_per_s": round(result.images_per_s, 1),
        "checkpoint": str(chosen),
        "model": str(weights),
        "spec": str(spec_path),
    }
    print(json.dumps(summary, indent=2))


@contextlib.contextmanager
def _ctrl_c_sets(cancel: threading.Event):
    """The first Ctrl-C stops training after the current step, with a checkpoint; a second one
    interrupts at once."""

    def first(_signum, _frame) -> None:
        print("\nstopping after this step (Ctrl-C again to abort)", file=sys.stderr)
        cancel.set()
        signal.signal(signal.SIGINT, previous)

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, first) if in_main else None
    try:
        yield
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)


def run_export(args: argparse.Namespace) -> int:
    from training.export import export_checkpoint

    weights, spec_path = export_checkpoint(
        args.checkpoint, args.out, name=args.name, onnx=args.onnx
    )
    print(f"{weights}\n{spec_path}")
    return 0


def _add_evaluate(commands) -> None:
    parser = commands.add_parser(
        "evaluate", help="verification accuracy, TAR@FAR and thresholds of a model"
    )
    try:
        from training import evaluate_cli
    except ImportError as error:
        message = f"evaluate is unavailable: {error}"
        parser.set_defaults(run=lambda _args: sys.exit(message))
        return
    evaluate_cli.add_arguments(parser)
    parser.set_defaults(run=evaluate_cli.run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train", help="train or fine-tune an embedding model with a margin loss"
    )
    _add_train_arguments(train)
    train.set_defaults(run=run_train)
    _add_evaluate(commands)
    export = commands.add_parser(
        "export", help="training checkpoint -> model.safetensors + model.json (+ .onnx)"
    )
    export.add_argument("checkpoint", type=Path, help="a *.ckpt.safetensors file")
    export.add_argument("--out", type=Path, required=True, help="output folder")
    export.add_argument("--name", help="model name (default: the spec's)")
    export.add_argument(
        "--onnx", action="store_true", help="also write <name>.onnx (needs the onnx package)"
    )
    export.set_defaults(run=run_export)
    return parser


DEBUG_ENV = "TRAINING_DEBUG"  # set to 1: unexpected errors show their traceback


def main(argv: list[str] | None = None) -> int:
    """Run one command. A failure is one line on stderr and a non-zero exit status: 2 for
    missing or unusable files and values, 130 for Ctrl-C, 141 for a closed output pipe, 70 for
    an unexpected error (a bug: `TRAINING_DEBUG=1` shows its traceback)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as error:  # noqa: BLE001 - the one error boundary of the command line
        return _fail(*_describe(error))


def _describe(error: Exception) -> tuple[str, int]:
    import pickle

    from safetensors import SafetensorError

    if isinstance(error, OSError):
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror or error}{where}", 2
    if isinstance(error, ValueError | SafetensorError | pickle.UnpicklingError | KeyError):
        return f"{error}", 2
    if isinstance(error, MemoryError):
        return "out of memory", 2
    if os.environ.get(DEBUG_ENV):
        raise error
    return f"internal error ({type(error).__name__}: {error}); {DEBUG_ENV}=1 shows where", 70


def _fail(message: str, status: int) -> int:
    text = message.replace("\n", " ").replace("\x1b", "\\x1b")[:2000]
    with contextlib.suppress(OSError):
        print(f"python -m training: {text}", file=sys.stderr)
    return status
