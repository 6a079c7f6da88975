"""`gfdnet predict-gated`: run a folder of images through a gated model's two ONNX graphs, on onnxruntime or OpenVINO.

What `yolo predict` writes (annotated images, optional `labels/*.txt`) plus, per image, p(defect) and whether the
tail graph was skipped, in `predictions.json` (with the boxes) and `predictions.csv` (one row per image). Images are
letterboxed to the graphs' fixed input size, as Ultralytics' predictor does; the pair comes from
`yolo export format=onnx` on a gated checkpoint (`<stem>-gate.onnx`, `<stem>-tail.onnx`), class names from the
`<stem>.onnx` written beside them.
"""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path

import numpy as np

from ..gate.backends import BACKENDS
from ..gate.onnx_runtime import GatedOnnxRunner

__all__ = ("DEFAULTS", "find_pair", "list_images", "main", "predict_gated")

DEFAULTS = {"model": None, "source": None, "threshold": 0.5, "backend": "onnxruntime", "conf": 0.25, "iou": 0.7,
            "max_det": 300, "batch": 8, "threads": None, "project": "runs/detect", "name": "predict-gated",
            "save": True, "save_txt": False}  # fmt: skip


def find_pair(model: str | Path) -> tuple[Path, Path]:
    """(`<stem>-gate.onnx`, `<stem>-tail.onnx`) from either graph of the pair or from the `<stem>.onnx` beside them."""
    model = Path(model)
    if model.suffix != ".onnx":
        raise ValueError(f"model={model} is not an ONNX file; pass the '<stem>-gate.onnx' that `yolo export format=onnx` "
                         "writes for a gated checkpoint")
    stem = model.stem.removesuffix("-gate").removesuffix("-tail")
    pair = model.with_name(f"{stem}-gate.onnx"), model.with_name(f"{stem}-tail.onnx")
    missing = [str(p) for p in pair if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"gated ONNX pair incomplete: {', '.join(missing)} not found; export a gated checkpoint "
                                "with `yolo export model=best.pt format=onnx` to write both graphs")
    return pair


def list_images(source: str | Path) -> list[Path]:
    """The images in folder `source` (sorted), or `source` itself if it is one image file."""
    from ultralytics.data.utils import IMG_FORMATS

    source = Path(source)
    if source.is_file() and source.suffix[1:].lower() in IMG_FORMATS:
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"source={source} is not a folder or an image file")
    images = sorted(p for p in source.iterdir() if p.suffix[1:].lower() in IMG_FORMATS)
    if not images:
        raise ValueError(f"source={source} holds no images ({', '.join(sorted(IMG_FORMATS))})")
    return images


def _names(gate_file: Path, nc: int) -> dict[int, str]:
    """Class names from the Ultralytics export beside the pair, else the class indices."""
    main = gate_file.with_name(gate_file.name.replace("-gate.onnx", ".onnx"))
    if main.is_file():
        import onnx

        meta = {p.key: p.value for p in onnx.load(str(main), load_external_data=False).metadata_props}
        if "names" in meta:
            return {int(k): v for k, v in ast.literal_eval(meta["names"]).items()}
    return {i: str(i) for i in range(nc)}


def _load(paths: list[Path], shape: tuple[int, int]):
    """(originals, (B, 3, H, W) float32 RGB batch letterboxed to `shape`) for the readable images of `paths`."""
    import cv2
    from ultralytics.data.augment import LetterBox

    box = LetterBox(shape, auto=False)
    ims = [cv2.imread(str(p)) for p in paths]
    chw = [box(image=im)[..., ::-1].transpose(2, 0, 1) for im in ims if im is not None]  # BGR HWC -> RGB CHW
    return ims, np.ascontiguousarray(np.stack(chw), dtype=np.float32) / 255.0 if chw else None


