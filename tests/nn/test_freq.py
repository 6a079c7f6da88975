"""Tests for gfdnet_ultra.nn.freq, with torch.fft as the slow reference that proves the frequency behaviour."""

from __future__ import annotations

import math
import pickle

import pytest
import torch
import torch.nn.functional as F

from gfdnet_ultra.nn.freq import (
    AADown,
    AdaptiveHighPass,
    AdaptiveLowPass,
    apply_pixel_kernels,
    binomial_filter,
    blur2d,
    fold_kernels_up2,
)


def expected_high_freq_energy(x: torch.Tensor, cutoff: float = 0.25) -> float:
    """Energy of the spectrum above `cutoff` cycles/pixel (Nyquist is 0.5), per channel, summed: the FFT reference."""
    spec = torch.fft.fft2(x - x.mean((-2, -1), keepdim=True)).abs().square()
    fy = torch.fft.fftfreq(x.shape[-2])[:, None]
    fx = torch.fft.fftfreq(x.shape[-1])[None, :]
    return spec[..., (fy.square() + fx.square()).sqrt() > cutoff].sum().item()


def _upsampled_noise(seed: int = 0) -> torch.Tensor:
    """A nearest-up-sampled coarse feature: blocky, so it carries the high-frequency artefacts ALPF must remove."""
    g = torch.Generator().manual_seed(seed)
    return F.interpolate(torch.randn(2, 8, 16, 16, generator=g), scale_factor=2, mode="nearest")


def test_binomial_filter_is_normalised_and_symmetric():
    f = binomial_filter(5)
    assert f.shape == (5, 5) and abs(f.sum().item() - 1) < 1e-6 and torch.equal(f, f.T) and (f > 0).all()


def test_pixel_kernels_with_one_kernel_everywhere_equal_a_depthwise_conv():
    torch.manual_seed(0)
    x, k = torch.randn(2, 3, 9, 7), torch.randn(3, 3)
    kernels = k.flatten()[None, :, None, None].expand(2, 9, 9, 7)
    expected = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k.expand(3, 1, 3, 3), groups=3)
    assert torch.allclose(apply_pixel_kernels(x, kernels), expected, atol=1e-5)


