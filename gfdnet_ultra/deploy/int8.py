"""OpenVINO INT8 by NNCF post-training quantisation, calibrated on training images, and its cost in mAP and time.

`export_openvino` goes through Ultralytics' exporter (`format=openvino`, `int8=True`, `split=train`: what
`yolo export` writes, detection head kept in floating point as Ultralytics does); `compare_int8` exports FP32 and
INT8 folders of one checkpoint, validates the checkpoint and both folders on the same split, and times FP32 and INT8
interleaved on OpenVINO's CPU plugin (`bench.latency`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ("compare_int8", "export_openvino")


def export_openvino(weights: str | Path, out_dir: str | Path, imgsz: int, int8: bool = False,
                    data: str | Path | None = None, fraction: float = 1.0) -> Path:
    """Export `weights` to `<out_dir>/<stem>[_int8]_openvino_model/`; INT8 calibrates on `fraction` of data's train split.

    The checkpoint is copied into `out_dir` first, because the exporter writes beside its input.
    """
    from ultralytics import YOLO

    weights, out_dir = Path(weights), Path(out_dir)
    if not weights.is_file():
        raise FileNotFoundError(f"checkpoint '{weights}' not found")
    if int8 and data is None:
        raise ValueError("INT8 export needs data= (a dataset YAML whose train images calibrate the quantiser)")
    out_dir.mkdir(parents=True, exist_ok=True)
    copy = out_dir / weights.name
    if copy.resolve() != weights.resolve():
        shutil.copyfile(weights, copy)
    kw = {"int8": True, "data": str(data), "split": "train", "fraction": fraction} if int8 else {}
    return Path(YOLO(copy).export(format="openvino", imgsz=imgsz, batch=1, **kw))


def _metrics(model: str | Path, data: str | Path, imgsz: int, out_dir: Path, name: str) -> dict[str, float]:
    from ultralytics import YOLO

    r = YOLO(str(model), task="detect").val(data=str(data), imgsz=imgsz, batch=1, plots=False, verbose=False,
                                            project=str(out_dir / "val"), name=name, exist_ok=True, device="cpu")
    return {"map50": float(r.box.map50), "map50_95": float(r.box.map)}


def compare_int8(weights: str | Path, data: str | Path, imgsz: int, out_dir: str | Path, fraction: float = 1.0,
                 threads: int = 1, reps: int = 20) -> dict:
    """mAP50 / mAP50-95 of PyTorch, OpenVINO FP32 and OpenVINO INT8 on data's val split, and OpenVINO latency.

    Returns:
        (dict): `model`, `imgsz`, `metrics` {backend: {map50, map50_95}}, `latency` {fp32, int8: summary in ms},
            `paths` {fp32, int8} of the exported folders.
    """
    from ..bench.latency import interleave, ov_runner, summarize

    out_dir = Path(out_dir)
    paths = {"fp32": export_openvino(weights, out_dir, imgsz),
             "int8": export_openvino(weights, out_dir, imgsz, int8=True, data=data, fraction=fraction)}
    metrics = {"pytorch": _metrics(weights, data, imgsz, out_dir, "pytorch")}
    metrics.update({f"openvino_{k}": _metrics(p, data, imgsz, out_dir, k) for k, p in paths.items()})
    runners = {k: ov_runner(next(p.glob("*.xml")), 1, imgsz, threads) for k, p in paths.items()}
    latency = {k: summarize(t) for k, t in interleave(runners, reps).items()}
    return {"model": Path(weights).name, "imgsz": imgsz, "metrics": metrics, "latency": latency,
            "paths": {k: str(p) for k, p in paths.items()}}
