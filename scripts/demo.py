"""The `make demo` job: synthetic defects -> train a small GFD-Net -> validate -> predict -> export ONNX.

Usage (key=value, like `yolo`):
    python scripts/demo.py                        # defaults below, a few minutes on 2 CPU cores
    python scripts/demo.py epochs=30 imgsz=256    # longer run
Everything is written under `out` (default `demo/` in the current directory), and the paths are printed at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

DEFAULTS = {"model": "gfdnet-n.yaml", "epochs": 20, "imgsz": 160, "batch": 16, "out": "demo", "seed": 0}


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
    import gfdnet_ultra  # noqa: F401  (registers the layers)
    from ultralytics import YOLO

    from gfdnet_ultra.data.synthetic import SHORT_RECIPE, make_synthetic_dataset

    out = Path(args["out"]).resolve()
    data_root = out / "data"
    make_synthetic_dataset(data_root, n_train=240, n_val=100, imgsz=args["imgsz"], seed=args["seed"], overwrite=False)
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
    metrics = trained.val(data=str(data), imgsz=args["imgsz"], batch=args["batch"], device="cpu",
                          project=str(out / "runs"), name="val", exist_ok=True)
    val_images = sorted((data_root / "images" / "val").glob("*.png"))[:8]
    trained.predict(val_images, imgsz=args["imgsz"], device="cpu", save=True,
                    project=str(out / "runs"), name="predict", exist_ok=True)
    onnx = Path(trained.export(format="onnx", imgsz=args["imgsz"]))
    paths = {
        "dataset": data,
        "training run": best.parent.parent,
        "best checkpoint": best,
        "validation": Path(metrics.save_dir),
        "predictions": out / "runs" / "predict",
        "onnx model": onnx,
    }
    print(f"\ngfdnet-ultra demo ({args['model']}, {args['epochs']} epochs at {args['imgsz']} px): "
          f"mAP50 {metrics.box.map50:.3f}, mAP50-95 {metrics.box.map:.3f}")
    for name, path in paths.items():
        print(f"  {name:<16} {path}{'' if path.exists() else '  (MISSING)'}")
    return paths


if __name__ == "__main__":
    main(sys.argv[1:])
