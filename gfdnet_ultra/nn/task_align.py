"""Shared, level-agnostic trunk of the TDSC head: GroupNorm convs, TOOD task decomposition, DCNv2 alignment, cls gate.

TOOD: "TOOD: Task-aligned One-stage Object Detection" (Feng et al., arXiv:2108.07755), TaskDecomposition with layer
attention; DCNv2: "Deformable ConvNets v2" (arXiv:1811.11168), offset and mask from a 27-channel conv on the joint
feature as in DyHead's DyDCNv2. Shape shorthand: B batch, H x W one level's size, hidc head width, F = hidc / 2.
Deviations from the released "Detect_TADDH" code (research/gfdnet.md §2.4): a per-level 1x1 ConvGN projection for
inputs whose width differs from hidc; torchvision/grid_sample DCNv2 instead of mmcv; the task-decomposition weight is
applied as a channel scaling before the 1x1 reduction (identical to TOOD's bmm, exportable with dynamic sizes); the
classification gate starts at sigmoid(0) = 0.5 instead of an unspecified init.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .deform import ModulatedDeformConv2d

__all__ = ("GN_GROUPS", "NORMS", "ConvGN", "TDSCTrunk", "TaskDecomposition", "head_norm")

GN_GROUPS = 16  # GroupNorm groups everywhere in the head (FCOS/TOOD); hidc/2 must divide by it
# the head's normalisation: GroupNorm(16) as GFD-Net (2 channels a group at hidc 64), GroupNorm with 8 channels a group
# as FCOS/TOOD (GN(32) on 256 channels), or BatchNorm as Ultralytics' Detect
NORMS = ("gn", "gn8", "bn")


def head_norm(kind: str, c: int) -> nn.Module:
    """The head's normalisation layer for ``c`` channels, ``kind`` one of ``NORMS``."""
    if kind == "gn":
        return nn.GroupNorm(GN_GROUPS, c)
    if kind == "gn8":
        return nn.GroupNorm(max(1, c // 8), c)
    if kind == "bn":
        return nn.BatchNorm2d(c)
    raise ValueError(f"head norm {kind!r} is not one of {NORMS}")


class ConvGN(nn.Module):
    """Conv2d (no bias, same padding) + GroupNorm(16) + optional SiLU: (B, c1, H, W) -> (B, c2, H/s, W/s).

    Named ``conv``/``gn`` (not ``bn``) on purpose: Ultralytics' ``BaseModel.fuse`` only folds ``Conv`` instances with a
    ``bn``, and a GroupNorm cannot be folded into a conv. ``norm="bn"`` (an ablation switch, docs/accuracy.md) puts a
    BatchNorm in ``gn`` instead.

    Examples:
        >>> ConvGN(16, 32, 3)(torch.randn(1, 16, 8, 8)).shape
        torch.Size([1, 32, 8, 8])
    """

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1, act: bool = True, norm: str = "gn"):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.gn = head_norm(norm, c2)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.gn(self.conv(x)))


