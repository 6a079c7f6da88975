"""The `make demo` job: synthetic defects -> train a gated GFD-Net -> validate with and without the gate -> predict
-> export ONNX (full graph plus the two gated graphs).

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


def main(argv: list[str]) -> dict[str, Path]:
    """Run the demo and return the artefact paths."""
    args = parse_args(argv)
    import gfdnet_ultra

    gfdnet_ultra.register()
    from ultralytics import YOLO

    from gfdnet_ultra.data.synthetic import SHORT_RECIPE, make_synthetic_dataset
    from gfdnet_ultra.gate import pick_gate_threshold

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
    trained = YOLO(best)
    runs, common = out / "runs", {"imgsz": args["imgsz"], "device": "cpu", "exist_ok": True}
    threshold = pick_gate_threshold(trained, str(data), target_recall=0.99, split="train", batch=1,
                                    project=str(runs), name="pick-threshold", **common)  # keep 99 % defect recall
    ungated = trained.val(data=str(data), batch=1, threshold=0.0, project=str(runs), name="val-ungated", **common)
    gated = trained.val(data=str(data), batch=1, threshold=threshold, project=str(runs), name="val-gated", **common)
    val_images = sorted((data_root / "images" / "val").glob("*.png"))[:8]
    trained.predict(val_images, threshold=threshold, save=True, project=str(runs), name="predict", **common)
    onnx = Path(trained.export(format="onnx", imgsz=args["imgsz"]))
    paths = {
        "dataset": data,
        "training run": best.parent.parent,
        "best checkpoint": best,
        "validation": Path(gated.save_dir),
        "gate metrics": Path(gated.save_dir) / "gate_metrics.json",
        "predictions": runs / "predict",
        "onnx model": onnx,
        "onnx gate graph": onnx.with_name(f"{onnx.stem}-gate.onnx"),
        "onnx tail graph": onnx.with_name(f"{onnx.stem}-tail.onnx"),
    }
    g, u = gated.gate, ungated.gate
    print(f"\ngfdnet-ultra demo ({args['model']}, {args['epochs']} epochs at {args['imgsz']} px, CPU)")
    print(f"  detection     mAP50 {gated.box.map50:.3f}  mAP50-95 {gated.box.map:.3f} gated "
          f"(ungated {ungated.box.map50:.3f} / {ungated.box.map:.3f})")
    print(f"  gate          threshold {threshold:.3f}: recall {g['gate_recall']:.3f}, macro F1 {g['gate_macro_f1']:.3f}, "
          f"skipped {g['skip_rate']:.0%} of images")
    print(f"  time/image    ATT {g['att']:.1f} ms gated vs {u['att']:.1f} ms ungated "
          f"(normal {g['att_normal']:.1f} vs {u['att_normal']:.1f} ms)")
    for name, path in paths.items():
        print(f"  {name:<16} {path}{'' if path.exists() else '  (MISSING)'}")
    return paths


if __name__ == "__main__":
    main(sys.argv[1:])
