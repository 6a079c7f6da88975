"""VOC xml -> YOLO: exact label files, discovered or given classes, clear errors."""

from __future__ import annotations

import pytest

from gfdnet_ultra.data.voc import convert_voc


def _labels(out, split="all"):
    return {p.name: p.read_text() for p in sorted((out / "labels" / split).glob("*.txt"))}


def test_voc_conversion_writes_exact_labels_with_discovered_classes(voc_set, tmp_path):
    xml_dir, img_dir = voc_set
    result = convert_voc(tmp_path / "out", {"all": (xml_dir, img_dir)})
    assert result["names"] == ["crack", "hole"]
    assert _labels(tmp_path / "out") == {
        "a.txt": "0 0.500000 0.500000 1.000000 1.000000\n1 0.375000 0.375000 0.250000 0.250000\n"
        "1 0.075000 0.150000 0.100000 0.200000\n",
        "b.txt": "",
    }
    assert result["splits"]["all"] == {"images": 2, "normal": 1, "boxes": 3, "difficult_skipped": 0, "invalid_skipped": 0}


def test_difficult_objects_can_be_dropped_and_names_renamed(voc_set, tmp_path):
    xml_dir, img_dir = voc_set
    result = convert_voc(
        tmp_path / "out", {"all": (xml_dir, img_dir)}, names=["hole", "fissure"], rename={"crack": "fissure"}, keep_difficult=False
    )
    assert _labels(tmp_path / "out")["a.txt"] == "1 0.500000 0.500000 1.000000 1.000000\n0 0.375000 0.375000 0.250000 0.250000\n"
    assert result["splits"]["all"]["difficult_skipped"] == 1


def test_unknown_class_names_the_xml_and_object(voc_set, tmp_path):
    xml_dir, img_dir = voc_set
    with pytest.raises(ValueError, match=r"a\.xml: object #0 has class 'crack', not in the class list"):
        convert_voc(tmp_path / "out", {"all": (xml_dir, img_dir)}, names=["hole"])
    assert not (tmp_path / "out").exists()


def test_malformed_xml_names_the_file_and_line(voc_set, tmp_path):
    xml_dir, img_dir = voc_set
    (xml_dir / "b.xml").write_text("<annotation>\n<object>\n</annotation>")
    with pytest.raises(ValueError, match=r"b\.xml: malformed XML at line 3"):
        convert_voc(tmp_path / "out", {"all": (xml_dir, img_dir)})


def test_zero_size_box_and_missing_image_are_named(voc_set, tmp_path, make_voc_xml):
    xml_dir, img_dir = voc_set
    (xml_dir / "b.xml").write_text(make_voc_xml("b.png", [("hole", 0, 5, 5, 4, 9)]))
    with pytest.raises(ValueError, match=r"b\.xml: object #0 \(hole\) has an empty box"):
        convert_voc(tmp_path / "out", {"all": (xml_dir, img_dir)})
    (xml_dir / "b.xml").write_text(make_voc_xml("gone.png", []))
    (img_dir / "b.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"b\.xml: image 'gone.png' not found"):
        convert_voc(tmp_path / "out", {"all": (xml_dir, img_dir)})
    assert not (tmp_path / "out").exists()
