"""Tests for gfdnet_ultra.nn.rcvit: official CAS-ViT configurations, multi-scale outputs, local checkpoints."""

from __future__ import annotations

import argparse
import logging
import pickle

import pytest
import torch

from gfdnet_ultra.nn.rcvit import RCVIT_VARIANTS, RCViT

from ..onnx_roundtrip import onnx_runner

# Official MODEL_ZOO counts (both classifier heads counted, LocalIntegration ratio 1), to the published precision.
OFFICIAL_M = {"xs": 3.201, "s": 5.764, "m": 12.422, "t": 21.763}


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("variant", sorted(RCVIT_VARIANTS))
def test_backbone_plus_official_classifier_head_gives_the_official_parameter_count(variant):
    dims = RCVIT_VARIANTS[variant][1]
    backbone = n_params(RCViT(variant, out_indices=(0, 1, 2, 3))) - 2 * sum(dims)  # minus the four output BNs
    head = 2 * dims[-1] + 2 * (dims[-1] * 1000 + 1000)  # final BN + head + dist_head, 1000 classes
    assert round((backbone + head) / 1e6, 3) == OFFICIAL_M[variant]


@pytest.mark.parametrize("size", [64, 96])
def test_default_outputs_are_strides_8_16_32_with_the_variant_widths(size):
    torch.manual_seed(0)
    m = RCViT("xs").eval()
    outs = m(torch.randn(2, 3, size, size))
    assert m.channels == [56, 112, 220] and m.strides == [8, 16, 32]
    assert [tuple(o.shape) for o in outs] == [(2, c, size // s, size // s) for c, s in zip(m.channels, m.strides)]


def test_out_indices_select_levels_and_drop_unused_later_stages():
    m = RCViT("s", out_indices=(0, 2))
    assert m.channels == [48, 128] and len(m.network) == 5
    assert [o.shape[1] for o in m(torch.randn(1, 3, 64, 64))] == [48, 128]


def test_every_parameter_gets_a_finite_gradient():
    torch.manual_seed(0)
    m = RCViT("xs").train()
    sum(o.square().mean() for o in m(torch.randn(2, 3, 64, 64))).backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_unknown_variant_and_bad_out_indices_are_rejected_with_the_valid_choices():
    with pytest.raises(ValueError, match=r"RCViT: unknown variant 'xl'.*\['m', 's', 't', 'xs'\]"):
        RCViT("xl")
    with pytest.raises(ValueError, match="out_indices"):
        RCViT("xs", out_indices=(3, 1))
    with pytest.raises(ValueError, match="out_indices"):
        RCViT("xs", out_indices=(4,))


def test_pretrained_loads_a_wrapped_local_checkpoint_and_reports_missing_keys(tmp_path, caplog):
    torch.manual_seed(0)
    src = RCViT("xs", out_indices=(0, 1, 2, 3))
    state = {f"module.{k}": v for k, v in src.state_dict().items() if not k.startswith("norm")}
    state["head.weight"] = torch.zeros(1000, 220)  # a classification checkpoint's head is unexpected here
    path = tmp_path / "rcvit_xs.pth"
    torch.save({"model": state, "epoch": 3, "args": argparse.Namespace(model="rcvit_xs")}, path)  # official layout
    with caplog.at_level(logging.WARNING):
        m = RCViT("xs", pretrained=str(path))
    torch.testing.assert_close(m.network[0][0].attn.qkv.weight, src.network[0][0].attn.qkv.weight)
    assert "15 missing" in caplog.text  # 3 output BNs x 5 entries each
    assert "1 unexpected" in caplog.text and "norm2.weight" in caplog.text


def test_pretrained_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        RCViT("xs", pretrained=tmp_path / "nope.pth")


def test_pretrained_true_is_refused_because_nothing_is_downloaded():
    with pytest.raises(ValueError, match="local checkpoint path"):
        RCViT("m", pretrained=True)
    assert RCViT("xs", pretrained=False).channels == [56, 112, 220]


def test_pretrained_from_another_variant_matches_no_key_and_is_rejected(tmp_path):
    path = tmp_path / "rcvit_m.pth"
    torch.save({"state_dict": RCViT("m").state_dict()}, path)
    with pytest.raises(ValueError, match="no key of"):
        RCViT("xs", pretrained=path)


def test_rcvit_survives_pickling():
    torch.manual_seed(0)
    m = RCViT("xs", out_indices=(2, 3)).eval()
    x = torch.randn(1, 3, 64, 64)
    for a, b in zip(pickle.loads(pickle.dumps(m))(x), m(x)):
        torch.testing.assert_close(a, b)


def test_rcvit_onnx_export_matches_onnxruntime_at_another_input_size():
    torch.manual_seed(0)
    m = RCViT("xs").eval()
    run = onnx_runner(m, torch.randn(1, 3, 64, 64))
    x = torch.randn(2, 3, 96, 128)
    for got, want in zip(run(x), m(x)):
        torch.testing.assert_close(torch.from_numpy(got), want, rtol=1e-3, atol=1e-3)
