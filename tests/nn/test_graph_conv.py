"""Tests for gfdnet_ultra.nn.graph_conv: the vectorised graph conv against GreedyViG's per-shift loop."""

from __future__ import annotations

import math
import pickle

import pytest
import torch

from gfdnet_ultra.nn import graph_conv
from gfdnet_ultra.nn.graph_conv import DynamicMRConv4d, axial_shifts, max_relative_axial

from ..onnx_roundtrip import onnx_runner


def expected_max_relative(x: torch.Tensor, kh: int, kw: int) -> torch.Tensor:
    """GreedyViG ``DynamicMRConv4d`` aggregation, transcribed: a Python loop over every kh-th row and kw-th column."""
    _, _, h, w = x.shape
    x_j = x - x
    x_rolled = torch.cat([x[:, :, -h // 2 :, :], x[:, :, : -h // 2, :]], dim=2)
    x_rolled = torch.cat([x_rolled[:, :, :, -w // 2 :], x_rolled[:, :, :, : -w // 2]], dim=3)
    norm = torch.norm(x - x_rolled, p=1, dim=1, keepdim=True)
    mean, std = torch.mean(norm, dim=[2, 3], keepdim=True), torch.std(norm, dim=[2, 3], keepdim=True)
    for i in range(0, h, kh):
        x_rolled = torch.cat([x[:, :, -i:, :], x[:, :, :-i, :]], dim=2)
        mask = torch.where(torch.norm(x - x_rolled, p=1, dim=1, keepdim=True) < mean - std, 1, 0)
        x_j = torch.max(x_j, (x_rolled - x) * mask)
    for j in range(0, w, kw):
        x_rolled = torch.cat([x[:, :, :, -j:], x[:, :, :, :-j]], dim=3)
        mask = torch.where(torch.norm(x - x_rolled, p=1, dim=1, keepdim=True) < mean - std, 1, 0)
        x_j = torch.max(x_j, (x_rolled - x) * mask)
    return x_j


def reference_step(length: int, k: int, max_shifts: int) -> int:
    """The documented step: k, grown so that at most max_shifts non-zero shifts fit in the axis."""
    return max(k, math.ceil(length / (max_shifts + 1)))


CASES = [(9, 7, 2, 100), (10, 10, 3, 100), (16, 12, 2, 3), (13, 20, 1, 4), (1, 5, 2, 8), (80, 80, 2, 20),
         (40, 24, 2, 20)]


@pytest.mark.parametrize(("h", "w", "k", "max_shifts"), CASES)
def test_fast_graph_conv_equals_the_loop_reference_values_and_gradients(h, w, k, max_shifts):
    torch.manual_seed(h * 100 + w)
    x = torch.randn(2, 4, h, w, dtype=torch.float64, requires_grad=True)
    fast = max_relative_axial(x, k, max_shifts)
    ref = expected_max_relative(x, reference_step(h, k, max_shifts), reference_step(w, k, max_shifts))
    torch.testing.assert_close(fast, ref, rtol=0, atol=0)
    g = torch.randn_like(fast)
    torch.testing.assert_close(torch.autograd.grad(fast, x, g)[0], torch.autograd.grad(ref, x, g)[0])


@pytest.mark.parametrize(("h", "w", "k", "max_shifts"), CASES)
@pytest.mark.parametrize("chunk_elems", [1, 1 << 20])
def test_inference_path_and_shift_chunks_equal_the_loop_reference(monkeypatch, h, w, k, max_shifts, chunk_elems):
    monkeypatch.setattr(graph_conv, "_CHUNK_ELEMS", chunk_elems)  # 1: one shift per chunk; 1 << 20: one chunk
    torch.manual_seed(h * 100 + w)
    x = torch.randn(2, 4, h, w, dtype=torch.float64)
    ref = expected_max_relative(x, reference_step(h, k, max_shifts), reference_step(w, k, max_shifts))
    with torch.inference_mode():
        torch.testing.assert_close(max_relative_axial(x, k, max_shifts), ref, rtol=0, atol=0)
    xg = x.clone().requires_grad_()
    fast = max_relative_axial(xg, k, max_shifts)
    refg = expected_max_relative(xg, reference_step(h, k, max_shifts), reference_step(w, k, max_shifts))
    torch.testing.assert_close(fast, ref, rtol=0, atol=0)
    g = torch.randn_like(fast)
    torch.testing.assert_close(torch.autograd.grad(fast, xg, g)[0], torch.autograd.grad(refg, xg, g)[0])


def test_shift_chunks_keep_the_first_maximal_slot_on_ties(monkeypatch):
    x = torch.zeros(1, 2, 12, 3)
    x[:, :, ::2] = 1.0  # every even shift reaches an identical neighbour: ties everywhere
    _, one = graph_conv._axis_best(x, torch.arange(1, 12), torch.tensor(1e9), True)
    monkeypatch.setattr(graph_conv, "_CHUNK_ELEMS", x.numel())
    _, chunked = graph_conv._axis_best(x, torch.arange(1, 12), torch.tensor(1e9), True)
    torch.testing.assert_close(chunked, one, rtol=0, atol=0)


def test_unbounded_shift_count_reproduces_greedyvig_k2_exactly():
    torch.manual_seed(0)
    x = torch.randn(1, 8, 24, 18, dtype=torch.float64)
    torch.testing.assert_close(max_relative_axial(x, 2, 1000), expected_max_relative(x, 2, 2), rtol=0, atol=0)


def test_axial_shifts_bound_the_count_and_repeat_the_last_shift_to_fill_slots():
    assert axial_shifts(80, 2, 20, 20).tolist() == list(range(4, 80, 4))[:19] + [76]
    assert axial_shifts(40, 2, 20, 20).tolist() == list(range(2, 40, 2)) + [38]
    assert axial_shifts(5, 2, 20, 3).tolist() == [2, 4, 4]
    assert axial_shifts(1, 2, 20, 2).tolist() == [0, 0]


def test_output_is_non_negative_and_zero_for_a_constant_image():
    torch.manual_seed(0)
    assert (max_relative_axial(torch.randn(2, 3, 11, 9)) >= 0).all()
    assert max_relative_axial(torch.ones(1, 3, 8, 8)).abs().max() == 0


def test_module_keeps_shape_at_two_sizes_and_sends_gradient_to_every_parameter():
    torch.manual_seed(0)
    m = DynamicMRConv4d(8, k=2)
    for shape in [(2, 8, 16, 16), (1, 8, 24, 12)]:
        assert m(torch.randn(*shape)).shape == shape
    m(torch.randn(2, 8, 16, 16)).square().sum().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert sum(p.numel() for p in m.parameters()) == 2 * 8 * 8 + 3 * 8


def test_module_rejects_bad_step_and_shift_bound():
    with pytest.raises(ValueError, match="DynamicMRConv4d: shift step k"):
        DynamicMRConv4d(8, k=0)
    with pytest.raises(ValueError, match="max_shifts"):
        DynamicMRConv4d(8, max_shifts=0)


def test_module_survives_pickling():
    torch.manual_seed(0)
    m = DynamicMRConv4d(4, k=3, max_shifts=5).eval()
    x = torch.randn(1, 4, 10, 10)
    torch.testing.assert_close(pickle.loads(pickle.dumps(m))(x), m(x))


def test_onnx_export_at_one_size_matches_onnxruntime_at_other_sizes():
    torch.manual_seed(0)
    m = DynamicMRConv4d(8, k=2, max_shifts=4).eval()
    run = onnx_runner(m, torch.randn(1, 8, 12, 10))
    for shape in [(2, 8, 20, 7), (1, 8, 3, 31), (1, 8, 40, 40)]:
        x = torch.randn(*shape)
        torch.testing.assert_close(torch.from_numpy(run(x)[0]), m(x), rtol=1e-4, atol=1e-5)
