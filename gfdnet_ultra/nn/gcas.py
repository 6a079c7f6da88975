"""GCAS: global convolutional additive self-attention stages (GFD-Net's GAstage).

GFD-Net's modification of the CAS-ViT token mixer ("CAS-ViT", Zhang et al., arXiv:2408.03703): the key is gated by
a global scalar computed from the stage input. Shape shorthand: B batch, c1 stage-input channels, C stage width,
2H x 2W stage-input size, H x W stage-output size.

Every block: ``x += LI(x); x += GCA(BN(x), y); x += MLP(BN(x))`` with ``y`` the stage input, where
``GCA(x, y) = DW3(DW3(ChOp(SpOp(q)) + k * G(y)) * v)`` and
``G(y) = sigmoid(1x1_{C->1}(GAP(sigmoid(DW3(DWConv_s2(y))))))``;
``q = k = v = x`` (GCAAtten2, the released GAstage) or ``q, k, v = chunk(1x1_{C->3C}(x))`` (GCAAtten, the README's).
Deviations from the reference code: ``n`` is honoured (the reference GAstage ignores it and always builds GB1, which
is SCDown + a block, then GB3, the same block without SCDown); here SCDown is the stage's own first layer and the n
blocks are identical in structure. With n=2 the modules and parameter counts equal the reference's exactly (121,024
at 32->64, 459,136 at 64->128; 145,600 at 32->64 with the qkv projection).
"""

from __future__ import annotations

import torch
from torch import nn
from ultralytics.nn.modules import SCDown, DWConv

from .cas_ops import ChannelOperation, LocalIntegration, Mlp, SpatialOperation
from .fusion import fold_bn_after_conv, fold_bn_before_conv1x1, split_depthwise
from ..on_load import RegisterOnLoad

__all__ = ("GAstage", "GCAAtten", "GCAAtten2", "GCABlock", "GlobalSpatial")


