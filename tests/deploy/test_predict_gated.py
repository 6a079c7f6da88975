"""`gfdnet predict-gated`: a folder through the exported gated pair, per-image p(defect) and skip, on both backends."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from gfdnet_ultra.deploy.predict_gated import find_pair, list_images, predict_gated

from ..conftest import BIN, run


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """`yolo export format=onnx` of an untrained gated yolo11n at 64 px: m.onnx, m-gate.onnx, m-tail.onnx."""
    import torch
    from ultralytics import YOLO

    folder = tmp_path_factory.mktemp("pair")
    torch.manual_seed(0)
    YOLO("yolo11-gated-n.yaml").save(folder / "m.pt")
    YOLO(folder / "m.pt").export(format="onnx", imgsz=64, simplify=False)
    return folder


@pytest.mark.slow  # two fresh `gfdnet` processes
def test_cli_writes_annotated_images_and_p_defect_and_skip_per_image(exported, synthetic_yaml, tmp_path):
    source = synthetic_yaml.parent / "images" / "val"
    n = len(list_images(source))
    for threshold, backend in ((0.0, "openvino"), (1.0, "onnxruntime")):
        args = [f"model={exported / 'm-gate.onnx'}", f"source={source}", f"threshold={threshold}", f"backend={backend}",
                "conf=0", "max_det=5", f"project={tmp_path}", f"name={backend}", "save_txt=True"]
        proc = run([str(BIN / "gfdnet"), "predict-gated", *args], tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = tmp_path / backend
        report = json.loads((out / "predictions.json").read_text())
        assert report["backend"] == backend and len(report["images"]) == n
        assert all(0 <= r["p_defect"] <= 1 and r["skipped"] == (threshold == 1.0) for r in report["images"])
        rows = list(csv.DictReader((out / "predictions.csv").open()))
        assert [r["image"] for r in rows] == [p.name for p in list_images(source)]
        assert len(list(out.glob("*.png"))) == n  # annotated images, named as the inputs
        boxes = [b for r in report["images"] for b in r["boxes"]]
        if threshold == 1.0:
            assert not boxes and all(r["boxes"] == "0" for r in rows)  # skipped images get no detection
        else:  # untrained head at conf 0: max_det boxes per image, in the original image's pixels, with the export's names
            from ultralytics import YOLO

            names = YOLO(exported / "m.pt").names
            assert len(boxes) == 5 * n and all(0 <= v <= 64 for b in boxes for v in b["xyxy"])
            assert all(b["name"] == names[b["cls"]] for b in boxes)
            assert len(list((out / "labels").glob("*.txt"))) == n
        assert "skipped by the gate" in proc.stdout + proc.stderr


def test_both_backends_give_the_same_p_defect_per_image(exported, synthetic_yaml, tmp_path):
    source = synthetic_yaml.parent / "images" / "val"
    ort, ov = (predict_gated(exported / "m.onnx", source, backend=b, project=tmp_path, name=b, save=False)["images"]
               for b in ("onnxruntime", "openvino"))
    assert [r["image"] for r in ort] == [r["image"] for r in ov]
    assert max(abs(a["p_defect"] - b["p_defect"]) for a, b in zip(ort, ov)) < 1e-5


@pytest.mark.slow  # seven fresh `gfdnet` processes
def test_bad_input_gets_one_clear_line(exported, synthetic_yaml, tmp_path):
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "x-gate.onnx").write_bytes((exported / "m-gate.onnx").read_bytes())
    cases = {
        f"model={lone / 'x-gate.onnx'} source={synthetic_yaml.parent}": r"x-tail.onnx not found",
        f"model={exported / 'm-gate.onnx'} source={tmp_path / 'nowhere'}": r"nowhere is not a folder or an image file",
        f"model={exported / 'm-gate.onnx'} source={lone}": r"holds no images",
        f"model={exported / 'm-gate.onnx'} source={lone} backend=tensorrt": r"backend='tensorrt' is not one of",
        f"model={exported / 'm.pt'} source={lone}": r"is not an ONNX file",
        f"source={lone}": r"needs model=",
        f"model={exported / 'm-gate.onnx'} source={lone} thresh=0.5": r"unknown argument\(s\) thresh",
    }
    for args, message in cases.items():
        proc = run([str(BIN / "gfdnet"), "predict-gated", *args.split()], tmp_path)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        assert proc.stderr.startswith("gfdnet: error: ") and __import__("re").search(message, proc.stderr), proc.stderr
    assert sorted(p.name for p in lone.iterdir()) == ["x-gate.onnx"]  # nothing written beside the input


def test_find_pair_accepts_either_graph_or_the_main_export(exported):
    pair = (exported / "m-gate.onnx", exported / "m-tail.onnx")
    assert all(find_pair(exported / f) == pair for f in ("m-gate.onnx", "m-tail.onnx", "m.onnx"))


def test_an_unreadable_image_is_reported_and_the_others_are_predicted(exported, synthetic_yaml, tmp_path):
    source = tmp_path / "mixed"
    source.mkdir()
    good = next((synthetic_yaml.parent / "images" / "val").glob("*.png"))
    (source / "a.png").write_bytes(good.read_bytes())
    (source / "b.png").write_bytes(b"")  # zero-size
    records = predict_gated(exported / "m-gate.onnx", source, project=tmp_path, name="run")["images"]
    assert records[0]["image"] == "a.png" and "p_defect" in records[0]
    assert records[1] == {"image": "b.png", "error": "unreadable image"}
    rows = list(csv.DictReader((tmp_path / "run" / "predictions.csv").open()))
    assert rows[1]["error"] == "unreadable image"
