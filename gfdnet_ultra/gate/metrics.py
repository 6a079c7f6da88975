"""Image-level metrics of a gated detector: DefectNet's F1 and ATT, plus the gate's own precision/recall and skip rate.

DefectNet (`tools/defect_test.py`, IEEE TIM 2021): the image F1 is the macro average over {normal, defective} of
sklearn's classification report, an image being predicted defective iff it has a detection scoring above 0.05; ATT is
the mean per-image model time, ATT_normal / ATT_defective the means over ground-truth normal / defective images.
We add the gate decision's precision, recall and F1 for the defective class, its macro F1, and the skip rate.
Shape shorthand: n images; all inputs are 1-D sequences of length n.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ("DEFECTNET_SCORE", "binary_scores", "gate_report")

DEFECTNET_SCORE = 0.05  # DefectNet's test score_thr: an image "has a defect" if a box scores above it


def binary_scores(y_true: Sequence[bool], y_pred: Sequence[bool]) -> dict[str, float]:
    """Precision, recall and F1 of the positive class, and the macro F1 over both classes (0 where undefined).

    Examples:
        >>> binary_scores([1, 1, 0, 0], [1, 0, 0, 0])
        {'precision': 1.0, 'recall': 0.5, 'f1': 0.6666666666666666, 'macro_f1': 0.7333333333333334}
    """
    t, p = np.asarray(y_true, bool), np.asarray(y_pred, bool)

    def prf(pos_t: np.ndarray, pos_p: np.ndarray) -> tuple[float, float, float]:
        tp, n_pred, n_true = float((pos_t & pos_p).sum()), float(pos_p.sum()), float(pos_t.sum())
        prec = tp / n_pred if n_pred else 0.0
        rec = tp / n_true if n_true else 0.0
        return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)

    prec, rec, f1 = prf(t, p)
    return {"precision": prec, "recall": rec, "f1": f1, "macro_f1": (f1 + prf(~t, ~p)[2]) / 2}


def gate_report(
    defective: Sequence[bool],
    p_defect: Sequence[float],
    threshold: float,
    times_ms: Sequence[float],
    max_score: Sequence[float],
) -> dict[str, float]:
    """All gate metrics of one validation run.

    Args:
        defective: Ground truth per image (any box in its label file).
        p_defect: Gate probability per image.
        threshold: Images with p_defect < threshold were skipped.
        times_ms: Model time per image (ms), gate and detector together.
        max_score: Highest detection score per image after gating (0 for skipped or empty images).

    Examples:
        >>> r = gate_report([1, 0], [0.9, 0.1], 0.5, [10.0, 2.0], [0.8, 0.0])
        >>> r["skip_rate"], r["att"], r["att_normal"], r["att_defective"], r["image_macro_f1"]
        (0.5, 6.0, 2.0, 10.0, 1.0)
    """
    t = np.asarray(defective, bool)
    keep = np.asarray(p_defect, float) >= threshold
    ms = np.asarray(times_ms, float)
    gate = binary_scores(t, keep)
    image = binary_scores(t, np.asarray(max_score, float) > DEFECTNET_SCORE)
    mean = lambda a: float(a.mean()) if a.size else float("nan")  # noqa: E731
    return {
        "threshold": float(threshold),
        "images": int(t.size),
        "gate_precision": gate["precision"],
        "gate_recall": gate["recall"],
        "gate_f1": gate["f1"],
        "gate_macro_f1": gate["macro_f1"],
        "image_f1": image["f1"],
        "image_macro_f1": image["macro_f1"],
        "skip_rate": float((~keep).mean()) if t.size else 0.0,
        "att": mean(ms),
        "att_normal": mean(ms[~t]),
        "att_defective": mean(ms[t]),
    }
