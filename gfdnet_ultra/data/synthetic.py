"""Deterministic synthetic industrial defect dataset: the embedded default for demos, tests and benchmarks.

Four procedural surfaces (woven fabric, brushed metal, printed circuit, moulded connector; `surfaces.py`) carry 1-4
small, low-contrast defects of six classes (`defects.py`), then get a lighting gradient, vignetting, a slight blur,
a colour tint and sensor noise. Defect sizes have pixel floors and label boxes of thin defects (scratches, cracks)
grow to at least max(14, S / 12) px per side, so every box holds an anchor point at stride 8: train at the generated
size (docs/recipe.md); downscaling at training time makes defects too small to learn on a CPU budget. A share of
images (DefectNet's fabric set: 0.44) stays defect-free and gets an empty label file. Every image draws from its own
`numpy` generator seeded by (seed, split, index), so the same parameters give byte-identical files whatever the
order of generation.
Layout written: `images/{train,val}/*.png`, `labels/{train,val}/*.txt`, `data.yaml` (absolute `path`),
`cls/{train,val}/{defective,normal}/` (links for gate training) and `manifest.json` (parameters and counts).
Shape shorthand: S = imgsz; images are (S, S, 3) uint8 BGR PNG.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from .cls_view import write_cls_split
from .defects import DEFECT_NAMES, RENDERERS, footprint_box
from .staging import staged_dir
from .surfaces import SURFACES, make_surface
from .yolo_format import format_label_line, write_data_yaml, write_label_file

__all__ = (
    "GENERATOR_VERSION",
    "SHORT_RECIPE",
    "default_cache_dir",
    "make_synthetic_dataset",
    "render_sample",
    "synthetic_dataset",
)

GENERATOR_VERSION = 4  # bump when rendering changes, so cached datasets are regenerated
SPLITS = ("train", "val")
# The short from-scratch recipe that learns on this set in minutes on 2 CPU cores (docs/recipe.md says why and what
# it measured): train at the generated image size, one optimiser step per batch, no mosaic, BN recalibration.
SHORT_RECIPE = {
    "imgsz": 160,
    "epochs": 20,
    "batch": 16,
    "nbs": 16,
    "optimizer": "AdamW",
    "lr0": 0.002,
    "warmup_epochs": 1,
    "warmup_bias_lr": 0.0,
    "mosaic": 0.0,
    "close_mosaic": 0,
    "scale": 0.25,
    "bn_recalib": 4,
}


def _pad_box(box: tuple[int, int, int, int], side: int, s: int) -> tuple[int, int, int, int]:
    """Grow a pixel box symmetrically to at least `side` px per axis, shifted to stay inside the (s, s) image."""
    out = list(box)
    for lo, hi in ((0, 2), (1, 3)):
        grow = max(side - (out[hi] - out[lo]), 0)
        a = min(max(out[lo] - grow // 2, 0), s - max(side, out[hi] - out[lo]))
        out[lo], out[hi] = a, a + max(side, out[hi] - out[lo])
    return out[0], out[1], out[2], out[3]


def _overlaps(box: tuple[int, int, int, int], boxes: list[tuple[int, tuple[int, int, int, int]]]) -> bool:
    return any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for _, b in boxes)


def _camera(img: np.ndarray, tint: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lighting gradient, vignetting, optical blur, tint and sensor noise: (S, S) float -> (S, S, 3) uint8."""
    s = img.shape[0]
    yy, xx = (np.mgrid[0:s, 0:s].astype(np.float32) / s) - 0.5
    theta = rng.uniform(0, 2 * np.pi)
    light = 1 + rng.uniform(0.0, 0.35) * (np.cos(theta) * xx + np.sin(theta) * yy)
    cx, cy = rng.uniform(-0.15, 0.15, 2)
    vignette = 1 - rng.uniform(0.05, 0.35) * 2 * ((xx - cx) ** 2 + (yy - cy) ** 2)
    img = cv2.GaussianBlur(img * light * vignette, (0, 0), rng.uniform(0.3, 0.9))
    bgr = img[..., None] * tint + rng.normal(0.0, rng.uniform(0.006, 0.02), (s, s, 3))
    return (np.clip(bgr, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def render_sample(rng: np.random.Generator, imgsz: int, n_defects: int) -> tuple[np.ndarray, list, str]:
    """Render one image with `n_defects` non-overlapping defects.

    Returns:
        (tuple): BGR uint8 image (S, S, 3), `[(class_index, (x1, y1, x2, y2)), ...]` pixel boxes, surface kind.

    Examples:
        >>> img, boxes, kind = render_sample(np.random.default_rng(0), 128, 2)
        >>> img.shape, len(boxes), kind in SURFACES
        ((128, 128, 3), 2, True)
    """
    surf = make_surface(SURFACES[int(rng.integers(len(SURFACES)))], rng, imgsz)
    img, boxes = surf.image, []
    min_box = max(14, imgsz // 12)  # label boxes of thin defects grow to this side: >= 1 anchor point at stride 8
    for k in range(n_defects):
        cls = int(rng.integers(len(DEFECT_NAMES)))
        for _ in range(50 if k == 0 else 10):  # the first defect must land: a defective image needs a box
            trial = img.copy()
            box = footprint_box(RENDERERS[DEFECT_NAMES[cls]](trial, rng, surf))
            if not box or max(box[2] - box[0], box[3] - box[1]) < 6:  # mostly off the part: retry
                continue
            box = _pad_box(box, min_box, imgsz)
            if not _overlaps(box, boxes):
                img = trial
                boxes.append((cls, box))
                break
    return _camera(img, surf.tint, rng), boxes, surf.kind


def _check_params(n_train: int, n_val: int, imgsz: int, normal_ratio: float) -> None:
    if n_train < 1 or n_val < 1:
        raise ValueError(f"make_synthetic_dataset: n_train and n_val must be >= 1, got {n_train} and {n_val}")
    if imgsz < 64:
        raise ValueError(f"make_synthetic_dataset: imgsz must be >= 64 for defects to fit, got imgsz={imgsz}")
    if not 0.0 <= normal_ratio <= 1.0:
        raise ValueError(f"make_synthetic_dataset: normal_ratio must be in [0, 1], got {normal_ratio}")


def _read_manifest(root: Path) -> dict | None:
    try:
        return json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def make_synthetic_dataset(
    root: str | Path,
    *,
    n_train: int = 240,
    n_val: int = 100,
    imgsz: int = 160,
    normal_ratio: float = 0.44,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = True,
) -> dict:
    """Generate the synthetic defect dataset into `root` (atomically) and return its manifest.

    An existing `root` generated with the same parameters is reused as is; any other existing content raises
    `FileExistsError` unless `overwrite=True`.

    Args:
        root (str | Path): Dataset folder to create.
        n_train (int): Training images. n_val (int): Validation images.
        imgsz (int): Square image side in pixels, >= 64.
        normal_ratio (float): Share of defect-free images per split (rounded to whole images).
        seed (int): Seed; the same parameters give byte-identical files.
        overwrite (bool): Replace a non-matching existing `root`. progress (bool): Show a tqdm bar.

    Returns:
        (dict): Manifest: generator version, parameters, class names, and per split the numbers of images,
            normal and defective images, boxes per class and images per surface.

    Examples:
        >>> import tempfile, pathlib
        >>> m = make_synthetic_dataset(pathlib.Path(tempfile.mkdtemp()) / "syn", n_train=6, n_val=2, imgsz=64, progress=False)
        >>> m["splits"]["train"]["images"], m["splits"]["train"]["normal"]
        (6, 3)
    """
    _check_params(n_train, n_val, imgsz, normal_ratio)
    root = Path(root).expanduser().absolute()
    params = {"n_train": n_train, "n_val": n_val, "imgsz": imgsz, "normal_ratio": normal_ratio, "seed": seed}
    old = _read_manifest(root)
    if not overwrite and old and old.get("version") == GENERATOR_VERSION and old.get("params") == params:
        return old
    manifest = {"generator": "gfdnet_ultra.data.synthetic", "version": GENERATOR_VERSION, "params": params}
    manifest.update(names=list(DEFECT_NAMES), splits={})
    bar = tqdm(total=n_train + n_val, desc="synthetic defects", unit="img", disable=not progress)
    with staged_dir(root, overwrite=overwrite) as tmp:
        for split_id, (split, n) in enumerate(zip(SPLITS, (n_train, n_val))):
            normal = set(np.random.default_rng([seed, split_id]).permutation(n)[: round(n * normal_ratio)].tolist())
            stats = {"images": n, "normal": len(normal), "defective": n - len(normal)}
            stats.update(boxes=dict.fromkeys(DEFECT_NAMES, 0), surfaces=dict.fromkeys(SURFACES, 0))
            pairs = []
            for i in range(n):
                rng = np.random.default_rng([seed, split_id, i])
                img, boxes, kind = render_sample(rng, imgsz, 0 if i in normal else int(rng.integers(1, 5)))
                name = f"{i:05d}_{kind}"
                path = tmp / "images" / split / f"{name}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, 3])[1].tobytes())
                write_label_file(tmp / "labels" / split / f"{name}.txt", (format_label_line(c, b, imgsz, imgsz) for c, b in boxes))
                for c, _ in boxes:
                    stats["boxes"][DEFECT_NAMES[c]] += 1
                stats["surfaces"][kind] += 1
                pairs.append((path, bool(boxes)))
                bar.update()
            write_cls_split(pairs, tmp / "cls" / split)
            manifest["splits"][split] = stats
        comment = "Synthetic industrial defect dataset (gfdnet_ultra.data.synthetic); regenerate with\n"
        comment += f"python scripts/make_synthetic.py --out DIR --n-train {n_train} --n-val {n_val} --imgsz {imgsz} "
        comment += f"--normal-ratio {normal_ratio} --seed {seed}"
        write_data_yaml(tmp / "data.yaml", root, DEFECT_NAMES, {"train": "images/train", "val": "images/val"}, comment)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    bar.close()
    return manifest


def default_cache_dir() -> Path:
    """Parent folder of cached synthetic datasets: `$GFDNET_DATA_DIR`, else `~/.cache/gfdnet_ultra`."""
    return Path(os.environ.get("GFDNET_DATA_DIR") or "~/.cache/gfdnet_ultra").expanduser()


def synthetic_dataset(root: str | Path | None = None, **params) -> Path:
    """Path of the synthetic dataset's `data.yaml`, generating it first if missing.

    Args:
        root (str | Path | None): Dataset folder; None uses `default_cache_dir() / "synthetic-<hash of params>"`.
        **params: Keyword arguments of `make_synthetic_dataset` (n_train, n_val, imgsz, normal_ratio, seed).

    Examples:
        >>> synthetic_dataset(n_train=4, n_val=2, imgsz=64).name
        'data.yaml'
    """
    params.setdefault("progress", False)
    defaults = {k: v for k, v in make_synthetic_dataset.__kwdefaults__.items() if k not in ("overwrite", "progress")}
    key = {**defaults, **{k: v for k, v in params.items() if k not in ("overwrite", "progress")}}
    if root is None:
        digest = hashlib.sha1(json.dumps([GENERATOR_VERSION, sorted(key.items())]).encode()).hexdigest()[:12]
        root = default_cache_dir() / f"synthetic-{digest}"
    root = Path(root).expanduser().absolute()
    try:
        make_synthetic_dataset(root, **params)
    except FileExistsError:  # another process published the same dataset first; fine if it matches
        manifest = _read_manifest(root)
        if not manifest or manifest.get("version") != GENERATOR_VERSION or manifest.get("params") != key:
            raise
    return root / "data.yaml"
