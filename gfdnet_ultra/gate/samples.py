"""Images and dense targets for fitting a gate: letterboxed tensors, image labels and per-cell defect masks.

A gate that must notice a 10 px defect in a 640 px board learns far more from *where* the defects are than from one
label per image, and a detection dataset has that for free: its boxes. Each image becomes a square letterboxed
(3, S, S) tensor in [0, 1] (RGB, pad value 114 as Ultralytics' LetterBox) and a (S / s, S / s) mask of the stride-s
cells whose centre lies in a box (each box covers at least its centre cell, so tiny defects are never lost).
Shape shorthand: N images, S image size, s the stride of the score map.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from ..data.yolo_format import IMAGE_SUFFIXES, image_files, label_path_for, load_data_yaml, read_label_file

__all__ = ("cell_mask", "cell_masks", "image_groups", "letterbox", "load_samples", "split_images")


def split_images(data: str | Path, split: str = "train") -> list[Path]:
    """Image paths of a split of a detection dataset YAML (a folder or a txt list of paths, as Ultralytics reads)."""
    cfg, root = load_data_yaml(data)
    if not cfg.get(split):
        raise ValueError(f"{data}: no {split!r} split; the gate is fitted on the training split (train: images/...)")
    entries = cfg[split] if isinstance(cfg[split], list) else [cfg[split]]
    images: list[Path] = []
    for entry in entries:
        p = Path(entry) if Path(entry).is_absolute() else root / entry
        if p.is_dir():
            images += image_files(p)
        elif p.suffix == ".txt" and p.is_file():
            lines = (s.strip() for s in p.read_text().splitlines())
            images += [Path(s) if Path(s).is_absolute() else (p.parent / s).resolve() for s in lines if s]
        else:
            raise FileNotFoundError(f"{data}: split {split!r} entry {p} is neither an image folder nor a txt list")
    images = [im for im in images if im.suffix.lower() in IMAGE_SUFFIXES]
    if not images:
        raise ValueError(f"{data}: split {split!r} holds no images")
    return images


def image_groups(images: Sequence[Path], data: str | Path, groups: str | None = None) -> list[str] | None:
    """A group key per image for splits that must keep near-copies together, or None (every image its own group).

    `groups` is a regular expression searched in each image's file stem; its first capture group (else the whole
    match) is the key, and images without a match stay alone. None reads the dataset YAML's `groups` key (our DeepPCB
    converter writes one that pairs each board with its template); "" turns grouping off.

    Examples:
        >>> image_groups([Path("a/g1_7_test.jpg"), Path("a/g1_7_temp.jpg"), Path("x.jpg")], "", r"^(.+)_(?:test|temp)$")
        ['g1_7', 'g1_7', ':x.jpg']
    """
    if groups is None:
        groups = load_data_yaml(data)[0].get("groups") or ""
    if not groups:
        return None
    try:
        rule = re.compile(groups)
    except re.error as e:
        raise ValueError(f"groups={groups!r} is not a regular expression ({e}); e.g. groups='^(.+)_(?:test|temp)$'") from e
    keys = []
    for im in images:
        m = rule.search(Path(im).stem)
        keys.append(":" + str(im) if m is None else (m.group(1) if rule.groups else m.group(0)))
    return keys


def letterbox(img: np.ndarray, size: int) -> tuple[np.ndarray, float, tuple[int, int]]:
    """BGR (H, W, 3) uint8 -> (size, size, 3), scale r, (pad_x, pad_y): resized to fit, centred on grey 114."""
    h, w = img.shape[:2]
    r = min(size / h, size / w)
    nh, nw = round(h * r), round(w * r)
    out = np.full((size, size, 3), 114, np.uint8)
    py, px = (size - nh) // 2, (size - nw) // 2
    out[py : py + nh, px : px + nw] = img if (nh, nw) == (h, w) else cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return out, r, (px, py)


def cell_masks(boxes: torch.Tensor, index: torch.Tensor, batch: int, h: int, w: int) -> torch.Tensor:
    """(batch, h, w) bool: for boxes (N, 4) in normalised xyxy of image `index` (N,), the cells of an h x w grid whose
    centre lies in a box, plus each box's centre cell (so tiny defects are never lost).

    Examples:
        >>> cell_masks(torch.tensor([[0.1, 0.1, 0.2, 0.2]]), torch.tensor([1]), 2, 4, 4).sum((1, 2)).tolist()
        [0, 1]
    """
    boxes = boxes.float().reshape(-1, 4)
    cy = (torch.arange(h, device=boxes.device) + 0.5) / h
    cx = (torch.arange(w, device=boxes.device) + 0.5) / w
    x1, y1, x2, y2 = (boxes[:, k, None] for k in range(4))
    inside = ((cy >= y1) & (cy <= y2))[:, :, None] & ((cx >= x1) & (cx <= x2))[:, None, :]  # (N, h, w)
    n = torch.arange(len(boxes), device=boxes.device)
    iy = ((y1 + y2)[:, 0] / 2 * h).floor().long().clamp(0, h - 1)
    ix = ((x1 + x2)[:, 0] / 2 * w).floor().long().clamp(0, w - 1)
    inside[n, iy, ix] = True
    out = torch.zeros(batch, h * w, device=boxes.device)
    out.index_add_(0, index.long().view(-1).to(boxes.device), inside.flatten(1).float())
    return out.view(batch, h, w) > 0


def cell_mask(boxes_xyxy: np.ndarray, size: int, stride: int) -> np.ndarray:
    """(size / stride,)*2 bool: `cell_masks` of one image's pixel boxes on the stride grid of a square `size` image.

    Examples:
        >>> cell_mask(np.array([[3.0, 3.0, 6.0, 6.0]]), 32, 8).sum().item()  # a 3 px box still marks one cell
        1
    """
    g = size // stride
    boxes = torch.as_tensor(np.asarray(boxes_xyxy, float).reshape(-1, 4) / size)
    return cell_masks(boxes, torch.zeros(len(boxes), dtype=torch.long), 1, g, g)[0].numpy()


def load_samples(images: Sequence[Path], size: int, stride: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 3, S, S) uint8 RGB images and (N, S/s, S/s) bool masks of the labelled defects."""
    if size % stride:
        raise ValueError(f"gate samples: imgsz={size} must be a multiple of the stride {stride}")
    ims, masks = [], []
    for path in images:
        img = cv2.imread(str(path))
        if img is None:
            raise ValueError(f"gate samples: cannot read image {path}")
        lb, r, (px, py) = letterbox(img, size)
        h, w = img.shape[:2]
        rows = np.array([row[1:] for row in read_label_file(label_path_for(path))], float).reshape(-1, 4)
        xyxy = np.c_[(rows[:, 0] - rows[:, 2] / 2) * w, (rows[:, 1] - rows[:, 3] / 2) * h,
                     (rows[:, 0] + rows[:, 2] / 2) * w, (rows[:, 1] + rows[:, 3] / 2) * h] * r + [px, py, px, py]
        ims.append(torch.from_numpy(np.ascontiguousarray(lb[..., ::-1].transpose(2, 0, 1))))
        masks.append(torch.from_numpy(cell_mask(xyxy, size, stride)))
    return torch.stack(ims), torch.stack(masks)
