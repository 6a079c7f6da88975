import pytest
import torch
from torch import nn

from gfdnet_ultra.gate.head import DefectGate, find_gate


def test_gate_passes_its_input_through_and_keeps_one_logit_per_image():
    g = DefectGate(16, 16, hidden=8)
    x = torch.randn(3, 16, 5, 5)
    assert g(x) is x
    assert g.logits.shape == (3,)


def test_gate_sends_gradient_to_every_parameter():
    g = DefectGate(8, 8, pool="avg")
    g(torch.randn(2, 8, 3, 3))
    g.logits.sum().backward()
    assert all(p.grad is not None for p in g.parameters())


def test_gate_rejects_a_width_change():
    with pytest.raises(ValueError, match="DefectGate.*c2 must equal.*c1=16"):
        DefectGate(16, 32)


def test_find_gate_on_a_model_without_gate_layer_says_what_to_do():
    m = nn.Module()
    m.model = nn.Sequential(nn.Conv2d(3, 3, 1))
    with pytest.raises(ValueError, match="no DefectGate layer.*gated YAML"):
        find_gate(m)
