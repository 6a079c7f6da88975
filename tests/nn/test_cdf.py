"""Tests for gfdnet_ultra.nn.cdf: DMF blocks and the CDF (C2f subclass)."""

from __future__ import annotations

import pickle

import pytest
import torch
from ultralytics.nn.modules import C2f

from gfdnet_ultra.nn.cdf import CDF, DMF, DynamicGraphConvBlock, Grapher

from ..onnx_roundtrip import onnx_runner


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("c", [8, 32, 64])
def test_dmf_block_has_12c2_plus_76c_parameters(c):
    assert n_params(DynamicGraphConvBlock(c)) == 12 * c * c + 76 * c


@pytest.mark.parametrize(("c", "expected"), [(64, 25_216), (128, 95_488), (256, 371_200)])
def test_cdf_parameter_count_matches_the_reference(c, expected):
    assert n_params(CDF(c, c)) == expected


def test_cdf_honours_n_and_adds_one_dmf_block_and_cv2_input_per_repeat():
    one, three = CDF(32, 32, n=1), CDF(32, 32, n=3)
    assert len(three.m) == 3 and all(isinstance(b, DMF) for b in three.m)
    c = 16
    assert n_params(three) - n_params(one) == 2 * (12 * c * c + 76 * c) + 2 * c * 32


def test_cdf_is_a_c2f_so_the_exporter_swaps_its_forward_split():
    assert isinstance(CDF(8, 8), C2f)


@pytest.mark.parametrize("shape", [(2, 16, 32, 32), (1, 16, 24, 40)])
def test_cdf_output_shape_and_forward_split_matches_forward(shape):
    torch.manual_seed(0)
    m = CDF(16, 24, n=2).eval()
    x = torch.randn(*shape)
    y = m(x)
    assert y.shape == (shape[0], 24, shape[2], shape[3])
    torch.testing.assert_close(m.forward_split(x), y, rtol=0, atol=0)


def test_cdf_sends_finite_gradient_to_every_parameter_despite_tiny_layer_scales():
    torch.manual_seed(0)
    m = CDF(8, 16, n=2).train()
    m(torch.randn(2, 8, 16, 16)).square().sum().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_grapher_routes_k_and_max_shifts_to_its_graph_conv():
    g = Grapher(8, 3, max_shifts=5)
    assert (g.graph_conv.k, g.graph_conv.max_shifts) == (3, 5)
    assert CDF(8, 8, 1, k=4, max_shifts=6).m[0].mixer.graph_conv.k == 4


@pytest.mark.parametrize(("kwargs", "match"), [({"n": 0}, "n must be >= 1"), ({"e": 0.01}, "hidden width"),
                                               ({"k": 0}, "k and max_shifts"), ({"max_shifts": 0}, "k and max_shifts")])
def test_cdf_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"CDF: .*{match}"):
        CDF(8, 16, **kwargs)


def test_cdf_survives_pickling():
    torch.manual_seed(0)
    m = CDF(8, 8).eval()
    x = torch.randn(1, 8, 12, 12)
    torch.testing.assert_close(pickle.loads(pickle.dumps(m))(x), m(x))


def test_cdf_onnx_export_matches_onnxruntime_at_another_input_size():
    torch.manual_seed(0)
    m = CDF(8, 16, n=1, max_shifts=6).eval()
    for b in m.m:  # make the graph branch visible in the output (layer scales start at 1e-5)
        torch.nn.init.ones_(b.layer_scale_1)
    m.forward = m.forward_split  # as the Ultralytics exporter does
    run = onnx_runner(m, torch.randn(1, 8, 16, 16))
    for shape in [(2, 8, 40, 24), (1, 8, 9, 13)]:
        x = torch.randn(*shape)
        torch.testing.assert_close(torch.from_numpy(run(x)[0]), m(x), rtol=1e-4, atol=1e-4)


def test_cdf_takes_c2f_arguments_first_then_k():
    m = CDF(8, 16, 1, False, 1, 0.25, 3)
    assert m.c == 4 and m.m[0].mixer.graph_conv.k == 3
