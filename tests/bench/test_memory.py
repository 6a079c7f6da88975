"""Peak tensor memory from torch.profiler events."""

from __future__ import annotations

import torch
from torch import nn

from gfdnet_ultra.bench.memory import forward_peak_bytes, peak_memory_mib


def test_peak_counts_intermediates_alive_together_not_the_sum_of_all():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(16, 16, 3)).eval()
    peak = forward_peak_bytes(m, torch.zeros(1, 3, 64, 64))
    a = 16 * 62 * 62 * 4  # first conv output, then ReLU output beside it
    assert peak == 2 * a  # the second conv's output (16*60*60*4) arrives after the first is freed


def test_peak_memory_adds_parameters_and_buffers():
    m = nn.Conv2d(3, 8, 1, bias=False)
    assert peak_memory_mib(m, 1, 16) * 2**20 == 8 * 16 * 16 * 4 + 24 * 4