class TaskDecomposition(nn.Module):
    """TOOD task decomposition: layer attention over the stacked features, then a 1x1 ConvGN reduction.

    ``w = sigmoid(la2(relu(la1(GAP(feat)))))`` gives one weight per stacked block; ``out = ConvGN(cat_i(w_i * f_i))``.

    Args:
        feat (int): Channels F of one stacked block (and of the output).
        stacked (int): Number of stacked blocks; the input has ``feat * stacked`` channels.
        la_down_rate (int): Reduction of the layer-attention MLP.
        norm (str): Normalisation of the reduction, one of ``NORMS``.

    Examples:
        >>> m = TaskDecomposition(32)
        >>> x = torch.randn(2, 64, 8, 8)
        >>> m(x, x.mean((2, 3), keepdim=True)).shape
        torch.Size([2, 32, 8, 8])
    """

    def __init__(self, feat: int, stacked: int = 2, la_down_rate: int = 16, norm: str = "gn"):
        super().__init__()
        c = feat * stacked
        self.stacked = stacked
        self.la1 = nn.Conv2d(c, max(c // la_down_rate, 1), 1)
        self.la2 = nn.Conv2d(max(c // la_down_rate, 1), stacked, 1)
        self.reduction = ConvGN(c, feat, 1, norm=norm)
        for m in (self.la1, self.la2):  # TOOD's init
            nn.init.normal_(m.weight, std=1e-3)
            nn.init.zeros_(m.bias)
        nn.init.normal_(self.reduction.conv.weight, std=1e-2)

    def forward(self, feat: torch.Tensor, avg_feat: torch.Tensor) -> torch.Tensor:
        """(B, F*stacked, H, W), (B, F*stacked, 1, 1) -> (B, F, H, W)."""
        w = self.la2(F.relu(self.la1(avg_feat))).sigmoid()  # (B, stacked, 1, 1)
        scaled = feat.unflatten(1, (self.stacked, -1)) * w.unsqueeze(2)  # == TOOD's bmm with a per-sample weight
        return self.reduction(scaled.flatten(1, 2))


class TDSCTrunk(nn.Module):
    """One branch's level-shared trunk: per level, returns (reg_feat, gated cls_feat), each (B, F, H, W).

    1. ``x = proj_i(x_i)`` (1x1 ConvGN if ``ch[i] != hidc``, else identity);
    2. ``f1 = ConvGN3(x)``, ``f2 = ConvGN3(f1)``, ``feat = cat(f1, f2)`` (B, hidc, H, W), ``g = GAP(feat)``;
    3. ``cls = TD_cls(feat, g)``, ``reg = TD_reg(feat, g)``;
    4. ``om = Conv3(feat)`` (27 ch): ``reg = GN(DCNv2(reg, om[:18], sigmoid(om[18:])))``;
    5. ``cls = cls * sigmoid(Conv3(relu(Conv1(feat))))``.

    Args:
        ch (tuple[int, ...]): Input channels per level.
        hidc (int): Head width, a multiple of 32.
        norm (str): Normalisation everywhere in the trunk, one of ``NORMS`` (ablation switch; GFD-Net: "gn").
        dcn (bool): Step 4 as above; False makes it a plain 3x3 conv + norm (ablation switch).
        cls_gate (bool): Step 5 as above; False passes ``cls`` through ungated (ablation switch).

    Examples:
        >>> m = TDSCTrunk((32, 64), 64)
        >>> [r.shape for r, c in m([torch.randn(1, 32, 8, 8), torch.randn(1, 64, 4, 4)])]
        [torch.Size([1, 32, 8, 8]), torch.Size([1, 32, 4, 4])]
    """

    def __init__(self, ch: tuple[int, ...], hidc: int, norm: str = "gn", dcn: bool = True, cls_gate: bool = True):
        super().__init__()
        c_ = hidc // 2
        self.proj = nn.ModuleList(ConvGN(c, hidc, 1, norm=norm) if c != hidc else nn.Identity() for c in ch)
        self.share_conv = nn.Sequential(ConvGN(hidc, c_, 3, norm=norm), ConvGN(c_, c_, 3, norm=norm))
        self.td_cls = TaskDecomposition(c_, 2, 16, norm)
        self.td_reg = TaskDecomposition(c_, 2, 16, norm)
        self.offset_mask = None
        self.dcn = nn.Conv2d(c_, c_, 3, 1, 1, bias=False)
        if dcn:
            self.offset_mask = nn.Conv2d(hidc, 3 * 3 * 3, 3, 1, 1)  # 18 offsets (dy, dx per tap) + 9 masks
            nn.init.zeros_(self.offset_mask.weight)  # DyHead: start as a plain conv with mask 0.5
            nn.init.zeros_(self.offset_mask.bias)
            self.dcn = ModulatedDeformConv2d(c_, c_, 3, bias=False)
        self.dcn_gn = head_norm(norm, c_)
        self.cls_prob = None
        if cls_gate:
            self.cls_prob = nn.Sequential(nn.Conv2d(hidc, hidc // 4, 1), nn.ReLU(), nn.Conv2d(hidc // 4, 1, 3, 1, 1))
            for m in self.cls_prob[::2]:
                nn.init.normal_(m.weight, std=1e-2)
                nn.init.zeros_(m.bias)

    def forward(self, xs: list[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        out = []
        for proj, x in zip(self.proj, xs):
            f1 = self.share_conv[0](proj(x))
            feat = torch.cat((f1, self.share_conv[1](f1)), 1)
            g = feat.mean((2, 3), keepdim=True)  # GlobalAveragePool in ONNX
            cls, reg = self.td_cls(feat, g), self.td_reg(feat, g)
            if self.offset_mask is None:
                reg = self.dcn_gn(self.dcn(reg))
            else:
                om = self.offset_mask(feat)
                reg = self.dcn_gn(self.dcn(reg, om[:, :18], om[:, 18:].sigmoid()))
            out.append((reg, cls if self.cls_prob is None else cls * self.cls_prob(feat).sigmoid()))
        return out
