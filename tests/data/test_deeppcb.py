"""DeepPCB pairs -> YOLO on a tiny fake `PCBData` tree: exact labels, pair-keeping splits, options, clear errors."""

from __future__ import annotations

import sys

import pytest
import yaml

from gfdnet_ultra.data.deeppcb import DEEPPCB_NAMES, convert_deeppcb
from gfdnet_ultra.gate.samples import image_groups

from ..conftest import REPO, run

LABELS = {  # hand-computed from conftest.DEEPPCB_PAIRS at 640x640: class = type - 1, centre and size / 640
    "group10000_10000000": "0 0.031250 0.062500 0.031250 0.062500\n5 0.968750 0.968750 0.062500 0.062500\n",
    "group10000_10000001": "2 0.195312 0.187500 0.078125 0.062500\n",
    "group10000_10000002": "1 0.031250 0.031250 0.062500 0.062500\n",
    "group20000_20000000": "3 0.525000 0.507812 0.050000 0.015625\n",
    "group20000_20000001": "4 0.039062 0.964844 0.062500 0.054688\n",
}


def _labels(out):
    """`{file stem: label text}` over all splits."""
    return {p.stem: p.read_text() for p in (out / "labels").glob("*/*.txt")}


def _split_of(out):
    """`{image stem: split}` over all splits."""
    return {p.stem: p.parent.name for p in (out / "images").glob("*/*.jpg")}


def _pairs_in(out, split):
    """Sorted pair stems (`<group>_<id>`) whose images are in `split`."""
    return sorted({p.stem.rsplit("_", 1)[0] for p in (out / "images" / split).glob("*.jpg")})


def _nothing_written(tmp_path):
    return not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.tmp-*"))


def test_tested_images_get_exact_labels_and_templates_empty_ones(deeppcb_root, tmp_path):
    result = convert_deeppcb(deeppcb_root, tmp_path / "out", val_fraction=0.4, seed=0)
    expected = {**{f"{s}_test": text for s, text in LABELS.items()}, **{f"{s}_temp": "" for s in LABELS}}
    assert _labels(tmp_path / "out") == expected
    assert result["names"] == list(DEEPPCB_NAMES) == ["open", "short", "mousebite", "spur", "copper", "pin-hole"]
    assert result["pairs"] == {"listed": 5, "used": 5}
    for split, pairs in (("train", 3), ("val", 2)):
        boxes = sum(LABELS[s].count("\n") for s in _pairs_in(tmp_path / "out", split))
        assert result["splits"][split] == {"pairs": pairs, "images": 2 * pairs, "normal": pairs, "boxes": boxes}
    data = yaml.safe_load((tmp_path / "out" / "data.yaml").read_text())
    assert data["names"] == dict(enumerate(DEEPPCB_NAMES)) and (data["train"], data["val"]) == ("images/train", "images/val")
    keys = image_groups(sorted((tmp_path / "out" / "images" / "train").iterdir()), tmp_path / "out" / "data.yaml")
    assert sorted(keys) == sorted(2 * list(_pairs_in(tmp_path / "out", "train")))  # a board and its template together
    listed = (tmp_path / "out" / "val.txt").read_text().split()
    assert sorted(listed) == sorted(f"./images/val/{p.name}" for p in (tmp_path / "out" / "images" / "val").iterdir())


def test_both_images_of_a_pair_share_a_split_fixed_by_the_seed(deeppcb_root, tmp_path):
    splits = []
    for seed in range(5):
        out = tmp_path / f"out{seed}"
        convert_deeppcb(deeppcb_root, out, val_fraction=0.4, seed=seed)
        where = _split_of(out)
        assert all(where[f"{s}_test"] == where[f"{s}_temp"] for s in LABELS)
        splits.append(where)
    convert_deeppcb(deeppcb_root, tmp_path / "again", val_fraction=0.4, seed=0)
    assert _split_of(tmp_path / "again") == splits[0]
    assert any(s != splits[0] for s in splits[1:])


