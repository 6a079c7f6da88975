"""Tests for gfdnet_ultra.integration.fuse: BaseModel.fuse reaches our layers and leaves stock models unchanged."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import gfdnet_ultra
from gfdnet_ultra.integration import fuse as fuse_patch
from gfdnet_ultra.integration import patches
from gfdnet_ultra.nn.graph_conv import DynamicMRConv4d

gfdnet_ultra.register()  # installs the fuse patch


def _stock_fuse():
    from ultralytics.nn.tasks import BaseModel

    return patches.original(BaseModel, "fuse")


def _randomise_bn(model: nn.Module) -> nn.Module:
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return model.eval()


def test_install_is_idempotent_and_keeps_the_stock_method_reachable():
    from ultralytics.nn.tasks import BaseModel

    before = BaseModel.fuse
    fuse_patch.install()
    assert BaseModel.fuse is before
    assert _stock_fuse().__module__ == "ultralytics.nn.tasks"


def test_stock_yolo11n_fuses_exactly_as_without_the_patch():
    from ultralytics import YOLO

    torch.manual_seed(0)
    model = _randomise_bn(YOLO("yolo11n.yaml").model)
    stock = copy.deepcopy(model)
    assert fuse_patch.fuse_plugin_layers(model) == 0
    model.fuse(verbose=False)
    _stock_fuse()(stock, verbose=False)
    assert [type(m) for m in model.modules()] == [type(m) for m in stock.modules()]
    sd, ref = model.state_dict(), stock.state_dict()
    assert sd.keys() == ref.keys() and all(torch.equal(sd[k], ref[k]) for k in sd)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x)[0], stock(x)[0])


@pytest.mark.parametrize(("cfg", "has_graph_conv"), [("gfdnet-n.yaml", False), ("gfdnet-ffpn-n.yaml", True)])
def test_gfdnet_fuse_folds_our_batchnorms_and_keeps_outputs_to_float64_precision(cfg, has_graph_conv):
    from ultralytics import YOLO

    torch.manual_seed(0)
    model = _randomise_bn(YOLO(cfg).model).double()  # float64: folding changes rounding only, far below 1e-9
    x = torch.randn(1, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        ref = model(x)[0]
        model.fuse(verbose=False)
        out = model(x)[0]
    graph_convs = [m for m in model.modules() if isinstance(m, DynamicMRConv4d)]
    assert bool(graph_convs) == has_graph_conv and all(isinstance(m.nn[1], nn.Identity) for m in graph_convs)
    torch.testing.assert_close(out, ref, rtol=1e-9, atol=1e-9)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.fuse(verbose=False)  # a second fuse changes nothing
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
