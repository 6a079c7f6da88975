"""The YOLO detection layout: label lines, label files and the dataset YAML, read and written in one place.

Layout (Ultralytics 8.4 `check_det_dataset`): `<root>/images/<split>/*.png` with labels found by replacing `/images/`
by `/labels/` and the suffix by `.txt`; one line `cls xc yc w h` per box, normalised to 0-1; an empty label file is a
normal (defect-free) image. Boxes here are pixel `(x1, y1, x2, y2)` tuples until written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import yaml

__all__ = (
    "IMAGE_SUFFIXES",
    "format_label_line",
    "image_files",
    "iter_label_rows",
    "label_path_for",
    "load_data_yaml",
    "read_label_file",
    "write_data_yaml",
    "write_label_file",
    "yaml_splits",
)

IMAGE_SUFFIXES = (".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")


def format_label_line(cls: int, box: Sequence[float], width: int, height: int) -> str:
    """One YOLO label line for pixel box `(x1, y1, x2, y2)` in an image of `width` x `height`.

    Examples:
        >>> format_label_line(2, (10, 20, 30, 60), 100, 200)
        '2 0.200000 0.200000 0.200000 0.200000'
    """
    x1, y1, x2, y2 = box
    xc, yc, w, h = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height
    return f"{cls} {xc:.6f} {yc:.6f} {w:.6f} {h:.6f}"


def write_label_file(path: str | Path, lines: Iterable[str]) -> None:
    """Write label lines (possibly none: an empty file marks a normal image), creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{line}\n" for line in lines)
    path.write_text(text, encoding="utf-8")


def iter_label_rows(path: str | Path) -> Iterator[tuple[int, tuple[int, float, float, float, float]]]:
    """Yield `(line_number, (cls, xc, yc, w, h))` for each non-blank line of a YOLO label file.

    Raises:
        ValueError: A line that is not `int float float float float`, naming the file and line number.
    """
    path = Path(path)
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            if len(parts) != 5:
                raise ValueError(f"expected 5 fields, got {len(parts)}")
            yield n, (int(parts[0]), *(float(v) for v in parts[1:]))
        except ValueError as e:
            raise ValueError(f"{path}:{n}: bad YOLO label line {line!r} ({e})") from e


def read_label_file(path: str | Path) -> list[tuple[int, float, float, float, float]]:
    """Parse a YOLO label file into `(cls, xc, yc, w, h)` rows; a missing file is a normal image (no rows)."""
    path = Path(path)
    return [row for _, row in iter_label_rows(path)] if path.exists() else []


def label_path_for(image: str | Path) -> Path:
    """Label file of an image, by Ultralytics' rule: the last `/images/` becomes `/labels/`, the suffix `.txt`."""
    parts = list(Path(image).parts)
    idx = max(i for i, p in enumerate(parts) if p == "images") if "images" in parts else None
    if idx is None:
        raise ValueError(f"{image}: no 'images' folder in the path, so its label file cannot be located")
    parts[idx] = "labels"
    return Path(*parts).with_suffix(".txt")


def image_files(folder: str | Path) -> list[Path]:
    """Image files directly in `folder` (by suffix), sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def write_data_yaml(
    path: str | Path, root: str | Path, names: Sequence[str], splits: dict[str, str], comment: str = "",
    extra: dict | None = None,
) -> Path:
    """Write a detection dataset YAML with an absolute `path`, the split folders, a `names` mapping and `extra` keys."""
    path = Path(path)
    head = "".join(f"# {line}\n" for line in comment.splitlines())
    body = {"path": str(Path(root).absolute()), **splits, "names": dict(enumerate(names)), **(extra or {})}
    path.write_text(head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def load_data_yaml(path: str | Path) -> tuple[dict, Path]:
    """Read a dataset YAML; return it with `names` as a list and the resolved dataset root.

    Raises:
        FileNotFoundError: The YAML is missing.
        ValueError: No `names`, naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"dataset YAML not found: {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names = data.get("names")
    if names is None:
        raise ValueError(f"{path}: no 'names' key; list the class names")
    if isinstance(names, dict):
        names = [names[k] for k in sorted(names)]
    data["names"] = [str(n) for n in names]
    root = Path(data.get("path") or path.parent)
    if not root.is_absolute():
        root = (path.parent / root).resolve()
    return data, root


def yaml_splits(split_names: Iterable[str]) -> dict[str, str]:
    """`train`/`val`/`test` entries of a data.yaml for folders `images/<split>`, matched by prefix (`val2017` is
    `val`); with no validation split the first split serves as both.

    Examples:
        >>> yaml_splits(["train2017", "val2017"])
        {'train': 'images/train2017', 'val': 'images/val2017'}
    """
    split_names = list(split_names)
    found = {k: next((s for s in split_names if s.startswith(k)), None) for k in ("train", "val", "test")}
    out = {"train": f"images/{found['train'] or split_names[0]}", "val": f"images/{found['val'] or split_names[0]}"}
    if found["test"]:
        out["test"] = f"images/{found['test']}"
    return out
