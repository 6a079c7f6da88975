"""A gate that scores every cell of the stride-8 map and keeps the highest score: tiny defects are not averaged away.

DefectNet pools the whole map before its classifier, so one 10 px defect on a 640 px board is 1/4096 of the average.
`LocalDefectGate` runs a small convolutional scorer on the map (1x1, 3x3, 1x1: each cell sees a 3 x 3 neighbourhood
of stride-8 cells) and takes the image logit as the maximum cell logit (multiple-instance pooling): an image is as
defective as its worst place. The cell scores can be trained densely from box labels (`gate/fit.py`).
With `c_fine` > 0 the gate reads two maps, its input (the backbone's stride-16 P4 map, passed through) and the
stride-8 P3 map: P4 is up-sampled onto P3's grid and concatenated with it, so every stride-8 cell is scored with the
wider context of P4 and the dense cell targets stay on the stride-8 grid (`new_gate(model, "p3p4")`).
With `down=2` the gate reads the stride-4 P2 map and its first convolution (3x3, stride 2) brings it onto the stride-8
cell grid: the cut comes before the P3 stage, so a skipped image saves more, and the few-pixel differences a P3 stage
may already have blurred are still there (`new_gate(model, "p2")`).
`attach_gate` puts such a gate into a trained detector as a pass-through row right after the last P3 (or P4) backbone
layer (the layout of the gated YAMLs), in place of any DefectGate the detector already has.
Shape shorthand: B batch, C channels, H x W the stride-8 map.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .head import DefectGate, find_gate

__all__ = ("FEATURES", "LocalDefectGate", "attach_gate", "backbone_layer", "detach_gate", "new_gate", "same_gate")

FEATURES = {
    "p3": "the backbone's stride-8 map",
    "p3p4": "P3 plus the stride-16 P4 map up-sampled onto it; the gate then sits after P4",
    "p2": "the stride-4 P2 map scored on the stride-8 grid, before the P3 stage; fit-gate's default",
}
STRIDES = {"p3": 8, "p3p4": 16, "p2": 4}  # output stride of the backbone layer each gate sits after


class LocalDefectGate(DefectGate):
    """Pass-through gate with a cell scorer and max pooling: (B, c1, H, W) -> the same tensor; `self.logits` (B,).

    Args:
        c1 (int): Input channels (the map passed through).
        c2 (int): Output channels; must equal c1 (pass-through).
        hidden (int): Width of the scorer.
        c_fine (int): Channels of a second, twice finer input map (P3 under a P4 input); 0 reads the input alone.
        down (int): Stride of the scorer's first convolution: 1 (1x1) for a stride-8 input, 2 (3x3) for a stride-4
            input, so the cells are stride 8 either way.

    Examples:
        >>> g = LocalDefectGate(64, 64, hidden=16)
        >>> g(torch.randn(2, 64, 10, 10)).shape, g.logits.shape, g.cell_logits(torch.randn(2, 64, 10, 10)).shape
        (torch.Size([2, 64, 10, 10]), torch.Size([2]), torch.Size([2, 10, 10]))
        >>> g2 = LocalDefectGate(32, 32, hidden=16, c_fine=16)
        >>> g2([torch.randn(2, 32, 5, 5), torch.randn(2, 16, 10, 10)]).shape, g2.logits.shape
        (torch.Size([2, 32, 5, 5]), torch.Size([2]))
        >>> LocalDefectGate(16, 16, hidden=8, down=2).cell_logits(torch.randn(2, 16, 20, 20)).shape
        torch.Size([2, 10, 10])
    """

    def __init__(self, c1: int, c2: int, hidden: int = 32, c_fine: int = 0, down: int = 1):
        nn.Module.__init__(self)  # DefectGate's own pooled classifier is not built: this gate replaces it
        if c2 != c1:
            raise ValueError(f"LocalDefectGate: is a pass-through layer, so c2 must equal c1={c1}, got c2={c2}")
        if hidden < 1:
            raise ValueError(f"LocalDefectGate: hidden={hidden} must be a positive width, e.g. 32")
        if c_fine < 0:
            raise ValueError(f"LocalDefectGate: c_fine={c_fine} must be 0 (one map) or the finer map's channels")
        if down not in (1, 2) or (down == 2 and c_fine):
            raise ValueError(f"LocalDefectGate: down={down} must be 1 (a stride-8 input) or 2 (a stride-4 input, "
                             "one map only)")
        self.c1, self.hidden, self.pool, self.c_fine, self.down = c1, hidden, "max-cell", c_fine, down
        first = nn.Conv2d(c1, hidden, 3, 2, 1) if down == 2 else nn.Conv2d(c1 + c_fine, hidden, 1)
        self.scorer = nn.Sequential(
            first, nn.SiLU(), nn.Conv2d(hidden, hidden, 3, padding=1), nn.SiLU(),
            nn.Conv2d(hidden, 1, 1),
        )
        self.logits: torch.Tensor | None = None
        self.cells: torch.Tensor | None = None  # (B, H, W) cell logits of the last forward, for the joint cell loss
        self.threshold: float | None = None  # calibrated by gate/fit.py; the gated runner's default when set

    @staticmethod
    def scored_map(x: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        """The map the scorer reads: the input, or for [coarse, fine] inputs the fine map with the coarse one
        up-sampled (nearest) onto its grid and concatenated, (B, c_fine + c1, H, W)."""
        if torch.is_tensor(x):
            return x
        coarse, fine = x
        return torch.cat([fine, F.interpolate(coarse, size=fine.shape[-2:], mode="nearest")], 1)

    def cell_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Defect logit of every cell of a `scored_map`, (B, H, W)."""
        return self.scorer(x).squeeze(1)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        return self.cell_logits(x).flatten(1).amax(1)

    def forward(self, x: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        self.cells = self.cell_logits(self.scored_map(x))
        self.logits = self.cells.flatten(1).amax(1)
        return x if torch.is_tensor(x) else x[0]

    def __getstate__(self) -> dict:
        return {**super().__getstate__(), "cells": None}

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, c_fine={getattr(self, 'c_fine', 0)}, down={getattr(self, 'down', 1)}"


def backbone_layer(model: nn.Module, stride: int = 8, imgsz: int = 64) -> tuple[int, int]:
    """(index, channels) of a YAML-built detector's last layer of output stride `stride` before its first coarser
    layer: the backbone's P3 (8) or P4 (16) map. Gate rows are passed over (they only pass their input on)."""
    shapes: dict[int, tuple] = {}
    hooks = [m.register_forward_hook(lambda m, i, o, j=j: shapes.__setitem__(j, tuple(o.shape)) if torch.is_tensor(o) else None)
             for j, m in enumerate(model.model) if not isinstance(m, DefectGate)]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, imgsz, imgsz, dtype=next(model.parameters()).dtype))
    finally:
        for h in hooks:
            h.remove()
    strides = {j: imgsz // s[-1] for j, s in sorted(shapes.items())}
    coarser = next((j for j, s in strides.items() if s > stride), len(model.model))
    hits = [j for j, s in strides.items() if j < coarser and s == stride]
    if not hits:
        raise ValueError(f"{type(model).__name__}: no backbone layer with a stride-{stride} output; "
                         "pass cut=<layer index>")
    return hits[-1], shapes[hits[-1]][1]


def new_gate(model: nn.Module, features: str = "p3", hidden: int = 32) -> LocalDefectGate:
    """A LocalDefectGate sized for `model`'s backbone: reading P3 alone (`features="p3"`), P3 and P4 ("p3p4") or P2
    ("p2")."""
    if features not in FEATURES:
        raise ValueError(f"features={features!r} is not supported; use "
                         + " or ".join(f"features={k} ({v})" for k, v in FEATURES.items()))
    c = backbone_layer(model, STRIDES[features])[1]
    if features == "p3p4":
        return LocalDefectGate(c, c, hidden, c_fine=backbone_layer(model, 8)[1])
    return LocalDefectGate(c, c, hidden, down=2 if features == "p2" else 1)


def same_gate(gate: LocalDefectGate) -> LocalDefectGate:
    """A freshly initialised LocalDefectGate of `gate`'s shape (inputs, width, second map, first stride)."""
    return LocalDefectGate(gate.c1, gate.c1, gate.hidden, gate.c_fine, getattr(gate, "down", 1))


def _shift_rows(model: nn.Module, start: int, step: int, shift) -> None:
    """Rows from `start` on: index += step, `from` indices mapped by `shift` (-1, the previous row, stays)."""
    for m in model.model[start:]:
        m.i += step
        m.f = shift(m.f) if isinstance(m.f, int) else [shift(j) for j in m.f]
    model.save = sorted({shift(j) for j in model.save})


def detach_gate(model: nn.Module) -> int | None:
    """Remove a model's DefectGate row in place and return its former index (None if it has none).

    The inverse of `attach_gate`'s insertion: later rows' indices, `from` indices and `save` shift back by one; a
    row that read the gate by index reads the gate's pass-through input, the row before it.
    """
    try:
        idx, _ = find_gate(model)
    except ValueError:
        return None
    layers = model.model
    model.model = nn.Sequential(*layers[:idx], *layers[idx + 1 :])
    _shift_rows(model, idx, -1, lambda j: j - 1 if j >= idx else j)
    return idx


def attach_gate(model: nn.Module, gate: DefectGate, cut: int | None = None) -> int:
    """Put `gate` into `model` in place as a pass-through row after layer `cut`; return its index.

    `cut` defaults to the last P3 backbone layer, P2 for a gate reading a stride-4 map (`down=2`), or P4 for a gate
    that also reads P3 (`c_fine`), whose row then reads [-1, P3]. A DefectGate the model already has is removed first
    (`detach_gate`; `cut` counts the rows without it), so refitting can move a gate between P2, P3 and P4. Later rows'
    indices, their `from` indices and the model's `save` list shift by one, exactly as in the gated YAMLs, so the
    detector computes the same outputs.
    """
    detach_gate(model)
    fine = getattr(gate, "c_fine", 0)
    p3 = backbone_layer(model, 8)[0] if fine else None
    stride = 16 if fine else 4 if getattr(gate, "down", 1) == 2 else 8
    cut = backbone_layer(model, stride)[0] if cut is None else int(cut)
    layers = model.model
    if not 0 <= cut < len(layers) - 1:
        raise ValueError(f"attach_gate: cut={cut} is not a layer before the head (0..{len(layers) - 2})")
    if fine and p3 >= cut:
        raise ValueError(f"attach_gate: a gate that also reads P3 (layer {p3}) must sit after it, got cut={cut}")
    _shift_rows(model, cut + 1, 1, lambda j: j + 1 if j > cut else j)
    gate.f = [-1, p3] if fine else -1
    gate.i, gate.type, gate.np = cut + 1, type(gate).__name__, sum(p.numel() for p in gate.parameters())
    model.model = nn.Sequential(*layers[: cut + 1], gate, *layers[cut + 1 :])
    model.save = sorted({*model.save, *([p3] if fine else [])})
    return cut + 1
