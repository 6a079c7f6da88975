"""Inference-time folding of BatchNorm and per-channel scales into neighbouring convolutions.

What Ultralytics' ``fuse_conv_and_bn`` does for its own ``Conv``, for the plain ``nn.Conv2d`` + ``nn.BatchNorm2d`` pairs
inside our blocks (which ``BaseModel.fuse`` never visits). Eval-mode BatchNorm is the per-channel affine map
``bn(x) = a * x + b`` with ``a = gamma / sqrt(var + eps)``, ``b = beta - a * mean``; it folds into the conv before it
exactly (up to float rounding), and into a 1x1 conv after it (a padded conv after it would see un-normalised zero
padding at the borders, so only 1x1 is folded that way). Shape shorthand: Co output, Ci input channels.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ("bn_affine", "fold_bn_after_conv", "fold_bn_before_conv1x1", "scale_conv_output")


def bn_affine(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode BatchNorm as ``(a, b)`` with ``bn(x) = a * x + b``, each (C,)."""
    a = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return a, bn.bias - a * bn.running_mean


def _ensure_bias(conv: nn.Conv2d) -> torch.Tensor:
    if conv.bias is None:
        conv.bias = nn.Parameter(torch.zeros(conv.out_channels, device=conv.weight.device, dtype=conv.weight.dtype))
    return conv.bias


@torch.no_grad()
def scale_conv_output(conv: nn.Conv2d, scale: torch.Tensor, shift: torch.Tensor | None = None) -> None:
    """Rewrite ``conv`` in place so that it computes ``scale * conv(x) + shift`` (per output channel, (Co,))."""
    conv.weight.mul_(scale.view(-1, 1, 1, 1))
    bias = _ensure_bias(conv)
    bias.mul_(scale)
    if shift is not None:
        bias.add_(shift)


@torch.no_grad()
def fold_bn_after_conv(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Rewrite ``conv`` in place so that it computes ``bn(conv(x))`` (eval statistics); the caller drops ``bn``."""
    scale_conv_output(conv, *bn_affine(bn))


@torch.no_grad()
def fold_bn_before_conv1x1(bn: nn.BatchNorm2d, conv: nn.Conv2d) -> None:
    """Rewrite the 1x1 ``conv`` in place so that it computes ``conv(bn(x))`` (eval statistics); the caller drops ``bn``."""
    if conv.kernel_size != (1, 1) or conv.groups != 1:
        raise ValueError(f"fold_bn_before_conv1x1: needs a 1x1 conv with groups=1, got {conv}")
    a, b = bn_affine(bn)
    bias = _ensure_bias(conv)
    bias.add_(conv.weight.flatten(1) @ b)  # W b, (Co,)
    conv.weight.mul_(a.view(1, -1, 1, 1))
