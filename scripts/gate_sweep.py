"""Sweep the share of normal images from 0 to 1 on the synthetic set: ATT of a gated model, gated vs ungated.

For each normal proportion alpha, a validation list of `--n` images with round(alpha * n) normal ones is drawn from
the synthetic val split, and `yolo val` runs at batch 1 with threshold=0 (ungated) and with `--threshold` (gated).
Writes docs/gate_sweep.md (table), docs/gate_sweep.json and docs/gate_sweep.png (plot), next to DefectNet's model
t = 1 - (1 - beta) * alpha with beta = ATT_normal / ATT_defective of the gated run at alpha = 0.5. The logic is
`gfdnet_ultra.bench.gate.normal_share_sweep`; this is its command line.

    python scripts/gate_sweep.py --weights runs/gate_benchmark/all_images/weights/last.pt --data runs/.../data.yaml
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--data", required=True, help="synthetic data.yaml (its val split is the pool)")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--imgsz", type=int, default=160)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--out", default="runs/gate_sweep")
    ap.add_argument("--docs", default="docs")
    a = ap.parse_args()
    torch.set_num_threads(2)

    import gfdnet_ultra
    from gfdnet_ultra.bench.gate import normal_share_sweep, plot_sweep, sweep_table

    gfdnet_ultra.register()
    result = normal_share_sweep(a.weights, a.data, a.out, a.threshold, a.imgsz, a.n, a.steps)
    docs = Path(a.docs)
    docs.mkdir(exist_ok=True)
    (docs / "gate_sweep.json").write_text(json.dumps(result, indent=2))
    table = sweep_table(result)
    (docs / "gate_sweep.md").write_text(
        f"Gate sweep (threshold {a.threshold}, {a.n} images per point, batch 1, CPU; beta = {result['beta']:.3f})\n\n"
        + table + "\n")
    plot_sweep(result, docs / "gate_sweep.png")
    print(table)


if __name__ == "__main__":
    main()