class GlobalSpatial(nn.Module):
    """Global gate from the stage input: ``x * G(y)``, (B, C, H, W) x (B, c1, 2H, 2W) -> (B, C, H, W).

    The gate is one scalar per image, (B, 1, 1, 1), so ``y`` may have any spatial size.

    Examples:
        >>> GlobalSpatial(16, 32)(torch.randn(1, 32, 8, 8), torch.randn(1, 16, 16, 16)).shape
        torch.Size([1, 32, 8, 8])
    """

    def __init__(self, c1: int, c: int):
        super().__init__()
        self.gate = nn.Sequential(
            DWConv(c1, c, 3, 2),  # Ultralytics DWConv: groups gcd(c1, c), BN, SiLU
            nn.Conv2d(c, c, 3, 1, 1, groups=c),
            nn.Sigmoid(),
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(c, 1, 1, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x * self.gate(y)

    @torch.no_grad()
    def fuse(self) -> None:
        """Inference: fold the DWConv's BN and, where it doubles the channels (c = 2 c1), split it into two
        multiplier-1 depthwise convs, permuting the per-channel layers after it to match; exact, idempotent."""
        first = self.gate[0]
        conv = getattr(first, "conv", None)
        if not isinstance(first, DWConv) or conv.groups != conv.in_channels or conv.out_channels % conv.in_channels \
                or conv.out_channels == conv.in_channels:
            return  # already split, or not a depthwise conv with a channel multiplier (widths not multiples)
        if hasattr(first, "bn"):  # not yet folded by Ultralytics' fuse
            fold_bn_after_conv(first.conv, first.bn)
        self.gate[0], order = split_depthwise(first.conv, first.act)
        dw, head = self.gate[1], self.gate[4]  # per-channel DW3, then GAP and the C -> 1 conv
        dw.weight.copy_(dw.weight[order])
        dw.bias.copy_(dw.bias[order])
        head.weight.copy_(head.weight[:, order])


class GCAAtten2(nn.Module):
    """Global additive token mixer without qkv projection (q = k = v = x), (B, C, H, W) x y -> (B, C, H, W).

    Examples:
        >>> GCAAtten2(16, 32)(torch.randn(1, 32, 8, 8), torch.randn(1, 16, 16, 16)).shape
        torch.Size([1, 32, 8, 8])
    """

    def __init__(self, c1: int, c: int):
        super().__init__()
        self.oper_q = nn.Sequential(SpatialOperation(c), ChannelOperation(c))
        self.oper_k = GlobalSpatial(c1, c)
        self.dwc = nn.Conv2d(c, c, 3, 1, 1, groups=c)
        self.proj = nn.Conv2d(c, c, 3, 1, 1, groups=c)

    def mix(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``proj(dwc(oper_q(q) + oper_k(k, y)) * v)``."""
        return self.proj(self.dwc(self.oper_q(q) + self.oper_k(k, y)) * v)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.mix(x, x, x, y)


class GCAAtten(GCAAtten2):
    """Global additive token mixer with a qkv 1x1 projection (no bias), (B, C, H, W) x y -> (B, C, H, W).

    Examples:
        >>> GCAAtten(16, 32)(torch.randn(1, 32, 8, 8), torch.randn(1, 16, 16, 16)).shape
        torch.Size([1, 32, 8, 8])
    """

    def __init__(self, c1: int, c: int):
        super().__init__(c1, c)
        self.qkv = nn.Conv2d(c, 3 * c, 1, bias=False)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.mix(*self.qkv(x).chunk(3, 1), y)


class GCABlock(nn.Module):
    """``x += LI(x); x += GCA(BN(x), y); x += MLP(BN(x))``, (B, C, H, W) x (B, c1, 2H, 2W) -> (B, C, H, W).

    Args:
        c1 (int): Channels of the stage input y (read by the global gate).
        c (int): Block width C.
        qkv (bool): Use GCAAtten (qkv projection) instead of GCAAtten2.
        mlp_ratio (float): MLP hidden width as a multiple of C.
        li_ratio (float): LocalIntegration hidden width ratio.

    Examples:
        >>> GCABlock(16, 32)(torch.randn(1, 32, 8, 8), torch.randn(1, 16, 16, 16)).shape
        torch.Size([1, 32, 8, 8])
    """

    def __init__(self, c1: int, c: int, *, qkv: bool = False, mlp_ratio: float = 4, li_ratio: float = 2):
        super().__init__()
        self.local_perception = LocalIntegration(c, li_ratio, nn.GELU, nn.BatchNorm2d)
        self.norm1 = nn.BatchNorm2d(c)
        self.attn = (GCAAtten if qkv else GCAAtten2)(c1, c)
        self.norm2 = nn.BatchNorm2d(c)
        self.mlp = Mlp(c, int(c * mlp_ratio), nn.GELU)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = x + self.local_perception(x)
        x = x + self.attn(self.norm1(x), y)
        return x + self.mlp(self.norm2(x))

    @torch.no_grad()
    def fuse(self) -> None:
        """Fold norm2 into the MLP's first 1x1 conv (inference); idempotent. norm1 feeds padded convs and a product,
        so it stays."""
        if isinstance(self.norm2, nn.BatchNorm2d):
            fold_bn_before_conv1x1(self.norm2, self.mlp.fc1)
            self.norm2 = nn.Identity()


class GAstage(RegisterOnLoad, nn.Module):
    """SCDown(c1, c2, 3, 2), then ``n`` GCA blocks that all read the stage input, (B, c1, H, W) -> (B, c2, H/2, W/2).

    YAML kind "repeat" (parsed like C2f): ``n`` is the number of blocks after Ultralytics' depth scaling
    ``max(round(n * depth), 1)`` (applied only when the YAML n > 1). The reference stage has 2 blocks, so a YAML
    row ``[-1, 6, GAstage, [256]]`` gives 2 blocks at depth 0.33 (n and s scales), 4 at 0.67 and 6 at 1.0.

    Args:
        c1 (int): Input channels, filled in by the YAML parser.
        c2 (int): Output channels, width-scaled by the YAML parser.
        n (int): Number of GCA blocks, depth-scaled and inserted by the YAML parser.
        qkv (bool): Use GCAAtten (with a qkv 1x1 projection) instead of GCAAtten2 (q = k = v = x).
        mlp_ratio (float): MLP hidden width as a multiple of c2.
        li_ratio (float): LocalIntegration hidden width ratio (GFD-Net uses 2).

    Examples:
        >>> m = GAstage(32, 64, 2)
        >>> m(torch.randn(1, 32, 64, 64)).shape
        torch.Size([1, 64, 32, 32])
    """

    def __init__(self, c1: int, c2: int, n: int = 2, qkv: bool = False, mlp_ratio: float = 4, li_ratio: float = 2):
        super().__init__()
        if n < 1:
            raise ValueError(f"GAstage: number of blocks n must be >= 1, got n={n}")
        if c1 < 1 or c2 < 1:
            raise ValueError(f"GAstage: channels must be >= 1, got c1={c1}, c2={c2}")
        if int(c2 * mlp_ratio) < 1 or round(c2 * li_ratio) < 1:
            raise ValueError(
                f"GAstage: mlp_ratio={mlp_ratio} and li_ratio={li_ratio} must give hidden widths >= 1 at c2={c2}; "
                "use positive ratios such as 4 and 2"
            )
        self.n, self.qkv = n, qkv
        self.down = SCDown(c1, c2, 3, 2)
        self.m = nn.ModuleList(GCABlock(c1, c2, qkv=qkv, mlp_ratio=mlp_ratio, li_ratio=li_ratio) for _ in range(n))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if y.device.type == "cpu":  # same computation; oneDNN's channels-last kernels are faster (docs/speed.md)
            y = y.contiguous(memory_format=torch.channels_last)  # the output stays channels-last for the later layers
        x = self.down(y)
        for block in self.m:
            x = block(x, y)
        return x

    def extra_repr(self) -> str:
        return f"n={self.n}, qkv={self.qkv}"
