"""Tests for gfdnet_ultra.nn.gcas (GAstage and its parts) and the shared CAS-ViT ops."""

from __future__ import annotations

import pickle

import pytest
import torch

from gfdnet_ultra.nn.gcas import GAstage, GCAAtten, GCAAtten2, GCABlock, GlobalSpatial

from ..onnx_roundtrip import onnx_runner


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_part_parameter_counts_match_the_reference_breakdown():
    assert n_params(GlobalSpatial(32, 64)) == 1_408
    assert n_params(GCAAtten2(32, 64)) == 7_616
    assert n_params(GCAAtten(32, 64)) == 19_904
    assert n_params(GCABlock(32, 64)) == 59_072  # reference GB3; GB1 = 2,880 (SCDown) + 59,072


@pytest.mark.parametrize(("c1", "c2", "expected"), [(32, 64, 121_024), (64, 128, 459_136)])
def test_two_block_stage_matches_the_reference_gastage(c1, c2, expected):
    assert n_params(GAstage(c1, c2, 2)) == expected


def test_gastage_honours_n_one_block_per_repeat():
    one, three = GAstage(32, 64, 1), GAstage(32, 64, 3)
    assert len(three.m) == 3
    assert n_params(three) - n_params(one) == 2 * n_params(GCABlock(32, 64))


def test_qkv_flag_uses_gcaatten_and_adds_the_projection():
    m = GAstage(32, 64, 2, True)
    assert all(type(b.attn) is GCAAtten for b in m.m)
    assert n_params(m) - n_params(GAstage(32, 64, 2)) == 2 * 64 * 192


@pytest.mark.parametrize("qkv", [False, True])
@pytest.mark.parametrize(("hw", "out"), [((32, 32), (16, 16)), ((40, 22), (20, 11)), ((17, 9), (9, 5))])
def test_gastage_halves_the_input_at_several_sizes(qkv, hw, out):
    torch.manual_seed(0)
    assert GAstage(8, 16, 2, qkv)(torch.randn(2, 8, *hw)).shape == (2, 16, *out)


def test_every_block_reads_the_stage_input_through_its_global_gate():
    torch.manual_seed(0)
    m = GAstage(8, 16, 2).eval()
    y = torch.randn(1, 8, 16, 16)
    x = m.down(y)
    for block in m.m:
        x = block(x, y)
    torch.testing.assert_close(m(y), x)
    block = m.m[1]
    assert not torch.allclose(block(x, y), block(x, y * 3))  # the gate depends on y, not on x


@pytest.mark.parametrize("qkv", [False, True])
def test_gastage_sends_finite_gradient_to_every_parameter(qkv):
    torch.manual_seed(0)
    m = GAstage(8, 16, 2, qkv).train()
    m(torch.randn(2, 8, 16, 16)).square().sum().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_channels_last_stage_computes_what_the_nchw_blocks_compute_and_stays_channels_last():
    torch.manual_seed(0)
    m = GAstage(8, 16, 2).train().double()  # float64: the layouts differ only in summation order, far below 1e-9
    y = torch.randn(2, 8, 20, 20, dtype=torch.float64, requires_grad=True)
    out = m(y)
    grads = torch.autograd.grad(out.square().sum(), [y, *m.parameters()])
    y_ref = y.detach().clone().requires_grad_(True)
    ref = m.down(y_ref)  # the blocks run directly on NCHW tensors: the layout-agnostic reference
    for block in m.m:
        ref = block(ref, y_ref)
    ref_grads = torch.autograd.grad(ref.square().sum(), [y_ref, *m.parameters()])
    assert out.is_contiguous(memory_format=torch.channels_last) and not y.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, ref, rtol=1e-9, atol=1e-9)
    for a, b in zip(grads, ref_grads):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("kwargs", "match"), [({"n": 0}, "n must be >= 1"), ({"c2": 0}, "channels"),
                                               ({"mlp_ratio": 0}, "mlp_ratio"), ({"li_ratio": -1}, "li_ratio")])
def test_gastage_rejects_bad_arguments(kwargs, match):
    args = {"c1": 8, "c2": 16, **kwargs}
    with pytest.raises(ValueError, match=f"GAstage: .*{match}"):
        GAstage(**args)


def test_gastage_survives_pickling():
    torch.manual_seed(0)
    m = GAstage(8, 16, 2, True).eval()
    x = torch.randn(1, 8, 16, 16)
    torch.testing.assert_close(pickle.loads(pickle.dumps(m))(x), m(x))


@pytest.mark.parametrize("qkv", [False, True])
def test_gastage_onnx_export_matches_onnxruntime_at_another_input_size(qkv):
    torch.manual_seed(0)
    m = GAstage(8, 16, 2, qkv).eval()
    run = onnx_runner(m, torch.randn(1, 8, 32, 32))
    for shape in [(2, 8, 48, 24), (1, 8, 18, 30)]:
        x = torch.randn(*shape)
        torch.testing.assert_close(torch.from_numpy(run(x)[0]), m(x), rtol=1e-4, atol=1e-4)
