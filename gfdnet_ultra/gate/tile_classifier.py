"""A cheap two-model gate that keeps full resolution: strided convolutions, a defect score per 8 x 8 cell, max pooling.

A stock classifier at 224 px erases a board's 10-60 px defects (a `yolo11n-cls` at 224 on DeepPCB stayed at chance).
`TileGateClassifier` instead reads the detector's own input size: three stride-2 3 x 3 convolutions to stride 8, two
3 x 3 convolutions (the second dilated; receptive field 63 px) and a 1 x 1 scorer give a defect logit per 8 x 8 cell;
the image's p(defective) is the sigmoid of the highest cell logit. About 0.4 GFLOPs at 640 px, 25 k weights. It is
trained densely from the boxes of a detection dataset (`gfdnet train-gate data=... imgsz=...`), its threshold picked
on cross-fitted probabilities of the training images, and it plugs into `gate_classifier=` like any `yolo classify`
checkpoint with classes {defective, normal}. Design and training length measured in docs/gate.md.
Shape shorthand: B batch, S image size, S / 8 the score map.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .calibrate import held_out_parts, held_out_probabilities, pick_calibrated
from .curve import save_gate_curve
from .fit import train_cell_scorer
from .samples import image_groups, load_samples, split_images

__all__ = ("TileGateClassifier", "measure_gate_cost", "train_gate_classifier")


def _conv(c1: int, c2: int, k: int, s: int = 1, d: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c1, c2, k, s, padding=(k // 2) * d, dilation=d, bias=False),
                         nn.BatchNorm2d(c2), nn.SiLU())


class TileGateClassifier(nn.Module):
    """(B, 3, S, S) in [0, 1] -> (B, 2) probabilities of (defective, normal); `cell_logits` gives (B, S/8, S/8).

    Args:
        width (int): Channels at stride 4; stride 2 uses width / 2, stride 8 and the scorer's input 2 x width.
        imgsz (int): The size it is trained at, read by `gate_classifier=` (it runs at any multiple of 8).

    Examples:
        >>> m = TileGateClassifier(8, imgsz=64).eval()
        >>> m(torch.rand(2, 3, 64, 64)).shape, m.cell_logits(torch.rand(2, 3, 64, 64)).shape
        (torch.Size([2, 2]), torch.Size([2, 8, 8]))
    """

    def __init__(self, width: int = 16, imgsz: int = 640):
        super().__init__()
        if width < 1:
            raise ValueError(f"TileGateClassifier: width={width} must be positive, e.g. 16")
        c, h = 2 * width, max(1, width // 2)
        self.body = nn.Sequential(_conv(3, h, 3, 2), _conv(h, width, 3, 2), _conv(width, c, 3, 2), _conv(c, c, 3),
                                  _conv(c, c, 3, d=2))
        self.score = nn.Conv2d(c, 1, 1)
        self.names = {0: "defective", 1: "normal"}
        self.task, self.width = "classify", width
        self.args = {"imgsz": int(imgsz)}
        self.stride = torch.tensor([8.0])
        self.gate_threshold: float | None = None  # picked on the calibration split by train_gate_classifier

    def cell_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.score(self.body(x)).squeeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.cell_logits(x).flatten(1).amax(1).sigmoid()
        return torch.stack((p, 1 - p), 1)

    def extra_repr(self) -> str:
        return f"width={self.width}, imgsz={self.args['imgsz']}"


def measure_gate_cost(model: nn.Module, imgsz: int, reps: int = 20) -> dict[str, float]:
    """GFLOPs (2 x multiply-adds, gfdnet_ultra.bench.flops) and median batch-1 CPU ms of a module at imgsz."""
    from ..bench.flops import count_module_flops

    x = torch.rand(1, 3, imgsz, imgsz)
    model = model.eval()
    with torch.no_grad():
        flops = count_module_flops(model, (x,)).gflops
        model(x)
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            model(x)
            times.append(1e3 * (time.perf_counter() - t))
    return {"gflops": flops, "ms_batch1": float(sorted(times)[len(times) // 2]), "threads": torch.get_num_threads()}


def default_crop(imgsz: int) -> int:
    """Training crop for `imgsz`: half the side, rounded up to 32 px (96 at 160 px, 160 at 320, 320 at 640)."""
    return -(-imgsz // 64) * 32


def train_gate_classifier(data: str | Path, imgsz: int = 640, epochs: int = 400, width: int = 16, folds: int = 5,
                          calib: float = 0.2, target_recall: float = 0.99, batch: int = 16, lr: float = 3e-3,
                          seed: int = 0, crop: int | None = None, groups: str | None = None,
                          save: str | Path = "gate-cls.pt") -> dict:
    """Train a TileGateClassifier on the `train` split of a detection dataset YAML, calibrate it, save a checkpoint.

    Training sees one random `crop` x `crop` window per image and epoch (0: whole images; default half the image
    side rounded up to a multiple of 32), flipped and turned, for `epochs` (200 against 400: docs/gate.md, "The
    two-model gate reworked"); calibration scores whole images, as `gate_classifier=` does. The threshold is picked as
    `fit-gate` picks it: with `folds` >= 2 on every training image, each scored by a classifier trained without it
    (the saved one is then trained on all), else on a held-out share `calib`. `groups` keeps near-copies on one side
    of every split (`samples.image_groups`; default the dataset YAML's `groups` key).

    Returns:
        (dict): The report (also `<save stem>-train.json`): calibration point, threshold, cost, timings.
    """
    crop = default_crop(imgsz) if crop is None else crop
    if crop % 8 or crop < 0:
        raise ValueError(f"train-gate: crop={crop} must be a non-negative multiple of 8 (the score map's stride), e.g. 160")
    t0 = time.perf_counter()
    images = split_images(data, "train")
    ims, masks = load_samples(images, imgsz)
    defective = masks.flatten(1).any(1)
    parts, split = held_out_parts(defective.numpy(), folds, calib, seed, image_groups(images, data, groups))
    t1 = time.perf_counter()

    fits, done = len(parts) + (len(parts) > 1), itertools.count(1)  # one per held-out part, then the saved one

    def fit_on(idx: np.ndarray) -> tuple[TileGateClassifier, list[float]]:
        torch.manual_seed(seed)
        model = TileGateClassifier(width, imgsz).train()
        losses = train_cell_scorer(model.cell_logits, model.parameters(), ims[idx], masks[idx], epochs=epochs,
                                   batch=batch, lr=lr, seed=seed, augment=True, crop=crop,
                                   desc=f"train-gate fit {next(done)}/{fits} ({len(idx)} images)")
        return model.eval(), losses

    def score(fitted: tuple[TileGateClassifier, list[float]], held: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([fitted[0](ims[held[i : i + batch]].float() / 255)[:, 0] for i in range(0, len(held), batch)])

    held_out = held_out_probabilities(fit_on, score, defective.numpy(), parts, split)
    model, losses = held_out.fitted
    t2 = time.perf_counter()
    picked = pick_calibrated(held_out.p_defect, held_out.defective, target_recall, split=held_out.split)
    model.gate_threshold = float(picked)
    save = Path(save)
    report = {
        "data": str(data), "imgsz": imgsz, "epochs": epochs, "width": width, "crop": crop, "folds": folds,
        "calib": None if folds >= 2 else calib, "seed": seed, "fit_images": held_out.fit_images,
        "calibration_images": len(held_out.p_defect), "threshold": float(picked),
        "calibration_point": picked.point, "final_loss": losses[-1], "params": sum(p.numel() for p in model.parameters()),
        "cost": measure_gate_cost(model, imgsz), "seconds": {"load": t1 - t0, "train": t2 - t1},
    }
    save.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model, "train_args": {"imgsz": imgsz, "task": "classify", "data": str(data)},
                "gate_train": report}, save)
    save_gate_curve(held_out.p_defect, held_out.defective, save.parent / f"{save.stem}-calibration",
                    marks={"picked": float(picked)})
    (save.parent / f"{save.stem}-train.json").write_text(json.dumps(report, indent=2))
    report["save"] = str(save)
    return report
