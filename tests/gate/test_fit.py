import json

import pytest
import torch

import gfdnet_ultra  # noqa: F401


@pytest.fixture(scope="module")
def fitted(synthetic_yaml, tmp_path_factory):
    """An untrained yolo11-gated-n checkpoint and the same with a gate fitted by fit-gate (2 epochs, 64 px, 3 folds)."""
    from ultralytics import YOLO

    from gfdnet_ultra.gate.fit import fit_gate

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("fit")
    YOLO("yolo11-gated-n.yaml").save(folder / "det.pt")
    report = fit_gate(folder / "det.pt", synthetic_yaml, imgsz=64, epochs=2, folds=3, hidden=8)
    return folder, report


def test_fit_gate_saves_a_checkpoint_whose_gate_is_calibrated_on_cross_fitted_training_images(fitted):
    from ultralytics.nn.tasks import load_checkpoint

    from gfdnet_ultra.gate.fit import gate_threshold
    from gfdnet_ultra.gate.local_gate import LocalDefectGate

    folder, report = fitted
    model, ckpt = load_checkpoint(report["save"])
    assert isinstance(model.model[5], LocalDefectGate) and gate_threshold(model) == report["threshold"]
    assert report["fit_images"] == report["calibration_images"] == 16  # every image scored by a gate that never saw it
    assert report["folds"] == 3 and "3-fold cross-fitting" in report["calibration_point"]["split"]
    assert report["calibration_point"]["recall"] >= 0.99 and ckpt["gate_fit"]["threshold"] == report["threshold"]
    assert (folder / "det-gatefit-calibration" / "gate_curve.png").exists()
    assert json.loads((folder / "det-gatefit-fit.json").read_text())["threshold"] == report["threshold"]


def test_fitting_the_gate_leaves_the_detector_outputs_unchanged(fitted):
    from ultralytics.nn.tasks import load_checkpoint

    folder, report = fitted
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        before = load_checkpoint(folder / "det.pt")[0](x)[0]
        after = load_checkpoint(report["save"])[0](x)[0]
    assert torch.allclose(before, after, atol=1e-3)  # both stored in half precision; only the gate row differs


def test_yolo_val_on_a_fitted_checkpoint_gates_at_its_calibrated_threshold_by_default(fitted, synthetic_yaml, tmp_path):
    from ultralytics import YOLO

    _, report = fitted
    m = YOLO(report["save"]).val(data=str(synthetic_yaml), imgsz=64, batch=4, device="cpu", plots=False,
                                 project=str(tmp_path), name="v", verbose=False)
    assert m.gate["threshold"] == pytest.approx(report["threshold"])


def test_fit_gate_with_folds_0_holds_out_a_calib_share(synthetic_yaml, fitted):
    from gfdnet_ultra.gate.fit import fit_gate

    folder, _ = fitted
    report = fit_gate(folder / "det.pt", synthetic_yaml, imgsz=64, epochs=1, folds=0, calib=0.25, hidden=8,
                      save=folder / "holdout.pt")
    assert report["fit_images"] + report["calibration_images"] == 16 and report["calibration_images"] == 4
    assert report["calibration_point"]["split"] == "calibration (0.25 of train)"


def test_fit_gate_refuses_more_folds_than_images_of_a_class_and_writes_nothing(synthetic_yaml, fitted):
    from gfdnet_ultra.gate.fit import fit_gate

    folder, _ = fitted
    with pytest.raises(ValueError, match="fewer than folds=9; every fold needs one of each class: lower folds="):
        fit_gate(folder / "det.pt", synthetic_yaml, imgsz=64, epochs=1, folds=9, save=folder / "nine.pt")
    assert not (folder / "nine.pt").exists()


def test_fit_gate_keeps_groups_in_one_fold_and_refuses_groups_that_leave_a_fold_one_class(synthetic_yaml, fitted, monkeypatch):
    import gfdnet_ultra.gate.fit as fit

    folder, report = fitted
    seen, real = [], fit.stratified_folds
    monkeypatch.setattr(fit, "stratified_folds", lambda *a: seen.append(a[3]) or real(*a))
    r = fit.fit_gate(folder / "det.pt", synthetic_yaml, imgsz=64, epochs=1, folds=2, hidden=8,
                     groups=r"^\d{4}", save=folder / "grouped.pt")  # 00013_metal -> 0001
    assert r["groups"] == 2 and sorted(seen[0]) == ["0000"] * 10 + ["0001"] * 6 and report["groups"] is None
    with pytest.raises(ValueError, match="has no (normal|defective) image with these groups; lower folds="):
        fit.fit_gate(folder / "det.pt", synthetic_yaml, imgsz=64, epochs=1, folds=2, groups="_", save=folder / "one.pt")
    assert not (folder / "one.pt").exists()


def test_fit_gate_refuses_a_classification_checkpoint(tmp_path, synthetic_yaml):
    from ultralytics import YOLO

    from gfdnet_ultra.gate.fit import fit_gate

    YOLO("yolo11n-cls.yaml").save(tmp_path / "cls.pt")
    with pytest.raises(ValueError, match="classify model; the gate is fitted on a detection checkpoint"):
        fit_gate(tmp_path / "cls.pt", synthetic_yaml, imgsz=64, epochs=1)


def test_train_cell_scorer_draws_each_batch_from_one_of_several_map_sizes():
    from gfdnet_ultra.gate.fit import train_cell_scorer

    torch.manual_seed(0)
    conv, seen = torch.nn.Conv2d(4, 1, 1), []

    def cell_logits(x):
        seen.append(tuple(x.shape))
        return conv(x)[:, 0]

    plain, border = torch.randn(10, 4, 5, 5).half(), torch.randn(10, 4, 7, 7).half()
    masks = [torch.rand(10, 5, 5) > 0.8, torch.rand(10, 7, 7) > 0.8]
    losses = train_cell_scorer(cell_logits, conv.parameters(), [plain, border], masks, epochs=2, batch=4)
    assert len(losses) == 2 and all(l > 0 for l in losses)
    assert sorted({s[2] for s in seen}) == [5, 7] and sum(s[0] for s in seen) == 2 * 20  # every sample once an epoch


def test_fit_gate_with_border_also_fits_on_the_frame_yolo_val_adds(fitted, synthetic_yaml, monkeypatch):
    import gfdnet_ultra.gate.fit as fit

    folder, report = fitted
    sizes, real = [], fit.cache_features
    monkeypatch.setattr(fit, "cache_features", lambda m, ims, **kw: sizes.append(ims.shape[-1]) or real(m, ims, **kw))
    r = fit.fit_gate(folder / "det.pt", synthetic_yaml, imgsz=64, epochs=1, folds=2, hidden=8, border=True,
                     save=folder / "b.pt")
    assert sorted(sizes) == [64, 64, 96]  # plain, flipped, and with yolo val's 16 px grey border (half of stride 32)
    assert r["border"] is True and report["border"] is False  # the default fits prediction's view only
