"""GFD-Net layers as plain PyTorch modules (no Ultralytics parser, trainer or exporter imports)."""

from __future__ import annotations

from .cdf import CDF, DMF, ConditionalPositionEncoding, DynamicGraphConvBlock, Grapher
from .deform import ModulatedDeformConv2d, deform_conv2d_sampled
from .ffpn import DCF, FIF, UADF
from .freq import (
    AADown,
    AdaptiveHighPass,
    AdaptiveLowPass,
    apply_pixel_kernels,
    binomial_filter,
    blur2d,
    fold_kernels_up2,
)
from .gcas import GAstage, GCAAtten, GCAAtten2, GCABlock, GlobalSpatial
from .graph_conv import DynamicMRConv4d, max_relative_axial
from .rcvit import RCVIT_VARIANTS, RCViT
from .tdsc import Detect_TDSC

__all__ = (
    "AADown",
    "AdaptiveHighPass",
    "AdaptiveLowPass",
    "CDF",
    "ConditionalPositionEncoding",
    "DCF",
    "DMF",
    "Detect_TDSC",
    "DynamicGraphConvBlock",
    "DynamicMRConv4d",
    "FIF",
    "GAstage",
    "GCAAtten",
    "GCAAtten2",
    "GCABlock",
    "GlobalSpatial",
    "Grapher",
    "ModulatedDeformConv2d",
    "RCVIT_VARIANTS",
    "RCViT",
    "UADF",
    "apply_pixel_kernels",
    "binomial_filter",
    "blur2d",
    "deform_conv2d_sampled",
    "fold_kernels_up2",
    "max_relative_axial",
)
