"""FLOPs at full resolution: ultralytics-thop's module rules plus a counter for the functional ops thop misses.

Ultralytics' `get_flops` profiles one-stride-tall proxy images and extrapolates; we run one forward pass at the real
input size instead (`thop.profile(..., stride=None)`), so size-dependent custom code (shift counts of the axial graph
conv, per-pixel filters) is counted as it runs at 640.
Counter ("thop+functional"): `thop.profile` (ultralytics-thop) with its module rules (conv, linear, norms incl.
GroupNorm, softmax, pooling, upsampling) and functional matmul/bmm/einsum/linear/SDPA, plus `custom_ops` for layers that
call opaque kernels (`ModulatedDeformConv2d`), plus `FunctionalCounter`, a `TorchFunctionMode` that counts, outside
every module thop already counts, functional convolutions, `grid_sample`, `interpolate`, softmax, normalisation,
element-wise arithmetic (add/mul/sub/abs/maximum/where/comparisons, 1 op per output element) and reductions
(sum/mean/amax/max/std, 1 op per input element). Activations and pure data movement (cat, roll, gather, unfold, pad,
views) count 0, as in thop. Units are thop's (multiply-adds for products, its formulas for norms and softmax); the
total is doubled into FLOPs as Ultralytics does (`get_flops`: MACs x 2).
Shape shorthand: B batch, C channels, H x W input size.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import torch
from thop import profile as thop_profile
from thop.profile import functional_hooks, register_hooks
from thop.vision.basic_hooks import zero_ops
from thop.vision.calc_func import calculate_conv2d_flops, calculate_norm, calculate_softmax
from torch import nn

__all__ = ("COUNTER_NAME", "FlopCount", "FunctionalCounter", "count_flops", "count_module_flops", "custom_ops")

COUNTER_NAME = "thop+functional (ultralytics-thop module rules at full resolution + gfdnet_ultra.bench.flops)"

ELEMENTWISE = frozenset(
    "add sub mul div true_divide rsub maximum minimum fmax fmin abs neg where clamp clip pow sqrt rsqrt exp log "
    "reciprocal lt gt le ge eq ne addcmul lerp square".split()
)
REDUCTIONS = frozenset("sum mean amax amin max min norm std var logsumexp prod cumsum".split())
RESAMPLE_OPS = {"nearest": 0, "nearest-exact": 0, "linear": 5, "bilinear": 11, "bicubic": 259, "trilinear": 31}  # thop's


def _base_name(func) -> str:
    """`__radd__` / `add_` / `torch.add` -> "add"; the key of the rules below."""
    name = getattr(func, "__name__", "")
    if name.startswith("__") and name.endswith("__"):
        name = name[2:-2]
        name = name[1:] if name[:1] in "ri" and name[1:] in ELEMENTWISE | {"truediv"} else name
        name = "div" if name == "truediv" else name
    return name[:-1] if name.endswith("_") and not name.startswith("_") else name


def _first_tensor(args, kwargs) -> torch.Tensor | None:
    return next((a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)), None)


def _numel(y) -> int:
    if isinstance(y, torch.Tensor):
        return y.numel()
    return sum(_numel(t) for t in y) if isinstance(y, (tuple, list)) else 0


def _count(name: str, args, kwargs, y) -> int:
    """Ops of one functional call in thop's units; 0 for anything not listed in the module docstring."""
    if name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
        x, w = args[0], args[1] if len(args) > 1 else kwargs["weight"]
        groups = args[6] if len(args) > 6 else kwargs.get("groups", 1)
        return calculate_conv2d_flops(list(x.shape), list(y.shape), list(w.shape), groups, transpose="transpose" in name)
    if name in ("grid_sample", "interpolate", "upsample"):
        pos, default = (2, "bilinear") if name == "grid_sample" else (3, "nearest")  # where `mode` sits positionally
        mode = kwargs.get("mode", args[pos] if len(args) > pos else default)
        return RESAMPLE_OPS.get(mode, 0) * _numel(y)
    if name in ("softmax", "log_softmax"):
        x = args[0]
        dim = args[1] if len(args) > 1 else kwargs.get("dim", -1)
        return calculate_softmax(x.numel() // max(x.shape[dim], 1), x.shape[dim])
    if name in ("group_norm", "layer_norm", "batch_norm", "instance_norm"):
        affine = any(kwargs.get(k) is not None for k in ("weight",)) or len(args) > 2 and isinstance(args[2], torch.Tensor)
        return calculate_norm(args[0].numel()) * (2 if affine else 1)
    if name.startswith(("avg_pool", "adaptive_avg_pool")):
        return args[0].numel() + _numel(y)  # one add per input element read once, one divide per output (thop's rule)
    if name in ELEMENTWISE:
        return _numel(y)
    if name in REDUCTIONS:
        x = _first_tensor(args, kwargs)
        return x.numel() if x is not None else 0
    return 0


class FunctionalCounter(torch.overrides.TorchFunctionMode):
    """Count functional ops run outside every module that thop counts itself (see the module docstring).

    Args:
        model (nn.Module): Model whose modules with a thop or custom rule suspend counting while they run.
        custom (dict | None): Extra `{module type: rule}`, as passed to `thop.profile(custom_ops=...)`.

    Examples:
        >>> with FunctionalCounter(nn.Identity()) as c:
        ...     _ = torch.ones(2, 3) * 2 + 1
        >>> c.ops, dict(c.by_op)
        (12, {'mul': 6, 'add': 6})
    """

    def __init__(self, model: nn.Module, custom: dict | None = None):
        super().__init__()
        self.ops, self.by_op, self.depth = 0, Counter(), 0
        rules = {**register_hooks, **(custom or {})}
        self._counted = [m for m in model.modules() if _has_rule(type(m), rules)]
        self._handles = []

    def __enter__(self):
        for m in self._counted:
            self._handles.append(m.register_forward_pre_hook(lambda *_: self._step(1)))
            self._handles.append(m.register_forward_hook(lambda *_: self._step(-1)))
        return super().__enter__()

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles.clear()
        return super().__exit__(*exc)

    def _step(self, d: int) -> None:
        self.depth += d

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        y = func(*args, **kwargs)
        if not self.depth and func not in functional_hooks:  # thop's own mode counts those
            name = _base_name(func)
            n = _count(name, args, kwargs, y)
            if n:
                self.ops += n
                self.by_op[name] += n
        return y


def _has_rule(t: type, rules: dict) -> bool:
    """The module type thop counts itself, by the same MRO walk as `thop.profile`; zero rules do not count."""
    return next((rules[c] for c in t.__mro__ if c in rules), zero_ops) is not zero_ops


def _count_deform(m: nn.Module, x: tuple, y: torch.Tensor) -> None:
    """ModulatedDeformConv2d: conv multiply-adds, bilinear sampling of every tap (11 ops) and the mask product."""
    inp = x[0]
    taps = m.weight.shape[-2] * m.weight.shape[-1]
    sampled = inp.shape[0] * inp.shape[1] * taps * y.shape[-2] * y.shape[-1]
    conv = calculate_conv2d_flops(list(inp.shape), list(y.shape), list(m.weight.shape), 1, bias=m.bias is not None)
    m.total_ops += int(conv) + sampled * (RESAMPLE_OPS["bilinear"] + 1)


def custom_ops() -> dict:
    """`{module type: thop rule}` for our layers whose forward calls kernels no functional rule can see."""
    from gfdnet_ultra.nn.deform import ModulatedDeformConv2d

    return {ModulatedDeformConv2d: _count_deform}


@dataclass
class FlopCount:
    """GFLOPs (Ultralytics' convention, 2 x thop ops) of one forward pass, split by who counted them."""

    gflops: float
    thop_gflops: float
    functional_gflops: float
    by_op: dict = field(default_factory=dict)  # functional op name -> GFLOPs


def count_module_flops(module: nn.Module, inputs: tuple) -> FlopCount:
    """Count the FLOPs of `module(*inputs)` with the thop+functional counter; modes are restored afterwards.

    Examples:
        >>> count_module_flops(nn.Conv2d(3, 8, 3, padding=1, bias=False), (torch.zeros(1, 3, 10, 10),)).gflops
        4.32e-05
    """
    custom = custom_ops()
    with FunctionalCounter(module, custom) as fc:
        macs, _ = thop_profile(module, inputs=inputs, custom_ops=custom, verbose=False)
    by_op = {k: round(2 * v / 1e9, 4) for k, v in fc.by_op.most_common()}
    return FlopCount(2 * (macs + fc.ops) / 1e9, 2 * macs / 1e9, 2 * fc.ops / 1e9, by_op)


def count_flops(model: nn.Module, imgsz: int = 640, batch: int = 1) -> FlopCount:
    """Count the FLOPs of one forward pass on a (B, 3, S, S) image at full resolution (no stride-proxy extrapolation).

    Args:
        model (nn.Module): The model (e.g. a fused `DetectionModel`).
        imgsz (int): Square input side S. batch (int): Batch size B.

    Returns:
        (FlopCount): Total and split GFLOPs.

    Examples:
        >>> round(count_flops(nn.Conv2d(3, 8, 1), imgsz=10).gflops * 1e6, 1)
        4.8
    """
    p = next(model.parameters())
    return count_module_flops(model, (torch.zeros(batch, 3, imgsz, imgsz, dtype=p.dtype, device=p.device),))
