"""Probe layers of every parse kind, used by `registry.self_test()` to prove the parser still honours them.

Each probe records the arguments the parser gave it, so the self-test compares them with what Ultralytics' own rules
produce for the stock layer of the same kind (width 0.25, depth 0.5, `max_channels` 1024 below).
"""

from __future__ import annotations

import torch
from torch import nn
from ultralytics.nn.modules import C2f, Conv, Detect

__all__ = ("SPECS", "check", "probe_yaml")


class ProbePlain(Conv):
    """Parsed like Conv."""


class ProbeRepeat(C2f):
    """Parsed like C2f."""


class ProbeMulti(nn.Module):
    """Parsed with a list of input widths; resizes every input to the first one's size and concatenates."""

    def __init__(self, c1: list[int], c2: int):
        super().__init__()
        self.c1 = list(c1)
        self.cv = Conv(sum(c1), c2, 1)

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        size = xs[0].shape[-2:]
        return self.cv(torch.cat([nn.functional.interpolate(x, size=size) for x in xs], 1))


class ProbeBackbone(nn.Module):
    """Parsed like TorchVision: returns a list of two feature maps."""

    def __init__(self, c: int):
        super().__init__()
        self.a, self.b = Conv(3, c, 3, 2), Conv(c, c, 3, 2)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        a = self.a(x)
        return [a, self.b(a)]


class ProbeDetect(Detect):
    """Parsed like Detect."""


def _spec(cls: type, kind: str):
    from .registry import LayerSpec

    return LayerSpec(f"_Gfd{cls.__name__}", f"{__name__}:{cls.__name__}", kind)


SPECS = tuple(
    _spec(c, k)
    for c, k in (
        (ProbePlain, "plain"),
        (ProbeRepeat, "repeat"),
        (ProbeMulti, "multi"),
        (ProbeBackbone, "backbone"),
        (ProbeDetect, "head"),
    )
)


def probe_yaml() -> dict:
    """A model dict using one probe of each kind (scale n: depth 0.5, width 0.25)."""
    return {
        "nc": 2,
        "scales": {"n": [0.5, 0.25, 1024]},
        "scale": "n",
        "backbone": [
            [-1, 1, "_GfdProbeBackbone", [16, 16]],  # 0: list of two maps, 16 channels each
            [0, 1, "Index", [16, 0]],  # 1: stride 2
            [0, 1, "Index", [16, 1]],  # 2: stride 4
            [-1, 1, "_GfdProbePlain", [128, 3, 2]],  # 3: 128 * 0.25 = 32, stride 8
            [-1, 4, "_GfdProbeRepeat", [128]],  # 4: n = round(4 * 0.5) = 2
        ],
        "head": [
            [[4, 2], 1, "_GfdProbeMulti", [256]],  # 5: c1 = [32, 16], c2 = 64
            [[4, 5], 1, "_GfdProbeDetect", ["nc"]],
        ],
    }


def check(seq: nn.Sequential) -> None:
    """Raise AssertionError unless every probe got the arguments Ultralytics gives its stock kin."""
    plain, repeat, multi, head = seq[3], seq[4], seq[5], seq[6]
    got = {
        "plain": (plain.conv.in_channels, plain.conv.out_channels, plain.conv.stride),
        "repeat": (repeat.cv1.conv.in_channels, repeat.cv2.conv.out_channels, len(repeat.m)),
        "multi": (multi.c1, multi.cv.conv.out_channels),
        "head": (head.nc, head.nl, head.reg_max, [s[0].conv.in_channels for s in head.cv2]),
    }
    want = {
        "plain": (16, 32, (2, 2)),
        "repeat": (32, 32, 2),
        "multi": ([32, 16], 64),
        "head": (2, 2, 16, [32, 64]),
    }
    for kind, value in want.items():
        assert got[kind] == value, f"{kind} layer built with {got[kind]}, expected {value}"
