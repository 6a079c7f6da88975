"""Pick the gate threshold that keeps a target defect recall on a validation set (DefectNet had a fixed argmax).

The highest threshold t such that at least ceil(target * n_defective) defective images have p >= t: it skips as many
images as possible while the gate still passes the required share of defective ones.
Shape shorthand: n validation images.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

__all__ = ("check_threshold", "pick_threshold")

LOGGER = logging.getLogger(__name__)


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

    The set must hold both classes: without defective images recall is undefined, without normal ones the skip rate
    the threshold buys cannot be seen. Logs a warning when the set is too small to resolve the target (fewer than
    1 / (1 - target) defective images: the pick then keeps every one of them) or when the target is reached only at
    a threshold that skips no normal image (the gate does not separate the classes at that recall).

    Examples:
        >>> pick_threshold([0.9, 0.8, 0.3, 0.2, 0.1], [1, 1, 1, 0, 0], target_recall=0.6)
        0.8
    """
    if not 0.0 < target_recall <= 1.0:
        raise ValueError(
            f"pick_threshold: target_recall={target_recall} cannot be reached by any threshold; it is the share of "
            "defective images the gate must pass, in (0, 1], e.g. 0.99"
        )
    p, t = np.asarray(p_defect, float), np.asarray(defective, bool)
    if p.shape != t.shape:
        raise ValueError(f"pick_threshold: {p.size} probabilities but {t.size} labels")
    if not t.any():
        raise ValueError(
            f"pick_threshold: the calibration set ({t.size} images) has no defective image, so recall is undefined; "
            "calibrate on a split with labelled defects (a larger calib= share, or split='val')"
        )
    if t.all():
        raise ValueError(
            f"pick_threshold: the calibration set ({t.size} images) has no normal image (empty label file), so the "
            "skip rate a threshold buys cannot be measured; add defect-free images with empty label files or "
            "calibrate on a split that has them"
        )
    if not np.isfinite(p).all():
        raise ValueError("pick_threshold: p_defect holds NaN or inf; the gate's output is broken (check the weights)")
    n_def = int(t.sum())
    need = math.ceil(target_recall * n_def - 1e-9)
    thr = float(np.sort(p[t])[::-1][need - 1])
    if target_recall < 1.0 and n_def < 1.0 / (1.0 - target_recall):
        LOGGER.warning(
            f"pick_threshold: {n_def} defective images cannot resolve target_recall={target_recall} (needs >= "
            f"{math.ceil(1 / (1 - target_recall))}); the threshold keeps {need} of {n_def}. Use a larger calibration "
            "split for a tighter pick"
        )
    if thr <= float(p[~t].min()):
        LOGGER.warning(
            f"pick_threshold: target_recall={target_recall} is reached only at threshold {thr:.4g}, which skips no "
            "normal image: the gate does not separate the classes at this recall. Fit the gate on the trained "
            "detector (`gfdnet fit-gate`), or accept a lower target"
        )
    return thr

