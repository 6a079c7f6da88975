"""COCO json to the YOLO detection layout, with DefectNet's dummy-background convention turned into empty label files.

DefectNet's Tianchi sets give every normal image one box of a category named "背景" (background), because mmdet v1
dropped images without annotations (research/defectnet.md section 6). Here every annotation of a category named in
`background_names` is dropped, so such images get an EMPTY label file, which is how Ultralytics and our defect gate
mark a normal image. Images without any annotation get an empty label file too. Crowd boxes are skipped unless
`keep_crowd`. Boxes are clipped to the image; a box of zero or negative size is an error naming the file and the
annotation id (or skipped with `skip_invalid`).
Output under `out`: `images/<split>/` (links to the originals), `labels/<split>/`, `<split>.txt` image lists,
`annotations/instances_<split>.json` (copies, for COCO-json evaluation) and `data.yaml`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from .staging import link_or_copy, staged_dir
from .yolo_format import format_label_line, write_data_yaml, write_label_file, yaml_splits

__all__ = ("BACKGROUND_NAMES", "convert_coco", "load_coco_json")

BACKGROUND_NAMES = ("background", "背景")


def load_coco_json(path: str | Path) -> dict:
    """Read a COCO json file; malformed json raises ValueError naming the file, line, column and character."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"COCO json not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: malformed JSON at line {e.lineno} column {e.colno} (char {e.pos}): {e.msg}") from e
    for key in ("images", "categories"):
        if not isinstance(data.get(key), list):
            raise ValueError(f"{path}: not a COCO detection file, the top-level {key!r} list is missing")
    return data


def _class_map(data: dict, src: Path, names: Sequence[str] | None, background: set[str]) -> tuple[dict, list[str]]:
    """Map category id -> class index (None for background); class order is `names`, else sorted category ids."""
    cats = sorted(data["categories"], key=lambda c: c["id"])
    fg = [c["name"] for c in cats if c["name"] not in background]
    if names is None:
        names = fg
        dup = sorted({n for n in fg if fg.count(n) > 1})
        if dup:
            raise ValueError(f"{src}: category names {dup} are used by more than one category id")
    names = list(names)
    extra = [n for n in fg if n not in names]
    if extra:
        raise ValueError(f"{src}: categories {extra} are not in the class list {names} (class list mismatch)")
    return {c["id"]: (None if c["name"] in background else names.index(c["name"])) for c in cats}, names


def _image_size(img: dict, path: Path, src: Path) -> tuple[int, int]:
    if img.get("width") and img.get("height"):
        return int(img["width"]), int(img["height"])
    try:
        with Image.open(path) as im:
            return im.size
    except OSError as e:
        raise ValueError(f"{src}: image id {img['id']} ({path}) has no width/height and cannot be read: {e}") from e


