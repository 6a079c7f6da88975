"""DeepPCB's template/tested-image pairs to the YOLO detection layout: defects on the tested image, the template normal.

DeepPCB (tangsanli5201/DeepPCB, MIT) pairs each 640x640 binarised board image that holds 3-12 defects
(`<id>_test.jpg`) with the aligned defect-free "golden" template of the same board (`<id>_temp.jpg`), the shape of
data on most template-based inspection lines. The root (`PCBData/`) holds pair lists, one pair per line:
`groupX/X/<id>.jpg groupX/X_not/<id>.txt` (the image named without its `_test`/`_temp` suffix); each annotation
line is `x1 y1 x2 y2 type` in pixels (commas accepted), type 1-6 = open, short, mousebite, spur, copper, pin-hole
(classes 0-5). The tested image gets YOLO labels, the template an empty label file (a normal image), so the set is
50 % normal. Splits: `trainval.txt` -> train, `test.txt` -> val; with one list, a seeded share of its pairs -> val,
both images of a pair always in the same split. Bad records are errors naming the list or annotation file and line.
Output under `out`: `images/<split>/<group>_<id>_{test,temp}.jpg` (links, or copies), `labels/<split>/`,
`<split>.txt` lists, `data.yaml`.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from .staging import link_or_copy, staged_dir
from .yolo_format import format_label_line, write_data_yaml, write_label_file, yaml_splits

__all__ = ("DEEPPCB_LISTS", "DEEPPCB_NAMES", "PAIR_GROUPS", "DeepPCBPair", "convert_deeppcb", "parse_deeppcb_annotation", "read_pair_list")

DEEPPCB_NAMES = ("open", "short", "mousebite", "spur", "copper", "pin-hole")  # types 1-6 of the annotation files
DEEPPCB_LISTS = {"trainval.txt": "train", "test.txt": "val"}  # pair list -> split
# data.yaml `groups`: a board and its template share a key, so gate calibration keeps them together (gate/samples.py)
PAIR_GROUPS = r"^(.+)_(?:test|temp)$"


class DeepPCBPair(NamedTuple):
    """One listed pair: where it was listed (`list:line`), its output stem, the two images and the annotation."""

    where: str
    stem: str
    tested: Path
    template: Path
    annotation: Path


def read_pair_list(path: str | Path, root: str | Path) -> list[DeepPCBPair]:
    """Parse a DeepPCB pair list; entries are relative to `root`. File existence is checked at conversion.

    Raises:
        ValueError: An empty list or a malformed line, naming the list and line.
    """
    path, root = Path(path), Path(root)
    pairs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or Path(fields[0]).suffix.lower() != ".jpg" or Path(fields[1]).suffix.lower() != ".txt":
            raise ValueError(f"{path}:{n}: malformed pair {line.strip()!r}; expected 'groupX/X/<id>.jpg groupX/X_not/<id>.txt'")
        image = Path(fields[0])
        stem = f"{image.parts[0]}_{image.stem}" if len(image.parts) > 1 else image.stem  # ids may repeat across groups
        base = root / image.with_suffix("")
        pairs.append(DeepPCBPair(f"{path}:{n}", stem, Path(f"{base}_test.jpg"), Path(f"{base}_temp.jpg"), root / fields[1]))
    if not pairs:
        raise ValueError(f"{path}: the pair list is empty; expected lines 'groupX/X/<id>.jpg groupX/X_not/<id>.txt'")
    return pairs


def parse_deeppcb_annotation(path: str | Path, size: tuple[int, int]) -> list[tuple[int, tuple[float, float, float, float]]]:
    """Parse one annotation file into `(class, (x1, y1, x2, y2))` rows for an image of `size` (w, h).

    Raises:
        ValueError: A malformed line, an unknown type or a box empty or outside the image, naming the file and line.
    """
    path, (w, h) = Path(path), size
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = [f for f in re.split(r"[,\s]+", line.strip()) if f]
        if not fields:
            continue
        try:
            values = [float(f) for f in fields]
        except ValueError:
            values = []
        if len(values) != 5 or not all(map(math.isfinite, values)):
            raise ValueError(f"{path}:{n}: malformed line {line.strip()!r}; expected 'x1 y1 x2 y2 type' (spaces or commas)")
        x1, y1, x2, y2, t = values
        if not t.is_integer() or not 1 <= t <= len(DEEPPCB_NAMES):
            known = ", ".join(f"{i} {name}" for i, name in enumerate(DEEPPCB_NAMES, 1))
            raise ValueError(f"{path}:{n}: unknown defect type {fields[4]!r}; DeepPCB types are {known}")
        if x2 <= x1 or y2 <= y1:
            raise ValueError(f"{path}:{n}: empty box {fields[:4]} (needs x1 < x2 and y1 < y2)")
        if x1 < 0 or y1 < 0 or x2 > w or y2 > h:
            raise ValueError(f"{path}:{n}: box {fields[:4]} lies outside the {w}x{h} image")
        rows.append((int(t) - 1, (x1, y1, x2, y2)))
    return rows


def _checked_labels(pair: DeepPCBPair, templates: bool) -> list[str]:
    """The tested image's YOLO label lines, after checking that every file of the pair exists."""
    needed = [("tested image", pair.tested), ("annotation", pair.annotation)] + [("template", pair.template)] * templates
    for what, p in needed:
        if not p.is_file():
            raise FileNotFoundError(f"{pair.where}: {what} {p} not found")
    try:
        with Image.open(pair.tested) as im:
            w, h = im.size
    except OSError as e:
        raise ValueError(f"{pair.where}: tested image {pair.tested} cannot be read: {e}") from e
    return [format_label_line(c, box, w, h) for c, box in parse_deeppcb_annotation(pair.annotation, (w, h))]


