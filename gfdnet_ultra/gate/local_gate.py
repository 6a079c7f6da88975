"""A gate that scores every cell of the stride-8 map and keeps the highest score: tiny defects are not averaged away.

DefectNet pools the whole map before its classifier, so one 10 px defect on a 640 px board is 1/4096 of the average.
`LocalDefectGate` runs a small convolutional scorer on the map (1x1, 3x3, 1x1: each cell sees a 3 x 3 neighbourhood
of stride-8 cells) and takes the image logit as the maximum cell logit (multiple-instance pooling): an image is as
defective as its worst place. The cell scores can be trained densely from box labels (`gate/fit.py`).
`attach_gate` puts such a gate into a trained detector: in place of its DefectGate, or as a new pass-through row right
after the last stride-8 backbone layer of a plain detector (the layout of the gated YAMLs).
Shape shorthand: B batch, C channels, H x W the stride-8 map.
"""

from __future__ import annotations

import torch
from torch import nn

from .head import DefectGate

__all__ = ("LocalDefectGate", "attach_gate", "stride8_layer")


class LocalDefectGate(DefectGate):
    """Pass-through gate with a cell scorer and max pooling: (B, c1, H, W) -> the same tensor; `self.logits` (B,).

    Args:
        c1 (int): Input channels.
        c2 (int): Output channels; must equal c1 (pass-through).
        hidden (int): Width of the scorer.

    Examples:
        >>> g = LocalDefectGate(64, 64, hidden=16)
        >>> g(torch.randn(2, 64, 10, 10)).shape, g.logits.shape, g.cell_logits(torch.randn(2, 64, 10, 10)).shape
        (torch.Size([2, 64, 10, 10]), torch.Size([2]), torch.Size([2, 10, 10]))
    """

    def __init__(self, c1: int, c2: int, hidden: int = 32):
        nn.Module.__init__(self)  # DefectGate's own pooled classifier is not built: this gate replaces it
        if c2 != c1:
            raise ValueError(f"LocalDefectGate: is a pass-through layer, so c2 must equal c1={c1}, got c2={c2}")
        if hidden < 1:
            raise ValueError(f"LocalDefectGate: hidden={hidden} must be a positive width, e.g. 32")
        self.c1, self.hidden, self.pool = c1, hidden, "max-cell"
        self.scorer = nn.Sequential(
            nn.Conv2d(c1, hidden, 1), nn.SiLU(), nn.Conv2d(hidden, hidden, 3, padding=1), nn.SiLU(), nn.Conv2d(hidden, 1, 1)
        )
        self.logits: torch.Tensor | None = None
        self.threshold: float | None = None  # calibrated by gate/fit.py; the gated runner's default when set

    def cell_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Defect logit of every cell, (B, H, W)."""
        return self.scorer(x).squeeze(1)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        return self.cell_logits(x).flatten(1).amax(1)


def stride8_layer(model: nn.Module, imgsz: int = 64) -> tuple[int, int]:
    """(index, channels) of the last backbone layer of a YAML-built detector whose output has stride 8 (P3)."""
    layers = model.model
    n_backbone = len((getattr(model, "yaml", None) or {}).get("backbone", layers))
    shapes: dict[int, tuple] = {}
    hooks = [m.register_forward_hook(lambda m, i, o, j=j: shapes.__setitem__(j, tuple(o.shape)) if torch.is_tensor(o) else None)
             for j, m in enumerate(layers)]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, imgsz, imgsz, dtype=next(model.parameters()).dtype))
    finally:
        for h in hooks:
            h.remove()
    hits = [j for j in range(n_backbone) if j in shapes and shapes[j][-1] == imgsz // 8]
    if not hits:
        raise ValueError(f"{type(model).__name__}: no backbone layer with a stride-8 output; pass cut=<layer index>")
    return hits[-1], shapes[hits[-1]][1]


def attach_gate(model: nn.Module, gate: DefectGate, cut: int | None = None) -> int:
    """Put `gate` into `model` in place; return its index.

    A model with a DefectGate gets `gate` in its place. A plain detector gets it as a new row after layer `cut`
    (default: the last stride-8 backbone layer): later rows' indices, their `from` indices and the model's `save`
    list shift by one, exactly as in the gated YAMLs, so the detector computes the same outputs.
    """
    from .head import find_gate

    layers = model.model
    try:
        idx, old = find_gate(model)
        gate.f, gate.i, gate.type, gate.np = old.f, old.i, type(gate).__name__, sum(p.numel() for p in gate.parameters())
        layers[idx] = gate
        return idx
    except ValueError:
        pass
    cut = stride8_layer(model)[0] if cut is None else int(cut)
    if not 0 <= cut < len(layers) - 1:
        raise ValueError(f"attach_gate: cut={cut} is not a layer before the head (0..{len(layers) - 2})")
    shift = lambda j: j + 1 if j > cut else j  # noqa: E731  (-1 = the previous row, which the pass-through keeps)
    for m in layers[cut + 1 :]:
        m.i += 1
        m.f = shift(m.f) if isinstance(m.f, int) else [shift(j) for j in m.f]
    gate.f, gate.i, gate.type, gate.np = -1, cut + 1, type(gate).__name__, sum(p.numel() for p in gate.parameters())
    model.model = nn.Sequential(*layers[: cut + 1], gate, *layers[cut + 1 :])
    model.save = sorted(shift(j) for j in model.save)
    return cut + 1