def test_trainval_and_test_lists_define_train_and_val(deeppcb_root, tmp_path):
    lines = (deeppcb_root / "trainval.txt").read_text().splitlines()
    (deeppcb_root / "trainval.txt").write_text("\n".join(lines[:3]) + "\n")
    (deeppcb_root / "test.txt").write_text("\n".join(lines[3:]) + "\n")
    result = convert_deeppcb(deeppcb_root, tmp_path / "out")
    assert _pairs_in(tmp_path / "out", "train") == sorted(LABELS)[:3]
    assert _pairs_in(tmp_path / "out", "val") == sorted(LABELS)[3:]
    assert result["splits"]["val"] == {"pairs": 2, "images": 4, "normal": 2, "boxes": 2}
    with pytest.raises(ValueError, match=r"both trainval\.txt and test\.txt are present and define the split"):
        convert_deeppcb(deeppcb_root, tmp_path / "out2", val_fraction=0.2)
    (deeppcb_root / "test.txt").write_text(lines[0])
    with pytest.raises(ValueError, match=r"test\.txt:1: pair 'group10000_10000000' is listed twice \(first at .*trainval\.txt:1\)"):
        convert_deeppcb(deeppcb_root, tmp_path / "out2")


def test_max_pairs_takes_a_seeded_subset_before_splitting(deeppcb_root, tmp_path):
    result = convert_deeppcb(deeppcb_root, tmp_path / "out", max_pairs=3, val_fraction=0.34, seed=1)
    assert result["pairs"] == {"listed": 5, "used": 3}
    assert (result["splits"]["train"]["pairs"], result["splits"]["val"]["pairs"]) == (2, 1)
    convert_deeppcb(deeppcb_root, tmp_path / "again", max_pairs=3, val_fraction=0.34, seed=1)
    assert _split_of(tmp_path / "again") == _split_of(tmp_path / "out")
    assert "3 of 5 pairs, seed=1" in (tmp_path / "out" / "data.yaml").read_text()


def test_no_templates_leaves_only_tested_images_and_copy_makes_independent_files(deeppcb_root, tmp_path):
    result = convert_deeppcb(deeppcb_root, tmp_path / "out", val_fraction=0.4, templates=False, copy=True)
    images = sorted((tmp_path / "out" / "images").glob("*/*.jpg"))
    assert sorted(p.stem for p in images) == sorted(f"{s}_test" for s in LABELS)
    assert all(p.stat().st_nlink == 1 and not p.is_symlink() for p in images)
    assert sum(s["normal"] for s in result["splits"].values()) == 0
    assert sum(s["images"] for s in result["splits"].values()) == 5


def test_ids_repeated_across_groups_stay_distinct(tmp_path):
    from .conftest import tiny_deeppcb

    root = tiny_deeppcb(tmp_path / "PCBData", {"groupA": {"000": "1 1 9 9 1"}, "groupB": {"000": "1 1 9 9 2"}})
    convert_deeppcb(root, tmp_path / "out", val_fraction=0.5)
    assert sorted(_labels(tmp_path / "out")) == ["groupA_000_temp", "groupA_000_test", "groupB_000_temp", "groupB_000_test"]


ANN = "group10000/10000_not/10000001.txt"


