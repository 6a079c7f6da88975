"""Dataset statistics and health checks for a YOLO detection dataset, as a markdown report and a box-size plot.

The first table is DefectNet's (research/defectnet.md section 6): total, normal, defective images and the normal
proportion per split, since the gate's saving grows with that proportion. Then boxes per class, box sizes in
pixels (sqrt(w*h)), and the problems found: unparsable label lines and class indices outside the YAML's class list
(file:line), boxes outside the image or of no size (file:line), unreadable images, label files without an image,
and byte-identical image files (by SHA-1).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from .yolo_format import image_files, iter_label_rows, label_path_for, load_data_yaml

__all__ = ("dataset_stats", "plot_box_sizes", "stats_markdown")

_EPS = 1e-6  # label values are written with 6 decimals


def _split_stats(folder: Path, names: list[str], problems: list[str], hashes: dict) -> dict:
    nc = len(names)
    st = {"images": 0, "normal": 0, "defective": 0, "boxes": dict.fromkeys(names, 0), "box_sizes": []}
    files = image_files(folder)
    for f in files:
        st["images"] += 1
        data = f.read_bytes()
        hashes[hashlib.sha1(data).hexdigest()].append(f)
        try:
            with Image.open(f) as im:
                w, h = im.size
                im.verify()
        except Exception as e:  # PIL raises many types for corrupt files
            problems.append(f"{f}: unreadable image ({type(e).__name__}: {e})")
            w = h = 0
        label, n_boxes = label_path_for(f), 0
        rows = []
        if label.exists():
            try:
                rows = list(iter_label_rows(label))
            except ValueError as e:
                problems.append(str(e))
        for line, (c, xc, yc, bw, bh) in rows:
            if not 0 <= c < nc:
                problems.append(f"{label}:{line}: class {c} outside the class list 0..{nc - 1} of the YAML (class list mismatch)")
                continue
            if bw <= 0 or bh <= 0 or xc - bw / 2 < -_EPS or yc - bh / 2 < -_EPS or xc + bw / 2 > 1 + _EPS or yc + bh / 2 > 1 + _EPS:
                problems.append(f"{label}:{line}: box {xc, yc, bw, bh} is outside the image or has no size")
            st["boxes"][names[c]] += 1
            st["box_sizes"].append(float(np.sqrt(max(bw * w, 0) * max(bh * h, 0))))
            n_boxes += 1
        st["defective" if n_boxes else "normal"] += 1
    labels = folder.parent.parent / "labels" / folder.name
    stems = {f.stem for f in files}
    if labels.is_dir():
        problems += [f"{lb}: label file without an image" for lb in sorted(labels.glob("*.txt")) if lb.stem not in stems]
    st["normal_ratio"] = st["normal"] / st["images"] if st["images"] else 0.0
    return st


def dataset_stats(data: str | Path, *, strict: bool = False) -> dict:
    """Count images, normal/defective images, boxes per class and box sizes of each split; list problems.

    Args:
        data (str | Path): Dataset YAML whose `train`/`val`/`test` entries are image folders.
        strict (bool): Raise ValueError listing the problems instead of only reporting them.

    Returns:
        (dict): `names`, `splits` (per split: images, normal, defective, normal_ratio, boxes per class,
            box_sizes in px) and `problems` (messages naming file and line).

    Examples:
        >>> from gfdnet_ultra.data import synthetic_dataset
        >>> s = dataset_stats(synthetic_dataset(n_train=4, n_val=2, imgsz=64))
        >>> s["splits"]["val"]["images"], s["problems"]
        (2, [])
    """
    cfg, root = load_data_yaml(data)
    problems: list[str] = []
    hashes: dict[str, list[Path]] = defaultdict(list)
    splits = {}
    for split in ("train", "val", "test"):
        if not cfg.get(split):
            continue
        folder = root / cfg[split]
        if not folder.is_dir():
            raise FileNotFoundError(f"{data}: split {split!r} folder {folder} does not exist (only folders are supported)")
        splits[split] = _split_stats(folder, cfg["names"], problems, hashes)
    problems += [f"duplicate images (same bytes): {', '.join(map(str, fs))}" for fs in hashes.values() if len(fs) > 1]
    if strict and problems:
        raise ValueError(f"{data}: {len(problems)} problem(s):\n" + "\n".join(problems))
    return {"names": cfg["names"], "splits": splits, "problems": problems}


def stats_markdown(stats: dict, title: str = "Dataset statistics", plot: str | None = None) -> str:
    """Render `dataset_stats` output as markdown: split table, boxes per class, box sizes, problems."""
    sp = stats["splits"]
    md = [f"# {title}", "", "| split | total | normal | defective | normal proportion |", "|---|---:|---:|---:|---:|"]
    tot = {k: sum(s[k] for s in sp.values()) for k in ("images", "normal", "defective")}
    for name, s in [*sp.items(), ("all", tot)]:
        ratio = s["normal"] / s["images"] if s["images"] else 0.0
        md.append(f"| {name} | {s['images']} | {s['normal']} | {s['defective']} | {ratio:.2f} |")
    md += ["", "## Boxes per class", "", "| class | " + " | ".join(sp) + " | all |", "|---|" + "---:|" * (len(sp) + 1)]
    for c in stats["names"]:
        counts = [s["boxes"][c] for s in sp.values()]
        md.append(f"| {c} | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |")
    md += ["", "## Box sizes (sqrt(w*h), pixels)", "", "| split | boxes | min | median | max |", "|---|---:|---:|---:|---:|"]
    for name, s in sp.items():
        b = np.array(s["box_sizes"]) if s["box_sizes"] else np.zeros(1)
        md.append(f"| {name} | {len(s['box_sizes'])} | {b.min():.1f} | {np.median(b):.1f} | {b.max():.1f} |")
    if plot:
        md += ["", f"![box sizes]({plot})"]
    md += ["", "## Problems", ""] + ([f"- {p}" for p in stats["problems"]] or ["none found"])
    return "\n".join(md) + "\n"


def plot_box_sizes(stats: dict, path: str | Path) -> Path:
    """Save a histogram of box sizes per split (log-spaced bins) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # headless; no display on CI
    import matplotlib.pyplot as plt

    sizes = [s for st in stats["splits"].values() for s in st["box_sizes"]] or [1.0]
    bins = np.geomspace(max(min(sizes), 1.0), max(max(sizes), 2.0), 30)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, st in stats["splits"].items():
        ax.hist(st["box_sizes"], bins=bins, alpha=0.6, label=f"{name} ({len(st['box_sizes'])})")
    ax.set(xscale="log", xlabel="box size sqrt(w*h) [px]", ylabel="boxes", title="Box sizes")
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
