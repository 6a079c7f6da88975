"""Modulated deformable convolution (DCNv2) with an eager and an ONNX-exportable formulation.

"Deformable ConvNets v2: More Deformable, Better Results" (Zhu et al., arXiv:1811.11168).
Shape shorthand: B batch, C channels, H x W input size, Ho x Wo output size, K = kh * kw kernel taps.

Two formulations of one operator, held equal by tests:
- on accelerators: ``torchvision.ops.deform_conv2d(..., mask=...)`` (fused kernel);
- on CPU and for export: bilinear ``F.grid_sample`` of every tap, times the mask, then a 1x1 conv with the weight.
  torchvision's op has no ONNX symbolic at opset 18 (the opset Ultralytics 8.4 exports with), grid_sample has (>= 16).
torchvision's semantics reproduced exactly: offset channels are (dy, dx) pairs per tap, taps ordered row-major over the
kernel; a sample at (y, x) is bilinear with zero padding, so a corner outside the image contributes 0 and a point at or
beyond one pixel outside the image gives 0. ``grid_sample(align_corners=False, padding_mode="zeros")`` with the grid
``(2 * p + 1) / size - 1`` maps back to pixel coordinate ``p`` and has exactly those semantics, also for size 1.
On CPU the grid_sample formulation is the faster one (torch 2.14 / torchvision 0.29, one thread, 32 channels at
80 x 80: 6 ms against 24 ms forward, 25 ms against 215 ms forward + backward; docs/speed.md), so it is used there for
training and inference alike; the two agree to float rounding (< 2e-4 on outputs of magnitude ~20 in float32, 1e-12 in
float64).
Scope: ``groups=1`` and one offset group (what DyHead / the TDSC head use).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

__all__ = ("ModulatedDeformConv2d", "deform_conv2d_sampled")


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def deform_conv2d_sampled(
    x: torch.Tensor,
    offset: torch.Tensor,
    mask: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> torch.Tensor:
    """Modulated deformable conv from ``grid_sample``: exportable twin of ``torchvision.ops.deform_conv2d``.

    Args:
        x (torch.Tensor): Input, (B, C, H, W).
        offset (torch.Tensor): (B, 2K, Ho, Wo), (dy, dx) per tap, taps row-major.
        mask (torch.Tensor): Modulation, (B, K, Ho, Wo).
        weight (torch.Tensor): (Cout, C, kh, kw).
        bias (torch.Tensor | None): (Cout,).
        stride, padding, dilation (int | tuple[int, int]): As in ``nn.Conv2d``.

    Returns:
        (torch.Tensor): (B, Cout, Ho, Wo).

    Examples:
        >>> x, w = torch.randn(1, 4, 8, 8), torch.randn(6, 4, 3, 3)
        >>> deform_conv2d_sampled(x, torch.zeros(1, 18, 8, 8), torch.ones(1, 9, 8, 8), w, padding=1).shape
        torch.Size([1, 6, 8, 8])
    """
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    kh, kw = weight.shape[-2:]
    dev, dt = x.device, x.dtype
    # base sampling positions of every (tap, output pixel), in input pixel coordinates; sizes stay symbolic under tracing
    oy = torch.arange(offset.shape[-2], device=dev, dtype=dt) * sh - ph  # (Ho,)
    ox = torch.arange(offset.shape[-1], device=dev, dtype=dt) * sw - pw  # (Wo,)
    ky = torch.arange(kh, device=dev, dtype=dt).repeat_interleave(kw) * dh  # (K,), row-major taps
    kx = torch.arange(kw, device=dev, dtype=dt).repeat(kh) * dw
    py = ky[:, None, None] + oy[None, :, None] + offset[:, 0::2]  # (B, K, Ho, Wo)
    px = kx[:, None, None] + ox[None, None, :] + offset[:, 1::2]
    h = torch.full((), 1.0, device=dev, dtype=dt) * x.shape[-2]
    w = torch.full((), 1.0, device=dev, dtype=dt) * x.shape[-1]
    grid = torch.stack(((2 * px + 1) / w - 1, (2 * py + 1) / h - 1), -1)  # (B, K, Ho, Wo, 2), (x, y) order
    cols = F.grid_sample(x, grid.flatten(1, 2), mode="bilinear", padding_mode="zeros", align_corners=False)
    cols = cols.unflatten(2, (kh * kw, -1)) * mask.unsqueeze(1)  # (B, C, K, Ho, Wo)
    # sum over (c, k) as a 1x1 conv on (B, C*K, Ho, Wo): the weight flattens in the same (c, k) order; a conv is faster
    # than einsum/bmm in PyTorch and much faster than Einsum in onnxruntime
    return F.conv2d(cols.flatten(1, 2), weight.flatten(1)[:, :, None, None], bias)


class ModulatedDeformConv2d(nn.Module):
    """DCNv2 layer: ``forward(x, offset, mask)``, offset and mask predicted by the caller.

    Uses ``deform_conv2d_sampled`` on CPU, when ``self.export`` is set (by the head that owns it, per instance) or while
    ``torch.onnx`` traces, and ``torchvision.ops.deform_conv2d`` otherwise (CUDA).

    Args:
        c1 (int): Input channels.
        c2 (int): Output channels.
        k (int): Kernel size.
        s (int): Stride.
        p (int | None): Padding; None gives ``d * (k - 1) // 2`` ("same" at stride 1).
        d (int): Dilation.
        bias (bool): Learn an additive bias.

    Examples:
        >>> m = ModulatedDeformConv2d(8, 16, 3)
        >>> m(torch.randn(2, 8, 10, 12), torch.zeros(2, 18, 10, 12), torch.ones(2, 9, 10, 12)).shape
        torch.Size([2, 16, 10, 12])
    """

    export = False  # class default; export code sets it per instance, as Ultralytics does for Detect

    def __init__(self, c1: int, c2: int, k: int = 3, s: int = 1, p: int | None = None, d: int = 1, bias: bool = True):
        super().__init__()
        if k < 1 or s < 1 or d < 1:
            raise ValueError(f"ModulatedDeformConv2d: k, s, d must be >= 1, got k={k}, s={s}, d={d}")
        self.k, self.stride, self.dilation = k, s, d
        self.padding = d * (k - 1) // 2 if p is None else p
        self.weight = nn.Parameter(torch.empty(c2, c1, k, k))
        self.bias = nn.Parameter(torch.zeros(c2)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # nn.Conv2d's default

    def forward(self, x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, c1, H, W), (B, 2K, Ho, Wo), (B, K, Ho, Wo) -> (B, c2, Ho, Wo)."""
        args = (self.weight, self.bias)
        if self.export or torch.onnx.is_in_onnx_export() or x.device.type == "cpu":  # see the module docstring
            return deform_conv2d_sampled(x, offset, mask, *args, self.stride, self.padding, self.dilation)
        offset = torch.nan_to_num(offset)  # torchvision's CPU kernel segfaults on NaN offsets (e.g. torch.empty inputs)
        return torchvision.ops.deform_conv2d(
            x, offset, *args, stride=self.stride, padding=self.padding, dilation=self.dilation, mask=mask
        )

    def extra_repr(self) -> str:
        c2, c1 = self.weight.shape[:2]
        return f"{c1}, {c2}, k={self.k}, s={self.stride}, p={self.padding}, d={self.dilation}, bias={self.bias is not None}"
