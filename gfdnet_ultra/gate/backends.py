"""One ONNX graph behind one call, on onnxruntime or OpenVINO, so the gated runtime runs either without a branch.

`load_graph(path, backend)` returns a `Graph`: its input names and shapes (None for a dynamic axis), the shape of its
first output, and `graph(feeds) -> [outputs]` in the graph's output order. OpenVINO reads the ONNX file itself (no
conversion step) and compiles it for the CPU with the latency hint, as Ultralytics' OpenVINO backend does, and in
fp32: OpenVINO's own default on CPUs with AMX is bf16 (about 1e-2 relative error), which would move gate decisions
near the threshold away from PyTorch's and onnxruntime's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ("BACKENDS", "Graph", "load_graph")

BACKENDS = ("onnxruntime", "openvino")


@dataclass
class Graph:
    """A compiled graph: `inputs` [(name, shape)], `output_shape` of output 0, and `run(feeds) -> list[np.ndarray]`."""

    inputs: list[tuple[str, tuple[int | None, ...]]]
    output_shape: tuple[int | None, ...]
    run: Callable[[dict[str, np.ndarray]], list[np.ndarray]]

    def __call__(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.run(feeds)


def _dim(d) -> int | None:
    return d if isinstance(d, int) and d >= 0 else None  # onnxruntime: str or None; OpenVINO: -1 when dynamic


def _onnxruntime(path: Path, threads: int | None, providers: list[str] | None) -> Graph:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    sess = ort.InferenceSession(str(path), opts, providers=providers or ["CPUExecutionProvider"])
    inputs = [(i.name, tuple(_dim(d) for d in i.shape)) for i in sess.get_inputs()]
    return Graph(inputs, tuple(_dim(d) for d in sess.get_outputs()[0].shape), lambda feeds: sess.run(None, feeds))


def _openvino(path: Path, threads: int | None) -> Graph:
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(path))
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
    config.update({"INFERENCE_NUM_THREADS": threads} if threads else {})
    compiled = core.compile_model(model, "CPU", config)
    shape = lambda port: tuple(d.get_length() if d.is_static else None for d in port.get_partial_shape())  # noqa: E731
    inputs = [(p.get_any_name(), shape(p)) for p in model.inputs]
    request = compiled.create_infer_request()

    def run(feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        out = request.infer(feeds)
        return [np.array(out[p]) for p in compiled.outputs]  # copies: the request reuses its buffers

    return Graph(inputs, shape(model.outputs[0]), run)


def load_graph(path: str | Path, backend: str = "onnxruntime", threads: int | None = None,
               providers: list[str] | None = None) -> Graph:
    """Compile the ONNX graph at `path` (or, on OpenVINO, an IR `.xml`) on `backend` (CPU); `providers`: onnxruntime only.

    Examples:
        >>> g = load_graph("m-tail.onnx", "openvino", threads=1)  # doctest: +SKIP
        >>> (y,) = g({name: x for (name, _), x in zip(g.inputs, feats)})  # doctest: +SKIP
    """
    path = Path(path)
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not one of {', '.join(BACKENDS)}")
    if not path.is_file():
        raise FileNotFoundError(f"ONNX graph '{path}' not found")
    return _openvino(path, threads) if backend == "openvino" else _onnxruntime(path, threads, providers)
