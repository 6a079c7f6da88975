"""GFD-Net layers as plain PyTorch modules (no Ultralytics parser, trainer or exporter imports)."""

from __future__ import annotations

from .deform import ModulatedDeformConv2d, deform_conv2d_sampled
from .ffpn import DCF, FIF, UADF
from .freq import AADown, AdaptiveHighPass, AdaptiveLowPass, apply_pixel_kernels, binomial_filter, blur2d
from .tdsc import Detect_TDSC

__all__ = (
    "AADown",
    "AdaptiveHighPass",
    "AdaptiveLowPass",
    "DCF",
    "Detect_TDSC",
    "FIF",
    "ModulatedDeformConv2d",
    "UADF",
    "apply_pixel_kernels",
    "binomial_filter",
    "blur2d",
    "deform_conv2d_sampled",
)
