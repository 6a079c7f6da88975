"""Chain the two ONNX graphs of a gated model on onnxruntime or OpenVINO, running the second only for defective images.

The graphs come from `gate/export.py`: `<stem>-gate.onnx` (images -> p_defect, feat0..) and
`<stem>-tail.onnx` (feat0.. -> output0). The same `run_gated` as the PyTorch predictor makes the decision, so a
deployment gets the saving too (DefectNet had no export). Output rows of skipped images are zeros, as in PyTorch.
Either backend runs the same graphs through the same code (`backends.load_graph`), so the two give the same decisions.
Shape shorthand: B batch, A anchors, nc classes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .backends import load_graph
from .runner import run_gated, scatter
from .threshold import check_threshold

__all__ = ("GatedOnnxRunner",)


class GatedOnnxRunner:
    """`runner(images (B, 3, H, W) float32 in [0, 1]) -> (p (B,), keep (B,), output (B, 4 + nc, A))`.

    Args:
        gate_file (str | Path): The backbone + gate graph.
        tail_file (str | Path | None): The neck + head graph; default: `gate_file` with `-gate` replaced by `-tail`.
        threshold (float): Images with p(defect) < threshold skip the tail graph.
        providers (list[str] | None): onnxruntime execution providers (default: CPU).
        backend (str): "onnxruntime" or "openvino" (its CPU plugin, reading the same ONNX files).
        threads (int | None): Intra-op threads (default: the backend's own choice).

    Examples:
        >>> runner = GatedOnnxRunner("best-gate.onnx", threshold=0.5)  # doctest: +SKIP
        >>> p, keep, y = runner(np.zeros((2, 3, 640, 640), np.float32))  # doctest: +SKIP
    """

    def __init__(self, gate_file: str | Path, tail_file: str | Path | None = None, threshold: float = 0.5,
                 providers: list[str] | None = None, backend: str = "onnxruntime", threads: int | None = None):
        gate_file = Path(gate_file)
        tail_file = Path(tail_file) if tail_file else gate_file.with_name(gate_file.name.replace("-gate.onnx", "-tail.onnx"))
        self.threshold = check_threshold(threshold)
        self.backend = backend
        self.gate, self.tail = (load_graph(f, backend, threads, providers) for f in (gate_file, tail_file))
        self.feat_names = [name for name, _ in self.tail.inputs]
        self.out_shape = self.tail.output_shape[1:]
        if None in self.out_shape:  # dynamic dims: learn them once on zeros
            dummy = {name: np.zeros((1, *shape[1:]), np.float32) for name, shape in self.tail.inputs}
            self.out_shape = tuple(self.tail(dummy)[0].shape[1:])
        self.calls = {"gate": 0, "tail": 0}

    def stage1(self, im: np.ndarray):
        self.calls["gate"] += 1
        p, *feats = self.gate({"images": np.ascontiguousarray(im, dtype=np.float32)})
        return p, feats

    def stage2(self, feats: list[np.ndarray]) -> np.ndarray:
        self.calls["tail"] += 1
        return self.tail({n: np.ascontiguousarray(f) for n, f in zip(self.feat_names, feats)})[0]

    def __call__(self, im: np.ndarray):
        p, keep, y = run_gated(self.stage1, self.stage2, im, self.threshold)
        return p, keep, scatter(y, keep, self.out_shape)
