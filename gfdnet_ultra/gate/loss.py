"""Joint loss of the one-model gate: detection loss + w(epoch) * gate loss, as DefectNet trains its DFN branch.

DefectNet ("DefectNet: Toward Fast and Effective Defect Detection", IEEE TIM 2021): the image label is "defective" iff
the image has a (non-background) box; the classification loss sees every image; the detection losses see either
every image or, as DefectNet does, the defective ones only (`det_on_defective_only`). An all-normal batch then trains
the gate alone (detection terms are zero but stay in the graph).
Scale: Ultralytics' criteria return per-image losses times the batch size B; the gate term is mean BCE times B, so w
weighs the two per image as DefectNet's `loss_det + w * loss_dfn` does. With `det_on_defective_only` the detection loss
of the k defective images is rescaled by B / k, so both options differ only in which images' anchors enter the loss.
Class balance (`balance`, default on; not in DefectNet): the gate BCE is the mean of the per-class mean losses of the
batch, i.e. image i weighs B / (2 * n_class(i)). Ultralytics' default mosaic makes ~96 % of 44 %-normal training
samples "defective" (a 4-image mosaic is all-normal 0.44^4 of the time), so plain BCE learns the prior; balancing
keeps the rare normal samples at half the loss. A single-class batch is plain BCE.
Dense cell loss: a `LocalDefectGate` (a score per stride-8 cell, max-pooled) is trained with `gate_fit_loss`, the loss
`gfdnet fit-gate` uses: the balanced image BCE of its max-cell logit plus a BCE of every cell against the cells the
batch's boxes cover, so the backbone learns *where* defects are, not only whether an image has one (docs/gate.md).
Shape shorthand: B images, N boxes in the batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from ultralytics.utils.ops import xywh2xyxy

from .head import DefectGate
from .samples import cell_masks
from .schedules import gate_weight

__all__ = ("GateLoss", "balanced_bce", "gate_fit_loss", "gate_loss_options", "image_labels", "select_images")


def _get(obj, key: str):
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def _flag(args, yaml: dict, key: str, default: bool) -> bool:
    value = _get(args, key)
    value = yaml.get(key, default) if value is None else value
    return value.lower() in ("1", "true", "yes") if isinstance(value, str) else bool(value)


def gate_loss_options(model) -> dict:
    """GateLoss options of a model: train arguments win over the model YAML keys, which win over the defaults."""
    args, yaml = getattr(model, "args", None) or {}, getattr(model, "yaml", None) or {}
    schedule = _get(args, "gate_schedule") or yaml.get("gate_schedule") or "const"
    return {
        "schedule": schedule,
        "constants": yaml.get("gate_constants") or {},
        "det_on_defective_only": _flag(args, yaml, "gate_det_on_defective_only", True),  # measured best, docs/gate.md
        "balance": _flag(args, yaml, "gate_balance", True),
    }


def image_labels(batch_idx: torch.Tensor, batch_size: int) -> torch.Tensor:
    """(B,) bool: image i is defective iff some box has batch_idx == i.

    Examples:
        >>> image_labels(torch.tensor([0.0, 0.0, 2.0]), 4)
        tensor([ True, False,  True, False])
    """
    return torch.bincount(batch_idx.long().view(-1), minlength=batch_size)[:batch_size] > 0


def balanced_bce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """BCE averaged per class, then over the classes present: (B,) logits, (B,) bool labels -> scalar.

    Examples:
        >>> x, y = torch.full((4,), 2.0), torch.tensor([True, True, True, False])  # says "defective" to all
        >>> round(balanced_bce(x, y).item(), 3), round(F.binary_cross_entropy_with_logits(x, y.float()).item(), 3)
        (1.127, 0.627)
    """
    per = F.binary_cross_entropy_with_logits(logits, labels.float(), reduction="none")
    n_pos = labels.sum()
    n_neg = labels.numel() - n_pos
    if n_pos == 0 or n_neg == 0:
        return per.mean()
    return 0.5 * (per[labels].mean() + per[~labels].mean())


def gate_fit_loss(cell_logits: torch.Tensor, masks: torch.Tensor, cell_weight: float = 1.0) -> torch.Tensor:
    """Balanced BCE of the max-cell image logit plus `cell_weight` x dense cell BCE: (B, H, W) logits, (B, H, W) bool.

    Defect cells are rare, so they are up-weighted to balance the normal ones (at most 100x).
    """
    defective = masks.flatten(1).any(1)
    image = balanced_bce(cell_logits.flatten(1).amax(1), defective)
    n_pos = masks.sum()
    pos_weight = ((masks.numel() - n_pos) / n_pos.clamp(min=1)).clamp(max=100.0)
    cells = F.binary_cross_entropy_with_logits(cell_logits, masks.float(), pos_weight=pos_weight)
    return image + cell_weight * cells


def select_images(obj, idx: torch.Tensor, batch_size: int):
    """Keep images `idx` of every tensor with a leading batch dimension B in a nest of dicts, lists and tuples."""
    if isinstance(obj, torch.Tensor):
        return obj[idx] if obj.dim() and obj.shape[0] == batch_size else obj
    if isinstance(obj, dict):
        return {k: select_images(v, idx, batch_size) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(select_images(v, idx, batch_size) for v in obj)
    return obj


def _select_targets(batch: dict, idx: torch.Tensor, batch_size: int) -> dict:
    """The batch restricted to images `idx`, with box rows kept and their batch_idx renumbered 0..k-1."""
    bi = batch["batch_idx"].long().view(-1)
    new_index = torch.full((batch_size,), -1, dtype=torch.long, device=bi.device)
    new_index[idx.to(bi.device)] = torch.arange(len(idx), device=bi.device)
    rows = new_index[bi] >= 0
    out = dict(batch, img=batch["img"][idx], batch_idx=new_index[bi][rows].to(batch["batch_idx"].dtype))
    for key in ("cls", "bboxes"):
        out[key] = batch[key][rows.to(batch[key].device)]
    return out


class GateLoss:
    """Wrap a detection criterion `(preds, batch) -> (loss (3,), items)` and add the weighted gate loss.

    Args:
        det_loss (Callable): The model's own criterion (v8DetectionLoss, E2ELoss, ...).
        gate (DefectGate): The gate layer whose `logits` the last forward filled.
        schedule (str): One of gate/schedules.py SCHEDULES.
        constants (dict | None): Overrides of the schedule's default constants (w0, k, period, base).
        det_on_defective_only (bool): Detection losses on defective images only (DefectNet's choice).
        balance (bool): Class-balanced gate BCE (`balanced_bce`); False is DefectNet's plain mean.

    Examples:
        >>> gate = DefectGate(8, 8)
        >>> _ = gate(torch.randn(2, 8, 2, 2))
        >>> crit = GateLoss(lambda p, b: (p.sum() * torch.ones(3), {"box_loss": torch.tensor(0.0)}), gate, "inverse")
        >>> batch = {"img": torch.zeros(2, 3, 8, 8), "batch_idx": torch.tensor([0.0]), "cls": torch.zeros(1, 1),
        ...          "bboxes": torch.rand(1, 4)}
        >>> loss, items = crit(torch.zeros(2), batch)
        >>> loss.shape, sorted(items)
        (torch.Size([4]), ['box_loss', 'gate_loss'])
    """

    def __init__(
        self,
        det_loss: Callable,
        gate: DefectGate,
        schedule: str = "const",
        constants: dict | None = None,
        det_on_defective_only: bool = True,
        balance: bool = True,
    ):
        self.det_loss, self.gate = det_loss, gate
        self.schedule, self.constants = schedule, dict(constants or {})
        self.det_on_defective_only, self.balance = bool(det_on_defective_only), bool(balance)
        self.epoch = 0  # 0-based; the trainer callback in integration/gate_hooks.py sets it at each epoch start
        gate_weight(schedule, 0, **self.constants)  # fail now, not at the first batch

    @property
    def weight(self) -> float:
        """w(epoch) of the current epoch."""
        return gate_weight(self.schedule, self.epoch, **self.constants)

    def update(self) -> None:
        """Per-epoch hook of Ultralytics' trainer, forwarded to the wrapped criterion (E2ELoss decays its weights)."""
        if hasattr(self.det_loss, "update"):
            self.det_loss.update()

    def __getattr__(self, name: str):
        if name == "det_loss":  # not yet set (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.det_loss, name)  # e.g. E2ELoss.updates, read by the trainer on resume

    def __call__(self, preds, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        b = batch["img"].shape[0]
        defective = image_labels(batch["batch_idx"], b).to(batch["img"].device)
        logits = self.gate.logits
        if logits is None or logits.shape[0] != b:
            raise RuntimeError("GateLoss: the gate layer did not run on this batch; call the model before the loss")
        cells = getattr(self.gate, "cells", None)
        if cells is not None:  # a LocalDefectGate: dense targets from the batch's boxes (normalised xywh)
            masks = cell_masks(xywh2xyxy(batch["bboxes"].to(cells.device)), batch["batch_idx"], b, *cells.shape[-2:])
            gate_loss = gate_fit_loss(cells.float(), masks)
        else:
            bce = balanced_bce if self.balance else lambda x, y: F.binary_cross_entropy_with_logits(x, y.float())
            gate_loss = bce(logits.float(), defective)
        det, items = self._detection(preds, batch, defective)
        total = torch.cat((det.reshape(-1), (self.weight * gate_loss * b).reshape(1).to(det)))
        return total, {**items, "gate_loss": gate_loss.detach()}

    def _detection(self, preds, batch: dict, defective: torch.Tensor) -> tuple[torch.Tensor, dict]:
        b, k = len(defective), int(defective.sum())
        if not self.det_on_defective_only or k == b:
            return self.det_loss(preds, batch)
        if k == 0:  # all normal: zero detection terms that keep the graph (DefectNet fills constant zeros)
            det, items = self.det_loss(preds, batch)
            return det * 0.0, {name: v * 0.0 for name, v in items.items()}
        idx = defective.nonzero().squeeze(1)
        det, items = self.det_loss(select_images(preds, idx, b), _select_targets(batch, idx, b))
        return det * (b / k), items
