"""One prepared GPU check (about 5-8 minutes on one GPU): AMP training, our layers under AMP, fp16/TensorRT latency, engines.

Steps: (1) train gfdnet-n and YOLO11n briefly with AMP on the synthetic set (docs/recipe.md settings); (2) run our
numerically delicate layers under autocast against fp32 (`gfdnet_ultra.deploy.gpu.amp_layer_errors`); (3) time
PyTorch fp32, PyTorch fp16 and a TensorRT fp16 engine (`yolo export format=engine half=True`) side by side, batch 1 at
640; (4) build TensorRT engines of gfdnet-n and of the gated pair (`-gate.onnx`, `-tail.onnx`). TensorRT steps are
skipped with a note when `tensorrt` does not import. `--dry-run` runs every step on the CPU at tiny sizes (bf16
autocast, no fp16 or TensorRT timing), so the script is tested where no GPU is.

Examples:
    python scripts/gpu_check.py --out runs/gpu_check            # on a GPU machine: runs/gpu_check/gpu_check.{json,md}
    python scripts/gpu_check.py --dry-run --out runs/gpu_dry     # CPU, a minute or two
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")

from _checkout import ROOT  # noqa: E402,F401  (puts this checkout first on sys.path)

import torch  # noqa: E402

MODELS = ("gfdnet-n", "yolo11n")
AMP_TOLERANCE = {"cuda": 1e-2, "cpu": 3e-2}  # fp16 keeps ~3 decimal digits, bf16 ~2


def _tensorrt() -> str | None:
    try:
        import tensorrt

        return tensorrt.__version__
    except Exception:  # not installed, or its CUDA libraries are missing
        return None


def train_amp(data: Path, out: Path, device: str, dry: bool) -> dict:
    """Brief training of each model, AMP on CUDA; mAP50-95, seconds per epoch and whether AMP stayed on."""
    from ultralytics import YOLO

    from gfdnet_ultra.data.synthetic import SHORT_RECIPE

    recipe = {**SHORT_RECIPE, "epochs": 1 if dry else 10, "imgsz": 64 if dry else 160, "batch": 4 if dry else 16}
    recipe["nbs"] = recipe["batch"]
    rows = {}
    for name in MODELS:
        t0 = time.perf_counter()
        model = YOLO(f"{name}.yaml")
        model.train(data=str(data), device=device, amp=device != "cpu", workers=0, project=str(out / "train"),
                    name=name, exist_ok=True, plots=False, verbose=False, seed=0, **recipe)
        rows[name] = {"map50_95": float(model.trainer.metrics.get("metrics/mAP50-95(B)", 0.0)),
                      "epochs": recipe["epochs"], "imgsz": recipe["imgsz"], "amp": bool(model.trainer.amp),
                      "s_per_epoch": (time.perf_counter() - t0) / recipe["epochs"]}
    return rows


def _time(fn, reps: int, cuda: bool) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return 1e3 * sorted(times)[len(times) // 2]


def latency_and_engines(out: Path, device: str, dry: bool, trt: str | None) -> dict:
    """Median ms at batch 1 for PyTorch fp32 / fp16 / TensorRT fp16, and the engines built (or why not)."""
    from ultralytics import YOLO
    from ultralytics.nn.autobackend import AutoBackend

    from gfdnet_ultra.bench.suite import build
    from gfdnet_ultra.deploy.gpu import build_engine

    cuda, imgsz, reps = device != "cpu", 64 if dry else 640, 5 if dry else 50
    dev = torch.device(f"cuda:{device}" if cuda else "cpu")
    x = torch.rand(1, 3, imgsz, imgsz, device=dev)
    rows, engines = {}, {}
    for name in MODELS:
        model = build(name).model.to(dev).eval()
        with torch.inference_mode():
            row = {"pytorch_fp32_ms": _time(lambda: model(x), reps, cuda)}
            if cuda:
                half = model.half()
                row["pytorch_fp16_ms"] = _time(lambda: half(x.half()), reps, cuda)
        if cuda and trt:
            folder = out / "engines"
            folder.mkdir(parents=True, exist_ok=True)
            YOLO(f"{name}.yaml").save(folder / f"{name}.pt")
            engine = YOLO(folder / f"{name}.pt").export(format="engine", half=True, imgsz=imgsz, device=device)
            backend = AutoBackend(engine, device=dev, fp16=True)
            with torch.inference_mode():
                row["tensorrt_fp16_ms"] = _time(lambda: backend(x.half()), reps, cuda)
            engines[name] = str(engine)
        rows[name] = row
    pair_dir = out / "gate_pair"
    pair_dir.mkdir(parents=True, exist_ok=True)
    YOLO("gfdnet-gated-n.yaml").save(pair_dir / "gated.pt")
    YOLO(pair_dir / "gated.pt").export(format="onnx", imgsz=imgsz, simplify=False)
    for part in ("gate", "tail"):
        onnx = pair_dir / f"gated-{part}.onnx"
        if cuda and trt:
            engines[f"gfdnet-gated-n {part}"] = str(build_engine(onnx, onnx.with_suffix(".engine")))
        else:
            engines[f"gfdnet-gated-n {part}"] = f"ONNX only ({onnx.name}): " + (
                "no CUDA device" if not cuda else "tensorrt does not import")
    return {"imgsz": imgsz, "latency": rows, "engines": engines}


def markdown(res: dict) -> str:
    env = res["env"]
    lines = [f"# GPU check ({'dry run, CPU' if res['dry_run'] else env['device']})", "",
             f"torch {env['torch']}, CUDA {env['cuda']}, TensorRT {env['tensorrt'] or 'not installed'}, "
             f"ultralytics {env['ultralytics']}; command `{res['command']}`.", "",
             "| model | AMP on | epochs | mAP50-95 | s/epoch |", "|---|---|---|---|---|"]
    lines += [f"| {n} | {r['amp']} | {r['epochs']} | {r['map50_95']:.3f} | {r['s_per_epoch']:.1f} |"
              for n, r in res["train"].items()]
    lines += ["", f"| layer | autocast vs fp32, relative error (tolerance {res['amp_tolerance']:g}) |", "|---|---|"]
    lines += [f"| {n} | {e:.1e} |" for n, e in res["amp_layers"].items()]
    lat = res["latency"]
    lines += ["", f"| model (batch 1, {lat['imgsz']} px) | PyTorch fp32 ms | PyTorch fp16 ms | TensorRT fp16 ms |",
              "|---|---|---|---|"]
    cell = lambda r, k: f"{r[k]:.2f}" if k in r else "—"  # noqa: E731
    lines += [f"| {n} | {cell(r, 'pytorch_fp32_ms')} | {cell(r, 'pytorch_fp16_ms')} | {cell(r, 'tensorrt_fp16_ms')} |"
              for n, r in lat["latency"].items()]
    lines += ["", "Engines: " + "; ".join(f"{k}: {v}" for k, v in lat["engines"].items()), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import ultralytics

    from gfdnet_ultra.data.synthetic import make_synthetic_dataset, synthetic_dataset
    from gfdnet_ultra.deploy.gpu import amp_layer_errors

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="0", help="CUDA device index")
    p.add_argument("--dry-run", action="store_true", help="every step on the CPU at tiny sizes (no fp16, no TensorRT)")
    p.add_argument("--out", type=Path, default=Path("runs/gpu_check"))
    a = p.parse_args(argv)
    if not a.dry_run and not torch.cuda.is_available():
        p.error("no CUDA device; run on a GPU machine, or use --dry-run to check the script on the CPU")
    device = "cpu" if a.dry_run else a.device
    a.out.mkdir(parents=True, exist_ok=True)
    trt = _tensorrt()
    env = {"torch": torch.__version__, "cuda": torch.version.cuda, "tensorrt": trt, "ultralytics": ultralytics.__version__,
           "device": "cpu" if a.dry_run else torch.cuda.get_device_name(int(a.device))}
    if a.dry_run:
        data = a.out / "data"
        make_synthetic_dataset(data, n_train=8, n_val=4, imgsz=64, seed=0)
        data = data / "data.yaml"
    else:
        data = synthetic_dataset(n_train=240, n_val=100, imgsz=160)
    t0 = time.perf_counter()
    res = {"command": "python scripts/gpu_check.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "dry_run": a.dry_run, "env": env, "amp_tolerance": AMP_TOLERANCE["cpu" if a.dry_run else "cuda"]}
    res["train"] = train_amp(Path(data), a.out, device, a.dry_run)
    res["amp_layers"] = amp_layer_errors("cpu" if a.dry_run else f"cuda:{a.device}")
    res["latency"] = latency_and_engines(a.out, device, a.dry_run, trt)
    res["seconds"] = time.perf_counter() - t0
    (a.out / "gpu_check.json").write_text(json.dumps(res, indent=1), encoding="utf-8")
    (a.out / "gpu_check.md").write_text(markdown(res), encoding="utf-8")
    print(markdown(res))
    bad = {n: e for n, e in res["amp_layers"].items() if not e <= res["amp_tolerance"]}
    if bad:
        print(f"AMP check failed (relative error above {res['amp_tolerance']:g}): {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
