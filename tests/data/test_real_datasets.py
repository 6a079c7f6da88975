"""Both converters on the real NEU-DET and DeepPCB files in the repository's `../shared/datasets` (skipped without it):
exact labels of one known image, the counts of the full conversion, and one epoch of plain `yolo train` on 16 images.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from gfdnet_ultra.data.deeppcb import convert_deeppcb
from gfdnet_ultra.data.split import split_dataset
from gfdnet_ultra.data.voc import convert_voc

from ..conftest import BIN, run

DATASETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"
NEU_NAMES = ["crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches"]


def _real(*parts: str) -> Path:
    path = DATASETS.joinpath(*parts)
    if not path.is_dir():
        pytest.skip(f"real dataset {path} not present (the repository's ../shared/datasets, see its README)")
    return path


@pytest.fixture(scope="module")
def neu(tmp_path_factory) -> tuple[Path, dict]:
    """NEU-DET (`IMAGES/`, `ANNOTATIONS/`) converted whole, as docs/datasets.md shows: (dataset root, result)."""
    root = _real("neu-det")
    out = tmp_path_factory.mktemp("neu") / "neu"
    return out, convert_voc(out, {"all": (root / "ANNOTATIONS", root / "IMAGES")}, names=NEU_NAMES)


@pytest.fixture(scope="module")
def deeppcb(tmp_path_factory) -> tuple[Path, dict]:
    """DeepPCB's 1,000 training pairs converted whole, seeded 8:2 split: (dataset root, result)."""
    root = _real("deeppcb", "PCBData")
    out = tmp_path_factory.mktemp("deeppcb") / "deeppcb"
    return out, convert_deeppcb(root, out, val_fraction=0.2, seed=0)


def test_neu_det_crazing_1_gets_its_exact_yolo_label(neu):
    xml = ET.parse(DATASETS / "neu-det" / "ANNOTATIONS" / "crazing_1.xml").getroot()
    box = [int(xml.find("object/bndbox").findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")]
    assert (xml.findtext("size/width"), xml.findtext("size/height"), box) == ("200", "200", [2, 2, 193, 194])
    # 1-based inclusive VOC box -> [1, 193) x [1, 194) at 200x200: centre (97, 97.5), size 192 x 193
    assert (neu[0] / "labels" / "all" / "crazing_1.txt").read_text() == "0 0.485000 0.487500 0.960000 0.965000\n"


def test_neu_det_converts_1770_images_with_4126_boxes_and_no_normal_image(neu):
    out, result = neu
    assert result["splits"]["all"] == {"images": 1770, "normal": 0, "boxes": 4126, "difficult_skipped": 0, "invalid_skipped": 0}
    assert len(list((out / "images" / "all").glob("*.jpg"))) == 1770
    assert sum(len(p.read_text().splitlines()) for p in (out / "labels" / "all").glob("*.txt")) == 4126


def test_deeppcb_20085000_gets_its_exact_yolo_labels_and_an_empty_template_label(deeppcb):
    src = DATASETS / "deeppcb" / "PCBData" / "group20085" / "20085_not" / "20085000.txt"
    assert src.read_text().split("\n")[:6] == [
        "409 394 435 422 3", "275 383 319 417 3", "8 163 36 191 4", "244 151 270 182 5", "338 519 364 543 6", "476 460 502 481 4",
    ]
    (label,) = deeppcb[0].glob("labels/*/group20085_20085000_test.txt")
    # class = type - 1; centre and size / 640, e.g. (409 + 435) / 2 / 640 = 0.659375, (435 - 409) / 640 = 0.040625
    assert label.read_text() == (
        "2 0.659375 0.637500 0.040625 0.043750\n"
        "2 0.464062 0.625000 0.068750 0.053125\n"
        "3 0.034375 0.276562 0.043750 0.043750\n"
        "4 0.401562 0.260156 0.040625 0.048438\n"
        "5 0.548438 0.829688 0.040625 0.037500\n"
        "3 0.764062 0.735156 0.040625 0.032813\n"
    )
    assert label.with_name("group20085_20085000_temp.txt").read_text() == ""


def test_deeppcb_converts_2000_images_with_6873_boxes_half_of_them_normal(deeppcb):
    out, result = deeppcb
    assert result["pairs"] == {"listed": 1000, "used": 1000}
    assert result["splits"] == {
        "train": {"pairs": 800, "images": 1600, "normal": 800, "boxes": 5498},
        "val": {"pairs": 200, "images": 400, "normal": 200, "boxes": 1375},
    }
    labels = list((out / "labels").glob("*/*.txt"))
    normal = [p for p in labels if not p.read_text()]
    assert len(labels) == 2000 and len(normal) == 1000 and all(p.name.endswith("_temp.txt") for p in normal)
    annotations = (DATASETS / "deeppcb" / "PCBData").glob("*/*_not/*.txt")
    raw = Counter(line.split()[4] for p in annotations for line in p.read_text().splitlines() if line.strip())
    converted = Counter(str(int(line.split()[0]) + 1) for p in labels for line in p.read_text().splitlines())
    assert converted == raw and sum(raw.values()) == 6873


def _yolo_train_one_epoch(data: Path, imgsz: int, work: Path) -> str:
    """One epoch of plain `yolo train` (stock YOLO11n) on `data`; its log, after checking it finished."""
    proc = run([str(BIN / "yolo"), "train", "model=yolo11n.yaml", f"data={data}", "epochs=1", f"imgsz={imgsz}", "batch=4",
                "workers=0", "device=cpu", "plots=False", f"project={work}", "name=train"], work)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert (work / "train" / "weights" / "last.pt").is_file() and (work / "train" / "results.csv").is_file()
    return log


@pytest.mark.slow
def test_plain_yolo_trains_one_epoch_on_16_converted_neu_det_images(tmp_path):
    root = _real("neu-det")
    xmls = tmp_path / "xml"
    xmls.mkdir()
    for xml in sorted((root / "ANNOTATIONS").glob("*.xml"))[::111]:  # 16 files across the six classes
        shutil.copy(xml, xmls)
    convert_voc(tmp_path / "neu", {"all": (xmls, root / "IMAGES")}, names=NEU_NAMES)
    split = split_dataset(tmp_path / "neu" / "images" / "all", tmp_path / "neu-det", val_fraction=0.25, seed=0)
    assert split["train"]["images"] == 12 and split["val"]["images"] == 4
    log = _yolo_train_one_epoch(tmp_path / "neu-det" / "data.yaml", 64, tmp_path)
    assert "12 images, 0 backgrounds, 0 corrupt" in log


@pytest.mark.slow
def test_plain_yolo_trains_one_epoch_on_16_converted_deeppcb_images(tmp_path):
    result = convert_deeppcb(_real("deeppcb", "PCBData"), tmp_path / "deeppcb", max_pairs=8, val_fraction=0.25, seed=0)
    assert (result["splits"]["train"]["images"], result["splits"]["val"]["images"]) == (12, 4)
    log = _yolo_train_one_epoch(tmp_path / "deeppcb" / "data.yaml", 128, tmp_path)
    assert "12 images, 6 backgrounds, 0 corrupt" in log  # Ultralytics reads the templates' empty labels as normal images
