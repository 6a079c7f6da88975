"""Compare TileGateClassifier bodies and training lengths on one dataset: what the two-model gate separates.

Each variant is trained as `gfdnet train-gate` trains it (random `--crop` windows, flips and quarter turns, dense cell
targets from the boxes), but on one seeded 80 % of the training images, its threshold picked on the other 20 % for
0.99 defect recall (fast; `train-gate` cross-fits instead). On the validation split: ROC AUC of p(defect), recall and
skip rate at that threshold, and the oracle skip (the best skip at 0.99 recall with the threshold picked on validation
itself: what the classifier separates). Cost: GFLOPs and median batch-1 CPU ms at `--imgsz`.
Bodies: `shipped` (three stride-2 3x3 convolutions, a 3x3 and a dilated 3x3: tile_classifier.TileGateClassifier),
`patchify` (the first design: a 4x4 stride-4 patchify, a stride-2 3x3, a 3x3 and a dilated 3x3), `patchify-deep`
(patchify plus three residual dilated 3x3 at dilations 2, 4, 8), `separable` (a stride-2 stem, then depthwise-separable
stride-2 and four residual blocks at dilations 1-8). Writes `<out>/tile_gate_variants.json` and `.md`.

    python scripts/tile_gate_variants.py --data deeppcb-160p/data.yaml --imgsz 320 \
        --runs shipped:16:200 patchify:16:60 patchify:16:200 patchify:32:200 --seeds 0
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's package first on sys.path)
import numpy as np
import torch
from torch import nn


class _Residual(nn.Module):
    def __init__(self, m: nn.Module):
        super().__init__()
        self.m = m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.m(x)


def _separable(c1: int, c2: int, s: int = 1, d: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c1, c1, 3, s, padding=d, dilation=d, groups=c1, bias=False), nn.BatchNorm2d(c1),
                         nn.SiLU(), nn.Conv2d(c1, c2, 1, bias=False), nn.BatchNorm2d(c2), nn.SiLU())


def build(body: str, width: int, imgsz: int) -> nn.Module:
    """A TileGateClassifier with the named body (the shipped one, or an earlier design measured against it)."""
    from gfdnet_ultra.gate.tile_classifier import TileGateClassifier, _conv

    m, c, h = TileGateClassifier(width, imgsz), 2 * width, max(1, width // 2)
    patchify = [nn.Sequential(nn.Conv2d(3, width, 4, 4, bias=False), nn.BatchNorm2d(width), nn.SiLU()),
                _conv(width, c, 3, 2), _conv(c, c, 3)]
    bodies = {
        "shipped": lambda: m.body,
        "patchify": lambda: nn.Sequential(*patchify, _conv(c, c, 3, d=2)),
        "patchify-deep": lambda: nn.Sequential(*patchify, *(_Residual(_conv(c, c, 3, d=d)) for d in (2, 4, 8))),
        "separable": lambda: nn.Sequential(_conv(3, h, 3, 2), _conv(h, width, 3, 2), _separable(width, c, 2),
                                           *(_Residual(_separable(c, c, d=d)) for d in (1, 2, 4, 8))),
    }
    if body not in bodies:
        raise SystemExit(f"tile_gate_variants: unknown body {body!r}; use one of {sorted(bodies)}")
    m.body = bodies[body]()
    return m


def auc(p: np.ndarray, t: np.ndarray) -> float:
    """ROC AUC: the chance that a defective image scores above a normal one (ties count half)."""
    pos, neg = p[t], p[~t]
    return float(((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (pos.size * neg.size))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--runs", nargs="+", default=["shipped:16:200"], help="body:width:epochs")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--crop", type=int, default=None, help="training crop (0: whole images; default train-gate's)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--out", default="runs/tile_gate_variants")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    from gfdnet_ultra.gate.calibrate import calibration_split, pick_calibrated
    from gfdnet_ultra.gate.curve import operating_point
    from gfdnet_ultra.gate.fit import train_cell_scorer
    from gfdnet_ultra.gate.samples import image_groups, load_samples, split_images
    from gfdnet_ultra.gate.threshold import pick_threshold
    from gfdnet_ultra.gate.tile_classifier import default_crop, measure_gate_cost

    crop = default_crop(a.imgsz) if a.crop is None else a.crop

    train = split_images(a.data, "train")
    ims, masks = load_samples(train, a.imgsz)
    vims, vmasks = load_samples(split_images(a.data, "val"), a.imgsz)
    t_train, t_val = masks.flatten(1).any(1).numpy(), vmasks.flatten(1).any(1).numpy()
    rows = []
    for spec in a.runs:
        body, width, epochs = spec.split(":")
        for seed in a.seeds:
            t0 = time.perf_counter()
            fit, cal = calibration_split(t_train, 0.2, seed, image_groups(train, a.data, None))
            torch.manual_seed(seed)
            m = build(body, int(width), a.imgsz).train()
            losses = train_cell_scorer(m.cell_logits, m.parameters(), ims[fit], masks[fit], epochs=int(epochs),
                                       batch=16, lr=a.lr, seed=seed, augment=True,
                                       crop=crop)
            m.eval()
            with torch.no_grad():
                p_cal, p_val = (torch.cat([m(x[i : i + 16].float() / 255)[:, 0] for i in range(0, len(x), 16)]).numpy()
                                for x in (ims[cal], vims))
            picked = float(pick_calibrated(p_cal.tolist(), t_train[cal].tolist(), 0.99))
            at = operating_point(p_val, t_val, picked)
            oracle = operating_point(p_val, t_val, pick_threshold(p_val.tolist(), t_val.tolist(), 0.99))
            cost = measure_gate_cost(m, a.imgsz, reps=10)
            rows.append({"body": body, "width": int(width), "epochs": int(epochs), "seed": seed,
                         "params": sum(p.numel() for p in m.parameters()), "gflops": cost["gflops"],
                         "ms": cost["ms_batch1"], "final_loss": losses[-1], "auc": auc(p_val, t_val),
                         "val_recall": at["recall"], "val_skip": at["skip_rate"], "oracle_skip": oracle["skip_rate"],
                         "seconds": time.perf_counter() - t0})
            print(json.dumps(rows[-1]), flush=True)
    normal = float((~t_val).mean())
    lines = [f"`python scripts/tile_gate_variants.py --data {a.data} --imgsz {a.imgsz} --runs {' '.join(a.runs)} "
             f"--seeds {' '.join(map(str, a.seeds))} --crop {crop}`; validation: {t_val.size} images, "
             f"normal share {normal:.2f}", "",
             "| body | width | epochs | seed | weights | GFLOPs | ms (b1) | val AUC | val recall / skip (calibrated) | "
             "oracle skip at 0.99 |", "|" + "---|" * 10]
    lines += [f"| {r['body']} | {r['width']} | {r['epochs']} | {r['seed']} | {r['params'] / 1e3:.1f} k | "
              f"{r['gflops']:.3f} | {r['ms']:.2f} | {r['auc']:.3f} | {r['val_recall']:.3f} / {r['val_skip']:.3f} | "
              f"{r['oracle_skip']:.3f} |" for r in rows]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"data": a.data, "imgsz": a.imgsz, "crop": crop, "rows": rows}
    (out / "tile_gate_variants.json").write_text(json.dumps(report, indent=1))
    (out / "tile_gate_variants.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
