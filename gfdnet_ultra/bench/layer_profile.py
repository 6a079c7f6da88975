"""Per-layer profile of a YOLO `DetectionModel`: median time, FLOPs and parameters of every top-level layer.

Re-runs Ultralytics' `_predict_once` routing (each layer reads `m.f`, outputs kept for `model.save`) with a clock
around each layer, `reps` times after one warm-up pass, under `torch.inference_mode()`; FLOPs come from the same
thop+functional counter as the model totals, applied to each layer on its real inputs.
Shape shorthand: S square input side.
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

from .flops import count_module_flops

__all__ = ("layer_profile",)


def _inputs(m: nn.Module, x, y: list):
    return x if m.f == -1 else y[m.f] if isinstance(m.f, int) else [x if j == -1 else y[j] for j in m.f]


def layer_profile(model: nn.Module, imgsz: int = 640, reps: int = 5) -> list[dict]:
    """Per top-level layer: index, type, params, GFLOPs, median ms and share of the summed time, batch 1.

    Args:
        model (nn.Module): A (fused) Ultralytics `DetectionModel`: `model.model` layers with `.f`, `.i`, and `model.save`.
        imgsz (int): Square input side. reps (int): Timed passes.

    Returns:
        (list[dict]): One dict per layer: `i`, `type`, `params`, `gflops`, `ms`, `share`.
    """
    model.eval()
    p = next(model.parameters())
    im = torch.rand(1, 3, imgsz, imgsz, generator=torch.Generator().manual_seed(0)).to(p)
    layers = list(model.model)
    times = [[] for _ in layers]
    with torch.inference_mode():
        for r in range(reps + 1):
            x, y = im, []
            for k, m in enumerate(layers):
                x = _inputs(m, x, y)
                t0 = time.perf_counter()
                x = m(x)
                if r:  # pass 0 warms up
                    times[k].append(time.perf_counter() - t0)
                y.append(x if m.i in model.save else None)
    rows, x, y = [], im, []
    for k, m in enumerate(layers):  # a separate pass: counting hooks must not slow the timed one
        x_in = _inputs(m, x, y)
        gflops = count_module_flops(m, (x_in,)).gflops
        with torch.inference_mode():
            x = m(x_in)
        y.append(x if m.i in model.save else None)
        ms = 1e3 * statistics.median(times[k])
        params = sum(q.numel() for q in m.parameters())
        rows.append({"i": m.i, "type": m.type, "params": params, "gflops": gflops, "ms": ms})
    total = sum(r["ms"] for r in rows) or 1.0
    for r in rows:
        r["share"] = r["ms"] / total
    return rows
