"""The thop+functional FLOP counter: agrees with thop and Ultralytics on stock YOLO11n, counts what thop misses."""

from __future__ import annotations

import pytest
import torch
from thop import profile as thop_profile
from torch import nn

from gfdnet_ultra.bench.flops import FunctionalCounter, count_flops, count_module_flops
from gfdnet_ultra.nn.deform import ModulatedDeformConv2d


class _Gated(nn.Module):
    """A conv followed by functional work thop does not see: abs, maximum, a reduction and a functional conv."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1, bias=False)
        self.register_buffer("filt", torch.ones(4, 1, 3, 3) / 9, persistent=False)

    def forward(self, x):
        y = self.conv(x)
        z = torch.maximum(y.abs(), y)  # 2 x numel
        return torch.nn.functional.conv2d(z, self.filt, padding=1, groups=4) * z.sum(1, keepdim=True)


def test_counter_matches_ultralytics_on_stock_yolo11n_within_two_percent():
    from ultralytics import YOLO

    torch.set_num_threads(1)
    model = YOLO("yolo11n.yaml").model.fuse(verbose=False)
    fc = count_flops(model, 640)
    assert fc.gflops == pytest.approx(6.5, rel=0.02)  # Ultralytics' published YOLO11n figure
    macs, _ = thop_profile(model, inputs=(torch.zeros(1, 3, 640, 640),), verbose=False)
    assert fc.thop_gflops == pytest.approx(2 * macs / 1e9, rel=1e-9)  # the thop part is thop at full resolution
    assert 0 < fc.functional_gflops < 0.01 * fc.gflops


def test_functional_counter_counts_elementwise_reductions_and_functional_conv_outside_modules():
    m, x = _Gated(), torch.zeros(1, 3, 5, 5)
    fc = count_module_flops(m, (x,))
    n = 4 * 5 * 5
    conv1x1 = n * 3  # thop's module rule
    expected_functional = 2 * n + n + n * 9 + n  # abs + maximum, sum, depthwise 3x3 conv, the final multiply
    assert fc.thop_gflops * 1e9 / 2 == conv1x1
    assert fc.functional_gflops * 1e9 / 2 == expected_functional
    assert set(fc.by_op) == {"abs", "maximum", "sum", "conv2d", "mul"}


def test_functional_counter_skips_ops_inside_modules_thop_counts_and_removes_its_hooks():
    conv = nn.Conv2d(3, 4, 3)
    with FunctionalCounter(conv) as fc:
        conv(torch.zeros(1, 3, 8, 8))
    assert fc.ops == 0
    assert not conv._forward_hooks and not conv._forward_pre_hooks


def test_deformable_conv_is_counted_with_sampling_cost_in_both_formulations():
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.dcn = ModulatedDeformConv2d(3, 16, 3)

        def forward(self, x):
            b, _, h, w = x.shape
            return self.dcn(x, torch.zeros(b, 18, h, w), torch.ones(b, 9, h, w))

    m = Head()
    eager = count_flops(m, imgsz=20)
    m.dcn.export = True
    exported = count_flops(m, imgsz=20)
    conv, sampled = 16 * 400 * 27, 3 * 9 * 400
    assert eager.gflops * 1e9 / 2 == exported.gflops * 1e9 / 2 == conv + 12 * sampled
