"""Sweep the share of normal images from 0 to 1 on the synthetic set: ATT of a gated model, gated vs ungated.

For each normal proportion alpha, a validation list of `--n` images with round(alpha * n) normal ones is drawn from
the synthetic val split, and `yolo val` runs at batch 1 with threshold=0 (ungated) and with `--threshold` (gated).
Writes docs/gate_sweep.md (table), docs/gate_sweep.json and docs/gate_sweep.png (plot), next to DefectNet's model
t = 1 - (1 - beta) * alpha with beta = ATT_normal / ATT_defective of the gated run at alpha = 0.5.

    python scripts/gate_sweep.py --weights runs/gate_benchmark/all_images/weights/last.pt --data runs/.../data.yaml
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import yaml


def _split_images(data_yaml: Path) -> tuple[list[Path], list[Path]]:
    d = yaml.safe_load(data_yaml.read_text())
    root = Path(d["path"])
    normal, defective = [], []
    for img in sorted((root / d["val"]).glob("*.png")):
        label = root / "labels" / "val" / f"{img.stem}.txt"
        (defective if label.exists() and label.read_text().strip() else normal).append(img)
    return normal, defective


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

    gfdnet_ultra.register()
    from ultralytics import YOLO

    data_yaml = Path(a.data).resolve()
    base = yaml.safe_load(data_yaml.read_text())
    normal, defective = _split_images(data_yaml)
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for step in range(a.steps):
        alpha = step / (a.steps - 1)
        k = round(alpha * a.n)
        if k > len(normal) or a.n - k > len(defective):
            raise ValueError(f"the val pool has {len(normal)} normal / {len(defective)} defective images; lower --n")
        listing = out / f"val_{alpha:.2f}.txt"
        listing.write_text("\n".join(str(p) for p in normal[:k] + defective[: a.n - k]) + "\n")
        sub = out / f"data_{alpha:.2f}.yaml"
        sub.write_text(yaml.safe_dump({**base, "train": str(listing), "val": str(listing)}))
        row = {"normal_proportion": alpha}
        for label, thr in (("ungated", 0.0), ("gated", a.threshold)):
            m = YOLO(a.weights).val(data=str(sub), imgsz=a.imgsz, batch=1, threshold=thr, device="cpu", plots=False,
                                    verbose=False, project=str(out), name=f"{label}_{alpha:.2f}", exist_ok=True)
            row[label] = {k_: m.gate[k_] for k_ in ("att", "att_normal", "att_defective", "skip_rate", "map50_95")}
        rows.append(row)
    mid = rows[len(rows) // 2]["gated"]
    beta = mid["att_normal"] / mid["att_defective"]
    docs = Path(a.docs)
    docs.mkdir(exist_ok=True)
    (docs / "gate_sweep.json").write_text(json.dumps({"threshold": a.threshold, "n": a.n, "beta": beta, "rows": rows},
                                                     indent=2))
    lines = ["| normal proportion | ATT ungated ms | ATT gated ms | gated / ungated | DefectNet t = 1-(1-beta)a | skip |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        u, g = r["ungated"]["att"], r["gated"]["att"]
        lines.append(f"| {r['normal_proportion']:.2f} | {u:.2f} | {g:.2f} | {g / u:.3f} | "
                     f"{1 - (1 - beta) * r['normal_proportion']:.3f} | {r['gated']['skip_rate']:.2f} |")
    (docs / "gate_sweep.md").write_text(
        f"Gate sweep (threshold {a.threshold}, {a.n} images per point, batch 1, CPU; beta = {beta:.3f})\n\n"
        + "\n".join(lines) + "\n")
    import matplotlib.pyplot as plt

    xs = [r["normal_proportion"] for r in rows]
    plt.figure(figsize=(5, 3.5))
    plt.plot(xs, [r["ungated"]["att"] for r in rows], "o-", label="ungated")
    plt.plot(xs, [r["gated"]["att"] for r in rows], "s-", label=f"gated (threshold {a.threshold:g})")
    plt.xlabel("normal proportion")
    plt.ylabel("ATT (ms / image, CPU)")
    plt.legend()
    plt.tight_layout()
    plt.savefig(docs / "gate_sweep.png", dpi=120)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
