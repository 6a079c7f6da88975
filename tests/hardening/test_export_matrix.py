"""Export matrix: every shipped model x {static 640, dynamic batch, half-size input} -> ONNX, checked against PyTorch.

Each model's smallest scale, untrained (seeded), is exported three ways; onnxruntime must agree with PyTorch (max abs
diff, printed), the dynamic file must run at another batch and size, its mAP50-95 (top-1 for the classifier) on the
synthetic validation set must be within 0.5 points of the .pt's, and plain `yolo predict` / `yolo val` must accept it.
The 640 file is checked on one image only. Exports skip Ultralytics' onnxslim pass (`simplify=False`, 4x faster here);
the default `simplify=True` path is exported by tests/e2e/test_shipped_models.py. Figures in docs/reliability.md.
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

pytestmark = pytest.mark.slow

BASES = sorted(model_files.models_dir().glob("*.yaml"))
VARIANTS = {"static640": {"imgsz": 640}, "dynamic": {"imgsz": 64, "dynamic": True}, "half": {"imgsz": 32}}


def _task(base: Path) -> str:
    return "classify" if yaml.safe_load(base.read_text())["head"][-1][2] == "Classify" else "detect"


def _smallest_name(base: Path) -> str:
    """First scale of `base` (`gfdnet.yaml` -> `gfdnet-n.yaml`, never `gfdnet-cls-n.yaml`)."""
    scaled = re.compile(rf"{re.escape(base.stem)}-[a-z]\.yaml")
    return next(n for n in model_files.available_models() if n == base.name or scaled.fullmatch(n))


@pytest.fixture(scope="module", params=BASES, ids=[p.stem for p in BASES])
def model_pt(request, synthetic_yaml, tmp_path_factory):
    """(task, data, checkpoint of the smallest scale, cache of exported files by variant)."""
    from ultralytics import YOLO

    base, folder = request.param, tmp_path_factory.mktemp("export")
    task = _task(base)
    data = synthetic_yaml.parent / "cls" if task == "classify" else synthetic_yaml
    torch.manual_seed(0)
    pt = folder / f"{base.stem}.pt"
    YOLO(_smallest_name(base)).save(pt)
    return task, data, pt, {}


def _export(model_pt, variant: str) -> Path:
    from ultralytics import YOLO

    _, _, pt, cache = model_pt
    if variant not in cache:
        copy = pt.with_name(f"{pt.stem}-{variant}.pt")
        copy.write_bytes(pt.read_bytes())
        cache[variant] = Path(YOLO(copy).export(format="onnx", simplify=False, **VARIANTS[variant]))
    return cache[variant]


def _outputs(model, session, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        y = model(x)
    y = (y[0] if isinstance(y, (tuple, list)) else y).numpy()
    (z,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})[:1]
    return y, z


def _metric(results) -> float:
    return float(getattr(results, "top1", None) if hasattr(results, "top1") else results.box.map)


@pytest.mark.parametrize("variant", VARIANTS)
def test_onnx_export_matches_pytorch(model_pt, variant, tmp_path):
    import onnxruntime as ort
    from ultralytics import YOLO

    task, data, pt, _ = model_pt
    onnx = _export(model_pt, variant)
    session = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    model = YOLO(pt).model.float().eval()
    size = VARIANTS[variant]["imgsz"]
    shapes = [(1, 3, size, size)] + ([(2, 3, 96, 96) if task == "detect" else (2, 3, 64, 64)] if variant == "dynamic"
                                     else [])
    for shape in shapes:
        x = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
        y, z = _outputs(model, session, x)
        diff = float(np.abs(y - z).max())
        print(f"{onnx.stem} {shape}: output {tuple(z.shape)}, max abs diff {diff:.2e} (max |y| {np.abs(y).max():.1f})")
        assert z.shape == y.shape
        assert diff <= 1e-4 * max(1.0, float(np.abs(y).max())) + 1e-3
    if variant == "dynamic":
        kw = {"imgsz": 64, "batch": 2, "plots": False, "project": str(tmp_path), "verbose": False}
        m_pt = _metric(YOLO(pt).val(data=str(data), name="pt", **kw))
        m_onnx = _metric(YOLO(onnx).val(data=str(data), name="onnx", **kw))
        print(f"{onnx.stem}: {'top1' if task == 'classify' else 'mAP50-95'} .pt {m_pt:.4f} vs .onnx {m_onnx:.4f}")
        assert abs(m_pt - m_onnx) <= 0.005


def test_plain_yolo_predicts_and_validates_with_the_exported_onnx(model_pt, synthetic_yaml, tmp_path):
    task, data, _, _ = model_pt
    onnx = _export(model_pt, "dynamic")
    source = next((synthetic_yaml.parent / "images" / "val").glob("*.png"))
    for args in (["predict", f"source={source}"], ["val", f"data={data}", "batch=2", "plots=False"]):
        proc = run([str(BIN / "yolo"), task, *args, f"model={onnx}", "imgsz=64", f"project={tmp_path}"], tmp_path)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "Loading" in proc.stdout + proc.stderr and "ONNX Runtime" in proc.stdout + proc.stderr
