import pytest
import torch
from torch import nn

from gfdnet_ultra.gate.two_model import ClassifierGate


def _classifier(names):
    m = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2), nn.Softmax(1))
    m.names = names
    return m


def test_classifier_gate_returns_p_of_the_defective_class_whatever_its_index():
    m = _classifier({0: "normal", 1: "defective"})
    g = ClassifierGate(m, 16)
    im = torch.rand(2, 3, 32, 32)
    probs = m(torch.nn.functional.interpolate(im, size=(16, 16), mode="bilinear", align_corners=False))
    assert torch.allclose(g(im), probs[:, 1])


def test_classifier_with_other_classes_is_a_clear_error_naming_the_expected_ones():
    with pytest.raises(ValueError, match=r"\{'normal', 'defective'\} are expected"):
        ClassifierGate(_classifier({0: "cat", 1: "dog"}))


def test_classifier_run_at_another_size_than_it_was_trained_at_warns_once_naming_the_fix(caplog):
    g = ClassifierGate(_classifier({0: "defective", 1: "normal"}), 224)
    with caplog.at_level("WARNING"):
        g(torch.rand(1, 3, 640, 640))
        g(torch.rand(1, 3, 640, 640))
        g(torch.rand(1, 3, 224, 224))
    assert caplog.text.count("trained at imgsz=224") == 1 and "imgsz=640" in caplog.text
