"""Latency runners for PyTorch, onnxruntime and OpenVINO, timed in interleaved repetitions, and their summary statistics.

Interleaving: every repetition runs each runner once, in a rotated order, so a slow spell on a shared machine hits
all models alike and ratios between them hold even when absolute times drift. Each runner is warmed up first.
PyTorch runs in eval mode under `torch.inference_mode()` on the model as given (fuse it first, as Ultralytics'
predictor does); onnxruntime runs the exported graph on the CPU provider with a fixed intra-op thread count, and
OpenVINO compiles the same ONNX file for its CPU plugin (fp32, latency hint) with the same thread count.
Shape shorthand: B batch, S square input side.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = ("interleave", "ort_runner", "ov_runner", "set_threads", "summarize", "torch_runner")


def set_threads(threads: int) -> int:
    """Fix PyTorch's intra-op threads (and inter-op to 1 where still allowed); returns the thread count in force."""
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only settable before the first parallel region; already fixed then
        pass
    return torch.get_num_threads()


def torch_runner(model: nn.Module, batch: int, imgsz: int) -> Callable[[], None]:
    """A call that runs one PyTorch forward pass on a (B, 3, S, S) zero-mean noise batch.

    Examples:
        >>> run = torch_runner(nn.Conv2d(3, 4, 1), batch=2, imgsz=8)
        >>> run() is None
        True
    """
    model.eval()
    p = next(model.parameters())
    x = torch.rand(batch, 3, imgsz, imgsz, generator=torch.Generator().manual_seed(0)).to(p)

    def run() -> None:
        with torch.inference_mode():
            model(x)

    return run


def ort_runner(onnx_path: str | Path, batch: int, imgsz: int, threads: int) -> Callable[[], None]:
    """A call that runs one onnxruntime (CPU provider) inference of the graph at `onnx_path` on a (B, 3, S, S) batch."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    x = np.random.default_rng(0).random((batch, 3, imgsz, imgsz), dtype=np.float32)

    def run() -> None:
        sess.run(None, {name: x})

    return run


def ov_runner(onnx_path: str | Path, batch: int, imgsz: int, threads: int) -> Callable[[], None]:
    """A call that runs one OpenVINO (CPU plugin, fp32 where not quantised) inference of the ONNX graph or OpenVINO IR
    (`.xml`) at `onnx_path` on a (B, 3, S, S) batch."""
    from gfdnet_ultra.gate.backends import load_graph

    graph = load_graph(onnx_path, "openvino", threads)
    feeds = {graph.inputs[0][0]: np.random.default_rng(0).random((batch, 3, imgsz, imgsz), dtype=np.float32)}

    def run() -> None:
        graph(feeds)

    return run


def interleave(
    runners: dict[Hashable, Callable[[], None]],
    reps: int,
    warmup: int = 2,
    on_step: Callable[[Hashable], None] | None = None,
) -> dict[Hashable, list[float]]:
    """Time every runner `reps` times, round-robin, after `warmup` untimed calls each; seconds per call.

    Repetition r starts at runner r mod n, so no runner always follows the same neighbour. No runners, no times.

    Examples:
        >>> t = interleave({"a": lambda: None, "b": lambda: None}, reps=3, warmup=1)
        >>> sorted(t), len(t["a"])
        (['a', 'b'], 3)
    """
    keys = list(runners)
    if not keys:
        return {}
    for _ in range(warmup):
        for k in keys:
            runners[k]()
    times = {k: [] for k in keys}
    for r in range(reps):
        for k in keys[r % len(keys) :] + keys[: r % len(keys)]:
            t0 = time.perf_counter()
            runners[k]()
            times[k].append(time.perf_counter() - t0)
            if on_step:
                on_step(k)
    return times


def summarize(seconds: Iterable[float]) -> dict[str, float]:
    """Median, p10, p90 and IQR in milliseconds, and the sample count.

    Examples:
        >>> summarize([0.001, 0.002, 0.003, 0.004, 0.005])["median_ms"]
        3.0
    """
    ms = sorted(1e3 * s for s in seconds)
    if not ms:
        raise ValueError("summarize: no timings given; run at least one repetition")
    q = np.percentile(ms, [10, 25, 75, 90])
    return {
        "median_ms": statistics.median(ms),
        "p10_ms": float(q[0]),
        "p90_ms": float(q[3]),
        "iqr_ms": float(q[2] - q[1]),
        "n": len(ms),
    }
