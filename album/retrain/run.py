"""`Retrainer`: retrain an album's model on its named faces, measure, adopt or discard.

The front door for the CLI (`face-album retrain`) and the GUI's Retrain panel:

    retrainer = Retrainer(lib, head="arcface")
    ok, reason, counts = retrainer.readiness()
    report = retrainer.run(progress=cb, cancel=event)   # trains, scores before/after
    if report.improved:
        retrainer.adopt(report, progress=cb, cancel=event)  # re-embeds, switches
    else:
        retrainer.discard(report)

Training always starts from the root of the active model's lineage (the shipped model), with
every label the user has given so far: retrains do not compound drift, and the result is
compared against whatever model is active now.
"""

from __future__ import annotations

import copy
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sqlalchemy import func, select

from album.faces.embedder import TorchEmbedder
from album.library.clock import now
from album.library.db import LibraryError
from album.library.library import Library
from album.library.models import model_spec
from album.library.schema import Embedding, Model
from album.people.threshold import grouping_threshold
from album.retrain import adopt as adoption
from album.retrain.calibrate import Sample, carried_thresholds, library_sample
from album.retrain.dataset import (
    MIN_FACES,
    LabeledFaces,
    Reference,
    Split,
    load_labeled,
    split_faces,
)
from album.retrain.open_set import open_set_scores
from album.retrain.report import (
    RetrainReport,
    Scores,
    album_thresholds,
    judge,
    reference_tar,
    score,
)
from training.backbones import backbone_names
from training.export import save_model
from training.finetune import TrainPlan, finetune
from training.model import resolve_device
from training.spec import ModelSpec, Thresholds

Progress = Callable[[str, int, int], None]  # (stage, done, total)
CPU_STEPS_PER_MINUTE = 40  # dlib ResNet, gentle unfreeze, batch 32: ~45/min measured on 2 cores
MAX_STEPS = 3000
KEEP_WEIGHT = 500.0  # the keep term's weight (`training.finetune.Keeping`); see `training_space`
KEEP_FACES = 1000  # unlabeled faces it holds in place: never the faces the candidate is judged on


def training_space(spec: ModelSpec) -> ModelSpec:
    """The spec a fine-tune trains in. A margin head needs classes spread around the origin,
    and dlib's raw descriptors sit in a narrow cone (any two faces ~0.84 cosine): a model
    compared without a `center` is fine-tuned around the population center its calibration
    measured (`training.finetune_center`, the person-balanced mean of 2,507 people). Measured
    on tests/test_retrain.py's album, 24 steps: TAR@FAR1e-3 0.07 -> 0.39 around it, -> 0.15
    without a center, -> 0.36 around the album's own mean.

    The candidate is then compared and shipped in its parent's geometry (no center), where
    the faces nobody named are searched best (flip-fused plain L2: TAR@FAR1e-5 0.585 against
    0.363 centred, on faces-lfw), and trained with the keep term (`KEEP_WEIGHT`), which holds
    the album's unlabeled faces where the shipped model put them. Measured on faces-lfw with
    200 groups named, ArcFace, the app's 166 steps, at each model's grouping threshold (people
    kept aside: the parent finds 745 of their 816 pairs, with 458 wrong matches): shipped
    centred, 690 found / 382 wrong; shipped plain, 696 / 175 without the keep term, 746 / 294
    with it (weight 50, centred space). Album-wide (bench/bench_retrain_album.py), no retrain:
    P 0.977 R 0.916 F 0.946, 136 strangers placed; keep weight 50 on the raw outputs: 0.974 /
    0.918 / 0.945, 142; weight 500: 0.976 / 0.918 / 0.946, 136 (chosen: nothing worse)."""

    center = spec.training.get("finetune_center")
    if spec.center is not None or not center:
        return spec
    return spec.replace(center=tuple(float(c) for c in center))


class Readiness(NamedTuple):
    ok: bool
    reason: str
    counts: dict[str, int]


