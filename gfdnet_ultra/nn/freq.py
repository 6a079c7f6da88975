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

from ..on_load import RegisterOnLoad

__all__ = (
    "AADown",
    "AdaptiveHighPass",
    "AdaptiveLowPass",
    "apply_pixel_kernels",
    "binomial_filter",
    "blur2d",
    "fold_kernels_up2",
)


def binomial_filter(k: int) -> torch.Tensor:
    """2-D binomial low-pass (k, k), separable, non-negative, sums to 1; k=3 is [1, 2, 1]^T [1, 2, 1] / 16."""
    b = torch.tensor([math.comb(k - 1, i) for i in range(k)], dtype=torch.float32)
    return b[:, None] * b[None, :] / b.sum() ** 2


def blur2d(x: torch.Tensor, filt: torch.Tensor, stride: int = 1) -> torch.Tensor:
    """Depthwise filter with a (C, 1, k, k) kernel, replicate padding: (B, C, H, W) -> (B, C, H/stride, W/stride)."""
    p = filt.shape[-1] // 2
    return F.conv2d(F.pad(x, (p, p, p, p), mode="replicate"), filt, stride=stride, groups=filt.shape[0])


def _tap_slices(k: int, dilation: int):
    """(tap index, slice of the padded input) for every tap of a k x k kernel at ``dilation``; bounds are constants."""
    p = k // 2 * dilation
    for u in range(k):
        for v in range(k):
            su, sv = u * dilation, v * dilation
            yield u * k + v, (slice(None), slice(None), slice(su, (su - 2 * p) or None), slice(sv, (sv - 2 * p) or None))


def _accumulate_taps(xp: torch.Tensor, kernels: torch.Tensor, dilation: int) -> torch.Tensor:
    """Sum of ``kernels[:, t] * shifted_t(xp)`` over the taps, in place (``addcmul_``: one pass per tap)."""
    out = None
    for t, sl in _tap_slices(math.isqrt(kernels.shape[1]), dilation):
        tap = kernels[:, t : t + 1]
        out = tap * xp[sl] if out is None else out.addcmul_(tap, xp[sl])
    return out


class _PixelKernels(torch.autograd.Function):
    """`_accumulate_taps` with a hand-written backward: autograd's would zero-fill a padded-size gradient for every
    sliced tap (and a kernel-size one for every kernel slice) and add them up; this accumulates into one buffer each,
    about 2x faster for the FIF nodes in training (docs/speed.md). Same gradients to float rounding (tested)."""

    @staticmethod
    def forward(ctx, xp: torch.Tensor, kernels: torch.Tensor, dilation: int) -> torch.Tensor:
        ctx.save_for_backward(xp, kernels)
        ctx.dilation = dilation
        return _accumulate_taps(xp, kernels, dilation)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        xp, kernels = ctx.saved_tensors
        grad_x = torch.zeros_like(xp) if ctx.needs_input_grad[0] else None
        grad_k = torch.empty_like(kernels) if ctx.needs_input_grad[1] else None
        for t, sl in _tap_slices(math.isqrt(kernels.shape[1]), ctx.dilation):
            if grad_x is not None:
                grad_x[sl].addcmul_(grad, kernels[:, t : t + 1])
            if grad_k is not None:
                torch.sum(grad * xp[sl], 1, keepdim=True, out=grad_k[:, t : t + 1])
        return grad_x, grad_k, None


def apply_pixel_kernels(x: torch.Tensor, kernels: torch.Tensor, dilation: int = 1) -> torch.Tensor:
    """Filter every pixel with its own k x k kernel: (B, C, H, W), (B, k*k, H, W) -> (B, C, H, W).

    ``out[b, c, i, j] = sum_{u, v} kernels[b, u*k + v, i, j] * x[b, c, i + d*(u - k//2), j + d*(v - k//2)]`` with d the
    dilation (replicate padding), the kernel shared over channels, as CARAFE and FreqFusion do. Computed as k*k shifted
    slices of the padded input whose bounds are constants, so nothing depends on the traced input size, accumulated in
    place (one pass per tap; ``F.unfold`` + matmul is 25x slower, see docs/speed.md). Traced for export as plain ops,
    otherwise through `_PixelKernels` for its faster backward.
    """
    p = math.isqrt(kernels.shape[1]) // 2 * dilation
    xp = F.pad(x, (p, p, p, p), mode="replicate")
    if torch.jit.is_tracing():
        return _accumulate_taps(xp, kernels, dilation)
    return _PixelKernels.apply(xp, kernels, dilation)


def _fold_axis(kernels: torch.Tensor, dim: int) -> torch.Tensor:
    """Sum the taps along kernel axis ``dim`` (1 rows, 2 columns of (B, k, k, H, W)) that read the same coarse pixel."""
    def every_other(t: torch.Tensor, start: int) -> torch.Tensor:
        return t[(slice(None),) * dim + (slice(start, None, 2),)]

    k, n = kernels.shape[dim], kernels.shape[dim + 2]
    pairs = kernels.narrow(dim, 0, k - 1) + kernels.narrow(dim, 1, k - 1)  # t_i + t_{i+1}
    even = torch.cat([every_other(pairs, 0), kernels.narrow(dim, k - 1, 1)], dim)
    odd = torch.cat([kernels.narrow(dim, 0, 1), every_other(pairs, 1)], dim)
    parity = torch.arange(n, device=kernels.device) % 2 == 1
    return torch.where(parity.view([-1 if d == dim + 2 else 1 for d in range(kernels.dim())]), odd, even)


def fold_kernels_up2(kernels: torch.Tensor) -> torch.Tensor:
    """Per-pixel k x k kernels for a nearest 2x up-sampled map -> the same filter as (k//2 + 1)^2 taps at dilation 2.

    On ``u[i] = c[i // 2]`` a k-tap window (k = 1 mod 4) reads only k//2 + 1 distinct values, at fine offsets -k//2,
    ..., k//2 in steps of 2 for either parity of i; summing the taps that read the same value gives kernels for
    ``apply_pixel_kernels(u, ., dilation=2)`` equal to the k x k filter up to float rounding, 9 passes instead of 25 at
    k=5. Even rows (columns) take [t0 + t1, t2 + t3, ..., t_{k-1}], odd ones [t0, t1 + t2, ..., t_{k-2} + t_{k-1}].
    (B, k*k, H, W) -> (B, (k//2 + 1)^2, H, W).
    """
    k = math.isqrt(kernels.shape[1])
    if k % 4 != 1:
        raise ValueError(f"fold_kernels_up2: kernel size must be 1 mod 4 (5, 9, ...), got k={k}")
    b, _, h, w = kernels.shape
    folded = _fold_axis(_fold_axis(kernels.reshape(b, k, k, h, w), 1), 2)
    return folded.flatten(1, 2)


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

    def forward(self, x: torch.Tensor, guide: torch.Tensor, up2: bool = False) -> torch.Tensor:
        """Filter x; ``up2=True`` declares x a nearest 2x up-sampling (``x[i] = c[i // 2]``, any crop of it), which
        k = 1 mod 4 filters with the folded kernels (same output, fewer passes: `fold_kernels_up2`)."""
        kernels = self.kernels(guide)
        if up2 and self.k % 4 == 1:
            return apply_pixel_kernels(x, fold_kernels_up2(kernels), dilation=2)
        return apply_pixel_kernels(x, kernels)

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


class AADown(RegisterOnLoad, nn.Module):
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
