"""FF-FPN fusion nodes of GFD-Net: FIF (three scales into one), UADF (up-sampling fusion), DCF (down-sampling fusion).

GFD-Net's figure names these nodes but they were never released; this is our design (equations in
docs/architecture.md). Frequency awareness comes from FreqFusion, "Frequency-aware Feature Fusion for Dense Image
Prediction" (arXiv:2408.12879): up-sampled coarse features are smoothed by a content-adaptive low-pass (ALPF), the fine
feature is sharpened by a content-adaptive high-pass (AHPF). Down-sampling is anti-aliased, low-pass before stride, as in
"Making Convolutional Networks Shift-Invariant Again" (arXiv:1904.11486).
Shape shorthand: B batch, C channels, H x W the target resolution; inputs in the YAML ``from`` order.

Resolution contract (the one shape-dependent choice, below, is fixed when a graph is traced and holds at every size
of a stride-2 pyramid, so dynamic ONNX export holds):
- FIF / UADF: the FIRST input sets the output resolution; the others are at the same or a coarser resolution and are
  nearest-resized to it (``size=`` taken from the first input, which exports as a dynamic Resize). An input at
  ceil(H/2) x ceil(W/2) (a stride-2 child of the first) is thereby up-sampled as ``u[i] = c[i // 2]``, so its ALPF
  runs with folded kernels (`fold_kernels_up2`: the same filter in 9 passes instead of 25); in our YAMLs such an
  input is a stride-2 child at every input size.
- DCF: the LAST input sets the output resolution; the first ``n_high`` inputs (default all but the last) are at twice
  that resolution and go through AADown.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from ultralytics.nn.modules import Conv

from .freq import AADown, AdaptiveHighPass, AdaptiveLowPass
from ..on_load import RegisterOnLoad

__all__ = ("DCF", "FIF", "UADF")


def _guide_channels(c2: int) -> int:
    """Width of the compressed feature that kernels and fusion weights are predicted from."""
    return max(c2 // 4, 8)


def _check_inputs(name: str, c1: list[int], n_min: int, n_max: int | None = None) -> list[int]:
    """Validate a multi-input ``c1`` list (the parser's channel list in the YAML ``from`` order)."""
    c1 = [int(c) for c in c1] if isinstance(c1, (list, tuple)) else []
    if not (n_min <= len(c1) <= (n_max or len(c1))) or min(c1, default=0) < 1:
        want = f"exactly {n_min}" if n_max == n_min else f"at least {n_min}"
        raise ValueError(f"{name}: c1 must be a list of {want} input channel counts (YAML from: [..]), got {c1}")
    return c1


class AdaptiveSum(nn.Module):
    """Per-pixel softmax weights over n inputs, predicted from a guide (ASFF-style): sum_i w_i * x_i.

    Args:
        c (int): Guide channels.
        n (int): Number of inputs.

    Examples:
        >>> m = AdaptiveSum(16, 2)
        >>> m([torch.randn(1, 64, 8, 8)] * 2, torch.randn(1, 16, 8, 8)).shape
        torch.Size([1, 64, 8, 8])
    """

    def __init__(self, c: int, n: int):
        super().__init__()
        self.weights = nn.Conv2d(c, n, 1)
        nn.init.normal_(self.weights.weight, std=1e-2)  # near-equal weights 1/n at the start, guide still gets gradient
        nn.init.zeros_(self.weights.bias)

    def forward(self, xs: list[torch.Tensor], guide: torch.Tensor) -> torch.Tensor:
        w = self.weights(guide).softmax(1)
        return sum(w[:, i : i + 1] * x for i, x in enumerate(xs))


class FreqAlign(nn.Module):
    """Bring n inputs to the first one's resolution and width, frequency-aware: AHPF on it, ALPF on the up-sampled rest.

    Returns the aligned list [AHPF(t), ALPF(up(r_1)), ...] (each (B, c2, H, W)) and the guide (B, G, H, W).

    Args:
        c1 (list[int]): Input channels; the first input is the target resolution.
        c2 (int): Output channels of every aligned feature.
        k_lp (int): ALPF kernel size.
        k_hp (int): AHPF kernel size.

    Examples:
        >>> m = FreqAlign([32, 64], 16)
        >>> [t.shape[1:] for t in m([torch.randn(1, 32, 16, 16), torch.randn(1, 64, 8, 8)])[0]]
        [torch.Size([16, 16, 16]), torch.Size([16, 16, 16])]
    """

    def __init__(self, c1: list[int], c2: int, k_lp: int = 5, k_hp: int = 3):
        super().__init__()
        cg = _guide_channels(c2)
        self.reduce = nn.ModuleList(Conv(c, c2, 1) for c in c1)  # at each input's own resolution (cheap for coarse)
        self.guide = Conv(c2, cg, 1)
        self.highpass = AdaptiveHighPass(cg, c2, k_hp)
        self.lowpass = nn.ModuleList(AdaptiveLowPass(cg, k_lp) for _ in c1[1:])

    def forward(self, xs: list[torch.Tensor]) -> tuple[list[torch.Tensor], torch.Tensor]:
        t = self.reduce[0](xs[0])
        ups = [F.interpolate(r(x), size=t.shape[-2:], mode="nearest") for r, x in zip(self.reduce[1:], xs[1:])]
        g = self.guide(t + sum(ups))
        up2 = [x.shape[-2:] == ((t.shape[-2] + 1) // 2, (t.shape[-1] + 1) // 2) for x in xs[1:]]
        return [self.highpass(t, g)] + [lp(u, g, s2) for lp, u, s2 in zip(self.lowpass, ups, up2)], g


class _FFPNNode(RegisterOnLoad, nn.Module):
    """Base of the FF-FPN nodes: their output mixer is `merge`; checkpoints from before the rename called it `fuse`,
    which shadowed the `fuse()` protocol. Old state dicts and pickled modules are remapped on load."""

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for key in [k for k in state_dict if k.startswith(f"{prefix}fuse.")]:
            state_dict[f"{prefix}merge.{key[len(prefix) + 5:]}"] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def __setstate__(self, state: dict) -> None:
        modules = state.get("_modules", {})
        if "fuse" in modules:
            modules["merge"] = modules.pop("fuse")
        super().__setstate__(state)


class FIF(_FFPNNode):
    """Frequency-aware integration of several scales at the first input's resolution: (B, c2, H, W).

    ``FIF_top <- [P3, P4, P5]`` gives P3; ``FIF_mid <- [P4, P5, PSA(P5)]`` gives P4. Aligned with FreqAlign, then
    concatenated and mixed by a 1x1 Conv.

    Args:
        c1 (list[int]): Input channels, YAML ``from`` order; the first input is the target resolution.
        c2 (int): Output channels (width-scaled by the parser).
        k_lp (int): ALPF kernel size for the up-sampled inputs.
        k_hp (int): AHPF kernel size for the target input.

    Examples:
        >>> m = FIF([16, 32, 64], 32)
        >>> m([torch.randn(1, 16, 32, 32), torch.randn(1, 32, 16, 16), torch.randn(1, 64, 8, 8)]).shape
        torch.Size([1, 32, 32, 32])
    """

    def __init__(self, c1: list[int], c2: int, k_lp: int = 5, k_hp: int = 3):
        super().__init__()
        c1 = _check_inputs("FIF", c1, 2)
        self.align = FreqAlign(c1, c2, k_lp, k_hp)
        self.merge = Conv(len(c1) * c2, c2, 1)

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return self.merge(torch.cat(self.align(xs)[0], 1))


class UADF(_FFPNNode):
    """Up-sampling adaptive fusion of [fine, coarse] at the fine resolution: (B, c2, H, W).

    ALPF on the up-sampled coarse feature, AHPF on the fine one, then per-pixel softmax weights (AdaptiveSum).

    Args:
        c1 (list[int]): [fine, coarse] input channels (e.g. CDF_top at P3, CDF_mid at P4).
        c2 (int): Output channels.
        k_lp (int): ALPF kernel size.
        k_hp (int): AHPF kernel size.

    Examples:
        >>> m = UADF([32, 64], 32)
        >>> m([torch.randn(1, 32, 32, 32), torch.randn(1, 64, 16, 16)]).shape
        torch.Size([1, 32, 32, 32])
    """

    def __init__(self, c1: list[int], c2: int, k_lp: int = 5, k_hp: int = 3):
        super().__init__()
        c1 = _check_inputs("UADF", c1, 2, 2)
        self.align = FreqAlign(c1, c2, k_lp, k_hp)
        self.merge = AdaptiveSum(_guide_channels(c2), 2)

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return self.merge(*self.align(xs))


class DCF(_FFPNNode):
    """Down-sampling fusion at the last input's resolution: (B, c2, H, W).

    The first ``n_high`` inputs (at 2H x 2W) go through AADown (binomial blur, then a stride-2 3x3 Conv), the others
    through a 1x1 Conv; a per-pixel softmax (AdaptiveSum, guide from their sum) fuses them.
    ``DCF_mid <- [UADF-CDF (P3), CDF_top (P3), CDF_mid (P4)]`` gives P4; ``DCF_bottom <- [P4 out, CDF_mid, PSA]`` gives P5.

    Args:
        c1 (list[int]): Input channels, YAML ``from`` order: high-resolution inputs first.
        c2 (int): Output channels.
        n_high (int | None): How many leading inputs are at twice the output resolution; None means all but the last.

    Examples:
        >>> m = DCF([16, 16, 32], 32)
        >>> m([torch.randn(1, 16, 32, 32), torch.randn(1, 16, 32, 32), torch.randn(1, 32, 16, 16)]).shape
        torch.Size([1, 32, 16, 16])
    """

    def __init__(self, c1: list[int], c2: int, n_high: int | None = None):
        super().__init__()
        c1 = _check_inputs("DCF", c1, 2)
        self.n_high = len(c1) - 1 if n_high is None else int(n_high)
        if not 0 <= self.n_high < len(c1):
            raise ValueError(f"DCF: n_high={n_high} must be in [0, {len(c1) - 1}] (the last input sets the resolution)")
        cg = _guide_channels(c2)
        self.proj = nn.ModuleList(AADown(c, c2) if i < self.n_high else Conv(c, c2, 1) for i, c in enumerate(c1))
        self.guide = Conv(c2, cg, 1)
        self.merge = AdaptiveSum(cg, len(c1))

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        fs = [p(x) for p, x in zip(self.proj, xs)]
        return self.merge(fs, self.guide(sum(fs)))

    def extra_repr(self) -> str:
        return f"n_high={self.n_high}"
