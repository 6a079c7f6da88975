import json

import pytest
import torch

import gfdnet_ultra  # noqa: F401
from gfdnet_ultra.gate.tile_classifier import TileGateClassifier, measure_gate_cost


def test_tile_classifier_keeps_a_one_cell_defect_at_full_resolution():
    torch.manual_seed(0)
    m = TileGateClassifier(4, imgsz=64).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        p = m(x)
        assert torch.allclose(p.sum(1), torch.ones(1)) and p[0, 0] == m.cell_logits(x).amax().sigmoid()
        assert m.cell_logits(torch.rand(1, 3, 128, 96)).shape == (1, 16, 12)  # any multiple of 8


def test_tile_classifier_cost_is_reported_in_gflops_and_ms():
    cost = measure_gate_cost(TileGateClassifier(16), 640, reps=2)
    assert 0.2 < cost["gflops"] < 0.5 and cost["ms_batch1"] > 0


@pytest.fixture(scope="module")
def trained(synthetic_yaml, tmp_path_factory):
    from gfdnet_ultra.gate.tile_classifier import train_gate_classifier

    folder = tmp_path_factory.mktemp("tile")
    return folder, train_gate_classifier(synthetic_yaml, imgsz=64, epochs=2, width=4, folds=2, save=folder / "g.pt")


def test_train_gate_writes_a_classifier_that_gate_classifier_loads_at_its_size_and_threshold(trained, synthetic_yaml,
                                                                                               tmp_path):
    from ultralytics import YOLO

    from gfdnet_ultra.gate import load_classifier_gate

    folder, report = trained
    gate = load_classifier_gate(report["save"])
    assert gate.imgsz == 64 and gate.model.gate_threshold == report["threshold"]
    assert report["calibration_point"]["recall"] >= 0.99 and report["cost"]["gflops"] > 0
    assert report["calibration_images"] == report["fit_images"] == 16  # cross-fitted: every training image scored
    assert report["crop"] == 32  # the default: half the side, on the 32 px grid
    YOLO("yolo11n.yaml").save(tmp_path / "det.pt")
    m = YOLO(tmp_path / "det.pt").val(data=str(synthetic_yaml), imgsz=64, batch=4, device="cpu", plots=False,
                                      gate_classifier=report["save"], project=str(tmp_path), name="v", verbose=False)
    assert m.gate["mode"] == "two-model" and m.gate["threshold"] == pytest.approx(report["threshold"])
    curve = json.loads((tmp_path / "v" / "gate_curve.json").read_text())
    assert curve["images"] == 8 and (tmp_path / "v" / "gate_curve.png").exists()


def test_gfdnet_train_gate_with_an_unknown_key_is_one_clear_line(capsys):
    from gfdnet_ultra.integration.cli import main

    assert main(["train-gate", "data=x.yaml", "imgsize=640"]) == 2
    err = capsys.readouterr().err
    assert "expected key=value with key in" in err and "'imgsz'" in err and "imgsize=640" in err


def test_gfdnet_fit_gate_without_a_model_names_the_missing_key(capsys):
    from gfdnet_ultra.integration.cli import main

    assert main(["fit-gate", "data=x.yaml"]) == 2
    assert "missing model=" in capsys.readouterr().err


@pytest.mark.parametrize("per_cell", [8, 2])  # an image (stride-8 cells) and a P2 feature map (2 positions a cell)
def test_training_crops_stay_on_the_stride_grid_with_their_mask_cells(per_cell):
    from gfdnet_ultra.gate.fit import _crop

    side = 8 * per_cell
    x = torch.arange(side * side, dtype=torch.float32).view(1, 1, side, side).expand(3, 3, side, side).clone()
    m = torch.zeros(3, 8, 8, dtype=torch.bool)
    m[:, 2, 5] = True
    xs, ms = _crop(x, m, 4, torch.Generator().manual_seed(0))
    assert xs.shape == (3, 3, 4 * per_cell, 4 * per_cell) and ms.shape == (3, 4, 4)
    for im, mk in zip(xs, ms):
        i, j = int(im[0, 0, 0]) // side // per_cell, int(im[0, 0, 0]) % side // per_cell  # the crop's top-left cell
        assert bool(mk.any()) == (i <= 2 < i + 4 and j <= 5 < j + 4)


def test_default_crop_is_half_the_side_on_a_32_px_grid():
    from gfdnet_ultra.gate.tile_classifier import default_crop

    assert [default_crop(s) for s in (64, 160, 320, 640)] == [32, 96, 160, 320]


def test_train_gate_refuses_a_crop_off_the_stride_grid(synthetic_yaml):
    from gfdnet_ultra.gate.tile_classifier import train_gate_classifier

    with pytest.raises(ValueError, match="crop=100 must be a non-negative multiple of 8"):
        train_gate_classifier(synthetic_yaml, imgsz=64, crop=100)
