"""Dataset statistics agree with the generator's manifest and report every kind of problem by file and line."""

from __future__ import annotations

import shutil

import pytest

from gfdnet_ultra.data.stats import dataset_stats, plot_box_sizes, stats_markdown
from gfdnet_ultra.data.synthetic import make_synthetic_dataset


@pytest.fixture
def syn(tmp_path):
    root = tmp_path / "syn"
    return root, make_synthetic_dataset(root, n_train=12, n_val=6, imgsz=64, progress=False)


def test_stats_match_the_generator_manifest(syn, tmp_path):
    root, m = syn
    s = dataset_stats(root / "data.yaml")
    assert s["problems"] == [] and s["names"] == m["names"]
    for split in ("train", "val"):
        got, want = s["splits"][split], m["splits"][split]
        assert (got["images"], got["normal"], got["defective"], got["boxes"]) == (
            want["images"], want["normal"], want["defective"], want["boxes"]
        )
        assert len(got["box_sizes"]) == sum(want["boxes"].values())
    md = stats_markdown(s, plot="sizes.png")
    assert f"| train | 12 | {m['splits']['train']['normal']} |" in md and "none found" in md and "![box sizes](sizes.png)" in md
    assert plot_box_sizes(s, tmp_path / "p" / "sizes.png").stat().st_size > 1000


def test_stats_report_problems_by_file_and_line(syn):
    root, _ = syn
    labels = sorted((root / "labels" / "train").glob("*.txt"))
    labels[0].write_text("9 0.5 0.5 0.1 0.1\n")
    labels[1].write_text("0 0.5 0.5 0.1 0.1\n\n0 0.98 0.5 0.1 0.1\n")
    labels[2].write_text("0 0.5 0.5\n")
    images = sorted((root / "images" / "train").glob("*.png"))
    images[3].write_bytes(b"not a png")
    shutil.copyfile(images[4], root / "images" / "val" / "copy.png")
    (root / "labels" / "val" / "orphan.txt").write_text("")
    problems = "\n".join(dataset_stats(root / "data.yaml")["problems"])
    assert f"{labels[0]}:1: class 9 outside the class list 0..5 of the YAML (class list mismatch)" in problems
    assert f"{labels[1]}:3: box" in problems and "outside the image" in problems
    assert f"{labels[2]}:1: bad YOLO label line" in problems
    assert f"{images[3]}: unreadable image" in problems
    assert "duplicate images (same bytes)" in problems and "copy.png" in problems
    assert "orphan.txt: label file without an image" in problems
    with pytest.raises(ValueError, match="problem"):
        dataset_stats(root / "data.yaml", strict=True)
