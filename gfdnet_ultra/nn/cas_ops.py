"""CAS-ViT building blocks shared by GCAS stages and the rcvit backbone.

From "CAS-ViT: Convolutional Additive Self-attention Vision Transformers for Efficient Mobile Applications"
(Zhang et al., arXiv:2408.03703), official code ``classification/model/rcvit.py``. Attribute names follow that file
so official checkpoints load by name. Shape shorthand: B batch, C channels, H x W spatial size.
Deviation from the reference code: none (GFD-Net passes LocalIntegration ratio 2, CAS-ViT ratio 1; both are callers'
choices here).
"""

from __future__ import annotations

import torch
from torch import nn

from .fusion import fold_bn_after_conv

__all__ = ("ChannelOperation", "LocalIntegration", "Mlp", "SpatialOperation")


class SpatialOperation(nn.Module):
    """Spatial gate ``x * sigmoid(Conv1x1_{C->1}(ReLU(BN(DW3x3(x)))))``, (B, C, H, W) -> (B, C, H, W).

    Examples:
        >>> SpatialOperation(8)(torch.randn(1, 8, 16, 16)).shape
        torch.Size([1, 8, 16, 16])
    """

    def __init__(self, dim: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, 3, 1, 1, groups=dim),
            nn.BatchNorm2d(dim),
            nn.ReLU(True),
            nn.Conv2d(dim, 1, 1, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.block(x)

    @torch.no_grad()
    def fuse(self) -> None:
        """Fold the BatchNorm into the depthwise conv (inference); idempotent."""
        if isinstance(self.block[1], nn.BatchNorm2d):
            fold_bn_after_conv(self.block[0], self.block[1])
            self.block[1] = nn.Identity()


class ChannelOperation(nn.Module):
    """Channel gate ``x * sigmoid(Conv1x1_{C->C}(GAP(x)))``, (B, C, H, W) -> (B, C, H, W).

    Examples:
        >>> ChannelOperation(8)(torch.randn(1, 8, 16, 16)).shape
        torch.Size([1, 8, 16, 16])
    """

    def __init__(self, dim: int):
        super().__init__()
        self.block = nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Conv2d(dim, dim, 1, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.block(x)


class LocalIntegration(nn.Module):
    """1x1 C->rC -> norm -> DW3x3 -> act -> 1x1 rC->C (all with bias), (B, C, H, W) -> (B, C, H, W).

    Args:
        dim (int): Channels C.
        ratio (float): Hidden width ratio r (1 in CAS-ViT, 2 in GFD-Net's GCAS).
        act_layer (type[nn.Module]): Activation.
        norm_layer (type[nn.Module]): Normalisation of the hidden width.

    Examples:
        >>> LocalIntegration(8, ratio=2)(torch.randn(1, 8, 16, 16)).shape
        torch.Size([1, 8, 16, 16])
    """

    def __init__(self, dim: int, ratio: float = 1, act_layer: type[nn.Module] = nn.GELU,
                 norm_layer: type[nn.Module] = nn.BatchNorm2d):
        super().__init__()
        mid = round(ratio * dim)
        if mid < 1:
            raise ValueError(f"LocalIntegration: ratio*dim must round to >= 1, got ratio={ratio}, dim={dim}")
        self.network = nn.Sequential(
            nn.Conv2d(dim, mid, 1, 1, 0),
            norm_layer(mid),
            nn.Conv2d(mid, mid, 3, 1, 1, groups=mid),
            act_layer(),
            nn.Conv2d(mid, dim, 1, 1, 0),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    @torch.no_grad()
    def fuse(self) -> None:
        """Fold a BatchNorm norm layer into the first 1x1 conv (inference); idempotent, other norms are kept."""
        if isinstance(self.network[1], nn.BatchNorm2d):
            fold_bn_after_conv(self.network[0], self.network[1])
            self.network[1] = nn.Identity()


class Mlp(nn.Module):
    """Pointwise MLP 1x1 C->hidden -> act -> 1x1 hidden->C (with bias), (B, C, H, W) -> (B, C, H, W).

    Examples:
        >>> Mlp(8, 32)(torch.randn(1, 8, 16, 16)).shape
        torch.Size([1, 8, 16, 16])
    """

    def __init__(self, dim: int, hidden: int, act_layer: type[nn.Module] = nn.GELU):
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.act = act_layer()
        self.fc2 = nn.Conv2d(hidden, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))