def _check_unique(pairs: dict[str, list[DeepPCBPair]]) -> None:
    """Refuse a pair listed twice, in one list or in both (a train/val leak), naming both lines."""
    first: dict[str, str] = {}
    for p in (p for ps in pairs.values() for p in ps):
        if p.stem in first:
            raise ValueError(f"{p.where}: pair {p.stem!r} is listed twice (first at {first[p.stem]})")
        first[p.stem] = p.where


def _assign_splits(pairs: dict[str, list[DeepPCBPair]], val_fraction: float | None, seed: int, max_pairs: int | None):
    """Pick the used pairs (a seeded subset with `max_pairs`) and their splits: `[(split, pair), ...]` in list order."""
    items = [(split, p) for split, ps in pairs.items() for p in ps]
    rng = np.random.default_rng(seed)
    if max_pairs is not None:
        if max_pairs < 1:
            raise ValueError(f"convert_deeppcb: max_pairs must be at least 1, got {max_pairs}")
        items = [items[i] for i in sorted(rng.permutation(len(items))[:max_pairs])]
    if len(pairs) > 1:
        if val_fraction is not None:
            raise ValueError(f"convert_deeppcb: both {' and '.join(DEEPPCB_LISTS)} are present and define the split; drop val_fraction (--val)")
        return items
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"convert_deeppcb: val_fraction must be in (0, 1), got {val_fraction}")
    n_val = int(round(len(items) * val_fraction))
    if not 0 < n_val < len(items):
        raise ValueError(f"convert_deeppcb: {len(items)} pair(s) with val_fraction={val_fraction} leave a split empty; use more pairs")
    is_val = np.zeros(len(items), bool)
    is_val[rng.permutation(len(items))[:n_val]] = True
    return [("val" if v else "train", p) for (_, p), v in zip(items, is_val)]


def convert_deeppcb(
    root: str | Path,
    out: str | Path,
    *,
    val_fraction: float | None = None,
    seed: int = 0,
    max_pairs: int | None = None,
    templates: bool = True,
    copy: bool = False,
    overwrite: bool = False,
) -> dict:
    """Convert a DeepPCB `PCBData` folder into a YOLO dataset folder `out` (written atomically).

    Args:
        root (str | Path): Folder holding `trainval.txt` and/or `test.txt` and the group folders they name.
        out (str | Path): New dataset folder.
        val_fraction (float | None): With a single pair list, the seeded share of its pairs sent to val
            (None: 0.2); must stay None when both lists are present, since they define the split.
        seed (int): Seed of the pair subset and of the split; the same seed gives the same dataset.
        max_pairs (int | None): Use a seeded random subset of this many pairs (drawn before splitting).
        templates (bool): Add each template as a normal image (an empty label file).
        copy (bool): Copy the images instead of linking them.
        overwrite (bool): Replace an existing `out`.

    Returns:
        (dict): `names`, `pairs` (`listed` and `used`) and, per split, counts of pairs, images, normal images and boxes.

    Examples:
        >>> convert_deeppcb("PCBData", "deeppcb", val_fraction=0.2, seed=0)["pairs"]  # doctest: +SKIP
        {'listed': 1000, 'used': 1000}
    """
    root = Path(root)
    lists = {root / name: split for name, split in DEEPPCB_LISTS.items() if (root / name).is_file()}
    if not lists:
        raise FileNotFoundError(f"convert_deeppcb: no pair list ({' or '.join(DEEPPCB_LISTS)}) in {root}; give DeepPCB's PCBData folder")
    pairs = {split: read_pair_list(path, root) for path, split in lists.items()}
    _check_unique(pairs)
    if len(pairs) == 1 and val_fraction is None:
        val_fraction = 0.2
    used = _assign_splits(pairs, val_fraction, seed, max_pairs)
    labelled = [(split, p, _checked_labels(p, templates)) for split, p in used]  # every check before any write
    out = Path(out).expanduser().absolute()
    splits = sorted({s for s, _ in used}, key=["train", "val"].index)
    listed = sum(map(len, pairs.values()))
    result: dict = {"names": list(DEEPPCB_NAMES), "pairs": {"listed": listed, "used": len(used)}, "splits": {}}
    with staged_dir(out, overwrite=overwrite) as tmp:
        for split in splits:
            stats = {"pairs": 0, "images": 0, "normal": 0, "boxes": 0}
            listing = []
            for s, pair, lines in labelled:
                if s != split:
                    continue
                images = [(pair.tested, "test", lines)] + [(pair.template, "temp", [])] * templates
                for src, kind, rows in images:
                    name = f"{pair.stem}_{kind}"
                    link_or_copy(src, tmp / "images" / split / f"{name}.jpg", copy=copy)
                    write_label_file(tmp / "labels" / split / f"{name}.txt", rows)
                    listing.append(f"./images/{split}/{name}.jpg")
                    stats["normal"] += not rows
                stats["pairs"] += 1
                stats["images"] += len(images)
                stats["boxes"] += len(lines)
            (tmp / f"{split}.txt").write_text("".join(f"{x}\n" for x in listing), encoding="utf-8")
            result["splits"][split] = stats
        comment = (
            "Converted from DeepPCB by gfdnet_ultra.data.deeppcb (scripts/convert_deeppcb.py): "
            f"{len(used)} of {listed} pairs, seed={seed}, "
            f"{'val_fraction=' + str(val_fraction) if len(pairs) == 1 else 'split by the pair lists'}, templates={templates}"
        )
        write_data_yaml(tmp / "data.yaml", out, DEEPPCB_NAMES, yaml_splits(splits), comment, {"groups": PAIR_GROUPS})
    return result
