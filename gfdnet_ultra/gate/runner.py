"""Run a detector in two stages around its gate, and the rest only on images the gate passes.

Stage 1 runs the backbone and the gate on the whole batch and returns p(defect) and the features stage 2 needs;
stage 2 (neck and head) runs on the images with p >= threshold only. `GateSplit` cuts a YAML-built model (a
`Sequential` whose layers carry Ultralytics' `f`/`i` routing attributes, plus its `save` list) right after its
DefectGate; the same two functions drive the PyTorch predictor, the validator and the two exported ONNX graphs.
Shape shorthand: B batch, k images kept, F the number of carried feature maps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from .head import find_gate

__all__ = ("GateSplit", "keep_images", "run_gated", "scatter")


class GateSplit:
    """The two stages of a gated YAML model: `stage1(x) -> (p (B,), feats)`, `stage2(feats) -> model output`.

    `feats[0]` is the gate's output (the last backbone map); `feats[1:]` are the earlier maps the neck reads (the
    `carry` layer indices), so the split exports as two graphs with plain tensor inputs and outputs.

    Examples:
        >>> split = GateSplit(model)  # doctest: +SKIP
        >>> p, feats = split.stage1(torch.zeros(2, 3, 64, 64))  # doctest: +SKIP
    """

    def __init__(self, model: nn.Module):
        self.index, self.gate = find_gate(model)
        self.layers, self.save = model.model, set(model.save)
        froms = (j for m in self.layers[self.index + 1 :] for j in ([m.f] if isinstance(m.f, int) else m.f))
        self.carry = sorted({j for j in froms if 0 <= j < self.index})

    @staticmethod
    def _inputs(m: nn.Module, x, y: list):
        """What layer `m` reads, as `DetectionModel._predict_once` routes it: the previous output x or saved maps y."""
        if m.f == -1:
            return x
        return y[m.f] if isinstance(m.f, int) else [x if j == -1 else y[j] for j in m.f]

    def _run(self, layers: Sequence[nn.Module], x, y: list):
        for m in layers:
            x = m(self._inputs(m, x, y))
            y.append(x if m.i in self.save else None)
        return x

    def gate_input(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        """What the gate reads for a batch (its `from` maps), from the backbone up to the gate; the gate is not run."""
        y: list = []
        return self._inputs(self.gate, self._run(self.layers[: self.index], x, y), y)

    def stage1(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Backbone and gate on every image: p(defect) (B,) and the carried features."""
        y: list = []
        x = self._run(self.layers[: self.index + 1], x, y)
        return self.gate.logits.sigmoid(), [x, *(y[j] for j in self.carry)]

    def stage2(self, feats: Sequence[torch.Tensor]):
        """Neck and head on the carried features of the kept images."""
        y: list = [None] * (self.index + 1)
        for j, f in zip(self.carry, feats[1:]):
            y[j] = f
        y[self.index] = feats[0]  # the gate's own output, read by later rows by index as well as by -1
        return self._run(self.layers[self.index + 1 :], feats[0], y)


def _indices(keep):
    return keep.nonzero().squeeze(1) if isinstance(keep, torch.Tensor) else np.flatnonzero(keep)


def keep_images(p, feats: Sequence, threshold: float):
    """(keep (B,) bool, the features of the kept images or None if none is kept); torch or numpy."""
    keep = p >= threshold
    idx = _indices(keep)
    if len(idx) == 0:
        return keep, None
    return keep, (list(feats) if len(idx) == len(keep) else [f[idx] for f in feats])


def run_gated(stage1: Callable, stage2: Callable, x, threshold: float):
    """(p (B,), keep (B,) bool, stage-2 output of the kept images or None if none is kept); torch or numpy."""
    p, feats = stage1(x)
    keep, kept = keep_images(p, feats, threshold)
    return p, keep, (None if kept is None else stage2(kept))


def scatter(y_kept, keep, empty_shape: Sequence[int]):
    """A (B, *empty_shape) zero array (no box passes any confidence) with the kept images' rows filled, in order."""
    if isinstance(keep, torch.Tensor):
        full = torch.zeros((len(keep), *empty_shape), dtype=torch.float32 if y_kept is None else y_kept.dtype,
                           device=keep.device)
    else:
        full = np.zeros((len(keep), *empty_shape), dtype=np.float32 if y_kept is None else y_kept.dtype)
    if y_kept is not None:
        full[_indices(keep)] = y_kept
    return full
