"""Compare the fitted gate's feature maps: P3 (`fit-gate features=p3`), P3 and P4 (`features=p3p4`), P2 (`features=p2`).

For every detector checkpoint x features x fit seed: `fit_gate` (5-fold cross-fitted threshold for 0.99 defect
recall, the dataset YAML's `groups`), then p(defect) of the letterboxed validation images (what prediction and
`yolo val rect=False` see) at the stored threshold: validation recall and skip rate, and the oracle skip (the best
skip at 0.99 recall with the threshold picked on validation itself: what the features allow). Per checkpoint and
features also the share of the detector's FLOPs before the cut (backbone up to the gate plus the gate, over the
ungated detector; a load-free proxy of the time share), which sets the payoff limit normal share x (1 - share); the
FLOPs saved per image are val skip x (1 - share).
Writes `<out>/gate_features.json` and `gate_features.md` (the table) and prints the table.

    python scripts/gate_features.py --weights gfdnet-n-seed0.pt gfdnet-n-seed1.pt --data deeppcb-160p/data.yaml \
        --imgsz 320 --seeds 0 1 --out runs/gate_features
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's package first on sys.path)
import torch


def _label(weights: Path) -> str:
    """`runs/x/weights/best.pt` -> `x`; any other file -> its stem."""
    in_run = weights.stem in ("best", "last") and weights.parent.name == "weights"
    return weights.parent.parent.name if in_run else weights.stem


def _flops(fn, x: torch.Tensor) -> int:
    """FLOPs of one call (convolutions and matrix products, as torch's counter counts them)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn(x)
    return counter.get_total_flops()


def _share_before_cut(weights: Path, fitted, imgsz: int) -> float:
    """FLOPs of stage 1 (backbone up to the gate, and the gate) of `fitted` over the ungated detector's FLOPs."""
    from ultralytics.nn.tasks import load_checkpoint

    from gfdnet_ultra.gate.runner import GateSplit

    x = torch.zeros(1, 3, imgsz, imgsz)
    plain = load_checkpoint(str(weights))[0].float().eval()
    return _flops(GateSplit(fitted).stage1, x) / _flops(plain, x)


def _fit(weights: Path, a: argparse.Namespace, features: str, seed: int, save: Path) -> dict:
    """`fit_gate`'s report, or the one stored in `save` when `reuse` and it exists."""
    from gfdnet_ultra.gate.fit import fit_gate

    if a.reuse and save.exists():
        return {**torch.load(save, map_location="cpu", weights_only=False)["gate_fit"], "save": str(save)}
    return fit_gate(weights, a.data, imgsz=a.imgsz, epochs=a.epochs, folds=a.folds, seed=seed, features=features,
                    views=a.views, hidden=a.hidden,
                    save=save)


def _score(model, threshold: float, ims: torch.Tensor, defective: torch.Tensor) -> dict:
    """Validation recall / skip of a fitted model at `threshold` and the oracle skip at 0.99 recall."""
    from gfdnet_ultra.gate.fit import gate_probabilities
    from gfdnet_ultra.gate.threshold import pick_threshold

    p = gate_probabilities(model, ims)
    oracle = pick_threshold(p.tolist(), defective.tolist(), 0.99)
    return {"val_recall": float((p[defective] >= threshold).float().mean()),
            "val_skip": float((p < threshold).float().mean()), "oracle_skip": float((p < oracle).float().mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", nargs="+", required=True, help="trained detector checkpoints (gated or plain)")
    ap.add_argument("--data", required=True, help="detection dataset YAML (train split fits, val split scores)")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--features", nargs="+", default=["p3", "p2"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="fit seeds")
    ap.add_argument("--epochs", type=int, default=40, help="gate fit epochs (fit-gate's default)")
    ap.add_argument("--folds", type=int, default=5, help="cross-fitting folds (fit-gate's default)")
    ap.add_argument("--views", type=int, default=8, help="training views per image (fit-gate's default)")
    ap.add_argument("--hidden", type=int, default=32, help="gate width (fit-gate's default)")
    ap.add_argument("--out", default="runs/gate_features")
    ap.add_argument("--reuse", action="store_true", help="score fits already saved in --out instead of refitting")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    import gfdnet_ultra  # noqa: F401
    from ultralytics.nn.tasks import load_checkpoint

    from gfdnet_ultra.gate.samples import load_samples, split_images

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    ims, masks = load_samples(split_images(a.data, "val"), a.imgsz)
    defective = masks.flatten(1).any(1)
    normal_share = float((~defective).float().mean())
    rows = []
    for w in map(Path, a.weights):
        for features in a.features:
            share = None
            for seed in a.seeds:
                t0 = time.perf_counter()
                fit = _fit(w, a, features, seed, out / f"{_label(w)}-{features}-seed{seed}.pt")
                model = load_checkpoint(fit["save"])[0].float().eval()
                val = _score(model, fit["threshold"], ims, defective)
                share = share if share is not None else _share_before_cut(w, model, a.imgsz)
                point = fit["calibration_point"]
                rows.append({"weights": _label(w), "features": features, "seed": seed, "threshold": fit["threshold"],
                             "promised_recall": point["recall"], "promised_skip": point["skip_rate"], **val,
                             "flops_share_before_cut": share, "limit": normal_share * (1 - share),
                             "saved": val["val_skip"] * (1 - share),
                             "seconds": time.perf_counter() - t0})
                print(json.dumps(rows[-1]), flush=True)
    lines = [f"`python scripts/gate_features.py --weights {' '.join(_label(Path(w)) for w in a.weights)} --data "
             f"{a.data} --imgsz {a.imgsz} --seeds {' '.join(map(str, a.seeds))} --views {a.views}`; validation: "
             f"{len(ims)} images, "
             f"normal share {normal_share:.2f}", "",
             "| detector | features | fit seed | threshold | promised recall / skip | val recall | val skip | "
             "skip / normal share | oracle val skip | FLOPs before the cut | limit | saved |", "|" + "---|" * 12]
    for r in rows:
        lines.append(f"| {r['weights']} | {r['features']} | {r['seed']} | {r['threshold']:.3f} | "
                     f"{r['promised_recall']:.3f} / {r['promised_skip']:.3f} | {r['val_recall']:.3f} | "
                     f"{r['val_skip']:.3f} | {r['val_skip'] / normal_share:.2f} | {r['oracle_skip']:.3f} | "
                     f"{100 * r['flops_share_before_cut']:.1f} % | {100 * r['limit']:.1f} % | "
                     f"{100 * r['saved']:.1f} % |")
    (out / "gate_features.json").write_text(json.dumps({"data": a.data, "imgsz": a.imgsz, "rows": rows}, indent=1))
    (out / "gate_features.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
