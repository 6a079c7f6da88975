import numpy as np
import pytest
import torch

import gfdnet_ultra
from gfdnet_ultra.gate.detector import GatedDetector, gated_model_from_args

from ..gate.conftest import force_gate

gfdnet_ultra.register()


@pytest.fixture(scope="module")
def yolo_gated():
    from ultralytics import YOLO

    torch.manual_seed(0)
    return YOLO("yolo11-gated-n.yaml")


def _images(n, size=64):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (size, size, 3), dtype=np.uint8) for _ in range(n)]


@pytest.mark.parametrize("p", [[0.9, 0.1, 0.7, 0.2], [0.1, 0.2, 0.3, 0.05], [0.9, 0.8, 0.7, 0.6]])
def test_predict_returns_one_result_per_image_in_order_with_gate_probability(yolo_gated, p):
    force_gate(yolo_gated.model, p)
    yolo_gated.predictor = None  # a new predictor copies the forced gate
    res = yolo_gated.predict(_images(4), imgsz=64, threshold=0.5, conf=0.0, verbose=False, batch=4)
    assert len(res) == 4
    assert [r.gate["p_defect"] for r in res] == pytest.approx(p, abs=1e-5)
    for r, q in zip(res, p):
        assert r.gate["skipped"] == (q < 0.5)
        if q < 0.5:
            assert len(r.boxes) == 0


def test_threshold_outside_unit_interval_is_rejected(yolo_gated):
    with pytest.raises(ValueError, match=r"threshold=1.5 is outside \[0, 1\]"):
        GatedDetector(yolo_gated.model, 1.5)


def test_threshold_on_a_model_without_gate_layer_is_a_clear_error():
    from types import SimpleNamespace

    from ultralytics.nn.tasks import DetectionModel

    stock = DetectionModel("yolo11n.yaml", nc=2, verbose=False)
    with pytest.raises(ValueError, match="no DefectGate layer"):
        gated_model_from_args(stock, SimpleNamespace(threshold=0.5, gate_classifier=None))
    assert gated_model_from_args(stock, SimpleNamespace(threshold=None, gate_classifier=None)) is stock


def test_two_model_pair_skips_the_whole_detector_for_normal_images():
    from ultralytics.nn.tasks import DetectionModel

    from gfdnet_ultra.gate.two_model import ClassifierGate

    det = DetectionModel("yolo11n.yaml", nc=2, verbose=False).eval()
    cls = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, 2), torch.nn.Softmax(1))
    cls.names = {0: "defective", 1: "normal"}
    gate = ClassifierGate(cls, 32)
    gate.forward = lambda im: torch.tensor([0.9, 0.1, 0.8])[: len(im)]
    calls = []
    det.model[-1].register_forward_hook(lambda m, i, o: calls.append(i[0][0].shape[0]))
    g = GatedDetector(det, 0.5, gate)
    with torch.no_grad():
        y = g(torch.rand(3, 3, 64, 64))
    assert calls == [2] and y.shape[0] == 3 and not y[1].any()
