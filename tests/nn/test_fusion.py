"""Tests for gfdnet_ultra.nn.fusion and our layers' fuse(): fused == unfused (eval) within 1e-5, and idempotent."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gfdnet_ultra.nn import CDF, GAstage, RCViT
from gfdnet_ultra.nn.fusion import SplitDepthwise, fold_bn_after_conv, fold_bn_before_conv1x1


def _randomise_bn(model: nn.Module) -> nn.Module:
    """Non-trivial BatchNorm statistics and affine parameters, so a wrong fold shows."""
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g) * 0.5)
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=g) * 0.2)
    return model.eval()


def _fuse_all(model: nn.Module) -> int:
    mods = [m for m in model.modules() if hasattr(m, "fuse") and type(m).__module__.startswith("gfdnet_ultra.")]
    for m in mods:
        m.fuse()
    return len(mods)


@pytest.mark.parametrize("bias", [True, False])
def test_fold_bn_after_conv_matches_conv_then_bn(bias):
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(4, 6, 3, padding=1, groups=2, bias=bias), nn.BatchNorm2d(6)
    _randomise_bn(bn)
    x = torch.randn(2, 4, 7, 5)
    ref = bn(conv(x))
    fold_bn_after_conv(conv, bn)
    torch.testing.assert_close(conv(x), ref, rtol=0, atol=1e-5)


def test_fold_bn_before_conv1x1_matches_bn_then_conv_and_rejects_padded_convs():
    torch.manual_seed(0)
    bn, conv = nn.BatchNorm2d(4), nn.Conv2d(4, 6, 1)
    _randomise_bn(bn)
    x = torch.randn(2, 4, 7, 5)
    ref = conv(bn(x))
    fold_bn_before_conv1x1(bn, conv)
    torch.testing.assert_close(conv(x), ref, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="1x1"):
        fold_bn_before_conv1x1(bn, nn.Conv2d(4, 6, 3, padding=1))


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda: GAstage(8, 16, 2), (2, 8, 32, 24)),
        (lambda: GAstage(8, 16, 1, qkv=True), (1, 8, 16, 16)),
        (lambda: CDF(16, 16, 2), (2, 16, 20, 18)),
        (lambda: RCViT("xs"), (1, 3, 64, 64)),
    ],
)
def test_fused_layers_equal_unfused_and_fuse_is_idempotent(make, shape):
    torch.manual_seed(0)
    m = _randomise_bn(make())
    x = torch.randn(*shape)
    with torch.no_grad():
        ref = m(x)
        n_bn = sum(isinstance(t, nn.BatchNorm2d) for t in m.modules())
        assert _fuse_all(m) > 0
        assert sum(isinstance(t, nn.BatchNorm2d) for t in m.modules()) < n_bn
        out = m(x)
        state = {k: v.clone() for k, v in m.state_dict().items()}
        _fuse_all(m)
    for a, b in zip(out if isinstance(out, (list, tuple)) else [out], ref if isinstance(ref, (list, tuple)) else [ref]):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)
    assert all(torch.equal(v, m.state_dict()[k]) for k, v in state.items())


def test_global_gate_fuse_leaves_no_depthwise_conv_with_a_channel_multiplier():
    """The stride-2 DWConv(c1, 2 c1) runs as two multiplier-1 depthwise convs after fuse (OpenVINO INT8 runs the
    multiplier-2 form on a generic GEMM); the stage's output is unchanged (the parametrised test above)."""
    m = _randomise_bn(GAstage(8, 16, 2))
    _fuse_all(m)
    convs = [c for c in m.modules() if isinstance(c, nn.Conv2d) and c.groups > 1]
    assert all(c.out_channels == c.in_channels for c in convs)
    assert sum(isinstance(t, SplitDepthwise) for t in m.modules()) == 2  # one per block's global gate
