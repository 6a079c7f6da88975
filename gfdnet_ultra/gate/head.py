"""The one-model defect gate: a pass-through YAML layer that classifies the image from the backbone's deepest map.

DefectNet ("DefectNet: Toward Fast and Effective Defect Detection", Li et al., IEEE TIM 2021, doi
10.1109/TIM.2021.3067221) puts global average pooling and one Linear on ResNet C5, before the neck, and skips the
neck and heads for images it calls normal. Here the gate is a row of the model YAML placed right after the last
backbone layer. It returns its input unchanged (so strides, the neck's `from` indices, fusion and export of the full
graph are untouched) and keeps the logits of its last forward in `self.logits` for the joint loss and the gated runner.
Shape shorthand: B batch, C channels, H x W the P5 map.
Deviations from DefectNet (see docs/gate.md): one sigmoid logit instead of a 2-way softmax (the same model: the
softmax of two logits is the sigmoid of their difference); average and max pooling concatenated, because a few-pixel
defect vanishes under average pooling alone (DefectNet weakness 2); a small hidden layer.
"""

from __future__ import annotations

import torch
from torch import nn

from ..on_load import RegisterOnLoad

__all__ = ("DefectGate", "find_gate")


class DefectGate(RegisterOnLoad, nn.Module):
    """Pass-through gate: (B, c1, H, W) -> the same tensor; `self.logits` (B,) holds the defect logit of each image.

    Args:
        c1 (int): Input channels, filled in by the YAML parser.
        c2 (int): Output channels, width-scaled by the parser; must equal c1 (write the previous row's width).
        hidden (int): Width of the hidden layer of the classifier.
        pool (str): "avgmax" (average and max pooling concatenated) or "avg" (DefectNet's).

    Examples:
        >>> g = DefectGate(64, 64)
        >>> g(torch.randn(2, 64, 4, 4)).shape, g.logits.shape
        (torch.Size([2, 64, 4, 4]), torch.Size([2]))
    """

    def __init__(self, c1: int, c2: int, hidden: int = 64, pool: str = "avgmax"):
        super().__init__()
        if c2 != c1:
            raise ValueError(
                f"DefectGate: is a pass-through layer, so c2 must equal its input width c1={c1}, got c2={c2}; "
                "write the width of the previous YAML row (e.g. [1024] after C2PSA [1024])"
            )
        if pool not in ("avg", "avgmax"):
            raise ValueError(f"DefectGate: pool={pool!r} is not supported; use 'avg' or 'avgmax'")
        if hidden < 1:
            raise ValueError(f"DefectGate: hidden={hidden} must be a positive width, e.g. 64")
        self.c1, self.hidden, self.pool = c1, hidden, pool
        self.fc = nn.Sequential(nn.Linear(c1 * (2 if pool == "avgmax" else 1), hidden), nn.SiLU(), nn.Linear(hidden, 1))
        self.logits: torch.Tensor | None = None  # set by every forward; read by the joint loss and the gated runner

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Defect logits (B,) of a (B, c1, H, W) map."""
        feats = [x.mean((2, 3))] + ([x.amax((2, 3))] if self.pool == "avgmax" else [])
        return self.fc(torch.cat(feats, 1)).squeeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.logits = self.classify(x)
        return x

    def __getstate__(self) -> dict:
        """Copies and checkpoints drop the last logits (a non-leaf tensor that deepcopy refuses)."""
        return {**self.__dict__, "logits": None}

    def extra_repr(self) -> str:
        return f"c1={self.c1}, hidden={self.hidden}, pool={self.pool!r}"


def find_gate(model: nn.Module) -> tuple[int, DefectGate]:
    """(index in `model.model`, layer) of the DefectGate of a YAML-built model; ValueError if it has none."""
    layers = getattr(model, "model", None)
    if isinstance(layers, nn.Sequential):
        for i, m in enumerate(layers):
            if isinstance(m, DefectGate):
                return i, m
    raise ValueError(
        f"{type(model).__name__} has no DefectGate layer, so it cannot gate itself; build it from a gated YAML "
        "(e.g. yolo11-gated-n.yaml) or attach a two-model classifier (gate_classifier=path/to/normal-defective-cls.pt)"
    )
