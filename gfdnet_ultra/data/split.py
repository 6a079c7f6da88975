"""Seeded train/val split of a flat YOLO image folder, stratified so both splits keep the normal-image share.

Stratification by image label (normal = empty label file, defective otherwise) matters for DefectNet-style data,
where the normal proportion drives the gate's saving; DefectNet itself used `split_coco(rate=0.8,
random_state=666)`. Images and labels are linked, not copied.
Output under `out`: `images/{train,val}/`, `labels/{train,val}/`, `data.yaml`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .staging import link_or_copy, staged_dir
from .yolo_format import image_files, label_path_for, load_data_yaml, read_label_file, write_data_yaml

__all__ = ("split_dataset",)


def _names_near(images: Path) -> list[str] | None:
    """Class names from the data.yaml of the dataset root that holds `images/<split>/`, if there is one."""
    for cand in (images.parent.parent / "data.yaml", images.parent / "data.yaml"):
        if cand.is_file():
            return load_data_yaml(cand)[0]["names"]
    return None


def split_dataset(
    images: str | Path,
    out: str | Path,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    names: Sequence[str] | None = None,
    overwrite: bool = False,
) -> dict[str, dict[str, int]]:
    """Split the images of folder `images` (labels found by Ultralytics' images->labels rule) into `out`.

    Args:
        images (str | Path): Folder of images, e.g. `converted/images/all`.
        out (str | Path): New dataset folder (written atomically).
        val_fraction (float): Share of each stratum (normal, defective) sent to val, in (0, 1).
        seed (int): Seed of the permutation; the same seed gives the same split.
        names (Sequence[str] | None): Class names for data.yaml; None reads the source dataset's data.yaml.
        overwrite (bool): Replace an existing `out`.

    Returns:
        (dict[str, dict[str, int]]): Per split, numbers of images, normal and defective images.

    Examples:
        >>> split_dataset("conv/images/all", "conv-split", val_fraction=0.2, seed=0)["val"]  # doctest: +SKIP
        {'images': 20, 'normal': 9, 'defective': 11}
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"split_dataset: val_fraction must be in (0, 1), got {val_fraction}")
    images = Path(images)
    if not images.is_dir():
        raise FileNotFoundError(f"split_dataset: image folder {images} does not exist")
    files = image_files(images)
    if len(files) < 2:
        raise ValueError(f"split_dataset: {images} holds {len(files)} image(s); need at least 2 to split")
    names = list(names) if names is not None else _names_near(images)
    if names is None:
        raise ValueError(f"split_dataset: no data.yaml next to {images}; pass names=[...] (the class list)")
    defective = np.array([bool(read_label_file(label_path_for(f))) for f in files])
    rng = np.random.default_rng(seed)
    is_val = np.zeros(len(files), bool)
    for stratum in (~defective, defective):
        idx = rng.permutation(np.flatnonzero(stratum))
        is_val[idx[: int(round(len(idx) * val_fraction))]] = True
    if is_val.all() or not is_val.any():
        is_val[rng.integers(len(files))] ^= True  # keep both splits non-empty on tiny folders
    out = Path(out).expanduser().absolute()
    result = {s: {"images": 0, "normal": 0, "defective": 0} for s in ("train", "val")}
    with staged_dir(out, overwrite=overwrite) as tmp:
        for f, d, v in zip(files, defective, is_val):
            split = "val" if v else "train"
            link_or_copy(f, tmp / "images" / split / f.name)
            label = label_path_for(f)
            if label.exists():
                link_or_copy(label, tmp / "labels" / split / label.name)
            else:
                (tmp / "labels" / split).mkdir(parents=True, exist_ok=True)
                (tmp / "labels" / split / label.name).write_text("", encoding="utf-8")
            result[split]["images"] += 1
            result[split]["defective" if d else "normal"] += 1
        comment = f"Split by gfdnet_ultra.data.split (scripts/split_dataset.py), val_fraction={val_fraction}, seed={seed}"
        write_data_yaml(tmp / "data.yaml", out, names, {"train": "images/train", "val": "images/val"}, comment)
    return result
