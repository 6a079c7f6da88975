"""CDF: a C2f whose inner blocks are dynamic graph conv blocks (GFD-Net's "DMF").

Inner block from GreedyViG, "Dynamic Axial Graph Construction for Efficient Vision GNNs" (Munir et al., CVPR 2024,
arXiv:2405.06849): ``DynamicGraphConvBlock`` with its ``Grapher`` and conditional position encoding (CPVT,
arXiv:2102.10882); the C2f skeleton is Ultralytics'. Shape shorthand: B batch, C channels, H x W spatial size.

Parameters: a DMF block of width C has ``12*C**2 + 76*C`` (CPE 50C, fc1 C^2+3C, graph conv 2C^2+3C, fc2 C^2+3C,
FFN 8C^2+15C, layer scales 2C; the research note's "77C" is a slip, its worked numbers agree with 76C).
Deviations from the reference code: the graph conv is vectorised and bounds its shifts per axis
(``max_shifts``, see :mod:`gfdnet_ultra.nn.graph_conv` and docs/graph_conv.md); everything else is the same.
"""

from __future__ import annotations

import torch
from torch import nn
from ultralytics.nn.modules import C2f

from .fusion import fold_bn_after_conv
from .graph_conv import DynamicMRConv4d
from ..on_load import RegisterOnLoad

__all__ = ("CDF", "DMF", "ConditionalPositionEncoding", "DynamicGraphConvBlock", "Grapher")


def _fold_conv_bn_pairs(seq: nn.Sequential) -> None:
    """Fold every ``Conv2d`` directly followed by a ``BatchNorm2d`` in ``seq`` and drop the BN (inference)."""
    for i in range(len(seq) - 1):
        if isinstance(seq[i], nn.Conv2d) and isinstance(seq[i + 1], nn.BatchNorm2d):
            fold_bn_after_conv(seq[i], seq[i + 1])
            seq[i + 1] = nn.Identity()


class ConditionalPositionEncoding(nn.Module):
    """``x + DWConv_kxk(x)`` (with bias), (B, C, H, W) -> (B, C, H, W).

    Examples:
        >>> ConditionalPositionEncoding(8)(torch.randn(1, 8, 16, 16)).shape
        torch.Size([1, 8, 16, 16])
    """

    def __init__(self, c: int, k: int = 7):
        super().__init__()
        self.pe = nn.Conv2d(c, c, k, 1, k // 2, groups=c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pe(x)


class Grapher(nn.Module):
    """CPE -> 1x1+BN -> dynamic axial graph conv -> 1x1+BN, (B, C, H, W) -> (B, C, H, W); no inner residual.

    Args:
        c (int): Channels.
        k (int): Smallest shift step of the graph conv.
        max_shifts (int): Most non-zero shifts per axis of the graph conv.

    Examples:
        >>> Grapher(8)(torch.randn(1, 8, 16, 16)).shape
        torch.Size([1, 8, 16, 16])
    """

    def __init__(self, c: int, k: int = 2, *, max_shifts: int = 20):
        super().__init__()
        self.cpe = ConditionalPositionEncoding(c, 7)
        self.fc1 = nn.Sequential(nn.Conv2d(c, c, 1), nn.BatchNorm2d(c))
        self.graph_conv = DynamicMRConv4d(c, k, max_shifts)
        self.fc2 = nn.Sequential(nn.Conv2d(c, c, 1), nn.BatchNorm2d(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.graph_conv(self.fc1(self.cpe(x))))

    @torch.no_grad()
    def fuse(self) -> None:
        """Fold the BatchNorms of fc1 and fc2 into their convs (inference); idempotent."""
        _fold_conv_bn_pairs(self.fc1)
        _fold_conv_bn_pairs(self.fc2)


class DynamicGraphConvBlock(nn.Module):
    """DMF: ``x += ls1 * Grapher(x); x += ls2 * FFN(x)``, (B, C, H, W) -> (B, C, H, W).

    Args:
        c (int): Channels C.
        k (int): Smallest shift step of the graph conv (GreedyViG's K).
        max_shifts (int): Most non-zero shifts per axis of the graph conv.
        mlp_ratio (int): FFN hidden width as a multiple of C.
        layer_scale_init (float): Initial value of the per-channel layer scales.

    Examples:
        >>> m = DynamicGraphConvBlock(16)
        >>> m(torch.randn(2, 16, 20, 20)).shape
        torch.Size([2, 16, 20, 20])
    """

    def __init__(self, c: int, k: int = 2, *, max_shifts: int = 20, mlp_ratio: int = 4, layer_scale_init: float = 1e-5):
        super().__init__()
        self.mixer = Grapher(c, k, max_shifts=max_shifts)
        self.ffn = nn.Sequential(
            nn.Conv2d(c, c * mlp_ratio, 1),
            nn.BatchNorm2d(c * mlp_ratio),
            nn.GELU(),
            nn.Conv2d(c * mlp_ratio, c, 1),
            nn.BatchNorm2d(c),
        )
        self.layer_scale_1 = nn.Parameter(torch.full((c,), layer_scale_init))
        self.layer_scale_2 = nn.Parameter(torch.full((c,), layer_scale_init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.layer_scale_1[:, None, None] * self.mixer(x)
        return x + self.layer_scale_2[:, None, None] * self.ffn(x)

    @torch.no_grad()
    def fuse(self) -> None:
        """Fold the FFN's BatchNorms into its convs (inference); idempotent."""
        _fold_conv_bn_pairs(self.ffn)


DMF = DynamicGraphConvBlock  # the figure's name for the block


class CDF(RegisterOnLoad, C2f):
    """C2f with ``n`` DMF blocks: cv1 -> split -> DMF x n -> concat -> cv2, (B, c1, H, W) -> (B, c2, H, W).

    A ``C2f`` subclass, so the Ultralytics exporter installs ``forward_split`` on it; both forwards are defined here.

    Args:
        c1 (int): Input channels, filled in by the YAML parser.
        c2 (int): Output channels, width-scaled by the YAML parser.
        n (int): Number of DMF blocks, depth-scaled and inserted by the YAML parser.
        shortcut (bool): Accepted for C2f's argument order; unused (DMF blocks always have residuals).
        g (int): Accepted for C2f's argument order; unused.
        e (float): Hidden width ratio, ``c = int(c2 * e)``.
        k (int): Smallest shift step of the graph conv (GreedyViG's K); after C2f's own arguments.
        max_shifts (int): Most non-zero shifts per axis of the graph conv.

    Examples:
        >>> m = CDF(32, 64)
        >>> m(torch.randn(1, 32, 40, 40)).shape
        torch.Size([1, 64, 40, 40])
    """

    def __init__(
        self,
        c1: int,
        c2: int,
        n: int = 1,
        shortcut: bool = False,
        g: int = 1,
        e: float = 0.5,
        k: int = 2,
        max_shifts: int = 20,
    ):
        if n < 1:
            raise ValueError(f"CDF: number of DMF blocks n must be >= 1, got n={n}")
        if int(c2 * e) < 1:
            raise ValueError(f"CDF: hidden width int(c2*e) must be >= 1, got c2={c2}, e={e}; raise c2 or e")
        if k < 1 or max_shifts < 1:
            raise ValueError(f"CDF: k and max_shifts must be >= 1, got k={k}, max_shifts={max_shifts}")
        super().__init__(c1, c2, n, shortcut, g, e)
        self.m = nn.ModuleList(DynamicGraphConvBlock(self.c, k, max_shifts=max_shifts) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))

    def forward_split(self, x: torch.Tensor) -> torch.Tensor:
        y = list(self.cv1(x).split((self.c, self.c), 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))
