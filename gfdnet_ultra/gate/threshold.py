"""Pick the gate threshold that keeps a target defect recall on a validation set (DefectNet had a fixed argmax).

The highest threshold t such that at least ceil(target * n_defective) defective images have p >= t: it skips as many
images as possible while the gate still passes the required share of defective ones.
Shape shorthand: n validation images.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ("check_threshold", "pick_gate_threshold", "pick_threshold")


def check_threshold(threshold: float) -> float:
    """Return `threshold` as a float if it is in [0, 1], else raise ValueError saying what works."""
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"gate threshold={threshold!r} is not a number; use a probability in [0, 1], e.g. 0.5") from None
    if not 0.0 <= t <= 1.0:
        raise ValueError(
            f"gate threshold={threshold} is outside [0, 1]; it is the p(defect) below which detection is skipped "
            "(0 never skips, 0.5 is DefectNet's argmax)"
        )
    return t


def pick_threshold(p_defect: Sequence[float], defective: Sequence[bool], target_recall: float = 0.99) -> float:
    """Largest threshold whose gate recall on (p_defect, defective) is >= target_recall.

    Examples:
        >>> pick_threshold([0.9, 0.8, 0.3, 0.2, 0.1], [1, 1, 1, 0, 0], target_recall=0.6)
        0.8
    """
    if not 0.0 < target_recall <= 1.0:
        raise ValueError(f"pick_threshold: target_recall={target_recall} must be in (0, 1], e.g. 0.99")
    p, t = np.asarray(p_defect, float), np.asarray(defective, bool)
    if p.shape != t.shape:
        raise ValueError(f"pick_threshold: {p.size} probabilities but {t.size} labels")
    if not t.any():
        raise ValueError("pick_threshold: the validation set has no defective image, so recall is undefined")
    need = math.ceil(target_recall * t.sum() - 1e-9)
    return float(np.sort(p[t])[::-1][need - 1])


def pick_gate_threshold(model, data: str, target_recall: float = 0.99, split: str = "val", **val_args) -> float:
    """Run the gate ungated (threshold=0) on a dataset split and return the threshold keeping `target_recall`.

    `model` is a gated YOLO model (or a detector with `gate_classifier=` in `val_args`).
    """
    metrics = model.val(**{**val_args, "data": data, "split": split, "threshold": 0.0, "plots": False, "save_json": False})
    rows = getattr(metrics, "gate_rows", None)
    if not rows:
        raise ValueError("pick_gate_threshold: the model has no gate; use a gated checkpoint or gate_classifier=")
    return pick_threshold(rows["p"], rows["defective"], target_recall)
