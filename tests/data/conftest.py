"""Tiny on-disk COCO json and VOC xml sets for the converter tests."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest


def write_image(path, w=40, h=20, value=0):
    """A small PNG whose content depends on `value`, so files never collide by hash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((h, w, 3), value, np.uint8)
    img[0, 0] = (value * 7) % 256
    cv2.imwrite(str(path), img)
    return path


def tiny_coco(root):
    """3 defect boxes over 4 images: border-touching boxes, a crowd box, a dummy background box, an empty image."""
    for i, name in enumerate(("a.png", "b.png", "c.png", "d.png")):
        write_image(root / "imgs" / name, value=40 * (i + 1))
    data = {
        "images": [
            {"id": 1, "file_name": "a.png", "width": 40, "height": 20},
            {"id": 2, "file_name": "b.png", "width": 40, "height": 20},
            {"id": 3, "file_name": "c.png"},  # no size in the json: read from the file
            {"id": 7, "file_name": "d.png", "width": 40, "height": 20},
        ],
        "categories": [{"id": 0, "name": "背景"}, {"id": 1, "name": "scratch"}, {"id": 3, "name": "spot"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 5], "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 3, "bbox": [30, 10, 10, 10], "iscrowd": 0},
            {"id": 3, "image_id": 1, "category_id": 1, "bbox": [5, 5, 4, 4], "iscrowd": 1},
            {"id": 4, "image_id": 2, "category_id": 0, "bbox": [0, 0, 5, 5], "iscrowd": 0},
            {"id": 5, "image_id": 7, "category_id": 3, "bbox": [35, 15, 10, 10], "iscrowd": 0},
        ],
    }
    path = root / "ann.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path, data


VOC_OBJECT = "<object><name>{}</name><difficult>{}</difficult><bndbox><xmin>{}</xmin><ymin>{}</ymin><xmax>{}</xmax><ymax>{}</ymax></bndbox></object>"


def voc_xml(filename, objects, size=(40, 20)):
    objs = "".join(VOC_OBJECT.format(*o) for o in objects)
    return f"<annotation><filename>{filename}</filename><size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>{objs}</annotation>"


def tiny_voc(root):
    """A whole-image box, an inner box, a difficult box and an xml without objects."""
    write_image(root / "JPEGImages" / "a.png", value=10)
    write_image(root / "JPEGImages" / "b.png", value=20)
    (root / "Annotations").mkdir(parents=True)
    objs = [("crack", 0, 1, 1, 40, 20), ("hole", 0, 11, 6, 20, 10), ("hole", 1, 2, 2, 5, 5)]
    (root / "Annotations" / "a.xml").write_text(voc_xml("a.png", objs))
    (root / "Annotations" / "b.xml").write_text(voc_xml("b.png", []))
    return root / "Annotations", root / "JPEGImages"


@pytest.fixture
def coco_set(tmp_path):
    path, data = tiny_coco(tmp_path / "src")
    return path, tmp_path / "src" / "imgs", data


@pytest.fixture
def voc_set(tmp_path):
    return tiny_voc(tmp_path / "voc")


@pytest.fixture
def make_voc_xml():
    return voc_xml


DEEPPCB_PAIRS = {  # group -> {id: annotation text}; the first mixes spaces and commas, as DeepPCB's files may
    "group10000": {"10000000": "10 20 30 60 1\n600,600,640,640,6\n", "10000001": "100 100 150 140 3\n", "10000002": "0 0 40 40 2"},
    "group20000": {"20000000": "320 320 352 330 4\n\n", "20000001": "5 600 45 635 5\n"},
}


def tiny_deeppcb(root, pairs=DEEPPCB_PAIRS):
    """A DeepPCB `PCBData` tree: 640x640 `_test`/`_temp` JPEGs, `X_not/<id>.txt` annotations, `trainval.txt`."""
    lines = []
    for group, items in pairs.items():
        g = group.removeprefix("group")
        for i, (stem, text) in enumerate(items.items()):
            write_image(root / group / g / f"{stem}_test.jpg", 640, 640, value=10 + 20 * i)
            write_image(root / group / g / f"{stem}_temp.jpg", 640, 640, value=200 - 20 * i)
            (root / group / f"{g}_not").mkdir(parents=True, exist_ok=True)
            (root / group / f"{g}_not" / f"{stem}.txt").write_text(text)
            lines.append(f"{group}/{g}/{stem}.jpg {group}/{g}_not/{stem}.txt")
    (root / "trainval.txt").write_text("\n".join(lines))  # DeepPCB's own list has no final newline
    return root


@pytest.fixture
def deeppcb_root(tmp_path):
    return tiny_deeppcb(tmp_path / "PCBData")
