"""The gate's operating curve: defect recall and skip rate against the threshold, as JSON and as a plot.

Choosing a threshold is a trade between the share of defective images the gate passes (recall) and the share of
images that skip the rest of the network (skip rate, whose upper bound is the normal share). One validation run at
any threshold already holds p(defect) for every image, so the whole curve costs nothing extra: `yolo val` on a gated
model writes it beside gate_metrics.json (`gate_curve.json`, `gate_curve.png`).
Shape shorthand: n images, T thresholds on the curve.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ("gate_curve", "operating_point", "plot_gate_curve", "save_gate_curve")


def operating_point(p_defect: Sequence[float], defective: Sequence[bool], threshold: float) -> dict[str, float]:
    """Defect recall, skip rate and normal-image skip rate of the gate at one threshold (images with p < t skip).

    Examples:
        >>> operating_point([0.9, 0.6, 0.4, 0.1], [1, 1, 0, 0], 0.5)
        {'threshold': 0.5, 'recall': 1.0, 'skip_rate': 0.5, 'normal_skip_rate': 1.0, 'defective_skipped': 0}
    """
    p, t = np.asarray(p_defect, float), np.asarray(defective, bool)
    keep = p >= threshold
    return {
        "threshold": float(threshold),
        "recall": float(keep[t].mean()) if t.any() else float("nan"),
        "skip_rate": float((~keep).mean()) if p.size else 0.0,
        "normal_skip_rate": float((~keep[~t]).mean()) if (~t).any() else float("nan"),
        "defective_skipped": int((~keep[t]).sum()),
    }


def gate_curve(p_defect: Sequence[float], defective: Sequence[bool]) -> dict:
    """Recall and skip rate at every distinct p(defect) of the set (the only thresholds where they change), plus 0.

    Returns:
        (dict): `threshold`, `recall`, `skip_rate`, `normal_skip_rate` lists (T,), ascending in threshold, and the
            counts `images`, `defective`, `normal`.
    """
    p, t = np.asarray(p_defect, float), np.asarray(defective, bool)
    if p.shape != t.shape:
        raise ValueError(f"gate_curve: {p.size} probabilities but {t.size} labels")
    thresholds = np.unique(np.r_[0.0, p[np.isfinite(p)]])
    points = [operating_point(p, t, float(x)) for x in thresholds]
    out = {k: [pt[k] for pt in points] for k in ("threshold", "recall", "skip_rate", "normal_skip_rate")}
    return {**out, "images": int(t.size), "defective": int(t.sum()), "normal": int((~t).sum())}


def plot_gate_curve(curve: dict, path: str | Path, marks: dict[str, float] | None = None) -> Path:
    """Plot recall, skip rate and the normal share against the threshold; `marks` {label: threshold} are drawn as
    vertical lines (e.g. the run's threshold, the one picked for 99 % recall)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    x = curve["threshold"]
    ax.step(x, curve["recall"], where="post", label="defect recall", color="tab:red")
    ax.step(x, curve["skip_rate"], where="post", label="skip rate (all images)", color="tab:blue")
    if curve["images"]:
        ax.axhline(curve["normal"] / curve["images"], ls=":", color="tab:blue", label="normal share (skip limit)")
    for label, thr in (marks or {}).items():
        ax.axvline(thr, ls="--", color="0.4", lw=1)
        ax.text(thr, 0.02, f" {label} {thr:.3g}", rotation=90, va="bottom", fontsize=8, color="0.3")
    ax.set(xlabel="gate threshold (skip if p(defect) < threshold)", ylabel="share of images", xlim=(0, 1),
           ylim=(0, 1.02), title=f"Gate curve: {curve['defective']} defective, {curve['normal']} normal images")
    ax.grid(alpha=0.3)
    ax.legend(loc="center right", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def save_gate_curve(p_defect: Sequence[float], defective: Sequence[bool], folder: str | Path,
                    marks: dict[str, float] | None = None) -> dict:
    """Write `gate_curve.json` and `gate_curve.png` into `folder`; return the curve."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    curve = gate_curve(p_defect, defective)
    (folder / "gate_curve.json").write_text(json.dumps({**curve, "marks": marks or {}}, indent=1))
    plot_gate_curve(curve, folder / "gate_curve.png", marks)
    return curve
