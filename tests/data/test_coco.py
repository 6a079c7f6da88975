"""COCO json -> YOLO: exact label files, background/crowd handling, clear errors, nothing half-written."""

from __future__ import annotations

import json

import pytest
import yaml

from gfdnet_ultra.data.coco import convert_coco

A = "0 0.125000 0.125000 0.250000 0.250000\n1 0.875000 0.750000 0.250000 0.500000\n"
D = "1 0.937500 0.875000 0.125000 0.250000\n"


def _labels(out, split="train"):
    return {p.name: p.read_text() for p in sorted((out / "labels" / split).glob("*.txt"))}


def test_coco_conversion_writes_exact_labels_and_empty_files_for_normal_images(coco_set, tmp_path):
    ann, imgs, _ = coco_set
    out = tmp_path / "out"
    result = convert_coco(out, {"train": (ann, imgs)})
    assert result["names"] == ["scratch", "spot"]
    assert _labels(out) == {"a.txt": A, "b.txt": "", "c.txt": "", "d.txt": D}
    assert result["splits"]["train"] == {
        "images": 4, "normal": 2, "boxes": 3, "crowd_skipped": 1, "background_boxes": 1, "invalid_skipped": 0
    }
    cfg = yaml.safe_load((out / "data.yaml").read_text())
    assert cfg["path"] == str(out) and cfg["train"] == cfg["val"] == "images/train"
    assert cfg["names"] == {0: "scratch", 1: "spot"}
    assert sorted(p.name for p in (out / "images" / "train").iterdir()) == ["a.png", "b.png", "c.png", "d.png"]
    assert (out / "train.txt").read_text().splitlines()[0] == "./images/train/a.png"
    assert json.loads((out / "annotations" / "instances_train.json").read_text(encoding="utf-8"))["images"]


def test_crowd_boxes_are_kept_on_request_and_background_can_be_a_class(coco_set, tmp_path):
    ann, imgs, _ = coco_set
    out = tmp_path / "out"
    result = convert_coco(out, {"val": (ann, imgs)}, keep_crowd=True, background_names=())
    assert result["names"] == ["背景", "scratch", "spot"]
    labels = _labels(out, "val")
    assert labels["a.txt"].splitlines() == [
        "1 0.125000 0.125000 0.250000 0.250000", "2 0.875000 0.750000 0.250000 0.500000", "1 0.175000 0.350000 0.100000 0.200000"
    ]
    assert labels["b.txt"] == "0 0.062500 0.125000 0.125000 0.250000\n"


def test_given_class_order_is_honoured(coco_set, tmp_path):
    ann, imgs, _ = coco_set
    convert_coco(tmp_path / "out", {"train": (ann, imgs)}, names=["spot", "scratch"])
    assert _labels(tmp_path / "out")["d.txt"] == "0 0.937500 0.875000 0.125000 0.250000\n"


def _rewrite(ann, data, mutate):
    mutate(data)
    ann.write_text(json.dumps(data), encoding="utf-8")


def _assert_nothing_written(tmp_path):
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_malformed_json_names_the_file_and_position(coco_set, tmp_path):
    ann, imgs, _ = coco_set
    ann.write_text('{"images": [\n  {"id": 1,,}]}')
    with pytest.raises(ValueError, match=r"ann\.json: malformed JSON at line 2 column"):
        convert_coco(tmp_path / "out", {"train": (ann, imgs)})
    _assert_nothing_written(tmp_path)


def test_unknown_category_id_names_the_annotation(coco_set, tmp_path):
    ann, imgs, data = coco_set
    _rewrite(ann, data, lambda d: d["annotations"][4].update(category_id=99))
    with pytest.raises(ValueError, match=r"ann\.json: annotation id 5 has unknown category id 99"):
        convert_coco(tmp_path / "out", {"train": (ann, imgs)})
    _assert_nothing_written(tmp_path)


@pytest.mark.parametrize("bbox", [[3, 3, 0, 4], [3, 3, 4, -1], [50, 3, 4, 4]])
def test_empty_boxes_name_the_annotation_unless_skipped(coco_set, tmp_path, bbox):
    ann, imgs, data = coco_set
    _rewrite(ann, data, lambda d: d["annotations"][0].update(bbox=bbox))
    with pytest.raises(ValueError, match=r"ann\.json: annotation id 1 \(image 'a.png'\) has an empty box"):
        convert_coco(tmp_path / "out", {"train": (ann, imgs)})
    _assert_nothing_written(tmp_path)
    result = convert_coco(tmp_path / "out", {"train": (ann, imgs)}, skip_invalid=True)
    assert result["splits"]["train"]["invalid_skipped"] == 1


def test_missing_image_file_is_named(coco_set, tmp_path):
    ann, imgs, _ = coco_set
    (imgs / "d.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"image id 7 file 'd.png' not found"):
        convert_coco(tmp_path / "out", {"train": (ann, imgs)})
    _assert_nothing_written(tmp_path)


def test_class_list_mismatch_names_the_missing_categories(coco_set, tmp_path):
    ann, imgs, _ = coco_set
    with pytest.raises(ValueError, match=r"categories \['spot'\] are not in the class list \['scratch'\]"):
        convert_coco(tmp_path / "out", {"train": (ann, imgs)}, names=["scratch"])


def test_existing_output_is_not_clobbered(coco_set, tmp_path):
    ann, imgs, _ = coco_set
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        convert_coco(tmp_path / "out", {"train": (ann, imgs)})
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"
    convert_coco(tmp_path / "out", {"train": (ann, imgs)}, overwrite=True)
    assert not (tmp_path / "out" / "keep.txt").exists()
