"""Inference-time folding of BatchNorm and per-channel scales into neighbouring convolutions.

What Ultralytics' ``fuse_conv_and_bn`` does for its own ``Conv``, for the plain ``nn.Conv2d`` + ``nn.BatchNorm2d`` pairs
inside our blocks (which ``BaseModel.fuse`` never visits). Eval-mode BatchNorm is the per-channel affine map
``bn(x) = a * x + b`` with ``a = gamma / sqrt(var + eps)``, ``b = beta - a * mean``; it folds into the conv before it
exactly (up to float rounding), and into a 1x1 conv after it (a padded conv after it would see un-normalised zero
padding at the borders, so only 1x1 is folded that way). A depthwise conv with channel multiplier m > 1 becomes m
multiplier-1 depthwise convs (`SplitDepthwise`): the same arithmetic, but on the kernels every runtime optimises
(OpenVINO's INT8 path runs the multiplier-2 form on a generic GEMM, docs/deploy.md).
Shape shorthand: Co output, Ci input channels.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ("SplitDepthwise", "bn_affine", "fold_bn_after_conv", "fold_bn_before_conv1x1", "scale_conv_output",
           "split_depthwise")


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


class SplitDepthwise(nn.Module):
    """``act(cat([conv_j(x) for j in range(m)], 1))``: m multiplier-1 depthwise convs in place of one with multiplier m.

    Its channel j * Ci + k is channel k * m + j of the conv it replaces (`split_depthwise` returns that order).
    """

    def __init__(self, convs: list[nn.Conv2d], act: nn.Module):
        super().__init__()
        self.convs = nn.ModuleList(convs)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(torch.cat([conv(x) for conv in self.convs], 1))


@torch.no_grad()
def split_depthwise(conv: nn.Conv2d, act: nn.Module | None = None) -> tuple[SplitDepthwise, torch.Tensor]:
    """``conv`` (depthwise, Co = m * Ci, m > 1) as a `SplitDepthwise` and (Co,) the old channel of each new channel.

    Examples:
        >>> conv = nn.Conv2d(3, 6, 3, 2, 1, groups=3)
        >>> split, order = split_depthwise(conv)
        >>> x = torch.randn(1, 3, 8, 8)
        >>> torch.allclose(split(x), conv(x)[:, order], atol=1e-6), order.tolist()
        (True, [0, 2, 4, 1, 3, 5])
    """
    ci, co = conv.in_channels, conv.out_channels
    m = co // ci
    if conv.groups != ci or m < 2 or co % ci:
        raise ValueError(f"split_depthwise: needs a depthwise conv with channel multiplier > 1, got {conv}")
    convs = []
    for j in range(m):
        c = nn.Conv2d(ci, ci, conv.kernel_size, conv.stride, conv.padding, conv.dilation, groups=ci,
                      padding_mode=conv.padding_mode).to(conv.weight)
        c.weight.copy_(conv.weight[j::m])
        c.bias.copy_(conv.bias[j::m] if conv.bias is not None else torch.zeros(ci))
        convs.append(c)
    order = torch.cat([torch.arange(j, co, m) for j in range(m)])
    return SplitDepthwise(convs, act if act is not None else nn.Identity()), order
