"""Bad input, one test per row of docs/reliability.md: the error (or warning) names the problem, and nothing is lost.

Entry-point tests run against an existing run directory (`intact`) and assert afterwards that its files are unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from gfdnet_ultra.integration import model_files

GOOD_LABEL = "0 0.5 0.5 0.2 0.2\n"


# Model YAMLs -------------------------------------------------------------------------------------------------------


def _bad_model(tmp_path: Path, part: str, row: int, new_row: list) -> str:
    """gfdnet.yaml with one row replaced, written as bad.yaml; returns the scale-n name (bad-n.yaml)."""
    d = yaml.safe_load((model_files.models_dir() / "gfdnet.yaml").read_text())
    d[part][row] = new_row
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(d, sort_keys=False))
    return str(tmp_path / "bad-n.yaml")


def _build_error(name: str) -> str:
    from ultralytics import YOLO

    with pytest.raises(ValueError) as e:
        YOLO(name)
    return str(e.value)


def test_unknown_layer_names_the_row_and_lists_the_available_layers(tmp_path):
    msg = _build_error(_bad_model(tmp_path, "backbone", 3, [-1, 6, "GAstag", [256]]))
    assert "row 3 (GAstag" in msg and "Unknown layer 'GAstag'" in msg
    assert "GAstage" in msg and "Detect_TDSC" in msg  # the list of ours


def test_wrong_argument_count_names_the_row_and_the_signature(tmp_path):
    msg = _build_error(_bad_model(tmp_path, "head", 0, [[3, 4, 5], 1, "FIF", [256, 3, 4, 5, 6, 7]]))
    assert "row 10 (FIF" in msg and "takes from 3 to 5 positional arguments but 8 were given" in msg


def test_wrong_argument_type_names_the_row_and_the_bad_argument(tmp_path):
    msg = _build_error(_bad_model(tmp_path, "head", 0, [[3, 4, 5], 1, "FIF", ["wide"]]))
    assert "row 10 (FIF" in msg and "args ['wide']" in msg and "TypeError" in msg


def test_channels_that_cannot_divide_into_groups_say_what_would_work(tmp_path):
    msg = _build_error(_bad_model(tmp_path, "head", 10, [[14, 17, 19], 1, "Detect_TDSC", ["nc", 100]]))
    assert "row 20 (Detect_TDSC" in msg and "hidc=100 is not a multiple of 32" in msg and "hidc=None" in msg


@pytest.mark.parametrize("bad_from", [55, -55])
def test_from_index_out_of_range_names_the_row_and_its_inputs(tmp_path, bad_from):
    msg = _build_error(_bad_model(tmp_path, "head", 0, [[3, 4, bad_from], 1, "FIF", [256]]))
    assert f"row 10 (FIF, from [3, 4, {bad_from}]" in msg and "IndexError" in msg


def test_unknown_model_scale_lists_the_scales_that_exist():
    from ultralytics import YOLO

    with pytest.raises(ValueError, match="scale 'x' is not in gfdnet.yaml; use one of gfdnet-n.yaml"):
        YOLO("gfdnet-x.yaml")


# Images and labels -------------------------------------------------------------------------------------------------


def _write_image(path: Path, kind: str, src: np.ndarray) -> None:
    if kind == "corrupt":
        ok, buf = cv2.imencode(".png", src)
        path.write_bytes(buf.tobytes()[:100])  # truncated PNG
    elif kind == "zero-size":
        path.write_bytes(b"")
    elif kind == "grayscale":
        cv2.imwrite(str(path), cv2.cvtColor(src, cv2.COLOR_BGR2GRAY))
    elif kind == "16-bit":
        cv2.imwrite(str(path), src.astype(np.uint16) * 257)
    elif kind == "alpha":
        cv2.imwrite(str(path), cv2.cvtColor(src, cv2.COLOR_BGR2BGRA))
    else:
        cv2.imwrite(str(path), src)


BAD_ROWS = {  # image kind, label text -> the words the scan message must contain
    "corrupt": ("corrupt", GOOD_LABEL, "Truncated File Read"),
    "zero-size": ("zero-size", GOOD_LABEL, "cannot identify image file"),
    "class-out-of-range": ("ok", "17 0.5 0.5 0.2 0.2\n", "Label class 17 exceeds dataset class count 6"),
    "negative-coordinate": ("ok", "0 -0.5 0.5 0.2 0.2\n", "negative label values [-0.5]"),
    "nan-coordinate": ("ok", "0 nan 0.5 0.2 0.2\n", "non-normalized or out of bounds coordinates"),
    "too-few-columns": ("ok", "0 0.5 0.5\n", "labels require 5 columns, 3 columns detected"),
}
USABLE = ("grayscale", "16-bit", "alpha")


@pytest.fixture(scope="module")
def bad_dataset(synthetic_yaml, tmp_path_factory) -> Path:
    """A copy of the synthetic set whose train split also holds one file per bad-input row."""
    root = tmp_path_factory.mktemp("bad") / "data"
    shutil.copytree(synthetic_yaml.parent, root, symlinks=True, ignore=shutil.ignore_patterns("*.cache"))
    d = yaml.safe_load((root / "data.yaml").read_text())
    d["path"] = str(root)
    (root / "data.yaml").write_text(yaml.safe_dump(d))
    src = cv2.imread(str(next((root / "images" / "train").glob("*.png"))))
    rows = {**BAD_ROWS, **{k: (k, GOOD_LABEL, "") for k in USABLE}}
    for name, (kind, label, _) in rows.items():
        _write_image(root / "images" / "train" / f"{name}.png", kind, src)
        (root / "labels" / "train" / f"{name}.txt").write_text(label)
    return root


@pytest.fixture(scope="module")
def scanned(bad_dataset):
    """The Ultralytics training dataset built on it: (dataset, scan messages by file stem)."""
    from ultralytics.cfg import get_cfg
    from ultralytics.data import YOLODataset
    from ultralytics.data.utils import check_det_dataset

    data = check_det_dataset(str(bad_dataset / "data.yaml"))
    dataset = YOLODataset(img_path=str(bad_dataset / "images" / "train"), imgsz=64, augment=False, data=data,
                          hyp=get_cfg())
    cache = np.load(str(bad_dataset / "labels" / "train.cache"), allow_pickle=True).item()
    return dataset, {Path(m.split(":")[0]).stem: m for m in cache["msgs"]}


@pytest.mark.parametrize("row", sorted(BAD_ROWS))
def test_bad_image_or_label_is_skipped_with_a_message_naming_file_and_problem(scanned, row):
    dataset, messages = scanned
    assert row in messages, f"no scan message for {row}: {sorted(messages)}"
    assert f"{row}.png: ignoring corrupt image/label:" in messages[row]
    assert BAD_ROWS[row][2] in messages[row]
    assert not any(Path(f).stem == row for f in dataset.im_files)


@pytest.mark.parametrize("row", USABLE)
def test_grayscale_16bit_and_alpha_images_are_read_as_3_channel_8bit(scanned, row):
    dataset, messages = scanned
    assert row not in messages
    (i,) = [i for i, f in enumerate(dataset.im_files) if Path(f).stem == row]
    img = dataset[i]["img"]
    assert tuple(img.shape) == (3, 64, 64) and str(img.dtype) == "torch.uint8"


def test_unreadable_image_never_triggers_a_package_install(bad_dataset, caplog):
    """Pillow failing to identify a file made Ultralytics pip-install pi-heif; gfdnet_ultra settles that at import."""
    from ultralytics.utils import patches

    from PIL import Image, UnidentifiedImageError

    assert patches._pil_plugins_registered
    with pytest.raises(UnidentifiedImageError, match="zero-size.png"):
        Image.open(bad_dataset / "images" / "train" / "zero-size.png")
    assert "AutoUpdate" not in caplog.text


@pytest.mark.parametrize("kind", ["corrupt", "zero-size"])
def test_predict_on_an_unreadable_image_warns_with_its_path_and_loses_nothing(bad_dataset, det_pt, intact, kind,
                                                                                caplog):
    from ultralytics import YOLO

    source = bad_dataset / "images" / "train" / f"{kind}.png"
    results = YOLO(det_pt).predict(source, imgsz=64, project=str(intact.parent), name="train", exist_ok=True,
                                   save=True, verbose=False)
    assert results == []
    assert f"Image Read Error {source}" in caplog.text


@pytest.mark.parametrize("kind", USABLE)
def test_predict_reads_grayscale_16bit_and_alpha_images(bad_dataset, det_pt, kind):
    from ultralytics import YOLO

    (result,) = YOLO(det_pt).predict(bad_dataset / "images" / "train" / f"{kind}.png", imgsz=64, verbose=False)
    assert result.orig_img.shape == (64, 64, 3) and result.orig_img.dtype == np.uint8


# Datasets, checkpoints, thresholds, ONNX ----------------------------------------------------------------------------


def test_dataset_yaml_pointing_nowhere_names_the_path_and_loses_nothing(det_pt, intact):
    from ultralytics import YOLO

    with pytest.raises(RuntimeError, match=r"Dataset 'nowhere/data.yaml' error .*'nowhere/data.yaml' does not exist"):
        YOLO(det_pt).train(data="nowhere/data.yaml", epochs=1, imgsz=64, project=str(intact.parent), name="train",
                           exist_ok=True, device="cpu")


def test_dataset_yaml_whose_images_are_missing_names_the_folder(tmp_path, det_pt, intact):
    from ultralytics import YOLO

    data = tmp_path / "data.yaml"
    data.write_text(yaml.safe_dump({"path": str(tmp_path / "gone"), "train": "images/train", "val": "images/val",
                                    "names": {0: "scratch"}}))
    with pytest.raises((FileNotFoundError, RuntimeError), match="images/val"):
        YOLO(det_pt).val(data=str(data), imgsz=64, project=str(intact.parent), name="train", exist_ok=True)


def test_gfdnet_cli_prints_a_missing_dataset_as_one_line(tmp_path, det_pt, capsys):
    from gfdnet_ultra.integration.cli import main

    assert main(["val", f"model={det_pt}", "data=nowhere/data.yaml", "imgsz=64", f"project={tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gfdnet: error: ") and "'nowhere/data.yaml' does not exist" in err


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "high"])
def test_gate_threshold_outside_0_1_is_refused_before_anything_runs(synthetic_yaml, det_pt, intact, threshold):
    from ultralytics import YOLO

    source = next((synthetic_yaml.parent / "images" / "val").glob("*.png"))
    with pytest.raises(ValueError, match=r"gate threshold=.*(outside \[0, 1\]|not a number)"):
        YOLO(det_pt).predict(source, imgsz=64, threshold=threshold, project=str(intact.parent), name="train",
                             exist_ok=True)


def test_gate_threshold_outside_0_1_is_refused_by_the_onnx_runner(tmp_path):
    from gfdnet_ultra.gate.onnx_runtime import GatedOnnxRunner

    with pytest.raises(ValueError, match=r"gate threshold=2 is outside \[0, 1\]"):
        GatedOnnxRunner(tmp_path / "missing-gate.onnx", threshold=2)


def test_classification_checkpoint_used_for_detection_names_the_mismatch(synthetic_yaml, cls_pt, intact):
    from ultralytics import YOLO

    before = cls_pt.read_bytes()
    with pytest.raises(ValueError, match="Classification datasets must be a directory"):
        YOLO(cls_pt).val(data=str(synthetic_yaml), imgsz=64, project=str(intact.parent), name="train", exist_ok=True)
    assert cls_pt.read_bytes() == before


def test_detection_checkpoint_on_a_classification_folder_names_the_folder(synthetic_yaml, det_pt, intact):
    from ultralytics import YOLO

    cls_dir = synthetic_yaml.parent / "cls"
    with pytest.raises(AssertionError, match=f"No YAML file found in '{cls_dir}'"):
        YOLO(det_pt).val(data=str(cls_dir), imgsz=64, project=str(intact.parent), name="train", exist_ok=True)


def test_missing_checkpoint_names_the_path(tmp_path):
    from ultralytics import YOLO

    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        YOLO(tmp_path / "nowhere.pt")


def test_truncated_checkpoint_fails_to_load_and_is_not_rewritten(tmp_path, det_pt):
    from ultralytics import YOLO

    broken = tmp_path / "last.pt"
    broken.write_bytes(det_pt.read_bytes()[: det_pt.stat().st_size // 2])
    before = broken.read_bytes()
    with pytest.raises(Exception, match="(?i)zip|archive|central directory|ran out of input|failed finding"):
        YOLO(broken)
    assert broken.read_bytes() == before


@pytest.mark.slow
def test_static_onnx_predicted_at_another_size_warns_and_runs_at_its_exported_size(synthetic_yaml, det_pt, tmp_path):
    """Ultralytics letterboxes to the exported size when a static ONNX file gets another imgsz; our predictor says so.
    The output must be the exported size's and the file unchanged."""
    import logging

    from ultralytics import YOLO
    from ultralytics.utils import LOGGER

    class Records(logging.Handler):
        messages: list[str] = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    pt = tmp_path / det_pt.name
    shutil.copy(det_pt, pt)
    onnx = Path(YOLO(pt).export(format="onnx", imgsz=64, simplify=False))
    before = onnx.read_bytes()
    source = next((synthetic_yaml.parent / "images" / "val").glob("*.png"))
    model = YOLO(onnx)
    handler = Records()
    LOGGER.addHandler(handler)
    try:
        model.predict(source, imgsz=128, verbose=False)
    finally:
        LOGGER.removeHandler(handler)
    assert any("static input of [64, 64]" in m and "imgsz=128" in m for m in handler.messages), handler.messages
    assert tuple(model.predictor.imgsz) == (64, 64)
    assert onnx.read_bytes() == before
