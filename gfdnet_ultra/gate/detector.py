"""`GatedDetector`: a detector plus its gate as one module, run by Ultralytics' predictor and validator.

Ultralytics' `AutoBackend` (8.4.x, `nn/backends/pytorch.py`) accepts any nn.Module: it fuses it, reads `stride`,
`names`, `yaml` and `end2end`, and calls it as `model(im)` because it is not a `BaseModel`. The wrapper runs the gate
on the batch, the detector's neck and head (one-model) or the whole detector (two-model) on the images with
p(defect) >= threshold, and returns the detector's inference tensor for the whole batch with all-zero rows for skipped
images, so Ultralytics' NMS gives them an empty `Results`. It times each batch (device-synchronised perf_counter around
the model work only) and keeps per-image p, keep and ms in `last`. `threshold=0` skips nothing and, for a two-model
pair, does not run the classifier: that is the ungated run, timed by the same code.
Shape shorthand: B batch, A anchors, nc classes; the detector output is (B, 4 + nc, A) or (B, max_det, 6) end-to-end.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from torch import nn

from .fit import gate_threshold
from .head import find_gate
from .runner import GateSplit, keep_images, scatter
from .threshold import check_threshold
from .two_model import ClassifierGate

__all__ = ("DEFAULT_THRESHOLD", "GatedDetector", "gated_model_from_args", "load_classifier_gate")

DEFAULT_THRESHOLD = 0.5  # DefectNet's argmax of two classes


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class GatedDetector(nn.Module):
    """Gate + detector: (B, 3, H, W) -> detector inference output for B images, skipped ones all zeros.

    Args:
        detector (nn.Module): A DetectionModel; it must contain a DefectGate unless `classifier` is given.
        threshold (float): Images with p(defect) < threshold skip the neck and head (one-model) or the detector.
        classifier (ClassifierGate | None): Two-model gate; None uses the detector's own DefectGate.
    """

    def __init__(self, detector: nn.Module, threshold: float = DEFAULT_THRESHOLD, classifier: ClassifierGate | None = None):
        super().__init__()
        self.threshold = check_threshold(threshold)
        self.detector, self.classifier = detector, classifier
        self.split = None if classifier is not None else GateSplit(detector)  # raises if there is no gate layer
        for k in ("stride", "names", "yaml", "task", "args", "pt_path"):
            if hasattr(detector, k):
                setattr(self, k, getattr(detector, k))
        self.last: dict | None = None
        self._shapes: dict[tuple, tuple] = {}

    @property
    def end2end(self) -> bool:
        return getattr(self.detector, "end2end", False)

    @end2end.setter
    def end2end(self, value: bool) -> None:
        self.detector.end2end = value

    def set_head_attr(self, **kwargs) -> None:
        self.detector.set_head_attr(**kwargs)

    def fuse(self, verbose: bool = False) -> GatedDetector:
        self.detector = self.detector.fuse(verbose=verbose)
        if self.split is not None:
            self.split = GateSplit(self.detector)
        return self

    def _detect(self, im: torch.Tensor) -> torch.Tensor:
        y = self.detector(im)
        return y[0] if isinstance(y, (tuple, list)) else y

    def _stage1(self, im: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return self.split.stage1(im) if self.split is not None else (self.classifier(im), [im])

    def _stage2(self, feats: list[torch.Tensor]) -> torch.Tensor:
        if self.split is None:
            return self._detect(feats[0])
        y = self.split.stage2(feats)
        return y[0] if isinstance(y, (tuple, list)) else y

    def _empty_shape(self, im: torch.Tensor) -> tuple:
        """Per-image output shape when no image of the batch reaches the detector."""
        hw = tuple(im.shape[-2:])
        if hw not in self._shapes:
            head = self.detector.model[-1]
            if self.end2end:
                self._shapes[hw] = (int(head.max_det), 6)
            else:
                a = sum((hw[0] // int(s)) * (hw[1] // int(s)) for s in head.stride)
                self._shapes[hw] = (4 + int(head.nc), a)
        return self._shapes[hw]

    def forward(self, im: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        n = im.shape[0]
        _sync(im.device)
        t0 = time.perf_counter()
        if self.split is None and self.threshold == 0.0:  # ungated two-model run: the detector alone
            y, p, keep = self._detect(im), torch.ones(n, device=im.device), torch.ones(n, dtype=torch.bool, device=im.device)
            t1 = t0
        else:
            p, feats = self._stage1(im)
            _sync(im.device)
            t1 = time.perf_counter()
            keep, kept = keep_images(p, feats, self.threshold)
            y_kept = None if kept is None else self._stage2(kept)
            if y_kept is not None:
                self._shapes[tuple(im.shape[-2:])] = tuple(y_kept.shape[1:])
            y = scatter(y_kept, keep, self._empty_shape(im))
        _sync(im.device)
        t2 = time.perf_counter()
        k = int(keep.sum())
        ms = torch.full((n,), 1e3 * (t1 - t0) / n) + keep.cpu().float() * (1e3 * (t2 - t1) / max(k, 1))
        self.last = {"p": p.detach().float().cpu(), "keep": keep.cpu(), "ms": ms,
                     "ms_stage1": torch.full((n,), 1e3 * (t1 - t0) / n)}  # the gate's share: the time before the cut
        return y

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, mode={'one-model' if self.split is not None else 'two-model'}"


def load_classifier_gate(path: str | Path | nn.Module) -> ClassifierGate:
    """A ClassifierGate from a `yolo classify` checkpoint (or a loaded classification model)."""
    if isinstance(path, nn.Module):
        model = path
    else:
        from ultralytics.nn.tasks import load_checkpoint

        model = load_checkpoint(str(path))[0]
    args = getattr(model, "args", None) or {}
    imgsz = args.get("imgsz", 224) if isinstance(args, dict) else getattr(args, "imgsz", 224)
    return ClassifierGate(model.float().eval(), int(imgsz[0] if isinstance(imgsz, (list, tuple)) else imgsz))


def _has_gate(model: nn.Module) -> bool:
    try:
        find_gate(model)
        return True
    except ValueError:
        return False


def gated_model_from_args(model, args) -> nn.Module:
    """The detector wrapped in GatedDetector when args or the model ask for gating, else `model` unchanged.

    Gating applies when `args.gate_classifier` is set (two-model), or the model has a DefectGate (one-model); the
    threshold defaults to the one the gate was calibrated at (`gfdnet fit-gate` / `train-gate`), else 0.5.
    `threshold=` on a model without a gate layer and without a classifier is an error.
    """
    threshold = getattr(args, "threshold", None)
    classifier = getattr(args, "gate_classifier", None)
    if threshold is not None:
        check_threshold(threshold)
    if classifier is None and threshold is None and not isinstance(model, nn.Module):
        return model  # stock path: AutoBackend loads the file itself
    if not isinstance(model, nn.Module):
        if not str(model).endswith(".pt"):
            raise ValueError(f"gating needs a PyTorch .pt detector, got model={model}; for ONNX use gate.onnx_runtime")
        from ultralytics.nn.tasks import load_checkpoint

        model = load_checkpoint(str(model))[0]
    gate = load_classifier_gate(classifier) if classifier is not None else None
    # a gate calibrated by fit-gate / train-gate carries its threshold; DefectNet's 0.5 otherwise
    stored = getattr(gate.model, "gate_threshold", None) if gate is not None else gate_threshold(model)
    thr = threshold if threshold is not None else (DEFAULT_THRESHOLD if stored is None else stored)
    if gate is not None:
        return GatedDetector(model, thr, gate)
    if threshold is not None or _has_gate(model):
        return GatedDetector(model, thr)  # find_gate raises the clear error when threshold= has no gate to use
    return model
