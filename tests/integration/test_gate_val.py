import json

import pytest
import torch

import gfdnet_ultra  # noqa: F401


@pytest.fixture(scope="module")
def gated_pt(tmp_path_factory):
    from ultralytics import YOLO

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "yolo11-gated-n.pt"
    YOLO("yolo11-gated-n.yaml").save(path)
    return path


def test_yolo_val_on_a_gated_model_writes_the_recall_and_skip_curve_beside_gate_metrics(gated_pt, synthetic_yaml, tmp_path):
    from ultralytics import YOLO

    m = YOLO(gated_pt).val(data=str(synthetic_yaml), imgsz=64, batch=4, threshold=0.5, device="cpu", plots=False,
                           project=str(tmp_path), name="val", verbose=False)
    folder = tmp_path / "val"
    curve = json.loads((folder / "gate_curve.json").read_text())
    assert (folder / "gate_metrics.json").exists() and (folder / "gate_curve.png").stat().st_size > 1000
    assert curve["images"] == 8 and curve["marks"] == {"run": 0.5}
    # between two distinct probabilities the operating point is constant: the run's 0.5 acts as the next p >= 0.5
    above = [i for i, t in enumerate(curve["threshold"]) if t >= 0.5]
    skip, recall = (curve["skip_rate"][above[0]], curve["recall"][above[0]]) if above else (1.0, 0.0)
    assert (skip, recall) == (pytest.approx(m.gate["skip_rate"]), pytest.approx(m.gate["gate_recall"]))


def test_pick_gate_threshold_reports_the_recall_and_skip_rate_expected_at_its_pick(gated_pt, synthetic_yaml, tmp_path):
    from ultralytics import YOLO

    from gfdnet_ultra.integration.gate_val import pick_gate_threshold

    t = pick_gate_threshold(YOLO(gated_pt), str(synthetic_yaml), 0.99, imgsz=64, batch=4, device="cpu",
                            project=str(tmp_path), name="pick", verbose=False)
    rows = json.loads((tmp_path / "pick" / "gate_curve.json").read_text())
    assert t.point["recall"] >= 0.99 and 0.0 <= t.point["skip_rate"] <= rows["normal"] / rows["images"]
    assert t.point["images"] == 8 and "expected recall" in t.describe()
