"""Fit the gate on a trained, frozen detector from cached features: `gfdnet fit-gate model=best.pt data=data.yaml`.

Joint training (DefectNet) makes the gate learn only once the detector does, and picks its threshold on images it was
trained on. Here the detector is done: its backbone runs up to the gate's cut once per training image and view (the
image, its mirror image and the quarter turns of both: `views=8`; with `border=True` also a copy with the grey frame
`yolo val` adds), the maps are cached, and only a `LocalDefectGate` (a few thousand weights) is trained on them, in
seconds to minutes. The cut is before the P3 stage: the gate scores the stride-4 P2 map on stride-8 cells
(`features="p2"`, measured best on both sets); `features="p3"` cuts after P3, `features="p3p4"` after P4 and scores
the P3 cells with P4 up-sampled onto them. Loss: balanced image BCE on the max-cell logit (every normal image's worst
cell is a hard negative) plus a dense per-cell BCE whose targets are the cells covered by the dataset's boxes
(positives up-weighted to balance the rare defect cells). The threshold for
`target_recall` is picked on probabilities of images the scoring gate never saw: by default 5-fold cross-fitting scores
every training image (docs/gate.md: a 0.99 recall needs >= 100 defective images to resolve, which a 20 % held-out share
rarely has); `folds=0` holds out a seeded, stratified share `calib` instead. The threshold is stored in the gate, so
the saved checkpoint gates at it by default. The detector's weights are not touched: ungated outputs are bit-identical.
Shape shorthand: N images, C channels, H x W the map at the gate's cut.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .calibrate import held_out_parts, held_out_probabilities, pick_calibrated
from .curve import save_gate_curve
from .head import DefectGate, find_gate
from .local_gate import LocalDefectGate, attach_gate, new_gate, same_gate
from .loss import gate_fit_loss
from .runner import GateSplit
from .samples import image_groups, load_samples, split_images

__all__ = ("cache_features", "dihedral_views", "fit_gate", "gate_probabilities", "gate_threshold", "train_cell_scorer")


@torch.no_grad()
def cache_features(model: nn.Module, images: torch.Tensor, batch: int = 16) -> torch.Tensor:
    """(N, C, H, W) float16 maps at the cut that the model's LocalDefectGate scores (`scored_map` of its input), for
    (N, 3, S, S) uint8 images: the backbone runs up to the gate once, so only the gate is trained afterwards."""
    split = GateSplit(model)
    return torch.cat([split.gate.scored_map(split.gate_input(images[i : i + batch].float() / 255)).half()
                      for i in range(0, len(images), batch)])


@torch.no_grad()
def gate_probabilities(model: nn.Module, images: torch.Tensor, batch: int = 16) -> torch.Tensor:
    """p(defect) (N,) of (N, 3, S, S) uint8 letterboxed images (as prediction and `yolo val rect=False` see them)."""
    split = GateSplit(model)
    return torch.cat([split.stage1(images[i : i + batch].float() / 255)[0] for i in range(0, len(images), batch)])


def dihedral_views(x: torch.Tensor, n: int = 8) -> Iterator[torch.Tensor]:
    """The first `n` of the eight views of square (..., S, S) tensors: as is, mirrored, then the quarter turns of both.

    One view at a time, so a caller that consumes each before the next holds one copy of the images, not eight."""
    for i in range(n):
        v = x.flip(-1) if i % 2 else x
        yield v.rot90(i // 2, (-2, -1)) if i // 2 else v  # no quarter turn: the tensor itself, no copy


def _augment(x: torch.Tensor, m: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The same random flip / quarter turn for a batch of square images (B, 3, S, S) and their cell masks (B, h, w)."""
    k = int(torch.randint(4, (1,), generator=g))
    x, m = x.rot90(k, (-2, -1)), m.rot90(k, (-2, -1))
    if bool(torch.randint(2, (1,), generator=g)):
        x, m = x.flip(-1), m.flip(-1)
    return x, m


def _crop(x: torch.Tensor, m: torch.Tensor, cells: int, g: torch.Generator):
    """A random window of `cells` x `cells` mask cells of each input (B, C, S, S) (images or feature maps, any whole
    number of positions per cell) and of its mask (B, h, w)."""
    grid = m.shape[-1]
    f = x.shape[-1] // grid  # input positions per cell: 8 for stride-8 cells of an image, 2 for P2, 1 for P3
    at = torch.randint(grid - cells + 1, (len(x), 2), generator=g).tolist()
    xs = torch.stack([im[:, i * f : (i + cells) * f, j * f : (j + cells) * f] for im, (i, j) in zip(x, at)])
    ms = torch.stack([mk[i : i + cells, j : j + cells] for mk, (i, j) in zip(m, at)])
    return xs, ms


