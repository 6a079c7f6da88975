"""Detection layout to classification view: `<out>/<split>/{defective,normal}/` by links, for defect-gate training.

An image is defective when its YOLO label file has at least one box, normal when the file is empty or missing
(DefectNet's image label, research/defectnet.md section 9). Ultralytics' classifier takes the view as `data=<out>`
(a folder, not a YAML); class indices are the sorted folder names, so 0 = defective, 1 = normal.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .staging import link_or_copy, staged_dir
from .yolo_format import image_files, label_path_for, load_data_yaml, read_label_file

__all__ = ("CLS_NAMES", "make_cls_view", "write_cls_split")

CLS_NAMES = ("defective", "normal")


def write_cls_split(images: Iterable[tuple[Path, bool]], out: Path) -> dict[str, int]:
    """Link each `(image, is_defective)` into `out/defective/` or `out/normal/`; return counts per folder.

    Both folders are always created, so an all-normal split still has the two classes Ultralytics expects.
    """
    counts = dict.fromkeys(CLS_NAMES, 0)
    for name in CLS_NAMES:
        (out / name).mkdir(parents=True, exist_ok=True)
    for image, defective in images:
        name = CLS_NAMES[0] if defective else CLS_NAMES[1]
        link_or_copy(image, out / name / Path(image).name)
        counts[name] += 1
    return counts


def make_cls_view(data: str | Path, out: str | Path, *, overwrite: bool = False) -> dict[str, dict[str, int]]:
    """Build the classification view of the detection dataset described by the YAML `data` into folder `out`.

    Args:
        data (str | Path): Detection dataset YAML whose `train`/`val` (and optional `test`) are image folders.
        out (str | Path): New folder for the view (written atomically; existing content needs `overwrite=True`).
        overwrite (bool): Replace an existing `out`.

    Returns:
        (dict[str, dict[str, int]]): Per split, the number of defective and normal images.

    Examples:
        >>> from gfdnet_ultra.data import synthetic_dataset
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "cls"
        >>> counts = make_cls_view(synthetic_dataset(n_train=8, n_val=4, imgsz=64), out)
        >>> sum(counts["val"].values())
        4
    """
    cfg, root = load_data_yaml(data)
    splits = {k: cfg[k] for k in ("train", "val", "test") if cfg.get(k)}
    result = {}
    with staged_dir(out, overwrite=overwrite) as tmp:
        for split, rel in splits.items():
            folder = root / rel
            if not folder.is_dir():
                raise FileNotFoundError(f"{data}: split {split!r} folder {folder} does not exist (only folders are supported)")
            pairs = ((img, bool(read_label_file(label_path_for(img)))) for img in image_files(folder))
            result[split] = write_cls_split(pairs, tmp / split)
    return result
