"""Export a module to ONNX with dynamic batch and spatial axes, and run it in onnxruntime (torchvision's run_model idea).

Tests export at one input size and run at others, so anything baked in at trace time shows up.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn


def onnx_runner(module: nn.Module, *examples: torch.Tensor) -> Callable[..., list[np.ndarray]]:
    """Export `module(*examples)` (opset 18, the TorchScript exporter Ultralytics uses); return `run(*inputs)`.

    Batch and every spatial axis of every input and output are dynamic.
    """
    ort = pytest.importorskip("onnxruntime")
    with torch.no_grad():
        out = module(*examples)
    ranks = [t.dim() for t in (out if isinstance(out, (list, tuple)) else [out])]
    names = [f"x{i}" for i in range(len(examples))]
    outputs = [f"y{i}" for i in range(len(ranks))]
    axes = {n: {d: f"{n}_{d}" for d in (0, *range(2, x.dim()))} for n, x in zip(names, examples)}
    axes.update({n: {d: f"{n}_{d}" for d in (0, *range(2, r))} for n, r in zip(outputs, ranks)})
    f = io.BytesIO()
    torch.onnx.export(module, examples, f, dynamo=False, opset_version=18, input_names=names, output_names=outputs,
                      dynamic_axes=axes)
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    return lambda *xs: session.run(None, {n: x.numpy() for n, x in zip(names, xs)})