def train_cell_scorer(cell_logits: Callable[[torch.Tensor], torch.Tensor], params,
                      inputs: torch.Tensor | Sequence[torch.Tensor], masks: torch.Tensor | Sequence[torch.Tensor],
                      epochs: int = 40, batch: int = 32, lr: float = 3e-3, seed: int = 0, augment: bool = False,
                      cell_weight: float = 1.0, crop: int = 0, desc: str = "") -> list[float]:
    """Train `cell_logits` ((B, ...) inputs -> (B, h, w) logits) with `gate_fit_loss`, AdamW and a one-cycle rate.

    `inputs` are float16 feature maps (used as they are) or uint8 images (scaled to [0, 1]), one tensor or several of
    different spatial sizes (each batch is drawn from one of them, in shuffled order), with `masks` to match;
    `augment` applies a random quarter turn and flip per batch (square images only); `cell_weight=0` trains from image
    labels only; `crop` > 0 trains on one random crop of that many image pixels (a multiple of 8, the cells' stride)
    per image and epoch where the image is larger, of images and feature maps alike (a fully convolutional scorer with
    max pooling scores a crop as it scores a whole image, at a fraction of the cost); `desc` shows a progress bar of
    the epochs under that label. Returns the mean loss per epoch.
    """
    xs = [inputs] if torch.is_tensor(inputs) else list(inputs)
    ms = [masks] if torch.is_tensor(masks) else list(masks)
    params = list(params)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    steps = epochs * sum(-(-len(x) // batch) for x in xs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    losses = []
    bar = tqdm(range(epochs), desc=desc, unit="epoch", disable=not desc, leave=False)
    for _ in bar:
        batches = []
        for k, x in enumerate(xs):
            order = torch.randperm(len(x), generator=g)
            batches += [(k, order[i : i + batch]) for i in range(0, len(x), batch)]
        if len(xs) > 1:
            batches = [batches[j] for j in torch.randperm(len(batches), generator=g).tolist()]
        total = 0.0
        for k, idx in batches:
            x, m = xs[k][idx], ms[k][idx]
            if 0 < crop // 8 < m.shape[-1]:  # in stride-8 cells; a crop as large as the image is the whole image
                x, m = _crop(x, m, crop // 8, g)
            x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
            if augment:
                x, m = _augment(x, m, g)
            loss = gate_fit_loss(cell_logits(x), m, cell_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / sum(len(x) for x in xs))
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    return losses


def _load(path: str | Path) -> tuple[dict, nn.Module]:
    ckpt = torch.load(str(path), map_location="cpu", weights_only=False)
    model = ckpt.get("ema") or ckpt.get("model")
    if not isinstance(model, nn.Module) or not hasattr(model, "model"):
        raise ValueError(f"fit-gate: {path} holds no YAML-built detection model (a `yolo train` detect checkpoint)")
    if getattr(model, "task", "detect") != "detect":
        raise ValueError(f"fit-gate: {path} is a {model.task} model; the gate is fitted on a detection checkpoint")
    return ckpt, model.float().eval()


def fit_gate(model: str | Path, data: str | Path, imgsz: int = 640, epochs: int = 40, folds: int = 5,
             calib: float = 0.2, target_recall: float = 0.99, hidden: int = 32, seed: int = 0, views: int = 8,
             border: bool = False, groups: str | None = None, features: str = "p2",
             save: str | Path | None = None) -> dict:
    """Fit a LocalDefectGate on the frozen detector `model` (.pt) with the `train` split of `data`; save a checkpoint.

    The threshold is picked on held-out probabilities: with `folds` >= 2 (cross-fitting), `folds` gates each fitted
    without one fold score that fold, so every training image is scored unseen, and the saved gate is then fitted on
    all images; with `folds=0`, a seeded share `calib` is held out of the one fit and scored. `border=True` adds a copy
    of every training image with the grey frame `yolo val` gives a `.pt` (rect batches, half the largest stride a
    side), which prediction and exported models never see: it makes `yolo val` agree with prediction but cost
    prediction skip on DeepPCB (docs/gate.md), so the default fits prediction's view only. `groups` (a regular
    expression on file stems, default the dataset YAML's `groups` key; `samples.image_groups`) keeps near-copies such
    as a DeepPCB board and its template in one fold, so neither is scored by a gate that saw the other. `features`
    (`local_gate.FEATURES`): "p2" (the default) scores the stride-4 map before the P3 stage on stride-8 cells; "p3"
    the stride-8 map; "p3p4" also reads P4 (up-sampled onto P3), so the gate sits after P4 and a skipped image saves
    less (docs/gate.md, "P4 features as well as P3" and "The gate on P2"). `views` (1, 2 or 8): the training images
    as they are, also mirrored, also turned by quarter turns; the cache holds `views` maps per image (at 640 px
    gfdnet-n's P2 map is 1.6 MB in half precision, P3 0.8 MB), so for thousands of large images lower `views`.

    Returns:
        (dict): The fit report (also `<save stem>-fit.json`): calibration point, threshold, timings, counts.
    """
    t0 = time.perf_counter()
    ckpt, det = _load(model)
    for p in det.parameters():
        p.requires_grad_(False)
    proto = new_gate(det, features, hidden)  # checks `features` (and `views` below) before any image is read
    if views not in (1, 2, 8):
        raise ValueError(f"fit-gate: views={views} is not supported; use views=1 (the images as they are), 2 (and "
                         "their mirror images) or 8 (and the quarter turns of both, the default)")
    images = split_images(data, "train")
    ims, masks = load_samples(images, imgsz)
    defective = masks.flatten(1).any(1)
    keys = image_groups(images, data, groups)
    parts, split = held_out_parts(defective.numpy(), folds, calib, seed, keys)
    index = attach_gate(det, proto)  # the cut the features come from
    t1 = time.perf_counter()
    feats = [cache_features(det, v) for v in dihedral_views(ims, views)]
    mask_views = list(dihedral_views(masks, views))
    if border:  # `yolo val` scores a .pt in rect batches padded by half the largest stride a side (pad=0.5)
        px = int(det.stride.max()) // 2
        feats_pad = cache_features(det, F.pad(ims, (px,) * 4, value=114))
        masks_pad = F.pad(masks, (px // 8,) * 4)
    t2 = time.perf_counter()

    fits, done = len(parts) + (len(parts) > 1), itertools.count(1)  # one per held-out part, then the saved one

    def fit_on(idx: np.ndarray) -> tuple[LocalDefectGate, list[float]]:
        torch.manual_seed(seed)
        gate = same_gate(proto)
        x, m = torch.cat([f[idx] for f in feats]), torch.cat([mv[idx] for mv in mask_views])
        xs, ms = ([x, feats_pad[idx]], [m, masks_pad[idx]]) if border else (x, m)
        gate.train()
        losses = train_cell_scorer(gate.cell_logits, gate.parameters(), xs, ms, epochs=epochs, seed=seed,
                                   desc=f"fit-gate fit {next(done)}/{fits} ({len(idx)} images)")
        return gate.eval(), losses

    def score(fitted: tuple[LocalDefectGate, list[float]], held: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return torch.sigmoid(fitted[0].classify(feats[0][held].float()))

    held_out = held_out_probabilities(fit_on, score, defective.numpy(), parts, split)
    gate, losses = held_out.fitted
    t3 = time.perf_counter()
    picked = pick_calibrated(held_out.p_defect, held_out.defective, target_recall, split=held_out.split)
    gate.threshold = float(picked)
    attach_gate(det, gate)
    save = Path(save) if save else Path(model).with_name(f"{Path(model).stem}-gatefit.pt")
    report = {
        "model": str(model), "data": str(data), "imgsz": imgsz, "epochs": epochs, "folds": folds,
        "calib": None if folds >= 2 else calib, "seed": seed, "hidden": hidden, "views": views, "border": border,
        "features": features,
        "groups": None if keys is None else len(set(keys)), "gate_index": index,
        "gate_params": sum(p.numel() for p in gate.parameters()),
        "fit_images": held_out.fit_images, "calibration_images": len(held_out.p_defect),
        "threshold": float(picked), "calibration_point": picked.point,
        "final_loss": losses[-1], "seconds": {"load": t1 - t0, "features": t2 - t1, "fit": t3 - t2},
    }
    stored = ("imgsz", "threshold", "gate_index", "features")
    det.yaml = {**(det.yaml or {}), "gate_fit": {k: report[k] for k in stored}}
    ckpt.update(model=copy.deepcopy(det).half(), ema=None, optimizer=None, gate_fit=report)
    save.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, save)
    save_gate_curve(held_out.p_defect, held_out.defective, save.parent / f"{save.stem}-calibration",
                    marks={"picked": float(picked)})
    (save.parent / f"{save.stem}-fit.json").write_text(json.dumps(report, indent=2))
    report["save"] = str(save)
    return report


def gate_threshold(model: nn.Module) -> float | None:
    """The calibrated threshold stored in a model's gate by `fit_gate`, or None."""
    try:
        gate: DefectGate = find_gate(model)[1]
    except ValueError:
        return None
    return getattr(gate, "threshold", None)