def _convert_split(split: str, src: Path, images_dir: Path, tmp: Path, cmap: dict, opts: dict) -> dict:
    data = opts["data"]
    images = {img["id"]: img for img in data["images"]}
    anns: dict[int, list] = {i: [] for i in images}
    for a in data.get("annotations", []):
        if a.get("image_id") not in images:
            raise ValueError(f"{src}: annotation id {a.get('id')} refers to unknown image id {a.get('image_id')}")
        if a.get("category_id") not in cmap:
            raise ValueError(f"{src}: annotation id {a.get('id')} has unknown category id {a.get('category_id')}")
        anns[a["image_id"]].append(a)
    stats = {"images": len(images), "normal": 0, "boxes": 0, "crowd_skipped": 0, "background_boxes": 0, "invalid_skipped": 0}
    listing, seen = [], {}
    for image_id in sorted(images):
        img = images[image_id]
        path = images_dir / img["file_name"]
        if not path.is_file():
            raise FileNotFoundError(f"{src}: image id {image_id} file {img['file_name']!r} not found in {images_dir}")
        name = Path(img["file_name"]).name
        if name in seen:
            raise ValueError(f"{src}: image ids {seen[name]} and {image_id} share the file name {name!r}")
        seen[name] = image_id
        w, h = _image_size(img, path, src)
        lines = []
        for a in anns[image_id]:
            cls = cmap[a["category_id"]]
            if cls is None:
                stats["background_boxes"] += 1
                continue
            if a.get("iscrowd", 0) and not opts["keep_crowd"]:
                stats["crowd_skipped"] += 1
                continue
            x, y, bw, bh = a["bbox"]
            box = (max(x, 0.0), max(y, 0.0), min(x + bw, w), min(y + bh, h))
            if box[2] <= box[0] or box[3] <= box[1]:
                if opts["skip_invalid"]:
                    stats["invalid_skipped"] += 1
                    continue
                raise ValueError(f"{src}: annotation id {a.get('id')} (image {img['file_name']!r}) has an empty box {a['bbox']}")
            lines.append(format_label_line(cls, box, w, h))
        link_or_copy(path, tmp / "images" / split / name)
        write_label_file((tmp / "labels" / split / name).with_suffix(".txt"), lines)
        listing.append(f"./images/{split}/{name}")
        stats["boxes"] += len(lines)
        stats["normal"] += not lines
    (tmp / f"{split}.txt").write_text("".join(f"{p}\n" for p in listing), encoding="utf-8")
    (tmp / "annotations").mkdir(exist_ok=True)
    shutil.copyfile(src, tmp / "annotations" / f"instances_{split}.json")
    return stats


def convert_coco(
    out: str | Path,
    splits: dict[str, tuple[str | Path, str | Path]],
    *,
    names: Sequence[str] | None = None,
    background_names: Sequence[str] = BACKGROUND_NAMES,
    keep_crowd: bool = False,
    skip_invalid: bool = False,
    overwrite: bool = False,
) -> dict:
    """Convert COCO json splits into a YOLO dataset folder `out` (written atomically).

    Args:
        out (str | Path): New dataset folder.
        splits (dict): Split name -> (COCO json path, folder the json's `file_name`s are relative to).
        names (Sequence[str] | None): Class order; None takes the non-background categories by ascending id.
            All splits must agree on the class list.
        background_names (Sequence[str]): Category names treated as DefectNet's dummy background (dropped, so
            background-only images become normal images); pass () to keep them as a class.
        keep_crowd (bool): Keep `iscrowd` boxes as ordinary boxes instead of skipping them.
        skip_invalid (bool): Skip boxes of zero or negative size instead of raising.
        overwrite (bool): Replace an existing `out`.

    Returns:
        (dict): `names` and, per split, counts of images, normal images, boxes, skipped crowd, background and
            invalid boxes.

    Examples:
        >>> convert_coco("ds", {"train": ("train.json", "images")})["names"]  # doctest: +SKIP
        ['scratch', 'spot']
    """
    if not splits:
        raise ValueError("convert_coco: splits is empty; give at least one {'name': (json, images_dir)}")
    background = set(background_names)
    result: dict = {"names": None, "splits": {}}
    out = Path(out).expanduser().absolute()
    with staged_dir(out, overwrite=overwrite) as tmp:
        for split, (json_path, images_dir) in splits.items():
            src = Path(json_path)
            data = load_coco_json(src)
            cmap, split_names = _class_map(data, src, names, background)
            if result["names"] is not None and split_names != result["names"]:
                raise ValueError(f"{src}: class list {split_names} differs from the other splits' {result['names']}")
            result["names"] = split_names
            opts = {"data": data, "keep_crowd": keep_crowd, "skip_invalid": skip_invalid}
            result["splits"][split] = _convert_split(split, src, Path(images_dir), tmp, cmap, opts)
        comment = "Converted from COCO json by gfdnet_ultra.data.coco (scripts/convert_coco.py)"
        write_data_yaml(tmp / "data.yaml", out, result["names"], yaml_splits(splits), comment)
    return result

