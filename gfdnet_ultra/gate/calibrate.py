"""Held-out calibration for the gate threshold: a seeded, stratified split of the training images, and the picked point.

Probabilities on images the gate was fitted on are optimistic, so a threshold picked there skips fewer normal images
and misses more defective ones on new data than it promised. The calibration split is carved from the training
split (never the validation split, which stays for the final measurement), stratified so both classes are in it.
`PickedThreshold` is the threshold as a float that also carries the recall and skip rate expected at it.
Shape shorthand: n images.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .curve import operating_point
from .threshold import pick_threshold

__all__ = (
    "HeldOut",
    "PickedThreshold",
    "calibration_split",
    "held_out_parts",
    "held_out_probabilities",
    "pick_calibrated",
    "pick_gate_threshold",
    "stratified_folds",
    "write_split_lists",
)


class PickedThreshold(float):
    """A threshold (usable wherever a float is) with `point`: recall, skip rate and normal skip rate on the set it was
    picked on, plus that set's size and name.

    Examples:
        >>> t = pick_calibrated([0.9, 0.7, 0.4, 0.1], [1, 1, 0, 0], 0.99, split="calib")
        >>> float(t), t.point["recall"], t.point["skip_rate"]
        (0.7, 1.0, 0.5)
    """

    point: dict

    def __new__(cls, value: float, point: dict):
        obj = super().__new__(cls, value)
        obj.point = dict(point)
        return obj

    def __reduce__(self):
        return float, (float(self),)  # pickles and deep-copies as a plain float

    def describe(self) -> str:
        """One line: the threshold and what it is expected to do."""
        q = self.point
        return (f"gate threshold {float(self):.4g} picked on {q.get('split', '?')} ({q['images']} images, "
                f"{q['defective']} defective) for recall >= {q['target_recall']}: expected recall {q['recall']:.3f}, "
                f"skip rate {q['skip_rate']:.3f} (normal images skipped {q['normal_skip_rate']:.3f})")


def pick_calibrated(p_defect: Sequence[float], defective: Sequence[bool], target_recall: float = 0.99,
                    split: str = "calibration") -> PickedThreshold:
    """`pick_threshold` plus the operating point it is expected to give (measured on the same set)."""
    thr = pick_threshold(p_defect, defective, target_recall)
    t = np.asarray(defective, bool)
    point = {**operating_point(p_defect, t, thr), "target_recall": float(target_recall), "split": split,
             "images": int(t.size), "defective": int(t.sum())}
    return PickedThreshold(thr, point)


def _units(defective: Sequence[bool], groups: Sequence | None) -> tuple[np.ndarray, list[np.ndarray]]:
    """(n,) class per image and the units dealt whole: one per image, or one per group of `groups` (a key per image)."""
    t = np.asarray(defective, bool)
    if groups is None:
        return t, [np.array([i]) for i in range(t.size)]
    keys = np.asarray(groups)
    if keys.shape != t.shape:
        raise ValueError(f"groups: {keys.size} keys for {t.size} images; give one group key per image")
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return t, np.split(np.argsort(inverse, kind="stable"), np.cumsum(counts)[:-1])  # one pass, not one per group


def _units_by_kind(t: np.ndarray, units: list[np.ndarray]) -> list[list[int]]:
    """Unit numbers split by kind (only defective, only normal, both), so every kind is spread over the parts."""
    kinds = [(bool(t[u].all()), bool((~t[u]).all())) for u in units]
    return [[i for i, k in enumerate(kinds) if k == kind] for kind in ((True, False), (False, True), (False, False))]


def _check_classes(t: np.ndarray, parts: Sequence[np.ndarray], what: str, fix: str) -> None:
    """Every part must hold a defective and a normal image, else the threshold cannot be picked on it."""
    for i, idx in enumerate(parts):
        for cls, name in ((True, "defective"), (False, "normal")):
            if not (t[idx] == cls).any():
                raise ValueError(f"{what}: part {i} has no {name} image with these groups; {fix}")


def calibration_split(defective: Sequence[bool], fraction: float = 0.2, seed: int = 0,
                      groups: Sequence | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(fit indices, calibration indices): a seeded share `fraction` of each class goes to calibration.

    `groups` (a key per image) keeps images of one group on one side, e.g. a DeepPCB board and its template, which
    are near-copies with opposite labels.

    Examples:
        >>> fit, cal = calibration_split([1] * 10 + [0] * 10, 0.2, seed=0)
        >>> len(fit), len(cal)
        (16, 4)
        >>> fit, cal = calibration_split([1, 0] * 10, 0.2, seed=0, groups=[i // 2 for i in range(20)])
        >>> len(cal), sorted({i // 2 for i in cal} & {i // 2 for i in fit})
        (4, [])
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"calibration split: fraction={fraction} must be in (0, 1), e.g. 0.2 of the training images")
    t, units = _units(defective, groups)
    for cls, name in ((True, "defective"), (False, "normal")):
        n = int((t == cls).sum())
        if n < 2:
            raise ValueError(
                f"calibration split: the training split has {n} {name} image(s); both the fit and the "
                f"calibration part need one at least, so the split needs >= 2 {name} images"
            )
    rng = np.random.default_rng(seed)
    calib = []
    for kind in _units_by_kind(t, units):
        if len(kind) >= 2:
            k = min(max(1, round(fraction * len(kind))), len(kind) - 1)
            calib += [units[u] for u in rng.choice(kind, k, replace=False)]
    cal = np.sort(np.concatenate(calib)) if calib else np.array([], int)
    fit = np.setdiff1d(np.arange(t.size), cal)
    _check_classes(t, (fit, cal), "calibration split", "use smaller groups or more images")
    return fit, cal


def stratified_folds(defective: Sequence[bool], folds: int = 5, seed: int = 0, groups: Sequence | None = None) -> np.ndarray:
    """(n,) fold index of each image: each class dealt round-robin over `folds` in a seeded order.

    Cross-fitting scores every training image with a gate that did not see it, so the threshold is picked on all of
    them (a 0.99 recall needs >= 100 defective images to be resolved; a 20 % held-out share rarely has them).
    `groups` (a key per image) deals each group whole, by kind (only defective, only normal, both), so near-copies
    such as a DeepPCB board and its template are never scored by a gate fitted on the other.

    Examples:
        >>> stratified_folds([1] * 6 + [0] * 3, 3, seed=0).tolist().count(2)
        3
        >>> fold = stratified_folds([1, 0] * 6, 3, groups=[i // 2 for i in range(12)])
        >>> all(fold[i] == fold[i + 1] for i in range(0, 12, 2))
        True
    """
    if folds < 2:
        raise ValueError(f"cross-fitting: folds={folds} must be >= 2 (or use a held-out calib= share instead)")
    t, units = _units(defective, groups)
    for cls, name in ((True, "defective"), (False, "normal")):
        if (t == cls).sum() < folds:
            raise ValueError(
                f"cross-fitting: the training split has {(t == cls).sum()} {name} image(s), fewer than folds={folds}; "
                f"every fold needs one of each class: lower folds= or add {name} images"
            )
    rng = np.random.default_rng(seed)
    fold = np.empty(t.size, int)
    for kind in _units_by_kind(t, units):
        for f, u in enumerate(rng.permutation(np.asarray(kind, int))):
            fold[units[u]] = f % folds
    _check_classes(t, [np.flatnonzero(fold == f) for f in range(folds)], "cross-fitting", "lower folds= or use smaller groups")
    return fold


class HeldOut(NamedTuple):
    """What `held_out_probabilities` returns: the gate to save, the held-out scores and labels, and how they were held
    out."""

    fitted: Any
    p_defect: list[float]
    defective: list[bool]
    split: str
    fit_images: int


def held_out_parts(defective: Sequence[bool], folds: int = 5, calib: float = 0.2, seed: int = 0,
                   groups: Sequence | None = None) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    """(fit indices, held-out indices) pairs and their description: `folds` >= 2 cross-fitting folds, else one seeded
    share `calib` held out. `groups` keeps near-copies (a DeepPCB board and its template) on one side of every split.
    Called before any costly work, so a split that cannot be made fails first."""
    t = np.asarray(defective, bool)
    if folds >= 2:
        fold = stratified_folds(t, folds, seed, groups)
        parts = [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(folds)]
        return parts, f"{folds}-fold cross-fitting (every training image scored by a gate fitted without it)"
    return [calibration_split(t, calib, seed, groups)], f"calibration ({calib:g} of train)"


def held_out_probabilities(fit_on: Callable[[np.ndarray], Any], score: Callable[[Any, np.ndarray], Sequence[float]],
                           defective: Sequence[bool], parts: list[tuple[np.ndarray, np.ndarray]], split: str) -> HeldOut:
    """p(defect) of training images from gates that never saw them, for picking the threshold; and the gate to save.

    `fit_on(indices)` fits a gate on those training images and `score(gate, indices)` gives its p(defect) for others.
    With several `parts` (cross-fitting, `held_out_parts`) every image is scored by the gate fitted without its part,
    and the returned gate is fitted on all images; with one part, the returned gate is the one fit that held it out.
    """
    t = np.asarray(defective, bool)
    p = np.zeros(t.size)
    for fit_idx, held in parts:
        fitted = fit_on(fit_idx)
        p[held] = np.asarray(score(fitted, held), float)
    if len(parts) > 1:
        fitted = fit_on(np.arange(t.size))  # the saved gate sees every image; its threshold comes from the folds
    held_all = np.concatenate([held for _, held in parts])
    fit_images = t.size if len(parts) > 1 else len(parts[0][0])
    return HeldOut(fitted, p[held_all].tolist(), t[held_all].tolist(), split, fit_images)


def write_split_lists(images: Sequence[Path], fit: np.ndarray, calib: np.ndarray, data: dict, out: Path) -> Path:
    """A dataset YAML in `out` whose train is the fit images and whose val is the calibration images (txt lists)."""
    import yaml

    out.mkdir(parents=True, exist_ok=True)
    for name, idx in (("fit", fit), ("calib", calib)):
        (out / f"{name}.txt").write_text("".join(f"{Path(images[i]).resolve()}\n" for i in idx))
    cfg = {k: v for k, v in data.items() if k not in ("path", "train", "val", "test")}
    cfg.update(path=str(out.resolve()), train="fit.txt", val="calib.txt")
    path = out / "calib.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def pick_gate_threshold(model, data: str, target_recall: float = 0.99, split: str = "val", **val_args):
    """Run the gate ungated (threshold=0) on a dataset split and return the threshold keeping `target_recall`.

    `model` is a gated YOLO model (or a detector with `gate_classifier=` in `val_args`). The result is a float that
    also carries `point` (recall, skip rate, normal skip rate expected at it, on that split), which is logged. Pick
    on held-out images (`calibration_split`), not on the gate's training images.
    """
    from ultralytics.utils import LOGGER

    metrics = model.val(**{**val_args, "data": data, "split": split, "threshold": 0.0, "plots": False, "save_json": False})
    rows = getattr(metrics, "gate_rows", None)
    if not rows:
        raise ValueError("pick_gate_threshold: the model has no gate; use a gated checkpoint or gate_classifier=")
    picked = pick_calibrated(rows["p"], rows["defective"], target_recall, split=f"{split} of {data}")
    LOGGER.info(picked.describe())
    return picked
