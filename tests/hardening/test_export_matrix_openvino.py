"""Export matrix, OpenVINO rows: every shipped model x {static, dynamic batch} -> `format=openvino`, against PyTorch.

Each model's smallest scale, untrained (seeded, the `model_pt` fixture of test_export_matrix.py), is exported with
Ultralytics' own exporter (what `yolo export format=openvino` writes). The IR is compiled twice: in fp32 it must agree
with PyTorch as tightly as the ONNX file does; with OpenVINO's default precision (what `yolo val/predict` get: bf16 on
CPUs with AMX) the difference is printed and bounded loosely. Plain `yolo predict` and `yolo val` run on one exported
folder (gfdnet-n, dynamic). Static exports are at 96 px, not 640, to keep the 14 exports near 10 s each. Figures in
docs/deploy.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ..conftest import BIN, run
from .test_export_matrix import model_pt  # noqa: F401  (module-scoped fixture, one checkpoint per shipped model)

pytestmark = pytest.mark.slow

VARIANTS = {"static": {"imgsz": 96}, "dynamic": {"imgsz": 64, "dynamic": True}}


def _export(model_pt, variant: str) -> Path:
    from ultralytics import YOLO

    _, _, pt, cache = model_pt
    key = f"openvino-{variant}"
    if key not in cache:
        copy = pt.with_name(f"{pt.stem}-ov-{variant}.pt")
        copy.write_bytes(pt.read_bytes())
        cache[key] = Path(YOLO(copy).export(format="openvino", **VARIANTS[variant]))
    return cache[key]


def _compile(folder: Path, precision: str | None):
    import openvino as ov

    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": 1}
    config.update({"INFERENCE_PRECISION_HINT": precision} if precision else {})
    return ov.Core().compile_model(str(next(folder.glob("*.xml"))), "CPU", config)


@pytest.mark.parametrize("variant", VARIANTS)
def test_openvino_export_matches_pytorch(model_pt, variant):  # noqa: F811
    from ultralytics import YOLO

    task, _, pt, _ = model_pt
    folder = _export(model_pt, variant)
    assert (folder / "metadata.yaml").is_file()
    model = YOLO(pt).model.float().eval()
    fp32, default = _compile(folder, "f32"), _compile(folder, None)
    size = VARIANTS[variant]["imgsz"]
    shapes = [(1, 3, size, size)] + ([(2, 3, 96, 96) if task == "detect" else (2, 3, 64, 64)] if variant == "dynamic"
                                     else [])
    for shape in shapes:
        x = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            y = model(x)
        y = (y[0] if isinstance(y, (tuple, list)) else y).numpy()
        scale = max(1.0, float(np.abs(y).max()))
        z32, zd = (next(iter(c(x.numpy()).values())) for c in (fp32, default))
        d32, dd = float(np.abs(y - z32).max()), float(np.abs(y - zd).max())
        precision = default.get_property("INFERENCE_PRECISION_HINT")
        print(f"{folder.name} {shape}: output {tuple(z32.shape)}, max abs diff fp32 {d32:.2e}, default ({precision}) "
              f"{dd:.2e} (max |y| {scale:.1f})")
        assert z32.shape == y.shape == zd.shape
        assert d32 <= 1e-4 * scale + 1e-3
        assert dd <= 2e-2 * scale + 1e-2  # bf16 keeps ~3 significant digits; a broken graph is off by ~|y|


def test_plain_yolo_predicts_and_validates_with_the_exported_openvino_folder(model_pt, synthetic_yaml, tmp_path):  # noqa: F811
    task, data, pt, _ = model_pt
    if pt.stem != "gfdnet":
        pytest.skip("yolo predict/val on one exported folder (gfdnet-n) keeps the matrix in seconds")
    folder = _export(model_pt, "dynamic")
    source = next((synthetic_yaml.parent / "images" / "val").glob("*.png"))
    for args in (["predict", f"source={source}"], ["val", f"data={data}", "batch=2", "plots=False"]):
        proc = run([str(BIN / "yolo"), task, *args, f"model={folder}", "imgsz=64", f"project={tmp_path}"], tmp_path)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-3000:]
        assert "for OpenVINO inference" in out, out[-3000:]
    assert "all" in out and "mAP50-95" in out  # the validator printed its metrics table
