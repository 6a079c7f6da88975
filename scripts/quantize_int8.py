"""Quantise checkpoints to OpenVINO INT8 (NNCF, calibrated on training images); compare mAP and latency with FP32.

Examples:
    python scripts/quantize_int8.py --weights runs/detect/gfdnet-n/weights/best.pt runs/detect/yolo11n/weights/best.pt \
        --data datasets/synthetic/data.yaml --imgsz 160 --out runs/int8
    python scripts/quantize_int8.py --weights best.pt --data neu-det/data.yaml --imgsz 640 --fraction 0.25 --out runs/int8-neu
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")

from _checkout import ROOT  # noqa: E402,F401  (puts this checkout first on sys.path)

from gfdnet_ultra.deploy.int8 import compare_int8  # noqa: E402


def table(results: list[dict]) -> list[str]:
    """Markdown rows: one per checkpoint, mAP of PyTorch / OpenVINO FP32 / INT8 and OpenVINO latency."""
    lines = ["| model | imgsz | mAP50-95 PyTorch | OV FP32 | OV INT8 | Δ INT8 | mAP50 OV FP32 / INT8 | "
             "OV FP32 ms | OV INT8 ms | speed-up |", "|---" * 10 + "|"]
    for r in results:
        m, t = r["metrics"], r["latency"]
        fp, q = m["openvino_fp32"], m["openvino_int8"]
        lines.append(
            f"| {r['model']} | {r['imgsz']} | {m['pytorch']['map50_95']:.3f} | {fp['map50_95']:.3f} | {q['map50_95']:.3f} "
            f"| {q['map50_95'] - fp['map50_95']:+.3f} | {fp['map50']:.3f} / {q['map50']:.3f} "
            f"| {t['fp32']['median_ms']:.2f} | {t['int8']['median_ms']:.2f} "
            f"| {t['fp32']['median_ms'] / t['int8']['median_ms']:.2f}x |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", nargs="+", type=Path, required=True, help="detection checkpoints (.pt)")
    p.add_argument("--data", type=Path, required=True, help="dataset YAML: train images calibrate, val images score")
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--fraction", type=float, default=1.0, help="share of training images used for calibration")
    p.add_argument("--threads", type=int, default=1, help="OpenVINO inference threads for the latency figures")
    p.add_argument("--reps", type=int, default=20, help="interleaved timed repetitions per model")
    p.add_argument("--out", type=Path, default=Path("runs/int8"), help="folder for exports, int8.json and int8.md")
    a = p.parse_args(argv)
    for w in a.weights:
        if not w.is_file():
            p.error(f"--weights {w}: no such file")
    if not a.data.is_file():
        p.error(f"--data {a.data}: no such file")
    results = [compare_int8(w, a.data, a.imgsz, a.out / w.parent.parent.name / w.stem, a.fraction, a.threads, a.reps)
               for w in a.weights]
    command = "python scripts/quantize_int8.py " + " ".join(shlex.quote(x) for x in (sys.argv[1:] if argv is None else argv))
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "int8.json").write_text(json.dumps({"command": command, "results": results}, indent=1), encoding="utf-8")
    md = "\n".join(["```", command, "```", "", *table(results), ""])
    (a.out / "int8.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
