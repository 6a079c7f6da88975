"""Pascal VOC xml to the YOLO detection layout (NEU-DET, GC10-DET and most labelImg exports).

Coordinates follow the VOC devkit: `xmin..xmax` are 1-based inclusive pixel indices, so the box spans
`[xmin - 1, xmax)` in 0-based continuous coordinates; a box covering the whole image (xmin=1, xmax=width) becomes
`xc=0.5, w=1`. Boxes are clipped to the image; one of zero or negative size is an error naming the xml file and
the object's position (or skipped with `skip_invalid`). An xml without objects gives an empty label file (a normal
image). The class list is given (`names`, unknown names are an error) or discovered (sorted unique names), after
the optional `rename` mapping (GC10-DET's `1_chongkong` -> `punching_hole`, ...).
Output under `out`: `images/<split>/` (links to the originals), `labels/<split>/`, `<split>.txt` lists, `data.yaml`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from .staging import link_or_copy, staged_dir
from .yolo_format import IMAGE_SUFFIXES, format_label_line, write_data_yaml, write_label_file, yaml_splits

__all__ = ("convert_voc", "parse_voc_xml")


def parse_voc_xml(path: str | Path, rename: dict[str, str] | None = None) -> dict:
    """Parse one VOC xml into `{"filename", "size": (w, h) or None, "objects": [(name, difficult, box), ...]}`.

    Raises:
        ValueError: Malformed xml (file, line, column) or an object without a name or numeric bndbox (file, object #).
    """
    path, rename = Path(path), rename or {}
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        line, col = e.position
        raise ValueError(f"{path}: malformed XML at line {line} column {col}: {e}") from e
    size = root.find("size")
    wh = None
    if size is not None and size.findtext("width") and size.findtext("height"):
        wh = (int(float(size.findtext("width"))), int(float(size.findtext("height"))))
    objects = []
    for k, obj in enumerate(root.iter("object")):
        name, bb = (obj.findtext("name") or "").strip(), obj.find("bndbox")
        try:
            if not name or bb is None:
                raise ValueError("missing <name> or <bndbox>")
            box = tuple(float(bb.findtext(t)) for t in ("xmin", "ymin", "xmax", "ymax"))
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: object #{k} ({name or 'unnamed'}) is invalid: {e}") from e
        objects.append((rename.get(name, name), (obj.findtext("difficult") or "0").strip() == "1", box))
    return {"filename": (root.findtext("filename") or "").strip(), "size": wh, "objects": objects}


def _find_image(images_dir: Path, xml: Path, filename: str) -> Path:
    """The image of an xml: its <filename> in `images_dir`, else the xml's stem with any image suffix."""
    candidates = [images_dir / filename] if filename else []
    candidates += [images_dir / f"{stem}{suf}" for stem in (Path(filename).stem, xml.stem) if stem for suf in IMAGE_SUFFIXES]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(f"{xml}: image {filename or xml.stem!r} not found in {images_dir}")


def convert_voc(
    out: str | Path,
    splits: dict[str, tuple[str | Path, str | Path]],
    *,
    names: Sequence[str] | None = None,
    rename: dict[str, str] | None = None,
    keep_difficult: bool = True,
    skip_invalid: bool = False,
    overwrite: bool = False,
) -> dict:
    """Convert VOC xml folders into a YOLO dataset folder `out` (written atomically).

    Args:
        out (str | Path): New dataset folder.
        splits (dict): Split name -> (folder of `*.xml`, folder of images).
        names (Sequence[str] | None): Class order; None discovers the sorted unique object names of all splits.
        rename (dict[str, str] | None): Object name replacements applied before the class lookup.
        keep_difficult (bool): Keep objects flagged `difficult`.
        skip_invalid (bool): Skip boxes of zero or negative size instead of raising.
        overwrite (bool): Replace an existing `out`.

    Returns:
        (dict): `names` and, per split, counts of images, normal images, boxes and skipped difficult/invalid boxes.

    Examples:
        >>> convert_voc("ds", {"all": ("Annotations", "JPEGImages")})["names"]  # doctest: +SKIP
        ['crazing', 'inclusion']
    """
    if not splits:
        raise ValueError("convert_voc: splits is empty; give at least one {'name': (xml_dir, images_dir)}")
    parsed = {}
    for split, (xml_dir, _) in splits.items():
        xmls = sorted(Path(xml_dir).glob("*.xml"))
        if not xmls:
            raise FileNotFoundError(f"convert_voc: no *.xml files in {xml_dir} (split {split!r})")
        parsed[split] = [(x, parse_voc_xml(x, rename)) for x in xmls]
    found = sorted({o[0] for items in parsed.values() for _, p in items for o in p["objects"]})
    names = list(names) if names is not None else found
    out = Path(out).expanduser().absolute()
    result: dict = {"names": names, "splits": {}}
    with staged_dir(out, overwrite=overwrite) as tmp:
        for split, items in parsed.items():
            images_dir = Path(splits[split][1])
            stats = {"images": len(items), "normal": 0, "boxes": 0, "difficult_skipped": 0, "invalid_skipped": 0}
            listing = []
            for xml, p in items:
                image = _find_image(images_dir, xml, p["filename"])
                w, h = p["size"] if p["size"] and all(p["size"]) else Image.open(image).size
                lines = []
                for k, (name, difficult, (x1, y1, x2, y2)) in enumerate(p["objects"]):
                    if name not in names:
                        raise ValueError(f"{xml}: object #{k} has class {name!r}, not in the class list {names} (class list mismatch)")
                    if difficult and not keep_difficult:
                        stats["difficult_skipped"] += 1
                        continue
                    box = (max(x1 - 1, 0.0), max(y1 - 1, 0.0), min(x2, w), min(y2, h))
                    if box[2] <= box[0] or box[3] <= box[1]:
                        if skip_invalid:
                            stats["invalid_skipped"] += 1
                            continue
                        raise ValueError(f"{xml}: object #{k} ({name}) has an empty box {(x1, y1, x2, y2)}")
                    lines.append(format_label_line(names.index(name), box, w, h))
                link_or_copy(image, tmp / "images" / split / image.name)
                write_label_file(tmp / "labels" / split / f"{image.stem}.txt", lines)
                listing.append(f"./images/{split}/{image.name}")
                stats["boxes"] += len(lines)
                stats["normal"] += not lines
            (tmp / f"{split}.txt").write_text("".join(f"{x}\n" for x in listing), encoding="utf-8")
            result["splits"][split] = stats
        comment = "Converted from Pascal VOC xml by gfdnet_ultra.data.voc (scripts/convert_voc.py)"
        write_data_yaml(tmp / "data.yaml", out, names, yaml_splits(splits), comment)
    return result
