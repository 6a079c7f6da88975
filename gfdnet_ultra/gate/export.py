"""Export a gated model as two ONNX graphs, `<stem>-gate.onnx` (backbone + gate) and `<stem>-tail.onnx` (neck + head).

The skip is data-dependent, so it stays outside the graphs (STYLE 2.4): `gate.onnx_runtime.GatedOnnxRunner` runs the
first graph on the batch and the second only on the images with p(defect) >= threshold. Graph 1: `images` (B, 3, H, W)
-> `p_defect` (B,), `feat0..featF` (the maps the neck reads); graph 2: `feat0..featF` -> `output0`, the same tensor as
Ultralytics' single-graph ONNX export (B, 4 + nc, A). The batch axis is dynamic, H and W are fixed at export.
`yolo export format=onnx` on a gated checkpoint writes both graphs beside the usual one (the `on_export_end`
callback of integration/gate_hooks.py).
"""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path

import torch
from torch import nn

from .runner import GateSplit

__all__ = ("export_gated_onnx",)


class _Stage1(nn.Module):
    def __init__(self, split: GateSplit):
        super().__init__()
        self.layers, self.split = split.layers, split

    def forward(self, im: torch.Tensor):
        p, feats = self.split.stage1(im)
        return (p, *feats)


class _Stage2(nn.Module):
    def __init__(self, split: GateSplit):
        super().__init__()
        self.layers, self.split = split.layers, split

    def forward(self, *feats: torch.Tensor):
        y = self.split.stage2(list(feats))
        return y[0] if isinstance(y, (tuple, list)) else y


def export_gated_onnx(model: nn.Module, file: str | Path, imgsz: int | tuple[int, int] = 640, opset: int = 17,
                      batch: int = 1) -> tuple[Path, Path]:
    """Write `<file stem>-gate.onnx` and `<file stem>-tail.onnx` for a model with a DefectGate; return their paths."""
    from ultralytics.nn.modules import Detect

    model = deepcopy(model).float().eval()
    model = model.fuse(verbose=False) if hasattr(model, "fuse") else model
    for m in model.modules():
        if isinstance(m, Detect):
            m.export, m.format, m.dynamic = True, "onnx", False
    split = GateSplit(model)  # raises if the model has no gate layer
    h, w = (imgsz, imgsz) if isinstance(imgsz, int) else imgsz
    im = torch.zeros(batch, 3, h, w)
    file = Path(file)
    gate_file, tail_file = file.with_name(f"{file.stem}-gate.onnx"), file.with_name(f"{file.stem}-tail.onnx")
    with torch.no_grad():
        p, *feats = _Stage1(split)(im)
    names = [f"feat{i}" for i in range(len(feats))]
    batch_axis = {n: {0: "batch"} for n in ("images", "p_defect", *names, "output0")}
    kwargs = {"opset_version": opset, "do_constant_folding": True, "dynamo": False}
    torch.onnx.export(_Stage1(split), (im,), str(gate_file), input_names=["images"], output_names=["p_defect", *names],
                      dynamic_axes={k: v for k, v in batch_axis.items() if k != "output0"}, **kwargs)
    torch.onnx.export(_Stage2(split), tuple(feats), str(tail_file), input_names=names, output_names=["output0"],
                      dynamic_axes={k: v for k, v in batch_axis.items() if k in (*names, "output0")}, **kwargs)
    return gate_file, tail_file
