"""Retraining an album's embedding model on the faces its user named, measured and adopted
safely. Front door: `Retrainer` (see `album.retrain.run`); model versions: `album.retrain.adopt`.
"""

from album.retrain.adopt import Switched, forget_model, models_table, use_model
from album.retrain.dataset import Reference, load_reference
from album.retrain.report import RetrainReport, Scores
from album.retrain.run import Readiness, Retrainer

__all__ = [
    "Readiness",
    "Reference",
    "RetrainReport",
    "Retrainer",
    "Scores",
    "Switched",
    "forget_model",
    "load_reference",
    "models_table",
    "use_model",
]
