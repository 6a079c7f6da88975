"""Detect_TDSC: GFD-Net's task-dynamic shared-convolution detection head, as an Ultralytics ``Detect`` subclass.

Task decomposition from TOOD (arXiv:2108.07755), regression alignment with DCNv2 (arXiv:1811.11168), shared GroupNorm
convs with a per-level Scale (FCOS). Shape shorthand: B batch, A anchors over all levels, F = hidc / 2.
Deviations from the released ``Detect_TADDH`` (research/gfdnet.md §2.4, §6): it is a real ``Detect`` (strides,
``bias_init``, export, ``v8DetectionLoss``/``E2ELoss`` all work); inputs of any width (per-level 1x1 projection); the
trunk is shared across levels, the final 1x1 predictors are per level so that ``bias_init`` uses each level's real
stride (TADDH used one stride for all: +6.3 k params at hidc 64, nc 80); YOLO26-style end-to-end variant.

Ultralytics contract (8.4.190) and how it is kept:
- ``cv2[i]`` / ``cv3[i]`` are per-level ``Sequential``s ending in a module with ``.bias`` (``bias_init``), ``cv3[i][-1]``
  is an ``nn.Conv2d`` with ``out_channels == nc`` (``_remap_cls_by_names``), ``cv2[i][0].conv`` exists (``load()``).
- The level-shared trunk is ``trunk``; its end-to-end twin is ``one2one_trunk``, so ``Detect.fuse`` (which drops
  ``X`` or ``one2one_X`` for every ``one2one_*`` attribute) removes the unused trunk too.
- ``one2many``/``one2one`` also carry the trunk into ``forward_head``; ``Detect.forward`` is inherited unchanged.
- Setting ``export`` (the exporter does, per instance) switches every DCNv2 to its grid_sample formulation.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from ultralytics.nn.modules import Detect

from .deform import ModulatedDeformConv2d
from .task_align import GN_GROUPS, NORMS, TDSCTrunk

__all__ = ("BoxPredictor", "Detect_TDSC")

TRUNK_SWITCHES = {"norm": "gn", "dcn": True, "cls_gate": True}  # ablation switches of TDSCTrunk and their defaults


def _head_options(hidc: int | dict | None) -> tuple[int | None, dict]:
    """Split the YAML's second head argument into (hidc, trunk switches): an int/None, or a dict such as
    ``{hidc: 64, norm: bn, dcn: false}`` (the parser appends reg_max, end2end and ch after it, so the ablation
    switches travel in this one slot)."""
    if not isinstance(hidc, dict):
        return hidc, dict(TRUNK_SWITCHES)
    opts = dict(hidc)
    unknown = set(opts) - {"hidc", *TRUNK_SWITCHES}
    if unknown:
        raise ValueError(f"Detect_TDSC: unknown option(s) {sorted(unknown)}; use hidc, {', '.join(TRUNK_SWITCHES)}")
    if opts.get("norm", "gn") not in NORMS:
        raise ValueError(f"Detect_TDSC: norm={opts['norm']!r} is not one of {NORMS}")
    return opts.pop("hidc", None), {**TRUNK_SWITCHES, **opts}


class BoxPredictor(nn.Module):
    """Per-level 1x1 box-logit conv followed by a learnable Scale: (B, F, H, W) -> (B, 4*reg_max, H, W).

    ``.conv`` mirrors Ultralytics ``Conv`` (``DetectionModel.load`` reads ``cv2[i][0].conv.in_channels``) and ``.bias``
    is the conv's bias, so ``Detect.bias_init`` can write it.

    Examples:
        >>> BoxPredictor(32, 64)(torch.randn(1, 32, 4, 4)).shape
        torch.Size([1, 64, 4, 4])
    """

    def __init__(self, c1: int, c2: int):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, 1)
        self.scale = nn.Parameter(torch.ones(()))

    @property
    def bias(self) -> torch.Tensor:
        """The conv's bias (what ``Detect.bias_init`` sets)."""
        return self.conv.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * self.scale