def expected_pixel_kernels(x: torch.Tensor, kernels: torch.Tensor, dilation: int = 1) -> torch.Tensor:
    """Slow reference: unfold the replicate-padded input and weight each pixel's k*k patch by its own kernel."""
    b, c, h, w = x.shape
    k = math.isqrt(kernels.shape[1])
    cols = F.unfold(F.pad(x, [k // 2 * dilation] * 4, mode="replicate"), k, dilation=dilation).view(b, c, k * k, h * w)
    return (cols * kernels.flatten(2).unsqueeze(1)).sum(2).view(b, c, h, w)


@pytest.mark.parametrize("k, dilation", [(3, 1), (5, 1), (3, 2)])
def test_in_place_pixel_kernels_equal_the_unfold_reference_values_and_gradients(k, dilation):
    torch.manual_seed(k)
    x = torch.randn(2, 3, 9, 7, dtype=torch.float64, requires_grad=True)
    kernels = torch.randn(2, k * k, 9, 7, dtype=torch.float64).softmax(1).requires_grad_()
    out, ref = apply_pixel_kernels(x, kernels, dilation), expected_pixel_kernels(x, kernels, dilation)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    g = torch.randn_like(out)
    for a, b in zip(torch.autograd.grad(out, (x, kernels), g), torch.autograd.grad(ref, (x, kernels), g)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_pixel_kernels_gradient_reaches_only_the_input_that_asks_for_it():
    x = torch.randn(1, 2, 5, 5, requires_grad=True)
    kernels = torch.randn(1, 9, 5, 5).softmax(1)
    apply_pixel_kernels(x, kernels).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape and kernels.grad is None


def test_pixel_kernels_trace_as_plain_ops():
    kernels = torch.randn(1, 9, 6, 5).softmax(1)
    traced = torch.jit.trace(lambda x, k: apply_pixel_kernels(x, k), (torch.randn(1, 2, 6, 5), kernels))
    assert "PythonOp" not in str(traced.graph)  # an autograd.Function would not export to ONNX
    x = torch.randn(1, 2, 6, 5)
    torch.testing.assert_close(traced(x, kernels), apply_pixel_kernels(x, kernels))


@pytest.mark.parametrize("k", [5, 9])
@pytest.mark.parametrize("size", [(16, 12), (15, 11)])  # even, and an odd crop of the 2x up-sampling
def test_folded_kernels_on_a_nearest_up_sampling_equal_the_full_kernels(k, size):
    torch.manual_seed(k)
    h, w = size
    coarse = torch.randn(2, 3, (h + 1) // 2, (w + 1) // 2, dtype=torch.float64, requires_grad=True)
    kernels = torch.randn(2, k * k, h, w, dtype=torch.float64).softmax(1).requires_grad_()
    up = F.interpolate(coarse, size=size, mode="nearest")  # u[i] = c[i // 2] at these sizes
    folded = fold_kernels_up2(kernels)
    assert folded.shape == (2, (k // 2 + 1) ** 2, h, w)
    torch.testing.assert_close(folded.sum(1), torch.ones(2, h, w, dtype=torch.float64), rtol=0, atol=1e-12)
    out, ref = apply_pixel_kernels(up, folded, dilation=2), expected_pixel_kernels(up, kernels)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    g = torch.randn_like(out)
    for a, b in zip(torch.autograd.grad(out, (coarse, kernels), g), torch.autograd.grad(ref, (coarse, kernels), g)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_folded_kernels_differ_from_the_full_kernels_on_a_map_that_is_not_up_sampled():
    torch.manual_seed(0)
    x, kernels = torch.randn(1, 3, 12, 12, dtype=torch.float64), torch.randn(1, 25, 12, 12, dtype=torch.float64).softmax(1)
    assert (apply_pixel_kernels(x, fold_kernels_up2(kernels), 2) - apply_pixel_kernels(x, kernels)).abs().max() > 0.1


@pytest.mark.parametrize("k", [3, 7])
def test_fold_rejects_kernel_sizes_whose_taps_do_not_line_up(k):
    with pytest.raises(ValueError, match="1 mod 4"):
        fold_kernels_up2(torch.rand(1, k * k, 4, 4))


def test_alpf_kernels_are_non_negative_and_sum_to_one():
    torch.manual_seed(0)
    m = AdaptiveLowPass(4, 5)
    k = m.kernels(torch.randn(2, 4, 6, 6))
    assert k.shape == (2, 25, 6, 6) and (k >= 0).all()
    assert torch.allclose(k.sum(1), torch.ones(2, 6, 6), atol=1e-5)


@pytest.mark.parametrize("weight_std", [1e-3, 0.1])  # at init (binomial), and with kernel logits varying by ~0.85 std
def test_alpf_removes_high_frequency_energy_and_keeps_dc(weight_std):
    torch.manual_seed(0)
    m = AdaptiveLowPass(8, 5)
    torch.nn.init.normal_(m.kernel.weight, std=weight_std)
    x = _upsampled_noise()
    with torch.no_grad():
        y = m(x, x)
        flat = m(torch.full_like(x, 3.0), x)
    assert expected_high_freq_energy(y) < 0.5 * expected_high_freq_energy(x)
    assert torch.allclose(flat, torch.full_like(x, 3.0), atol=1e-5)  # DC gain exactly 1, borders included


def test_ahpf_keeps_high_frequency_energy_and_dc():
    torch.manual_seed(0)
    m = AdaptiveHighPass(8, 8, 3)
    x = torch.randn(2, 8, 32, 32)
    with torch.no_grad():
        y = m(x, x)
        flat = m(torch.full_like(x, -2.0), x)
    assert expected_high_freq_energy(y) >= expected_high_freq_energy(x)
    assert torch.allclose(flat, torch.full_like(x, -2.0), atol=1e-5)


def test_ahpf_with_zero_gain_is_identity():
    m = AdaptiveHighPass(4, 6, 3)
    torch.nn.init.zeros_(m.gamma)
    x = torch.randn(1, 6, 8, 8)
    assert torch.equal(m(x, torch.randn(1, 4, 8, 8)), x)


def test_blur_before_stride_reduces_aliasing():
    w = 64
    x = torch.cos(2 * torch.pi * 0.45 * torch.arange(w, dtype=torch.float32)).expand(1, 1, w, w).contiguous()
    filt = binomial_filter(3).expand(1, 1, 3, 3)
    naive = x[..., ::2, ::2]  # 0.45 cycles/px aliases to 0.1 cycles/px at full amplitude
    aa = blur2d(x, filt, stride=2)
    assert naive.shape == aa.shape == (1, 1, 32, 32)
    assert aa[..., 2:-2, 2:-2].square().mean() < 0.01 * naive[..., 2:-2, 2:-2].square().mean()


def test_aadown_filter_is_a_non_persistent_buffer_and_shapes_halve():
    m = AADown(4, 8)
    assert "filt" not in m.state_dict() and m(torch.randn(1, 4, 16, 12)).shape == (1, 8, 8, 6)


@pytest.mark.parametrize("cls", [AdaptiveLowPass, AADown])
def test_filters_reject_even_kernel_sizes(cls):
    with pytest.raises(ValueError, match=r"k=4"):
        cls(4, 4, 4) if cls is AADown else cls(4, 4)


def test_filters_survive_pickling():
    m = AdaptiveHighPass(4, 4)
    x, g = torch.randn(1, 4, 6, 6), torch.randn(1, 4, 6, 6)
    assert torch.equal(pickle.loads(pickle.dumps(m))(x, g), m(x, g))
