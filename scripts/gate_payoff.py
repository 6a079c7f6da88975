"""Measure what the gate pays on one dataset: one-model (fit-gate) and two-model (train-gate), batch 1 and 8, one run.

From a trained detector checkpoint (gated or plain) and a detection dataset YAML:
1. `fit_gate`: a LocalDefectGate on the frozen detector, threshold by 5-fold cross-fitting on the training split;
2. `train_gate_classifier`: the full-resolution TileGateClassifier, calibrated the same way;
3. `yolo val` on the validation split at each batch size: ungated and gated (each gate at its calibrated threshold,
   or at `--threshold`), timed by the same code; time saved next to the limit of a perfect gate (gate/payoff.py),
   mAP50-95 gated vs ungated, gate precision / recall / macro-F1, skip rate.
Writes `<docs>/gate_payoff_<name>.json`, `.md` and `.png` (recall / skip-rate curve of the one-model gate on the
validation split, and time saved against the limit per gate and batch size).

    python scripts/gate_payoff.py --weights runs/detect/train/weights/best.pt --data data.yaml --imgsz 160 --name synthetic
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's package first on sys.path)
import torch


def _plot(results: dict, curve: dict, mode: str, threshold: float, path: Path, given: bool = False) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    x = curve["threshold"]
    a.step(x, curve["recall"], where="post", color="tab:red", label="defect recall")
    a.step(x, curve["skip_rate"], where="post", color="tab:blue", label="skip rate")
    a.axhline(curve["normal"] / curve["images"], ls=":", color="tab:blue", label="normal share")
    kind = "given" if given else "calibrated"
    a.axvline(threshold, ls="--", color="0.4", lw=1, label=f"{kind} threshold {threshold:.3g}")
    a.set(xlabel="threshold", ylabel="share of validation images", title=f"{mode.replace('_', '-').capitalize()} gate on the validation split",
          xlim=(0, 1), ylim=(0, 1.02))
    a.legend(fontsize=8, loc="center right")
    labels, saved, limits = [], [], []
    for mode in ("one_model", "two_model"):
        for bs, run in results[mode]["batches"].items():
            labels.append(f"{mode.replace('_', '-')}\nbatch {bs}")
            saved.append(100 * run["payoff"]["time_saved"])
            limits.append(100 * run["payoff"]["limit"])
    pos = range(len(labels))
    b.bar([p - 0.2 for p in pos], saved, 0.4, label="time saved")
    b.bar([p + 0.2 for p in pos], limits, 0.4, label="limit (perfect gate)", color="0.7")
    b.set_xticks(list(pos), labels, fontsize=8)
    b.set(ylabel="% of the ungated time per image", title=f"{results['name']}: time saved vs limit")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _row(name: str, bs: int, g: dict, u: dict, pay: dict) -> str:
    return (f"| {name} | {bs} | {g['threshold']:.3g} | {u['map50_95']:.4f} | {g['map50_95']:.4f} | "
            f"{g['gate_precision']:.3f} | {g['gate_recall']:.3f} | {g['gate_macro_f1']:.3f} | {g['skip_rate']:.3f} | "
            f"{u['att']:.2f} | {g['att']:.2f} | {g['att_stage1']:.2f} | {100 * pay['time_saved']:.1f} % | "
            f"{100 * pay['limit']:.1f} % | {pay['share_of_limit']:.2f} | {100 * pay['implied_by_skip']:.1f} % |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True, help="trained detector checkpoint (gated or plain)")
    ap.add_argument("--data", required=True)
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--name", required=True, help="dataset label used in the output names")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--fit-epochs", type=int, default=40)
    ap.add_argument("--tile-epochs", type=int, help="train-gate epochs (default: train_gate_classifier's)")
    ap.add_argument("--fit", help="an existing fit-gate checkpoint to use instead of fitting one")
    ap.add_argument("--tile", help="an existing train-gate checkpoint to use instead of training one")
    ap.add_argument("--modes", nargs="+", default=["one_model", "two_model"], choices=["one_model", "two_model"])
    ap.add_argument("--threshold", type=float, help="validate the gated runs at this threshold instead of each gate's "
                    "calibrated one (e.g. the point a calibration curve gives for another target recall)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="runs/gate_payoff")
    ap.add_argument("--docs", default="docs")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    import gfdnet_ultra  # noqa: F401
    from ultralytics import YOLO

    from gfdnet_ultra.bench.env import environment
    from gfdnet_ultra.gate.fit import fit_gate
    from gfdnet_ultra.gate.payoff import payoff
    from gfdnet_ultra.gate.threshold import check_threshold
    from gfdnet_ultra.gate.tile_classifier import train_gate_classifier

    gated = {} if a.threshold is None else {"threshold": check_threshold(a.threshold)}  # refused before any work
    out = Path(a.out).resolve() / a.name
    out.mkdir(parents=True, exist_ok=True)
    def stored(path: str, key: str) -> dict:
        return {**torch.load(path, map_location="cpu", weights_only=False)[key], "save": path}

    fit = {}
    if "one_model" in a.modes:
        fit = stored(a.fit, "gate_fit") if a.fit else fit_gate(a.weights, a.data, imgsz=a.imgsz, epochs=a.fit_epochs,
                                                                 save=out / "fitted.pt")
    tile = {}
    if "two_model" in a.modes:
        epochs = {"epochs": a.tile_epochs} if a.tile_epochs else {}
        tile = stored(a.tile, "gate_train") if a.tile else train_gate_classifier(
            a.data, imgsz=a.imgsz, save=out / "tile-gate.pt", **epochs)
    common = {"data": a.data, "imgsz": a.imgsz, "device": "cpu", "plots": False, "verbose": False, "rect": False,
              "project": str(out), "exist_ok": True}  # rect=False: letterboxed as prediction and exports are
    results = {"name": a.name, "data": a.data, "weights": a.weights, "imgsz": a.imgsz, "threshold_given": a.threshold,
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "env": environment(a.threads),
               "one_model": {"fit": fit, "batches": {}}, "two_model": {"train": tile, "batches": {}}}
    for bs in a.batches:
        runs = {
            "one_model": lambda: (YOLO(fit["save"]).val(batch=bs, threshold=0.0, name=f"one-ungated-b{bs}", **common),
                                  YOLO(fit["save"]).val(batch=bs, name=f"one-gated-b{bs}", **gated, **common)),
            "two_model": lambda: (YOLO(a.weights).val(batch=bs, threshold=0.0, gate_classifier=tile["save"],
                                                      name=f"two-ungated-b{bs}", **common),
                                  YOLO(a.weights).val(batch=bs, gate_classifier=tile["save"], name=f"two-gated-b{bs}",
                                                      **gated, **common)),
        }
        for mode in a.modes:
            u, g = runs[mode]()
            results[mode]["batches"][bs] = {"ungated": u.gate, "gated": g.gate, "payoff": payoff(g.gate, u.gate)}
    docs = Path(a.docs)
    docs.mkdir(parents=True, exist_ok=True)
    stem = docs / f"gate_payoff_{a.name}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
    first = a.modes[0]  # the curve pictured: the first mode's gate on the validation split
    gated_dir = out / f"{first.split('_')[0]}-gated-b{a.batches[0]}"
    curve = json.loads((gated_dir / "gate_curve.json").read_text())
    threshold = results[first]["batches"][a.batches[0]]["gated"]["threshold"]  # the one the pictured run used
    _plot(results, curve, first, threshold, stem.with_suffix(".png"), given=a.threshold is not None)
    shutil.copy(gated_dir / "gate_curve.png", docs / f"gate_curve_{a.name}.png")
    given = "" if a.threshold is None else f" --threshold {a.threshold}"
    lines = [f"Gate payoff on {a.name} ({a.imgsz} px, validation split, {results['date']}, CPU, "
             f"{a.threads} torch thread(s); `python scripts/gate_payoff.py --weights ... --data ... --imgsz {a.imgsz} "
             f"--name {a.name}{given}`)", "",
             "| gate | batch | threshold | mAP50-95 ungated | mAP50-95 gated | gate P | gate R | gate macro-F1 | skip | "
             "ATT ungated ms | ATT gated ms | ms before cut | time saved | limit | saved / limit | implied by skip |",
             "|" + "---|" * 16]
    for mode in a.modes:
        for bs, run in results[mode]["batches"].items():
            lines.append(_row(mode.replace("_", "-"), bs, run["gated"], run["ungated"], run["payoff"]))
    if fit:
        lines += ["", f"one-model fit: {fit['calibration_point']}, {fit['seconds']}"]
    if tile:
        lines.append(f"two-model train: {tile['calibration_point']}, cost {tile['cost']}, {tile['seconds']}")
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
