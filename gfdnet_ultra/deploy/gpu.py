"""GPU checks: our layers under autocast against fp32, and a TensorRT engine built from an ONNX graph.

`amp_layer_errors` runs each of GFD-Net's numerically delicate layers (deformable conv in both formulations, the
adaptive frequency filters, global additive attention, graph conv) in fp32 and under `torch.autocast`, and returns the
relative error max|y_amp - y_fp32| / max|y_fp32| per layer. On CUDA autocast means fp16; on CPU (the dry run) bf16.
`build_engine` compiles an ONNX file with TensorRT's Python API (dynamic batch 1..max_batch, optional fp16).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

__all__ = ("LAYERS", "amp_layer_errors", "build_engine")


class _OffsetDCN(nn.Module):
    """A deformable conv fed by its own offset/mask conv, as in the TDSC head (offsets within +-2 px)."""

    def __init__(self, c: int, export: bool):
        super().__init__()
        from ..nn.deform import ModulatedDeformConv2d

        self.om = nn.Conv2d(c, 27, 3, padding=1)
        self.dcn = ModulatedDeformConv2d(c, c, 3)
        self.dcn.export = export  # True: the grid_sample formulation; False: torchvision's deform_conv2d (on CUDA)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o = self.om(x)
        return self.dcn(x, 2 * o[:, :18].tanh(), o[:, 18:].sigmoid())


class _SelfGuided(nn.Module):
    """A frequency filter guided by its own input, `m(x, x)`."""

    def __init__(self, m: nn.Module):
        super().__init__()
        self.m = m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.m(x, x)


def _layers() -> dict[str, Callable[[], tuple[nn.Module, tuple[int, ...]]]]:
    from ..nn.freq import AdaptiveHighPass, AdaptiveLowPass
    from ..nn.gcas import GAstage
    from ..nn.graph_conv import DynamicMRConv4d

    return {
        "DCNv2 (deform_conv2d)": lambda: (_OffsetDCN(32, False), (2, 32, 40, 40)),
        "DCNv2 (grid_sample)": lambda: (_OffsetDCN(32, True), (2, 32, 40, 40)),
        "AdaptiveLowPass": lambda: (_SelfGuided(AdaptiveLowPass(32)), (2, 32, 40, 40)),
        "AdaptiveHighPass": lambda: (_SelfGuided(AdaptiveHighPass(32, 32)), (2, 32, 40, 40)),
        "GAstage (attention)": lambda: (GAstage(32, 64, 2), (2, 32, 40, 40)),
        "DynamicMRConv4d (graph conv)": lambda: (DynamicMRConv4d(32), (2, 32, 20, 20)),
    }


LAYERS = tuple(_layers())


def amp_layer_errors(device: str | torch.device = "cuda", seed: int = 0) -> dict[str, float]:
    """{layer: relative error of its autocast output vs fp32} on `device` (fp16 on CUDA, bf16 on CPU)."""
    device = torch.device(device)
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    errors = {}
    for name, make in _layers().items():
        torch.manual_seed(seed)
        m, shape = make()
        m = m.to(device).eval()
        x = torch.randn(shape, generator=torch.Generator().manual_seed(seed)).to(device)
        with torch.no_grad():
            ref = m(x).float()
            with torch.autocast(device.type, dtype=dtype):
                amp = m(x).float()
        if not torch.isfinite(amp).all():
            errors[name] = float("inf")
            continue
        errors[name] = float((amp - ref).abs().max() / ref.abs().max().clamp_min(1e-12))
    return errors


def build_engine(onnx_file: str | Path, engine_file: str | Path, fp16: bool = True, max_batch: int = 8,
                 workspace_gib: int = 4) -> Path:
    """Compile `onnx_file` into a TensorRT engine with a dynamic batch axis (1..max_batch); returns its path."""
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(Path(onnx_file).read_bytes()):
        raise RuntimeError(f"TensorRT could not parse {onnx_file}: " + "; ".join(str(parser.get_error(i))
                                                                               for i in range(parser.num_errors)))
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_gib << 30)
    if fp16 and hasattr(trt.BuilderFlag, "FP16"):
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    for i in range(network.num_inputs):
        inp = network.get_input(i)
        rest = tuple(inp.shape)[1:]
        profile.set_shape(inp.name, (1, *rest), (max(1, max_batch // 2), *rest), (max_batch, *rest))
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT failed to build an engine from {onnx_file}")
    engine_file = Path(engine_file)
    engine_file.write_bytes(bytes(serialized))
    return engine_file