class Retrainer:
    """One retrain of one library. `steps` (default: sized to the data and the budget) and
    `seed` make a run deterministic; `budget_minutes` stops training cleanly (default: 10 on
    CPU, 5 on CUDA)."""

    def __init__(
        self,
        lib: Library,
        head: str = "arcface",
        budget_minutes: float | None = None,
        *,
        steps: int | None = None,
        seed: int = 0,
        device: str = "auto",
        reference: Reference | None = None,
        min_faces: int = MIN_FACES,
        keep_weight: float = KEEP_WEIGHT,
    ) -> None:
        self.lib, self.head, self.seed, self.reference = lib, head, seed, reference
        self.keep_weight = keep_weight
        self.device = str(resolve_device(device))
        on_gpu = self.device.startswith("cuda")
        self.budget = budget_minutes if budget_minutes is not None else (5.0 if on_gpu else 10.0)
        self.steps, self.min_faces = steps, min_faces

    # -- before training -------------------------------------------------------------------
    def readiness(self) -> Readiness:
        """Whether there is enough to learn from and to measure on, and what to do if not."""
        active_id = self.lib.active_model_id()
        if active_id is None:
            return Readiness(False, "scan photos first: there is no model yet", {})
        backbone = self._root_spec(active_id).backbone
        if backbone not in backbone_names():
            return Readiness(False, f"models of type {backbone!r} cannot be retrained here", {})
        faces, split = self._data(with_chips=False)
        counts = split.counts(faces)
        if counts["trained_people"] < 2:
            return Readiness(
                False,
                f"confirm at least {self.min_faces} faces of at least 2 named people "
                f"(now {counts['trained_people']})",
                counts,
            )
        if counts["test_faces"] < 2:
            return Readiness(
                False, "confirm faces from more photos: none can be held out to test", counts
            )
        return Readiness(True, "ready", counts)

    def _data(self, with_chips: bool = True) -> tuple[LabeledFaces, Split]:
        alignment = self._root_spec(self.lib.active_model_id()).alignment
        with self.lib.session() as s:
            faces = load_labeled(s, alignment, with_chips)
        return faces, split_faces(faces, min_faces=self.min_faces, seed=self.seed)

    # -- training --------------------------------------------------------------------------
    def run(
        self, progress: Progress | None = None, cancel: threading.Event | None = None
    ) -> RetrainReport:
        """Train a candidate and score it against the active model on the held-out faces.
        Cancelled: `report.after` is None and a re-run resumes from the checkpoint."""
        started, say = time.monotonic(), progress or (lambda *_: None)
        ready = self.readiness()
        if not ready.ok:
            raise LibraryError(ready.reason)
        faces, split = self._data()
        active_id = self.lib.active_model_id()
        say("before", 0, 1)
        trained = np.isin(faces.person_ids, faces.person_ids[split.train])
        sample = library_sample(
            self.lib, self._root_spec(active_id).alignment, faces.face_ids[trained], seed=self.seed
        )
        parent = adoption.model_embedder(self.lib, active_id, self.device)
        parent_sample = parent.embed(sample.chips) if len(sample) else None
        before, _ = self._score(parent, faces, split, sample, parent_sample, None)
        say("before", 1, 1)
        backbone, spec = adoption.load_trainable(self.lib, self._root(active_id))
        plan = self._plan(len(split.train))
        workdir = self._workdir(faces, active_id)
        result = finetune(
            backbone,
            training_space(spec),
            faces.chips[split.train],
            faces.person_ids[split.train],
            plan,
            workdir / "checkpoints",
            progress=lambda p: say("train", p.step, p.total_steps),
            cancel=cancel,
            unlabeled=self._anchors(faces, sample, spec.alignment) if plan.keep_weight else None,
        )
        report = RetrainReport(self.head, split.counts(faces), before, None, False, "")
        report.parent_model_id = active_id
        report.training = {"plan": vars(plan), "steps": result.step, "stopped": result.stopped}
        if result.stopped == "cancelled":
            report.reason = "cancelled; run again to resume"
        else:
            say("after", 0, 1)
            candidate = TorchEmbedder(spec, copy.deepcopy(backbone), self.device)
            scored, carried = self._score_candidate(
                report, candidate, parent, parent_sample, faces, split, sample
            )
            self._judge_candidate(report, backbone, candidate.spec, scored, carried, workdir)
            say("after", 1, 1)
        report.seconds = time.monotonic() - started
        return report

    def _anchors(self, faces: LabeledFaces, sample: Sample, alignment: str) -> np.ndarray:
        """Unlabeled faces for the keep term: none the candidate is judged on (labeled or in
        the calibration sample), so holding them in place cannot flatter its scores."""
        judged_on = set(faces.face_ids.tolist()) | set(sample.face_ids.tolist())
        return library_sample(self.lib, alignment, judged_on, KEEP_FACES, self.seed + 1).chips

    def _score_candidate(self, report, candidate, parent, parent_sample, faces, split, sample):
        """The candidate's scores, with the thresholds carried over from the parent's curve on
        the sample (None when the parent has no curve, or there is no sample)."""
        carried = candidate_sample = None
        if parent_sample is not None and len(sample) >= 2:
            candidate_sample = candidate.embed(sample.chips)
            carried = carried_thresholds(parent.spec.thresholds, parent_sample, candidate_sample)
        if carried is None:
            candidate_sample = None
        else:
            n = len(sample)
            report.calibration = {"faces": n, "pairs": n * (n - 1) // 2}
        scored = self._score(candidate, faces, split, sample, candidate_sample, carried)
        return scored, carried

    def _score(
        self,
        embedder: TorchEmbedder,
        faces: LabeledFaces,
        split: Split,
        sample: Sample,
        sample_vectors: np.ndarray | None,
        carried: Thresholds | None,
    ) -> tuple[Scores, Thresholds]:
        """Scores at the model's threshold for FAR 1e-3 on this album, and those thresholds;
        the open-set scores at the threshold the library would group at with this model's
        curve (`carried` for a candidate, else its own)."""
        embeddings = embedder.embed(faces.chips)
        thresholds = album_thresholds(embeddings, faces.person_ids, split)
        reference = (
            None if self.reference is None else reference_tar(embedder.embed, self.reference)
        )
        scores = score(embeddings, faces.person_ids, split, thresholds.same_person, reference)
        curve = carried if carried is not None else embedder.spec.thresholds
        if sample_vectors is not None and curve.fmr_curve:
            scores.open_set = open_set_scores(
                embeddings,
                faces.person_ids,
                split,
                sample_vectors,
                sample.same_photo_pairs(),
                grouping_threshold(curve, self._library_faces()),
            )
        return scores, thresholds

    def _library_faces(self) -> int:
        """Faces the active model embeds: the N of the grouping threshold."""
        with self.lib.session() as s:
            return s.scalar(
                select(func.count())
                .select_from(Embedding)
                .where(Embedding.model_id == self.lib.active_model_id())
            )

    def _judge_candidate(self, report, backbone, spec, scored, carried, workdir) -> None:
        """Judge the scored candidate and save it with thresholds carried over from the active
        model's calibration (`album.retrain.calibrate`); only a parent without a calibration
        curve leaves the album's own held-out thresholds."""
        report.after, thresholds = scored
        report.improved, report.reason = judge(report.before, report.after)
        if carried is not None:
            thresholds = carried
        if thresholds.same_person <= 0 or thresholds.suggestion <= 0:
            report.improved = False
            report.reason = f"its thresholds make no sense ({thresholds.same_person:.3f})"
        with self.lib.session() as s:
            parent_name = s.get(Model, report.parent_model_id).name
        spec = spec.replace(
            name=f"{spec.backbone}-{self.head}-{now():%Y%m%d-%H%M%S}",
            parent=parent_name,
            thresholds=thresholds,
            weights_sha256=None,
            training={**report.training, "head": self.head, "counts": report.counts},
        )
        weights, spec_path = save_model(backbone, spec, workdir)
        report.candidate_name = spec.name
        report.weights_path, report.spec_path = str(weights), str(spec_path)

    def _plan(self, train_faces: int) -> TrainPlan:
        """~8 epochs of the training faces (head phase: a fifth), capped by what fits the
        budget on this device; `steps` overrides."""
        steps = self.steps
        if steps is None:
            per_minute = CPU_STEPS_PER_MINUTE * (10 if self.device.startswith("cuda") else 1)
            by_data = max(100, 8 * train_faces // 32)
            steps = int(min(by_data, per_minute * self.budget, MAX_STEPS))
        return TrainPlan(
            head=self.head,
            steps=steps,
            head_steps=max(steps // 5, 1),
            seed=self.seed,
            device=self.device,
            budget_minutes=self.budget,
            keep_weight=self.keep_weight,
        )

    def _root_spec(self, model_id: int) -> ModelSpec:
        with self.lib.session() as s:
            return model_spec(s, self._root(model_id))

    def _root(self, model_id: int) -> int:
        """The first model of `model_id`'s lineage."""
        with self.lib.session() as s:
            row = s.get(Model, model_id)
            while row.parent_id is not None:
                row = s.get(Model, row.parent_id)
            return row.id

    def _workdir(self, faces: LabeledFaces, active_id: int) -> Path:
        """Per (data, head, seed, model): a changed label set never resumes an old run."""
        name = f"model{active_id}-{self.head}-seed{self.seed}-keep{self.keep_weight:g}-{faces.fingerprint()}"
        return self.lib.data_dir / "retrain" / name

    # -- after training --------------------------------------------------------------------
    def adopt(
        self,
        report: RetrainReport,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        force: bool = False,
    ) -> adoption.Switched:
        """Record the candidate (weights moved to `<data_dir>/models/`), re-embed every face,
        switch. Refused unless the report says it is better (or `force`). A cancel or crash
        before the switch leaves the old model active; `use_model(lib, id)` finishes it."""
        if report.after is None or report.weights_path is None:
            raise LibraryError("nothing to adopt: the retrain did not finish")
        if not (report.improved or force):
            raise LibraryError(f"not adopted: {report.reason}")
        model_id = self.register(report)
        return adoption.use_model(self.lib, model_id, progress, cancel, self.device)

    def register(self, report: RetrainReport) -> int:
        """Keep the candidate as an inactive version (`use-model ID` adopts it later)."""
        weights, spec_path = self._install(report)
        model_id = adoption.register_model(
            self.lib, spec_path, weights, report.parent_model_id, report.to_dict()
        )
        self._clear_workdirs(report)
        return model_id

    def _install(self, report: RetrainReport) -> tuple[Path, Path]:
        models = self.lib.data_dir / "models"
        models.mkdir(parents=True, exist_ok=True)
        moved = []
        for path in (Path(report.weights_path), Path(report.spec_path)):
            target = models / path.name
            if path.exists():
                shutil.move(path, target)
            moved.append(target)
        report.weights_path, report.spec_path = str(moved[0]), str(moved[1])
        return moved[0], moved[1]

    def discard(self, report: RetrainReport) -> None:
        """Delete the candidate's files and checkpoints (never a registered model's files); the
        library is untouched."""
        installed = self.lib.data_dir / "models"
        for path in (report.weights_path, report.spec_path):
            if path is not None and Path(path).parent != installed:
                Path(path).unlink(missing_ok=True)
        self._clear_workdirs(report)

    def _clear_workdirs(self, report: RetrainReport) -> None:
        """Checkpoints of runs from this report's parent model (a new run starts afresh)."""
        for folder in (self.lib.data_dir / "retrain").glob(f"model{report.parent_model_id}-*"):
            shutil.rmtree(folder, ignore_errors=True)
