"""Measure the one-model defect gate on the synthetic set (44 % normal images), in one run.

Trains yolo11-gated-n twice under the synthetic set's short recipe (SHORT_RECIPE, docs/recipe.md; detection loss
on all images / on defective images only), then validates each at batch 1 ungated (threshold=0) and gated
(DefectNet's 0.5, and the threshold picked for 0.99 defect recall on the training split), and writes
docs/gate_results.json and docs/gate_results.md.

    python scripts/gate_benchmark.py                # SHORT_RECIPE's epochs and imgsz, 240 train / 100 val, seed 0
    python scripts/gate_benchmark.py --seed 1 --out runs/gate_benchmark_s1 --docs runs/gate_benchmark_s1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/gate_benchmark")
    ap.add_argument("--docs", default="docs")
    ap.add_argument("--epochs", type=int, default=None, help="default: SHORT_RECIPE's")
    ap.add_argument("--imgsz", type=int, default=None, help="default: SHORT_RECIPE's (also the generated size)")
    ap.add_argument("--n-train", type=int, default=240)
    ap.add_argument("--n-val", type=int, default=100)
    ap.add_argument("--schedule", default="const")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="training seed of every variant")
    ap.add_argument("--reuse", action="store_true", help="skip a training whose last.pt exists")
    ap.add_argument("--ablation", action="store_true",
                    help="also train with mosaic=1.0 and with a plain (unbalanced) gate BCE, for the gate defaults")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    import gfdnet_ultra

    gfdnet_ultra.register()
    from gfdnet_ultra.bench.curves import read_curve
    from gfdnet_ultra.data.synthetic import SHORT_RECIPE, synthetic_dataset
    from gfdnet_ultra.gate import pick_gate_threshold
    from ultralytics import YOLO

    a.epochs, a.imgsz = a.epochs or SHORT_RECIPE["epochs"], a.imgsz or SHORT_RECIPE["imgsz"]
    recipe = {**SHORT_RECIPE, "epochs": a.epochs, "imgsz": a.imgsz}
    out = Path(a.out).resolve()
    data = str(synthetic_dataset(out / "data", n_train=a.n_train, n_val=a.n_val, imgsz=a.imgsz, normal_ratio=0.44))
    common = dict(data=data, imgsz=a.imgsz, device="cpu", verbose=False, plots=False)
    results: dict = {"epochs": a.epochs, "imgsz": a.imgsz, "n_train": a.n_train, "n_val": a.n_val,
                     "normal_ratio": 0.44, "seed": a.seed, "schedule": a.schedule, "device": "cpu", "threads": a.threads,
                     "recipe": recipe, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "runs": {}}
    variants = {"all_images": {}, "defective_only": {"gate_det_on_defective_only": True}}
    if a.ablation:
        variants.update(mosaic={"mosaic": 1.0}, unbalanced={"gate_balance": False})
    for name, extra in variants.items():
        t0 = time.time()
        weights = out / name / "weights" / "last.pt"
        if not (a.reuse and weights.exists()):
            YOLO("yolo11-gated-n.yaml").train(
                **{**recipe, **common, "gate_det_on_defective_only": False, **extra}, workers=0, project=str(out),
                name=name, exist_ok=True, seed=a.seed, deterministic=True, gate_schedule=a.schedule, amp=False,
            )
        train_s = time.time() - t0
        model = YOLO(weights)
        picked = pick_gate_threshold(model, target_recall=0.99, split="train", batch=16, **common)
        run = {"train_s": train_s, "settings": extra, "picked_threshold": picked,
               "last_epoch_gate_loss": read_curve(out / name, "gate_loss")[-1]}
        for label, thr in (("ungated", 0.0), ("gated_0.5", 0.5), ("gated_picked", picked)):
            m = YOLO(weights).val(**common, batch=1, threshold=thr,
                                                           project=str(out), name=f"{name}_val_{label}", exist_ok=True)
            run[label] = m.gate
        results["runs"][name] = run
    docs = Path(a.docs)
    docs.mkdir(exist_ok=True)
    (docs / "gate_results.json").write_text(json.dumps(results, indent=2))
    lines = ["| training | run | threshold | mAP50 | mAP50-95 | gate P | gate R | gate macro-F1 | image macro-F1 | "
             "skip | ATT ms | ATT_N ms | ATT_D ms | last gate BCE |", "|" + "---|" * 14]
    for name, run in results["runs"].items():
        for label in ("ungated", "gated_0.5", "gated_picked"):
            r = run[label]
            lines.append(
                f"| {name} | {label} | {r['threshold']:.3f} | {r['map50']:.3f} | {r['map50_95']:.3f} | "
                f"{r['gate_precision']:.3f} | {r['gate_recall']:.3f} | {r['gate_macro_f1']:.3f} | "
                f"{r['image_macro_f1']:.3f} | {r['skip_rate']:.2f} | {r['att']:.2f} | {r['att_normal']:.2f} | "
                f"{r['att_defective']:.2f} | {run['last_epoch_gate_loss']:.3f} |"
            )
    (docs / "gate_results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
