"""Peak tensor memory of one inference forward pass, from torch.profiler's memory events.

Method: `torch.profiler.profile(profile_memory=True)` records every CPU tensor allocation (as the self memory of the op
that made it) and every free (a `[memory]` event); replaying them in time order gives the most bytes alive at once
beyond what existed before the call. Added to it: the model's parameters and buffers, which stay alive throughout.
This counts tensors only (no allocator slack, thread stacks or interpreter), so it is deterministic and comparable
across models in one process, unlike RSS, whose high-water mark only ever rises.
Shape shorthand: B batch, S square input side.
"""

from __future__ import annotations

import os

import torch
from torch import nn

__all__ = ("forward_peak_bytes", "peak_memory_mib")

os.environ.setdefault("KINETO_LOG_LEVEL", "5")  # keep the profiler's start/stop lines out of the progress output


def forward_peak_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Most bytes of tensors allocated by `model(x)` alive at once (inference mode); the input itself is excluded.

    Examples:
        >>> forward_peak_bytes(nn.Conv2d(3, 8, 1, bias=False), torch.zeros(1, 3, 4, 4))
        512
    """
    from torch.profiler import ProfilerActivity, profile

    with torch.inference_mode(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        model(x)
    deltas = [
        (e.time_range.start, e.cpu_memory_usage if e.name == "[memory]" else e.self_cpu_memory_usage)
        for e in prof.events()
    ]
    live = peak = 0
    for _, d in sorted(d for d in deltas if d[1]):
        live += d
        peak = max(peak, live)
    return peak


def peak_memory_mib(model: nn.Module, batch: int = 1, imgsz: int = 640) -> float:
    """Peak tensor memory of one forward pass at (B, 3, S, S) plus parameters and buffers, in MiB.

    Examples:
        >>> round(peak_memory_mib(nn.Conv2d(3, 8, 1, bias=False), 1, 16), 4)
        0.0079
    """
    p = next(model.parameters())
    x = torch.zeros(batch, 3, imgsz, imgsz, dtype=p.dtype, device=p.device)
    static = sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers()))
    return (forward_peak_bytes(model, x) + static) / 2**20