class Detect_TDSC(Detect):
    """Task-dynamic shared-conv detection head (shared trunk, per-level Scale and predictors, DFL).

    Train: dict(boxes (B, 4*reg_max, A), scores (B, nc, A), feats), or {"one2many": ..., "one2one": ...} when end2end.
    Eval: (decoded (B, 4+nc, A), raw) or, end-to-end, ((B, max_det, 6), raw); export: decoded only.

    Args:
        nc (int): Number of classes.
        hidc (int | dict | None): Head width, a multiple of 32 (GroupNorm(16) on hidc/2); None uses max(ch) rounded up
            to one. A dict gives the width as ``hidc`` and the trunk's ablation switches ``norm`` (one of NORMS),
            ``dcn`` and ``cls_gate`` (bools), e.g. ``{hidc: 64, dcn: false}`` in a YAML (docs/accuracy.md).
        reg_max (int): DFL bins; 1 for the end-to-end (YOLO26-style) variant.
        end2end (bool | None): Add the one-to-one branch (a copy of the head on detached features).
        ch (tuple[int, ...]): Input channels per level, filled in by the parser.

    Examples:
        >>> m = Detect_TDSC(nc=8, ch=(32, 64, 64)).eval()
        >>> m.stride = torch.tensor([8.0, 16.0, 32.0])
        >>> m([torch.randn(1, 32, 8, 8), torch.randn(1, 64, 4, 4), torch.randn(1, 64, 2, 2)])[0].shape
        torch.Size([1, 12, 84])
    """

    def __init__(
        self,
        nc: int = 80,
        hidc: int | dict | None = None,
        reg_max: int = 16,
        end2end: bool | None = False,
        ch: tuple[int, ...] | list[int] = (),
    ):
        ch = tuple(int(c) for c in ch)
        if not ch:
            raise ValueError("Detect_TDSC: ch (input channels per level) is empty; pass e.g. ch=(64, 64, 64)")
        hidc, switches = _head_options(hidc)
        step = 2 * GN_GROUPS
        hidc = step * math.ceil(max(ch) / step) if hidc is None else int(hidc)
        if hidc < step or hidc % step:
            raise ValueError(
                f"Detect_TDSC: hidc={hidc} is not a multiple of {step} (GroupNorm with {GN_GROUPS} groups on hidc/2 "
                f"channels); use a multiple of {step}, e.g. {step * max(1, round(hidc / step))}, or hidc=None"
            )
        super().__init__(nc, reg_max, False, ch)  # Detect's attributes; its default towers are replaced below
        self.hidc = hidc
        c_ = hidc // 2
        self.trunk = TDSCTrunk(ch, hidc, **switches)
        self.cv2 = nn.ModuleList(nn.Sequential(BoxPredictor(c_, 4 * reg_max)) for _ in ch)
        self.cv3 = nn.ModuleList(nn.Sequential(nn.Conv2d(c_, nc, 1)) for _ in ch)
        if end2end:
            self.one2one_trunk = copy.deepcopy(self.trunk)
            self.one2one_cv2 = copy.deepcopy(self.cv2)
            self.one2one_cv3 = copy.deepcopy(self.cv3)

    @property
    def export(self) -> bool:
        """Export mode; setting it switches the DCNv2 layers to their exportable formulation."""
        return self.__dict__.get("_export", False)

    @export.setter
    def export(self, value: bool) -> None:
        self.__dict__["_export"] = bool(value)
        for m in self.modules():
            if isinstance(m, ModulatedDeformConv2d):
                m.export = bool(value)

    @property
    def one2many(self) -> dict[str, nn.Module | None]:
        """One-to-many branch: per-level predictors and the shared trunk."""
        return {"box_head": self.cv2, "cls_head": self.cv3, "trunk": self.trunk}

    @property
    def one2one(self) -> dict[str, nn.Module | None]:
        """One-to-one branch (end2end only)."""
        return {"box_head": self.one2one_cv2, "cls_head": self.one2one_cv3, "trunk": self.one2one_trunk}

    def forward_head(
        self,
        x: list[torch.Tensor],
        box_head: nn.Module | None = None,
        cls_head: nn.Module | None = None,
        trunk: nn.Module | None = None,
    ) -> dict[str, torch.Tensor]:
        """Run one branch: {"boxes": (B, 4*reg_max, A), "scores": (B, nc, A) logits, "feats": x}; {} once fused away."""
        if box_head is None or cls_head is None or trunk is None:
            return {}
        bs = x[0].shape[0]
        feats = trunk(x)
        boxes = torch.cat([box_head[i](r).view(bs, 4 * self.reg_max, -1) for i, (r, _) in enumerate(feats)], -1)
        scores = torch.cat([cls_head[i](c).view(bs, self.nc, -1) for i, (_, c) in enumerate(feats)], -1)
        return {"boxes": boxes, "scores": scores, "feats": x}

    def extra_repr(self) -> str:
        return f"nc={self.nc}, hidc={self.hidc}, reg_max={self.reg_max}, end2end={hasattr(self, 'one2one_trunk')}"
