"""Benchmark GFD-Net variants against YOLOv8n, YOLO11n and YOLO26n side by side; writes docs/benchmarks.{md,json,png}.

Examples:
    python scripts/benchmark.py --quick --out runs/bench/benchmarks.md          # CI-sized smoke run, a minute or two
    python scripts/benchmark.py --threads 1 --reps 15 --train-time              # speed figures for docs/benchmarks.md
    python scripts/benchmark.py --threads 1 --train-time --accuracy           # plus the accuracy recipe (docs/recipe.md)
    python scripts/benchmark.py --accuracy --accuracy-seeds 0 1 2 --accuracy-jobs 2 --epochs 60  # 2 trainings at a time
    python scripts/benchmark.py --accuracy --device 0 --epochs 100 --data-train 1000 --data-val 200  # on a GPU
    python scripts/benchmark.py --render docs/benchmarks.json                     # re-render the note only
    python scripts/benchmark.py --accuracy-only --data datasets/neu-det/data.yaml --train-imgsz 160 --epochs 30 \
        --accuracy-models gfdnet-n yolo11n yolo26n --accuracy-seeds 0 1 --accuracy-jobs 2 --out runs/bench/neu.md
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("KINETO_LOG_LEVEL", "5")  # before torch loads: keeps profiler start/stop lines off the bar
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")

from _checkout import ROOT  # noqa: E402  (puts this checkout first on sys.path)

from gfdnet_ultra.bench.report import write_report  # noqa: E402
from gfdnet_ultra.data.synthetic import SHORT_RECIPE  # noqa: E402
from gfdnet_ultra.bench.suite import DEFAULT_MODELS, RECIPES, Config, run_suite  # noqa: E402
from gfdnet_ultra.bench.training import Recipe  # noqa: E402

QUICK = {"imgsz": 64, "batches": (1, 2), "reps": 3, "warmup": 1, "train_reps": 1}
QUICK_DATA = {"n_train": 8, "n_val": 4, "imgsz": 64, "seed": 0}


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--models", nargs="+", default=list(DEFAULT_MODELS), help="YAML names without .yaml (gfdnet-n) or paths to YAML files (docs/ablation/x.yaml); missing ones are skipped with a note"
    )
    p.add_argument("--imgsz", type=int, default=640, help="latency and memory input side (FLOPs always at --flops-imgsz)")
    p.add_argument("--flops-imgsz", type=int, default=640)
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    p.add_argument("--threads", type=int, default=1, help="PyTorch and onnxruntime intra-op threads")
    p.add_argument("--reps", type=int, default=10, help="interleaved timed repetitions per model, backend and batch")
    p.add_argument("--reps-large", type=int, help="repetitions for batches > 1 (default: --reps)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--no-onnx", action="store_true", help="skip the export and onnxruntime latency")
    p.add_argument("--openvino", action="store_true", help="also time OpenVINO (CPU, fp32) on the exported ONNX files")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--profile", default="gfdnet-n", help="model to profile layer by layer ('' for none)")
    p.add_argument("--train-time", action="store_true", help="measure training seconds per epoch (slow)")
    p.add_argument("--train-reps", type=int, default=1)
    p.add_argument("--train-fraction", type=float, default=1.0, help="share of training images for --train-time")
    p.add_argument("--accuracy", action="store_true", help="train every model with one recipe and report mAP (slow)")
    p.add_argument("--accuracy-models", nargs="+", help="models to train for accuracy (default: all measured)")
    p.add_argument("--epochs", type=int, default=SHORT_RECIPE["epochs"], help="accuracy recipe epochs")
    p.add_argument("--train-imgsz", type=int, default=SHORT_RECIPE["imgsz"], help="training (and generated) image size")
    p.add_argument("--train-batch", type=int, default=SHORT_RECIPE["batch"])
    p.add_argument("--device", default="cpu", help="training device, e.g. cpu or 0")
    p.add_argument("--seed", type=int, default=0, help="data and training seed")
    p.add_argument("--accuracy-seeds", type=int, nargs="+", help="one accuracy training per seed, mean reported "
                   "(default: --seed); single runs of this recipe spread by ~0.05 mAP50")
    p.add_argument("--accuracy-jobs", type=int, default=1, help="accuracy trainings at a time, each a process with "
                   "--threads threads (e.g. 2 one-thread trainings on 2 cores); same mAP as one at a time")
    p.add_argument("--data", help="dataset YAML to train on (e.g. a converted NEU-DET or DeepPCB); default: the "
                   "synthetic set")
    p.add_argument("--recipe", choices=list(RECIPES), help="accuracy recipe: 'ultralytics' = Ultralytics' defaults "
                   "(epochs, imgsz, batch, seed given), 'short' = docs/recipe.md; default: short on the synthetic set, "
                   "ultralytics with --data")
    p.add_argument("--accuracy-only", action="store_true", help="only the accuracy trainings (plus parameters and "
                   "FLOPs): no latency, memory, export or profile")
    p.add_argument("--keep-weights", type=Path, help="folder for each accuracy run's best checkpoint "
                   "(<model>-seed<k>.pt)")
    p.add_argument("--data-train", type=int, default=240, help="synthetic training images")
    p.add_argument("--data-val", type=int, default=100, help="synthetic validation images")
    p.add_argument("--quick", action="store_true", help="CI smoke run: tiny sizes, every figure, 1 epoch")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="markdown; .json, .png beside it")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--render", type=Path, help="only re-render --out from a results JSON of an earlier run")
    a = p.parse_args(argv)
    if a.accuracy_jobs < 1:
        p.error(f"--accuracy-jobs must be >= 1, got {a.accuracy_jobs}")
    if a.data and not Path(a.data).is_file():
        p.error(f"--data {a.data}: no such dataset YAML (convert your set first, e.g. scripts/convert_voc.py)")
    if a.data and a.quick:
        p.error("--quick trains on its own tiny synthetic set; drop --data or --quick")
    a.recipe = a.recipe or ("ultralytics" if a.data else "short")
    return a


def config(a: argparse.Namespace) -> Config:
    data = {"n_train": a.data_train, "n_val": a.data_val, "imgsz": a.train_imgsz, "seed": a.seed}
    short = tuple((k, v) for k, v in SHORT_RECIPE.items() if k not in {"imgsz", "epochs", "batch"})  # docs/recipe.md
    settings = short if a.recipe == "short" else ()
    common = {"imgsz": a.train_imgsz, "batch": a.train_batch, "seed": a.seed, "device": a.device, "settings": settings}
    cfg = Config(
        models=tuple(a.models), imgsz=a.imgsz, flops_imgsz=a.flops_imgsz, batches=tuple(a.batches), threads=a.threads,
        reps=a.reps, reps_large=a.reps_large, warmup=a.warmup, onnx=not a.no_onnx, openvino=a.openvino, memory=not a.no_memory, profile=a.profile or None,
        train_time=a.train_time, train_reps=a.train_reps, accuracy=a.accuracy, data=data,
        accuracy_models=tuple(a.accuracy_models) if a.accuracy_models else None,
        accuracy_seeds=tuple(a.accuracy_seeds or (a.seed,)), accuracy_jobs=a.accuracy_jobs,
        train_recipe=Recipe(epochs=2, fraction=a.train_fraction, val=False, **common),  # timing: train loop only
        accuracy_recipe=Recipe(epochs=a.epochs, **common),  # validates every epoch: bn_recalib acts there (docs/recipe.md)
        data_yaml=a.data, recipe=a.recipe, keep_weights=a.keep_weights and str(a.keep_weights),
    )  # fmt: skip
    if a.accuracy_only:
        cfg = replace(cfg, batches=(), onnx=False, memory=False, profile=None, train_time=False, accuracy=True)
    if a.quick:  # every phase, at sizes a CI runner finishes in a minute or two
        tiny = {**common, "imgsz": 64, "batch": 4}
        cfg = replace(cfg, **QUICK, train_time=True, accuracy=True, data=QUICK_DATA)
        cfg = replace(cfg, train_recipe=Recipe(epochs=1, val=False, **tiny), accuracy_recipe=Recipe(epochs=1, **tiny))
    return cfg


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    command = "python scripts/benchmark.py " + " ".join(shlex.quote(x) for x in (sys.argv[1:] if argv is None else argv))
    if a.render:  # the figures and the command that measured them come from the JSON
        res = json.loads(a.render.read_text(encoding="utf-8"))
        command = res.pop("command")
    else:
        res = run_suite(config(a), progress=not a.no_progress)
    paths = write_report(res, a.out, command.strip())
    for n, why in res["skipped"].items():
        print(f"skipped {n}: {why}")
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
