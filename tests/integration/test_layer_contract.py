"""One contract for every YAML layer in the registry (as timm's test_models.py runs over list_models()).

Each layer builds from the arguments the YAML parser would give it, runs at two input sizes, sends gradient to every
parameter, matches its export path, agrees with onnxruntime on an input of another size than the one it was exported
with, and survives pickling. A new row in `registry.LAYERS` without an example here fails `test_every_layer_has_an_example`.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

from gfdnet_ultra.integration import registry

from ..onnx_roundtrip import onnx_runner


def _maps(*specs: tuple[int, int]) -> Callable[[int], list[torch.Tensor]]:
    """Inputs of (channels, size at scale 1) maps; scale s multiplies every size."""
    return lambda s: [torch.randn(1, c, h * s, h * s) for c, h in specs]


def _head(m: nn.Module) -> nn.Module:
    m.stride = torch.tensor([8.0, 16.0, 32.0])
    m.bias_init()
    return m


# name: (constructor args as the parser passes them, inputs(scale), whether the layer takes one list, setup)
EXAMPLES: dict[str, tuple] = {
    "AADown": ((8, 16), _maps((8, 16)), False, None),
    "FIF": (([8, 16, 32], 16), _maps((8, 16), (16, 8), (32, 4)), True, None),
    "UADF": (([16, 16], 16), _maps((16, 16), (16, 8)), True, None),
    "DCF": (([16, 16, 32], 16), _maps((16, 16), (16, 16), (32, 8)), True, None),
    "GAstage": ((8, 16, 2), _maps((8, 16)), False, None),
    "CDF": ((8, 16, 1), _maps((8, 16)), False, None),
    "RCViT": (("xs",), _maps((3, 64)), False, None),
    "DefectGate": ((16, 16), _maps((16, 4)), False, None),
    "LocalDefectGate": ((16, 16), _maps((16, 4)), False, None),
    "Detect_TDSC": ((4, None, 16, False, [16, 32, 32]), _maps((16, 8), (32, 4), (32, 2)), True, _head),
}


def _build(name: str) -> tuple[nn.Module, Callable, bool]:
    args, inputs, takes_list, setup = EXAMPLES[name]
    torch.manual_seed(0)
    spec = next(s for s in registry.LAYERS if s.name == name)
    m = spec.load()(*args)
    return (setup(m) if setup else m), inputs, takes_list


def _call(m: nn.Module, xs: list[torch.Tensor], takes_list: bool):
    return m(list(xs)) if takes_list else m(*xs)


def _tensors(y) -> list[torch.Tensor]:
    """Every tensor in a nested output (tensor, list, tuple, dict)."""
    if isinstance(y, torch.Tensor):
        return [y]
    if isinstance(y, dict):
        return [t for v in y.values() for t in _tensors(v)]
    if isinstance(y, (list, tuple)):
        return [t for v in y for t in _tensors(v)]
    return []


def _scalar(m: nn.Module, y) -> torch.Tensor:
    total = sum(t.float().sum() for t in _tensors(y))
    logits = getattr(m, "logits", None)  # the gate's own output is a pass-through; its classifier feeds the logits
    return total + logits.sum() if isinstance(logits, torch.Tensor) else total


NAMES = [s.name for s in registry.LAYERS]


def test_every_layer_has_an_example():
    assert sorted(NAMES) == sorted(EXAMPLES)


@pytest.mark.parametrize("name", NAMES)
def test_layer_runs_at_two_input_sizes(name):
    m, inputs, takes_list = _build(name)
    m.eval()
    with torch.no_grad():
        shapes = [[tuple(t.shape) for t in _tensors(_call(m, inputs(s), takes_list))] for s in (1, 2)]
    for small, large in zip(*shapes):
        assert large[-2:] == (2 * small[-2], 2 * small[-1]) or small[-1] * 4 == large[-1]  # maps, or anchors (B,C,A)


@pytest.mark.parametrize("name", NAMES)
def test_layer_sends_gradient_to_every_parameter(name):
    m, inputs, takes_list = _build(name)
    m.train()
    _scalar(m, _call(m, inputs(1), takes_list)).backward()
    missing = [n for n, p in m.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.isfinite().all())]
    assert not missing


@pytest.mark.parametrize("name", NAMES)
def test_layer_export_path_matches_its_training_path(name):
    m, inputs, takes_list = _build(name)
    m.eval()
    xs = inputs(1)
    with torch.no_grad():
        ref = _tensors(_call(m, xs, takes_list))
        if hasattr(m, "forward_split"):  # the Ultralytics exporter swaps it in for every C2f subclass
            m.forward = m.forward_split
        if hasattr(m, "export"):
            m.export = True
        out = _tensors(_call(m, xs, takes_list))
    for a, b in zip(ref, out):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)


class _Flat(nn.Module):
    """Tensor inputs and outputs around a layer, so torch.onnx sees plain graph inputs."""

    def __init__(self, m: nn.Module, takes_list: bool):
        super().__init__()
        self.m, self.takes_list = m, takes_list

    def forward(self, *xs):
        return tuple(_tensors(_call(self.m, xs, self.takes_list)))


@pytest.mark.parametrize("name", NAMES)
def test_layer_agrees_with_onnxruntime_at_another_input_size(name):
    m, inputs, takes_list = _build(name)
    if hasattr(m, "forward_split"):
        m.forward = m.forward_split
    if hasattr(m, "export"):
        m.export = True
    if hasattr(m, "dynamic"):
        m.dynamic = True  # as the Ultralytics exporter sets on heads for dynamic axes (anchors rebuilt per input size)
    flat = _Flat(m, takes_list).eval()  # export restores the wrapper's mode on every child
    run = onnx_runner(flat, *inputs(1))
    big = inputs(2)
    with torch.no_grad():
        want = flat(*big)
    for got, w in zip(run(*big), want):
        assert got.shape == tuple(w.shape)
        assert np.abs(got - w.numpy()).max() < 1e-3 * max(1.0, float(w.abs().max()))


@pytest.mark.parametrize("name", NAMES)
def test_layer_survives_pickling(name):
    m, inputs, takes_list = _build(name)
    m.eval()
    xs = inputs(1)
    copy = pickle.loads(pickle.dumps(m))
    with torch.no_grad():
        for a, b in zip(_tensors(_call(m, xs, takes_list)), _tensors(_call(copy, xs, takes_list))):
            torch.testing.assert_close(b, a)
