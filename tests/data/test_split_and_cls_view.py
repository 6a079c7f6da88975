"""Seeded stratified split and the classification view: links, counts, determinism."""

from __future__ import annotations

import os

import pytest

from gfdnet_ultra.data.cls_view import make_cls_view
from gfdnet_ultra.data.split import split_dataset
from gfdnet_ultra.data.synthetic import make_synthetic_dataset
from gfdnet_ultra.data.yolo_format import load_data_yaml


@pytest.fixture
def syn(tmp_path):
    root = tmp_path / "syn"
    return root, make_synthetic_dataset(root, n_train=20, n_val=4, imgsz=64, normal_ratio=0.4, progress=False)


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_split_is_seeded_stratified_and_uses_links(syn, tmp_path):
    root, m = syn
    a = split_dataset(root / "images" / "train", tmp_path / "a", val_fraction=0.25, seed=5)
    b = split_dataset(root / "images" / "train", tmp_path / "b", val_fraction=0.25, seed=5)
    assert a == b == {"train": {"images": 15, "normal": 6, "defective": 9}, "val": {"images": 5, "normal": 2, "defective": 3}}
    assert _names(tmp_path / "a" / "images" / "val") == _names(tmp_path / "b" / "images" / "val")
    src = root / "images" / "train" / _names(tmp_path / "a" / "images" / "val")[0]
    assert os.path.samefile(src, tmp_path / "a" / "images" / "val" / src.name)
    cfg, _ = load_data_yaml(tmp_path / "a" / "data.yaml")
    assert cfg["names"] == m["names"] and cfg["val"] == "images/val"
    c = split_dataset(root / "images" / "train", tmp_path / "c", val_fraction=0.25, seed=6)
    assert c == a and _names(tmp_path / "c" / "images" / "val") != _names(tmp_path / "a" / "images" / "val")


def test_split_rejects_bad_fraction_and_missing_names(syn, tmp_path):
    root, _ = syn
    with pytest.raises(ValueError, match="val_fraction must be in"):
        split_dataset(root / "images" / "train", tmp_path / "x", val_fraction=1.0)
    loose = tmp_path / "loose" / "images"
    loose.mkdir(parents=True)
    for p in list((root / "images" / "val").iterdir())[:2]:
        os.link(p, loose / p.name)
    with pytest.raises(ValueError, match="pass names="):
        split_dataset(loose, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_cls_view_links_images_by_label_state(syn, tmp_path):
    root, m = syn
    counts = make_cls_view(root / "data.yaml", tmp_path / "cls")
    for split in ("train", "val"):
        assert counts[split] == {"defective": m["splits"][split]["defective"], "normal": m["splits"][split]["normal"]}
        for name in ("defective", "normal"):
            folder = tmp_path / "cls" / split / name
            assert _names(folder) == _names(root / "cls" / split / name)
            assert all(os.path.samefile(p, root / "images" / split / p.name) for p in folder.iterdir())