def predict_gated(model: str | Path, source: str | Path, **overrides) -> dict:
    """Predict every image of `source` with the gated pair; returns {"save_dir", "images": [per-image records]}.

    Keys of `overrides` are those of `DEFAULTS` (threshold, backend, conf, iou, max_det, batch, threads, project,
    name, save, save_txt).
    """
    import torch
    from ultralytics.engine.results import Results
    from ultralytics.utils import LOGGER, ops
    from ultralytics.utils.files import increment_path
    from ultralytics.utils.nms import non_max_suppression

    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown argument(s) {', '.join(sorted(unknown))}; predict-gated takes "
                         f"{', '.join(k + '=' for k in DEFAULTS)}")
    a = {**DEFAULTS, **overrides}
    if a["backend"] not in BACKENDS:
        raise ValueError(f"backend={a['backend']!r} is not one of {', '.join(BACKENDS)}")
    gate_file, tail_file = find_pair(model)
    images = list_images(source)
    runner = GatedOnnxRunner(gate_file, tail_file, a["threshold"], backend=a["backend"], threads=a["threads"])
    h, w = runner.gate.inputs[0][1][2:]
    names = _names(gate_file, runner.out_shape[0] - 4)
    save_dir = increment_path(Path(a["project"]) / a["name"], mkdir=True)
    records = []
    for i in range(0, len(images), int(a["batch"])):
        paths = images[i : i + int(a["batch"])]
        ims, x = _load(paths, (h, w))
        if x is None:
            p, keep, y = np.zeros(0), np.zeros(0, bool), np.zeros((0, *runner.out_shape), np.float32)
        else:
            p, keep, y = runner(x)
        dets = iter(non_max_suppression(torch.from_numpy(y), a["conf"], a["iou"], max_det=int(a["max_det"])))
        scores = iter(zip(p.tolist(), keep.tolist()))
        for path, im in zip(paths, ims):
            if im is None:
                LOGGER.warning(f"Image Read Error {path}")
                records.append({"image": path.name, "error": "unreadable image"})
                continue
            det = next(dets)
            p_defect, kept = next(scores)
            det[:, :4] = ops.scale_boxes((h, w), det[:, :4], im.shape[:2])
            r = Results(im, str(path), names, boxes=det)
            if a["save"]:
                r.save(str(save_dir / path.name))
            if a["save_txt"]:
                r.save_txt(save_dir / "labels" / f"{path.stem}.txt", save_conf=True)
            boxes = [{"cls": int(c), "name": names[int(c)], "conf": round(float(s), 5),
                      "xyxy": [round(float(v), 2) for v in b]} for *b, s, c in det.tolist()]
            records.append({"image": path.name, "p_defect": round(p_defect, 6), "skipped": not kept, "boxes": boxes})
    _write(save_dir, records, {"model": str(gate_file), "backend": a["backend"], "threshold": a["threshold"]})
    skipped = sum(r.get("skipped", False) for r in records)
    LOGGER.info(f"predict-gated: {len(records)} images, {skipped} skipped by the gate (p(defect) < {a['threshold']}), "
                f"{a['backend']}; results saved to {save_dir}")
    return {"save_dir": save_dir, "images": records}


def _write(save_dir: Path, records: list[dict], run: dict) -> None:
    (save_dir / "predictions.json").write_text(json.dumps({**run, "images": records}, indent=1), encoding="utf-8")
    with open(save_dir / "predictions.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["image", "p_defect", "skipped", "boxes", "classes", "error"])
        for r in records:
            classes = " ".join(sorted({b["name"] for b in r.get("boxes", [])}))
            out.writerow([r["image"], r.get("p_defect", ""), r.get("skipped", ""), len(r.get("boxes", [])), classes,
                          r.get("error", "")])


def _value(text: str):
    """`key=value` values as Ultralytics reads them: numbers, True/False/None, else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv: list[str]) -> int:
    """`gfdnet predict-gated model=<stem>-gate.onnx source=<folder> [threshold=0.5 backend=openvino ...]`."""
    bad = [x for x in argv if "=" not in x]
    if bad:
        raise ValueError(f"predict-gated takes key=value arguments, got {' '.join(bad)}; e.g. "
                         "gfdnet predict-gated model=best-gate.onnx source=images/ threshold=0.5")
    kw = {k: _value(v) for k, v in (x.split("=", 1) for x in argv)}
    for key in ("model", "source"):
        if kw.get(key) is None:
            raise ValueError(f"predict-gated needs {key}=; e.g. gfdnet predict-gated model=best-gate.onnx source=images/")
    predict_gated(str(kw.pop("model")), str(kw.pop("source")), **kw)
    return 0
