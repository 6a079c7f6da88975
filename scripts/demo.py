"""The `make demo` job: synthetic defects -> train a gated GFD-Net -> fit its gate on the trained detector and train
the two-model gate classifier -> validate with and without each gate -> predict -> export ONNX (full graph plus the
two gated graphs).

Both gates pick their threshold for 99 % defect recall on 5-fold cross-fitted probabilities of the training images
(each scored by a gate fitted without it): the one-model gate is fitted on the frozen detector's stride-4 P2
map (`gfdnet fit-gate`), the two-model gate is the small full-resolution classifier in front of the whole detector
(`gfdnet train-gate`; docs/gate.md). Validation letterboxes as prediction does (`rect=False`); the time saved is
printed next to the limit of a perfect gate.

Usage (key=value, like `yolo`):
    python scripts/demo.py                        # defaults below (the short recipe of docs/recipe.md)
    python scripts/demo.py epochs=40 model=gfdnet-gated-s.yaml
Everything is written under `out` (default `demo/` in the current directory), and the paths are printed at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

DEFAULTS = {"model": "gfdnet-gated-n.yaml", "epochs": 20, "imgsz": 160, "batch": 16, "out": "demo", "seed": 0}


def parse_args(argv: list[str]) -> dict:
    """`key=value` arguments over DEFAULTS, with the same types."""
    args = dict(DEFAULTS)
    for item in argv:
        key, sep, value = item.partition("=")
        if not sep or key not in DEFAULTS:
            raise SystemExit(f"demo: expected key=value with key in {sorted(DEFAULTS)}, got {item!r}")
        args[key] = type(DEFAULTS[key])(value)
    return args


def _report(title: str, gated, ungated, calibration: dict) -> None:
    """Print what one gate did on validation (the gated and ungated `yolo val` metrics) and where its threshold came
    from (the fit-gate / train-gate report)."""
    from gfdnet_ultra.gate.payoff import payoff

    g, u = gated.gate, ungated.gate
    pay, cal, before = payoff(g, u), calibration["calibration_point"], g["att_stage1"] / u["att"]
    limit = (f"normal share x (1 - {before:.0%} of the time before the cut)" if g["mode"] == "one-model"
             else f"normal share - {before:.0%} of the time in the classifier")
    print(f"  {title}")
    print(f"    detection   mAP50-95 {gated.box.map:.3f} gated vs {ungated.box.map:.3f} ungated")
    print(f"    threshold   {calibration['threshold']:.3f} (picked for recall 0.99 on {cal['images']} cross-fitted "
          f"training images: recall {cal['recall']:.3f}, skip {cal['skip_rate']:.0%})")
    print(f"    on val      recall {g['gate_recall']:.3f}, macro F1 {g['gate_macro_f1']:.3f}, skipped "
          f"{g['skip_rate']:.0%} of images ({g['normal_share']:.0%} are normal)")
    print(f"    time/image  ATT {g['att']:.1f} ms gated vs {u['att']:.1f} ms ungated (normal {g['att_normal']:.1f} vs "
          f"{u['att_normal']:.1f} ms): {pay['time_saved']:.0%} saved, limit {pay['limit']:.0%} ({limit})")
    drift = abs(pay["time_saved"] - pay["implied_by_skip"]) > 0.05  # the two timed runs met different machine load
    print(f"                the skip rate implies {pay['implied_by_skip']:.0%} saved"
          + (" (the gated and ungated runs were timed under different machine load)" if drift else ""))


def main(argv: list[str]) -> dict[str, Path]:
    """Run the demo and return the artefact paths."""
    args = parse_args(argv)
    import gfdnet_ultra

    gfdnet_ultra.register()
    from ultralytics import YOLO

    from gfdnet_ultra.data.synthetic import SHORT_RECIPE, make_synthetic_dataset
    from gfdnet_ultra.gate.fit import fit_gate
    from gfdnet_ultra.gate.tile_classifier import train_gate_classifier

    out = Path(args["out"]).resolve()
    data_root = out / "data"
    make_synthetic_dataset(data_root, n_train=240, n_val=100, imgsz=args["imgsz"], seed=args["seed"], overwrite=True)
    data = data_root / "data.yaml"

    model = YOLO(args["model"])
    model.train(
        **{k: v for k, v in SHORT_RECIPE.items() if k not in args},  # docs/recipe.md
        data=str(data),
        epochs=args["epochs"],
        imgsz=args["imgsz"],
        batch=args["batch"],
        workers=0,
        device="cpu",
        seed=args["seed"],
        project=str(out / "runs"),
        name="train",
        exist_ok=True,
        plots=True,
    )
    best = Path(model.trainer.best)
    fit = fit_gate(best, data, imgsz=args["imgsz"], target_recall=0.99, seed=args["seed"],
                   save=best.with_name("best-gatefit.pt"))  # the gate refitted on the frozen detector, calibrated
    tile = train_gate_classifier(data, imgsz=args["imgsz"], seed=args["seed"], save=best.with_name("gate-cls.pt"))
    trained = YOLO(fit["save"])
    # rect=False: validate as `yolo predict` and the exported graphs letterbox (no half-stride grey frame), docs/gate.md
    runs, common = out / "runs", {"imgsz": args["imgsz"], "device": "cpu", "exist_ok": True}
    val_common = {**common, "data": str(data), "batch": 1, "rect": False, "project": str(runs)}
    ungated = trained.val(threshold=0.0, name="val-ungated", **val_common)
    gated = trained.val(name="val-gated", **val_common)  # at the calibrated threshold
    pair = {**val_common, "gate_classifier": tile["save"]}
    ungated2 = YOLO(best).val(threshold=0.0, name="val-two-model-ungated", **pair)
    gated2 = YOLO(best).val(name="val-two-model-gated", **pair)
    val_images = sorted((data_root / "images" / "val").glob("*.png"))[:8]
    trained.predict(val_images, save=True, project=str(runs), name="predict", **common)
    onnx = Path(trained.export(format="onnx", imgsz=args["imgsz"]))
    paths = {
        "dataset": data,
        "training run": best.parent.parent,
        "best checkpoint": best,
        "validation": Path(gated.save_dir),
        "gated checkpoint": Path(fit["save"]),
        "gate metrics": Path(gated.save_dir) / "gate_metrics.json",
        "gate curve": Path(gated.save_dir) / "gate_curve.png",
        "two-model gate": Path(tile["save"]),
        "two-model val": Path(gated2.save_dir),
        "predictions": runs / "predict",
        "onnx model": onnx,
        "onnx gate graph": onnx.with_name(f"{onnx.stem}-gate.onnx"),
        "onnx tail graph": onnx.with_name(f"{onnx.stem}-tail.onnx"),
    }
    print(f"\ngfdnet-ultra demo ({args['model']}, {args['epochs']} epochs at {args['imgsz']} px, CPU)")
    print(f"  detector      mAP50 {ungated.box.map50:.3f}  mAP50-95 {ungated.box.map:.3f} (ungated)")
    _report("one-model gate (fit-gate, on the detector's stride-4 P2 map)", gated, ungated, fit)
    cost = tile["cost"]
    _report(f"two-model gate (train-gate, {tile['params'] / 1e3:.0f} k weights, {cost['gflops']:.3f} GFLOPs at "
            f"{args['imgsz']} px, in front of the whole detector)", gated2, ungated2, tile)
    for name, path in paths.items():
        print(f"  {name:<16} {path}{'' if path.exists() else '  (MISSING)'}")
    return paths


if __name__ == "__main__":
    main(sys.argv[1:])
