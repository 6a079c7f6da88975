"""Every shipped model YAML: builds at every scale; trains, validates, predicts and exports through plain `yolo`.

The ONNX graph is compared with PyTorch on the same input (max abs diff printed, as the issue asks).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from gfdnet_ultra.integration import model_files

from ..conftest import BIN, run

BASES = sorted(model_files.models_dir().glob("*.yaml"))
NAMES = model_files.available_models()


def _task(path: Path) -> str:
    head = yaml.safe_load(path.read_text())["head"][-1][2]
    return "classify" if head == "Classify" else "detect"


def _smallest_name(path: Path) -> str:
    """The first scale's name (`gfdnet-n.yaml` for gfdnet.yaml), or the file name if it has no scales."""
    return next(n for n in NAMES if n == path.name or re.fullmatch(rf"{re.escape(path.stem)}-[a-z]\.yaml", n))


@pytest.mark.parametrize("name", NAMES)
def test_every_model_name_builds_and_runs_forward(name):
    from ultralytics import YOLO

    model = YOLO(name).model.eval()
    with torch.no_grad():
        y = model(torch.rand(1, 3, 64, 64))
    y = y[0] if isinstance(y, (tuple, list)) else y
    assert torch.isfinite(y).all()
    print(f"{name}: {sum(p.numel() for p in model.parameters()):,} params")


def _max_abs_diff(pt: Path, onnx: Path, imgsz: int) -> float:
    import onnxruntime as ort
    from ultralytics import YOLO

    x = torch.rand(1, 3, imgsz, imgsz, generator=torch.Generator().manual_seed(0))
    model = YOLO(pt).model.float().eval()
    with torch.no_grad():
        y = model(x)
    y = (y[0] if isinstance(y, (tuple, list)) else y).numpy()
    session = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    (z,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})[:1]
    assert z.shape == y.shape
    return float(np.abs(z - y).max())


@pytest.mark.slow
@pytest.mark.parametrize("base", BASES, ids=[p.stem for p in BASES])
def test_shipped_yaml_trains_validates_predicts_and_exports_with_plain_yolo(base, synthetic_yaml, tmp_path):
    task = _task(base)
    name = _smallest_name(base)
    data = synthetic_yaml.parent / "cls" if task == "classify" else synthetic_yaml
    common = ["imgsz=64", "device=cpu", f"project={tmp_path}"]

    def yolo(*args: str):
        proc = run([str(BIN / "yolo"), task, *args, *common], tmp_path)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc

    yolo("train", f"model={name}", f"data={data}", "epochs=1", "batch=4", "workers=0", "plots=False", "name=train")
    best = tmp_path / "train" / "weights" / "best.pt"
    yolo("val", f"model={best}", f"data={data}", "batch=4", "plots=False", "name=val")
    source = next((synthetic_yaml.parent / "images" / "val").glob("*.png"))
    yolo("predict", f"model={best}", f"source={source}", "name=predict")
    assert list((tmp_path / "predict").glob("*.png")) or list((tmp_path / "predict").glob("*.jpg"))
    yolo("export", f"model={best}", "format=onnx")
    diff = _max_abs_diff(best, best.with_suffix(".onnx"), 64)
    print(f"{name}: onnxruntime vs PyTorch max abs diff {diff:.2e}")
    assert diff < 1e-2
