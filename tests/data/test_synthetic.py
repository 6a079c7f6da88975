"""Synthetic defect generator: layout, determinism, manifest, refusal to clobber."""

from __future__ import annotations

import json

import cv2
import pytest

from gfdnet_ultra.data.synthetic import make_synthetic_dataset, synthetic_dataset
from gfdnet_ultra.data.yolo_format import load_data_yaml, read_label_file

TINY = dict(n_train=10, n_val=4, imgsz=64, progress=False)


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path):
    make_synthetic_dataset(tmp_path / "a", seed=3, **TINY)
    make_synthetic_dataset(tmp_path / "b", seed=3, **TINY)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    assert all(a[k] == b[k] for k in a if k != "data.yaml")  # data.yaml holds each root's absolute path


def test_different_seed_gives_different_images(tmp_path):
    make_synthetic_dataset(tmp_path / "a", seed=0, **TINY)
    make_synthetic_dataset(tmp_path / "b", seed=1, **TINY)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert [v for k, v in a.items() if k.endswith(".png")] != [v for k, v in b.items() if k.endswith(".png")]


def test_layout_matches_the_manifest(tmp_path):
    root = tmp_path / "syn"
    m = make_synthetic_dataset(root, normal_ratio=0.5, **TINY)
    assert m == json.loads((root / "manifest.json").read_text())
    cfg, data_root = load_data_yaml(root / "data.yaml")
    assert data_root == root and cfg["names"] == m["names"] and len(m["names"]) == 6
    for split, n in (("train", 10), ("val", 4)):
        images = sorted((root / "images" / split).glob("*.png"))
        labels = [root / "labels" / split / f"{p.stem}.txt" for p in images]
        rows = [read_label_file(lb) for lb in labels]
        assert len(images) == n == m["splits"][split]["images"]
        assert sum(not r for r in rows) == m["splits"][split]["normal"] == n // 2
        assert all(1 <= len(r) <= 4 for r in rows if r)
        assert sum(len(r) for r in rows) == sum(m["splits"][split]["boxes"].values())
        assert all(0 < v <= 1 for r in rows for row in r for v in row[1:])
        assert cv2.imread(str(images[0])).shape == (64, 64, 3)
        normal = {p.name for p in (root / "cls" / split / "normal").iterdir()}
        defective = {p.name for p in (root / "cls" / split / "defective").iterdir()}
        assert normal == {im.name for im, r in zip(images, rows) if not r}
        assert defective == {im.name for im, r in zip(images, rows) if r}


def test_existing_matching_dataset_is_reused_and_other_content_is_refused(tmp_path):
    root = tmp_path / "syn"
    make_synthetic_dataset(root, **TINY)
    stamp = (root / "manifest.json").stat().st_mtime_ns
    make_synthetic_dataset(root, **TINY)
    assert (root / "manifest.json").stat().st_mtime_ns == stamp
    with pytest.raises(FileExistsError, match="overwrite=True"):
        make_synthetic_dataset(root, seed=9, **TINY)
    assert make_synthetic_dataset(root, seed=9, overwrite=True, **TINY)["params"]["seed"] == 9
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging leftovers


def test_bad_parameters_are_rejected_with_the_value():
    with pytest.raises(ValueError, match="normal_ratio"):
        make_synthetic_dataset("unused", normal_ratio=1.5)
    with pytest.raises(ValueError, match="imgsz=32"):
        make_synthetic_dataset("unused", imgsz=32)


def test_synthetic_dataset_caches_by_parameters(tmp_path, monkeypatch):
    monkeypatch.setenv("GFDNET_DATA_DIR", str(tmp_path))
    a = synthetic_dataset(n_train=4, n_val=2, imgsz=64)
    assert a.is_file() and a.parent.parent == tmp_path and a.parent.name.startswith("synthetic-")
    assert synthetic_dataset(n_train=4, n_val=2, imgsz=64) == a
    assert synthetic_dataset(n_train=4, n_val=2, imgsz=64, seed=0, normal_ratio=0.44) == a  # defaults spelled out
    assert synthetic_dataset(n_train=4, n_val=2, imgsz=64, seed=1) != a
