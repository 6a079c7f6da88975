"""Measure the one-model defect gate on the synthetic set (44 % normal images), in one run.

Trains yolo11-gated-n twice under the synthetic set's short recipe (SHORT_RECIPE, docs/recipe.md; detection loss
on all images / on defective images only), then validates each at batch 1 ungated (threshold=0) and gated
(DefectNet's 0.5, and the threshold picked for 0.99 defect recall on the training split), and writes
docs/gate_results.json and docs/gate_results.md. The logic is `gfdnet_ultra.bench.gate.gate_benchmark`; this is its
command line.

    python scripts/gate_benchmark.py                # SHORT_RECIPE's epochs and imgsz, 240 train / 100 val, seed 0
    python scripts/gate_benchmark.py --seed 1 --out runs/gate_benchmark_s1 --docs runs/gate_benchmark_s1
"""

from __future__ import annotations

import argparse
import json
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
    from gfdnet_ultra.bench.gate import benchmark_table, gate_benchmark

    gfdnet_ultra.register()
    results = gate_benchmark(a.out, a.epochs, a.imgsz, a.n_train, a.n_val, a.schedule, a.seed, a.threads, a.reuse,
                             a.ablation)
    docs = Path(a.docs)
    docs.mkdir(exist_ok=True)
    (docs / "gate_results.json").write_text(json.dumps(results, indent=2))
    table = benchmark_table(results)
    (docs / "gate_results.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
