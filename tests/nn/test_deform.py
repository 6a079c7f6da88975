"""Tests for gfdnet_ultra.nn.deform: the grid_sample formulation equals torchvision's deform_conv2d and exports."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from gfdnet_ultra.nn.deform import ModulatedDeformConv2d, deform_conv2d_sampled

from ..onnx_roundtrip import onnx_runner


def _inputs(b, c, h, w, k, s, p, d, scale, seed=0):
    g = torch.Generator().manual_seed(seed)
    ho, wo = (h + 2 * p - d * (k - 1) - 1) // s + 1, (w + 2 * p - d * (k - 1) - 1) // s + 1
    x = torch.randn(b, c, h, w, generator=g)
    offset = torch.randn(b, 2 * k * k, ho, wo, generator=g) * scale
    mask = torch.rand(b, k * k, ho, wo, generator=g)
    return x, offset, mask


@pytest.mark.parametrize(
    "k,s,p,d,h,w",
    [(3, 1, 1, 1, 9, 11), (3, 2, 1, 1, 10, 7), (3, 1, 2, 2, 8, 8), (1, 1, 0, 1, 5, 6), (3, 1, 1, 1, 1, 1), (5, 1, 2, 1, 7, 4)],
)
@pytest.mark.parametrize("scale", [0.5, 6.0])
def test_sampled_formulation_matches_torchvision_incl_offsets_out_of_image(k, s, p, d, h, w, scale):
    torch.manual_seed(0)
    m = ModulatedDeformConv2d(3, 5, k, s, p, d)
    x, offset, mask = _inputs(2, 3, h, w, k, s, p, d, scale)
    eager = torchvision.ops.deform_conv2d(x, offset, m.weight, m.bias, stride=s, padding=p, dilation=d, mask=mask)
    sampled = m(x, offset, mask)  # CPU: the grid_sample formulation
    assert (eager - sampled).abs().max().item() < 1e-4
    m.export = True
    assert torch.equal(m(x, offset, mask), sampled)


def test_sampled_formulation_equals_torchvision_in_float64():
    torch.manual_seed(0)
    x, offset, mask = (t.double() for t in _inputs(2, 8, 12, 10, 3, 1, 1, 1, 3.0))
    w = torch.randn(6, 8, 3, 3, dtype=torch.float64)
    ref = torchvision.ops.deform_conv2d(x, offset, w, padding=1, mask=mask)
    torch.testing.assert_close(deform_conv2d_sampled(x, offset, mask, w, padding=1), ref, rtol=0, atol=1e-12)


def test_offset_layout_is_dy_dx_pairs_row_major_over_taps():
    x = torch.arange(25.0).view(1, 1, 5, 5)
    w = torch.zeros(1, 1, 3, 3)
    w[0, 0, 0, 2] = 1.0  # only the top-right tap (row 0, col 2 -> tap index 2)
    offset = torch.zeros(1, 18, 5, 5)
    offset[:, 2 * 2] = 1.0  # dy of tap 2 moves it one row down, onto the centre row
    out = deform_conv2d_sampled(x, offset, torch.ones(1, 9, 5, 5), w, padding=1)
    assert out[0, 0, 2, 2].item() == x[0, 0, 2, 3].item()


def test_gradients_flow_through_both_formulations_and_agree():
    grads = []
    for formulation in ("torchvision", "sampled"):
        torch.manual_seed(1)
        m = ModulatedDeformConv2d(3, 4, 3)
        x, offset, mask = (t.requires_grad_() for t in _inputs(1, 3, 6, 7, 3, 1, 1, 1, 2.0))
        if formulation == "torchvision":
            y = torchvision.ops.deform_conv2d(x, offset, m.weight, m.bias, padding=1, mask=mask)
        else:
            y = m(x, offset, mask)
        y.square().sum().backward()
        grads.append([t.grad for t in (x, offset, mask, m.weight, m.bias)])
    for g_eager, g_sampled in zip(*grads):
        assert g_eager is not None and g_sampled is not None
        assert torch.allclose(g_eager, g_sampled, atol=1e-3, rtol=1e-3)


def test_constructor_rejects_bad_kernel():
    with pytest.raises(ValueError, match="ModulatedDeformConv2d"):
        ModulatedDeformConv2d(3, 4, k=0)


class _OffsetDCN(nn.Module):
    """A DyHead-style user: offset and mask predicted from the input by a 3x3 conv."""

    def __init__(self):
        super().__init__()
        self.om = nn.Conv2d(4, 27, 3, 1, 1)
        self.dcn = ModulatedDeformConv2d(4, 6, 3)

    def forward(self, x):
        om = self.om(x) * 3.0  # large offsets, many samples fall outside the image
        return self.dcn(x, om[:, :18], om[:, 18:].sigmoid())


def test_onnx_export_agrees_with_onnxruntime_at_another_input_size(tmp_path):
    torch.manual_seed(0)
    m = _OffsetDCN().eval()
    x = torch.randn(2, 4, 24, 32)
    y = onnx_runner(m, torch.randn(1, 4, 16, 16))(x)[0]
    with torch.no_grad():
        ref = m(x).numpy()  # eager path
    assert y.shape == (2, 6, 24, 32)
    assert np.abs(y - ref).max() < 1e-4


def test_module_survives_pickling():
    m = ModulatedDeformConv2d(3, 4, 3)
    x, offset, mask = _inputs(1, 3, 5, 5, 3, 1, 1, 1, 1.0)
    m2 = pickle.loads(pickle.dumps(m))
    assert torch.equal(m(x, offset, mask), m2(x, offset, mask))


@pytest.mark.parametrize("export", [False, True])
def test_nan_offsets_do_not_crash_the_eager_path(export):
    """torchvision's CPU kernel segfaults on NaN offsets; Ultralytics' FLOP counter feeds torch.empty images."""
    m = ModulatedDeformConv2d(4, 4, 3)
    m.export = export
    offset = torch.full((1, 18, 8, 8), float("nan"))
    y = m(torch.randn(1, 4, 8, 8), offset, torch.ones(1, 9, 8, 8))
    assert y.shape == (1, 4, 8, 8)
