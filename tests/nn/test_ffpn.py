"""Tests for gfdnet_ultra.nn.ffpn: FF-FPN nodes build from YAML numbers, fuse at the right resolution and export."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gfdnet_ultra.nn import freq
from gfdnet_ultra.nn.ffpn import DCF, FIF, UADF
from gfdnet_ultra.nn.freq import apply_pixel_kernels

from ..onnx_roundtrip import onnx_runner


def _pyramid(b=1, c=(8, 16, 32), s=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, ci, s // 2**i, s // 2**i, generator=g) for i, ci in enumerate(c)]


def test_fif_fuses_three_scales_at_the_first_inputs_resolution():
    p3, p4, p5 = _pyramid()
    assert FIF([8, 16, 32], 24)([p3, p4, p5]).shape == (1, 24, 32, 32)
    assert FIF([16, 32, 32], 24)([p4, p5, p5]).shape == (1, 24, 16, 16)  # FIF_mid: [P4, P5, PSA(P5)]


def test_uadf_fuses_fine_and_coarse_at_fine_resolution():
    p3, p4, _ = _pyramid()
    assert UADF([8, 16], 24)([p3, p4]).shape == (1, 24, 32, 32)


def test_dcf_downsamples_high_resolution_inputs_to_the_last_inputs_resolution():
    p3, p4, p5 = _pyramid()
    assert DCF([8, 8, 16], 24)([p3, p3, p4]).shape == (1, 24, 16, 16)
    assert DCF([16, 16, 32], 24)([p4, p4, p5]).shape == (1, 24, 8, 8)
    assert DCF([8, 16], 24, 1)([p3, p4]).shape == (1, 24, 16, 16)


@pytest.mark.parametrize(
    "build,match",
    [(lambda: FIF([8], 16), "FIF"), (lambda: UADF([8, 16, 32], 16), "UADF"), (lambda: DCF(8, 16), "DCF"),
     (lambda: DCF([8, 8], 16, n_high=2), "n_high=2")],
)
def test_nodes_reject_bad_input_lists(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_every_parameter_receives_gradient():
    torch.manual_seed(0)
    p3, p4, p5 = _pyramid(b=2)
    fif, uadf, dcf = FIF([8, 16, 32], 16), UADF([16, 16], 16), DCF([16, 16, 16], 16)
    a = fif([p3, p4, p5])
    b = uadf([a, F.avg_pool2d(a, 2)])
    dcf([b, a, F.avg_pool2d(b, 2)]).square().mean().backward()
    for m in (fif, uadf, dcf):
        missing = [n for n, p in m.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
        assert not missing, f"{type(m).__name__}: no gradient for {missing}"


def _total_variation(z: torch.Tensor) -> torch.Tensor:
    return (z[..., 1:, :] - z[..., :-1, :]).abs().mean() + (z[..., 1:] - z[..., :-1]).abs().mean()


def test_uadf_up_sampled_branch_is_smoother_than_nearest_upsampling():
    torch.manual_seed(0)
    m = UADF([8, 8], 8).eval()
    coarse = torch.randn(1, 8, 16, 16)
    with torch.no_grad():
        up = F.interpolate(m.align.reduce[1](coarse), scale_factor=2, mode="nearest")
        aligned, _ = m.align([torch.randn(1, 8, 32, 32), coarse])
    assert _total_variation(aligned[1]) < 0.7 * _total_variation(up)  # ALPF removes nearest-neighbour block edges


class _Neck(nn.Module):
    """FIF -> UADF -> DCF chain as in the FF-FPN wiring, fed by one input resampled to three scales."""

    def __init__(self):
        super().__init__()
        self.fif, self.uadf, self.dcf = FIF([8, 16, 32], 16), UADF([16, 16], 16), DCF([16, 16, 16], 16)

    def forward(self, x):
        p4, p5 = F.avg_pool2d(x, 2).repeat(1, 2, 1, 1), F.avg_pool2d(x, 4).repeat(1, 4, 1, 1)
        a = self.fif([x, p4, p5])
        b = self.uadf([a, F.avg_pool2d(a, 2)])
        return self.dcf([b, a, F.avg_pool2d(b, 2)])


@pytest.mark.parametrize("fine, coarse, folded", [((16, 16), (8, 8), True), ((15, 13), (8, 7), True), ((16, 16), (4, 4), False)])
def test_low_pass_of_a_stride_2_child_is_folded_and_equals_the_full_filter(monkeypatch, fine, coarse, folded):
    calls = []
    monkeypatch.setattr(freq, "fold_kernels_up2", lambda k, _f=freq.fold_kernels_up2: calls.append(1) or _f(k))
    torch.manual_seed(0)
    m = FIF([8, 16], 8).double().eval()
    torch.nn.init.normal_(m.align.lowpass[0].kernel.weight, std=0.3)  # kernels far from the binomial start
    xs = [torch.randn(1, 8, *fine, dtype=torch.float64), torch.randn(1, 16, *coarse, dtype=torch.float64)]
    with torch.no_grad():
        aligned, guide = m.align(xs)
        up = F.interpolate(m.align.reduce[1](xs[1]), size=fine, mode="nearest")
        ref = apply_pixel_kernels(up, m.align.lowpass[0].kernels(guide))
    assert bool(calls) == folded
    torch.testing.assert_close(aligned[1], ref, rtol=0, atol=1e-12)


class _StrideTwoFIF(nn.Module):
    """FIF over a feature and its stride-2 child (ceil size, as every YAML pyramid level), the folded low-pass path."""

    def __init__(self):
        super().__init__()
        self.down, self.fif = nn.Conv2d(8, 16, 3, 2, 1), FIF([8, 16], 16)

    def forward(self, x):
        return self.fif([x, self.down(x)])


@pytest.mark.parametrize(
    "module, size, out_size",
    [(_Neck, (96, 128), (48, 64)), (_StrideTwoFIF, (45, 31), (45, 31))],  # the FF-FPN chain; folded path at odd sizes
    ids=["neck", "stride2-fif-odd"],
)
def test_onnx_export_at_64_runs_in_onnxruntime_at_other_sizes(module, size, out_size):
    torch.manual_seed(0)
    m = module().eval()
    x = torch.randn(2, 8, *size)
    y = onnx_runner(m, torch.randn(1, 8, 64, 64))(x)[0]
    with torch.no_grad():
        ref = m(x).numpy()
    assert y.shape == (2, 16, *out_size) and np.abs(y - ref).max() < 1e-4


def test_parameter_counts_at_neck_width_64_fit_the_2m_budget():
    counts = {
        "FIF_top": FIF([64, 128, 256], 64), "FIF_mid": FIF([128, 256, 256], 64), "UADF": UADF([64, 64], 64),
        "DCF_mid": DCF([64, 64, 64], 64), "DCF_bottom": DCF([64, 64, 256], 64),
    }
    total = sum(p.numel() for m in counts.values() for p in m.parameters())
    assert 250_000 < total < 330_000  # 1.50 M backbone + 5 CDF + head + these ~= 2.0 M (docs/architecture.md)


def test_nodes_survive_pickling():
    m = _Neck().eval()
    x = torch.randn(1, 8, 32, 32)
    assert torch.equal(pickle.loads(pickle.dumps(m))(x), m(x))


def test_checkpoints_from_before_the_fuse_rename_load_into_merge():
    import pickle

    from gfdnet_ultra.nn.ffpn import FIF

    torch.manual_seed(0)
    new = FIF([8, 16], 8).eval()
    x = [torch.randn(1, 8, 8, 8), torch.randn(1, 16, 4, 4)]
    old_sd = {k.replace("merge.", "fuse.", 1) if k.startswith("merge.") else k: v for k, v in new.state_dict().items()}
    assert "fuse" not in dict(new.named_children())  # no submodule shadows the fuse() protocol
    fresh = FIF([8, 16], 8).eval()
    fresh.load_state_dict(old_sd)  # strict: every old key lands
    old = FIF([8, 16], 8).eval()
    old.load_state_dict(new.state_dict())
    old._modules["fuse"] = old._modules.pop("merge")  # the module as pickled before the rename
    restored = pickle.loads(pickle.dumps(old))
    with torch.no_grad():
        assert torch.equal(fresh(x), new(x)) and torch.equal(restored(x), new(x))
