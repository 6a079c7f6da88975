"""Spatial-domain frequency filters for FF-FPN: fixed binomial blur, content-adaptive low-pass and high-pass.

Adaptive filters follow FreqFusion, "Frequency-aware Feature Fusion for Dense Image Prediction" (Chen et al., TPAMI 2024,
arXiv:2408.12879): an adaptive low-pass filter (ALPF) smooths the up-sampled coarse feature, an adaptive high-pass
filter (AHPF) restores the detail of the fine feature. Anti-aliased down-sampling follows "Making Convolutional Networks
Shift-Invariant Again" (Zhang, arXiv:1904.11486): low-pass before stride.
Shape shorthand: B batch, C channels, H x W spatial size, k filter size, G guide channels.

Every filter is a spatial operation (grouped conv, pad + shifted slices), never ``torch.fft``, so it exports to ONNX at
opset 18 with dynamic input sizes; the FFT is used only in the tests, as the slow reference that proves the frequency
behaviour. Deviations from FreqFusion: per-pixel kernels start as the binomial filter (predictor bias = log binomial,
small weights), so the node is a genuine low-pass from the first step; no offset generator (resampling); replicate
padding keeps the DC gain exactly 1 at the borders. Equations in docs/architecture.md.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from ultralytics.nn.modules import Conv

__all__ = ("AADown", "AdaptiveHighPass", "AdaptiveLowPass", "apply_pixel_kernels", "binomial_filter", "blur2d")


def binomial_filter(k: int) -> torch.Tensor:
    """2-D binomial low-pass (k, k), separable, non-negative, sums to 1; k=3 is [1, 2, 1]^T [1, 2, 1] / 16."""
    b = torch.tensor([math.comb(k - 1, i) for i in range(k)], dtype=torch.float32)
    return b[:, None] * b[None, :] / b.sum() ** 2


def blur2d(x: torch.Tensor, filt: torch.Tensor, stride: int = 1) -> torch.Tensor:
    """Depthwise filter with a (C, 1, k, k) kernel, replicate padding: (B, C, H, W) -> (B, C, H/stride, W/stride)."""
    p = filt.shape[-1] // 2
    return F.conv2d(F.pad(x, (p, p, p, p), mode="replicate"), filt, stride=stride, groups=filt.shape[0])


def apply_pixel_kernels(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Filter every pixel with its own k x k kernel: (B, C, H, W), (B, k*k, H, W) -> (B, C, H, W).

    ``out[b, c, i, j] = sum_{u, v} kernels[b, u*k + v, i, j] * x[b, c, i + u - k//2, j + v - k//2]`` (replicate padding),
    the kernel shared over channels, as CARAFE and FreqFusion do. Computed as k*k shifted slices of the padded input whose
    bounds are constants, so nothing depends on the traced input size, accumulated in place (``addcmul_``: one pass per
    tap instead of a product and a sum, 1.8x faster on CPU; ``F.unfold`` + matmul is 25x slower, see docs/speed.md).
    """
    k = math.isqrt(kernels.shape[1])
    p = k // 2
    xp = F.pad(x, (p, p, p, p), mode="replicate")
    out = None
    for u in range(k):
        for v in range(k):
            shifted = xp[:, :, u : (u - 2 * p) or None, v : (v - 2 * p) or None]
            tap = kernels[:, u * k + v : u * k + v + 1]
            out = tap * shifted if out is None else out.addcmul_(tap, shifted)
    return out


class AdaptiveLowPass(nn.Module):
    """ALPF: per-pixel k x k kernels predicted from a guide, softmax-normalised, applied to x.

    Non-negative weights summing to 1 make every per-pixel kernel an averaging filter: DC gain 1 and, for a kernel held
    fixed, |H(w)| <= 1 at every frequency. Kernels that vary from pixel to pixel stay low-pass while they vary smoothly
    (measured: 4.5% of the high-frequency energy of a nearest-up-sampled feature is left at init, 10% with kernel logits
    of std 0.85); near one-hot kernels would degenerate into resampling, so the predictor starts at the binomial filter
    (bias = log binomial, weights ~ N(0, 1e-3)) and learns content adaptivity from there.

    Args:
        c (int): Guide channels G.
        k (int): Kernel size, odd and >= 3.

    Examples:
        >>> m = AdaptiveLowPass(16, 5)
        >>> m(torch.randn(1, 64, 20, 24), torch.randn(1, 16, 20, 24)).shape
        torch.Size([1, 64, 20, 24])
    """

    def __init__(self, c: int, k: int = 5):
        super().__init__()
        if k < 3 or k % 2 == 0:
            raise ValueError(f"{type(self).__name__}: kernel size k must be odd and >= 3, got k={k}")
        self.k = k
        self.kernel = nn.Conv2d(c, k * k, 3, 1, 1)
        nn.init.normal_(self.kernel.weight, std=1e-3)
        with torch.no_grad():
            self.kernel.bias.copy_(binomial_filter(k).flatten().log())

    def kernels(self, guide: torch.Tensor) -> torch.Tensor:
        """(B, G, H, W) -> (B, k*k, H, W), non-negative, summing to 1 over the k*k axis."""
        return self.kernel(guide).softmax(1)

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        return apply_pixel_kernels(x, self.kernels(guide))

    def extra_repr(self) -> str:
        return f"k={self.k}"


class AdaptiveHighPass(AdaptiveLowPass):
    """AHPF: ``x + gamma * (x - ALPF(x))``, the high-pass residual of a predicted low-pass, scaled by a learned gain.

    ``gamma`` is per channel, initialised to 1 (FreqFusion's ``x + highpass(x)``); gamma >= 0 keeps or amplifies the
    high-frequency band and leaves DC unchanged.

    Args:
        c (int): Guide channels G.
        c2 (int): Channels of x (the gain has one entry per channel).
        k (int): Kernel size of the low-pass that defines the high-pass, odd and >= 3.

    Examples:
        >>> m = AdaptiveHighPass(16, 64, 3)
        >>> m(torch.randn(1, 64, 20, 24), torch.randn(1, 16, 20, 24)).shape
        torch.Size([1, 64, 20, 24])
    """

    def __init__(self, c: int, c2: int, k: int = 3):
        super().__init__(c, k)
        self.gamma = nn.Parameter(torch.ones(1, c2, 1, 1))

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        return x + self.gamma * (x - super().forward(x, guide))


class AADown(nn.Module):
    """Anti-aliased down-sampling: fixed binomial blur, then a stride-s Conv: (B, c1, H, W) -> (B, c2, H/s, W/s).

    Args:
        c1 (int): Input channels.
        c2 (int): Output channels.
        k (int): Blur size, odd and >= 3.
        s (int): Stride of the Conv (the down-sampling factor).

    Examples:
        >>> m = AADown(16, 32)
        >>> m(torch.randn(1, 16, 64, 64)).shape
        torch.Size([1, 32, 32, 32])
    """

    def __init__(self, c1: int, c2: int, k: int = 3, s: int = 2):
        super().__init__()
        if k < 3 or k % 2 == 0:
            raise ValueError(f"AADown: blur kernel k must be odd and >= 3, got k={k}")
        self.k = k
        self.register_buffer("filt", binomial_filter(k).expand(c1, 1, k, k).clone(), persistent=False)  # fixed
        self.conv = Conv(c1, c2, 3, s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(blur2d(x, self.filt))

    def extra_repr(self) -> str:
        return f"k={self.k}"