@pytest.mark.parametrize(
    "path, text, error, match",
    [
        (ANN, "100 100 150\n", ValueError, r"10000001\.txt:1: malformed line '100 100 150'; expected 'x1 y1 x2 y2 type'"),
        (ANN, "1 1 5 5 2\n10 20 30 40 7\n", ValueError, r"10000001\.txt:2: unknown defect type '7'; DeepPCB types are 1 open"),
        (ANN, "1 1 5 5 0\n", ValueError, r"10000001\.txt:1: unknown defect type '0'"),
        (ANN, "600 600 641 630 2\n", ValueError, r"10000001\.txt:1: box \['600', '600', '641', '630'\] lies outside the 640x640 image"),
        (ANN, "-1 5 20 20 2\n", ValueError, r"10000001\.txt:1: box .* lies outside the 640x640 image"),
        (ANN, "30 20 10 60 1\n", ValueError, r"10000001\.txt:1: empty box"),
        ("trainval.txt", "", ValueError, r"trainval\.txt: the pair list is empty"),
        ("trainval.txt", "\n\n", ValueError, r"trainval\.txt: the pair list is empty"),
        ("trainval.txt", "group10000/10000/10000000.jpg\n", ValueError, r"trainval\.txt:1: malformed pair 'group10000/10000/10000000\.jpg'"),
        ("trainval.txt", f"group10000/10000/10000001.jpg {ANN}\ngroup10000/10000/10000001.jpg {ANN}\n", ValueError,
         r"trainval\.txt:2: pair 'group10000_10000001' is listed twice \(first at .*trainval\.txt:1\)"),
        ("trainval.txt", f"group10000/10000/10000001.jpg {ANN}\ngroup10000/10000/10000009.jpg {ANN}\n", FileNotFoundError,
         r"trainval\.txt:2: tested image .*10000009_test\.jpg not found"),
        ("trainval.txt", f"group10000/10000/10000001.jpg {ANN}\ngroup10000/10000/10000002.jpg group10000/10000_not/nope.txt\n",
         FileNotFoundError, r"trainval\.txt:2: annotation .*nope\.txt not found"),
    ],
)
def test_bad_records_are_named_by_file_and_line_and_nothing_is_written(deeppcb_root, tmp_path, path, text, error, match):
    (deeppcb_root / path).write_text(text)
    with pytest.raises(error, match=match):
        convert_deeppcb(deeppcb_root, tmp_path / "out", val_fraction=0.4)
    assert _nothing_written(tmp_path)


def test_a_missing_template_is_an_error_unless_templates_are_left_out(deeppcb_root, tmp_path):
    (deeppcb_root / "group20000" / "20000" / "20000001_temp.jpg").unlink()
    with pytest.raises(FileNotFoundError, match=r"trainval\.txt:5: template .*20000001_temp\.jpg not found"):
        convert_deeppcb(deeppcb_root, tmp_path / "out", val_fraction=0.4)
    assert _nothing_written(tmp_path)
    assert convert_deeppcb(deeppcb_root, tmp_path / "out", val_fraction=0.4, templates=False)["pairs"]["used"] == 5


def test_a_folder_without_pair_lists_and_bad_options_are_refused(deeppcb_root, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no pair list \(trainval\.txt or test\.txt\) in .*group10000"):
        convert_deeppcb(deeppcb_root / "group10000", tmp_path / "out")
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\), got 1\.0"):
        convert_deeppcb(deeppcb_root, tmp_path / "out", val_fraction=1.0)
    with pytest.raises(ValueError, match=r"max_pairs must be at least 1, got 0"):
        convert_deeppcb(deeppcb_root, tmp_path / "out", max_pairs=0)
    with pytest.raises(ValueError, match=r"1 pair\(s\) with val_fraction=0\.2 leave a split empty"):
        convert_deeppcb(deeppcb_root, tmp_path / "out", max_pairs=1)
    assert _nothing_written(tmp_path)


def test_the_script_prints_counts_and_reports_bad_input_in_one_line(deeppcb_root, tmp_path):
    script = [sys.executable, str(REPO / "scripts" / "convert_deeppcb.py"), "--root", str(deeppcb_root)]
    ok = run([*script, "--out", str(tmp_path / "out"), "--max-pairs", "4", "--val", "0.25", "--seed", "0"], cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert '"used": 4' in ok.stdout and "pairs: 4 used of 5 listed" in ok.stdout
    (deeppcb_root / ANN).write_text("1 1 5 5 9\n")
    bad = run([*script, "--out", str(tmp_path / "bad")], cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: ") and "10000001.txt:1: unknown defect type '9'" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "bad").exists()
