"""The defect gate's benchmark and normal-share sweep, as library functions (scripts/gate_*.py are their command lines).

`gate_benchmark` trains yolo11-gated-n on the synthetic set under the short recipe (detection loss on all images, and on
defective images only), picks the threshold keeping 0.99 defect recall on the training split, and validates each
model at batch 1 ungated (threshold=0), at DefectNet's 0.5 and at the picked threshold. `normal_share_sweep` validates
one gated model on lists of `n` validation images whose normal share goes from 0 to 1, ungated and gated, and fits
DefectNet's model of the average time per image, t = 1 - (1 - beta) * alpha with beta = ATT_normal / ATT_defective of
the gated run at the middle share. Everything runs on CPU through `YOLO.train` / `YOLO.val` with our gate arguments.
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml

__all__ = ("benchmark_table", "gate_benchmark", "normal_share_sweep", "plot_sweep", "split_images", "sweep_lists",
           "sweep_table")

SWEEP_KEYS = ("att", "att_normal", "att_defective", "skip_rate", "map50_95")
THRESHOLDS = ("ungated", "gated_0.5", "gated_picked")


def split_images(data_yaml: Path) -> tuple[list[Path], list[Path]]:
    """(normal, defective) validation images of a YOLO dataset: defective iff its label file has a box."""
    d = yaml.safe_load(Path(data_yaml).read_text())
    root = Path(d["path"])
    normal, defective = [], []
    for img in sorted((root / d["val"]).glob("*.png")):
        label = root / "labels" / "val" / f"{img.stem}.txt"
        (defective if label.exists() and label.read_text().strip() else normal).append(img)
    return normal, defective


def sweep_lists(normal: list[Path], defective: list[Path], n: int, steps: int) -> list[tuple[float, list[Path]]]:
    """(alpha, n images with round(alpha * n) normal ones) for `steps` shares alpha from 0 to 1."""
    if steps < 2:
        raise ValueError(f"normal-share sweep: steps={steps} must be >= 2 (0 and 1 at least)")
    lists = []
    for step in range(steps):
        alpha = step / (steps - 1)
        k = round(alpha * n)
        if k > len(normal) or n - k > len(defective):
            raise ValueError(f"the val pool has {len(normal)} normal / {len(defective)} defective images; lower n={n}")
        lists.append((alpha, normal[:k] + defective[: n - k]))
    return lists


def normal_share_sweep(weights: str | Path, data_yaml: str | Path, out: str | Path, threshold: float = 0.5,
                       imgsz: int = 160, n: int = 40, steps: int = 5) -> dict:
    """ATT of a gated model, ungated and gated, per normal share; returns {threshold, n, beta, rows}."""
    from ultralytics import YOLO

    data_yaml, out = Path(data_yaml).resolve(), Path(out).resolve()
    base = yaml.safe_load(data_yaml.read_text())
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for alpha, images in sweep_lists(*split_images(data_yaml), n, steps):
        listing = out / f"val_{alpha:.2f}.txt"
        listing.write_text("\n".join(str(p) for p in images) + "\n")
        sub = out / f"data_{alpha:.2f}.yaml"
        sub.write_text(yaml.safe_dump({**base, "train": str(listing), "val": str(listing)}))
        row = {"normal_proportion": alpha}
        for label, thr in (("ungated", 0.0), ("gated", threshold)):
            m = YOLO(weights).val(data=str(sub), imgsz=imgsz, batch=1, threshold=thr, device="cpu", plots=False,
                                  verbose=False, project=str(out), name=f"{label}_{alpha:.2f}", exist_ok=True)
            row[label] = {k: m.gate[k] for k in SWEEP_KEYS}
        rows.append(row)
    mid = rows[len(rows) // 2]["gated"]
    return {"threshold": threshold, "n": n, "beta": mid["att_normal"] / mid["att_defective"], "rows": rows}


def sweep_table(result: dict) -> str:
    """Markdown table of a sweep: ATT ungated and gated, their ratio, DefectNet's model, skip rate."""
    beta = result["beta"]
    lines = ["| normal proportion | ATT ungated ms | ATT gated ms | gated / ungated | DefectNet t = 1-(1-beta)a | skip |",
             "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        u, g = r["ungated"]["att"], r["gated"]["att"]
        lines.append(f"| {r['normal_proportion']:.2f} | {u:.2f} | {g:.2f} | {g / u:.3f} | "
                     f"{1 - (1 - beta) * r['normal_proportion']:.3f} | {r['gated']['skip_rate']:.2f} |")
    return "\n".join(lines)


def plot_sweep(result: dict, path: str | Path) -> None:
    """ATT against the normal share, ungated and gated, as a PNG."""
    import matplotlib.pyplot as plt

    rows = result["rows"]
    xs = [r["normal_proportion"] for r in rows]
    plt.figure(figsize=(5, 3.5))
    plt.plot(xs, [r["ungated"]["att"] for r in rows], "o-", label="ungated")
    plt.plot(xs, [r["gated"]["att"] for r in rows], "s-", label=f"gated (threshold {result['threshold']:g})")
    plt.xlabel("normal proportion")
    plt.ylabel("ATT (ms / image, CPU)")
    plt.legend()
    plt.tight_layout()
    plt.savefig(path, dpi=120)
    plt.close()


def gate_benchmark(out: str | Path, epochs: int | None = None, imgsz: int | None = None, n_train: int = 240,
                   n_val: int = 100, schedule: str = "const", seed: int = 0, threads: int = 2, reuse: bool = False,
                   ablation: bool = False) -> dict:
    """Train and validate the gate variants (module docstring); returns the results dict of docs/gate_results.json."""
    from ultralytics import YOLO

    from ..data.synthetic import SHORT_RECIPE, synthetic_dataset
    from ..gate.calibrate import pick_gate_threshold
    from .curves import read_curve

    epochs, imgsz = epochs or SHORT_RECIPE["epochs"], imgsz or SHORT_RECIPE["imgsz"]
    recipe = {**SHORT_RECIPE, "epochs": epochs, "imgsz": imgsz}
    out = Path(out).resolve()
    data = str(synthetic_dataset(out / "data", n_train=n_train, n_val=n_val, imgsz=imgsz, normal_ratio=0.44))
    common = dict(data=data, imgsz=imgsz, device="cpu", verbose=False, plots=False)
    results: dict = {"epochs": epochs, "imgsz": imgsz, "n_train": n_train, "n_val": n_val, "normal_ratio": 0.44,
                     "seed": seed, "schedule": schedule, "device": "cpu", "threads": threads, "recipe": recipe,
                     "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "runs": {}}
    variants = {"all_images": {}, "defective_only": {"gate_det_on_defective_only": True}}
    if ablation:
        variants.update(mosaic={"mosaic": 1.0}, unbalanced={"gate_balance": False})
    for name, extra in variants.items():
        t0 = time.time()
        weights = out / name / "weights" / "last.pt"
        if not (reuse and weights.exists()):
            YOLO("yolo11-gated-n.yaml").train(
                **{**recipe, **common, "gate_det_on_defective_only": False, **extra}, workers=0, project=str(out),
                name=name, exist_ok=True, seed=seed, deterministic=True, gate_schedule=schedule, amp=False,
            )
        picked = pick_gate_threshold(YOLO(weights), target_recall=0.99, split="train", batch=16, **common)
        run = {"train_s": time.time() - t0, "settings": extra, "picked_threshold": picked,
               "last_epoch_gate_loss": read_curve(out / name, "gate_loss")[-1]}
        for label, thr in zip(THRESHOLDS, (0.0, 0.5, picked)):
            m = YOLO(weights).val(**common, batch=1, threshold=thr, project=str(out), name=f"{name}_val_{label}",
                                  exist_ok=True)
            run[label] = m.gate
        results["runs"][name] = run
    return results


def benchmark_table(results: dict) -> str:
    """Markdown table of `gate_benchmark` results: one row per training and threshold."""
    lines = ["| training | run | threshold | mAP50 | mAP50-95 | gate P | gate R | gate macro-F1 | image macro-F1 | "
             "skip | ATT ms | ATT_N ms | ATT_D ms | last gate BCE |", "|" + "---|" * 14]
    for name, run in results["runs"].items():
        for label in THRESHOLDS:
            r = run[label]
            lines.append(
                f"| {name} | {label} | {r['threshold']:.3f} | {r['map50']:.3f} | {r['map50_95']:.3f} | "
                f"{r['gate_precision']:.3f} | {r['gate_recall']:.3f} | {r['gate_macro_f1']:.3f} | "
                f"{r['image_macro_f1']:.3f} | {r['skip_rate']:.2f} | {r['att']:.2f} | {r['att_normal']:.2f} | "
                f"{r['att_defective']:.2f} | {run['last_epoch_gate_loss']:.3f} |"
            )
    return "\n".join(lines)
