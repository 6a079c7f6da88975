import json

import numpy as np
import pytest
import torch

import gfdnet_ultra  # noqa: F401

# yolo11n: P2 is row 2, P3 row 4, P4 row 6; the gated YAML's P3 gate (row 5) is removed before the new one goes in.
# `fitted` has the default features (p2); `refits` the others.
MOVED = {"p3p4": {"index": 7, "f": [-1, 4], "c1": 128, "c_fine": 128, "down": 1},
         "p3": {"index": 5, "f": -1, "c1": 128, "c_fine": 0, "down": 1}}


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
    assert isinstance(model.model[3], LocalDefectGate) and model.model[3].down == 2  # the default cut: after P2
    assert gate_threshold(model) == report["threshold"] and report["features"] == "p2"
    assert report["fit_images"] == report["calibration_images"] == 16  # every image scored by a gate that never saw it
    assert report["folds"] == 3 and "3-fold cross-fitting" in report["calibration_point"]["split"]
    assert report["calibration_point"]["recall"] >= 0.99 and ckpt["gate_fit"]["threshold"] == report["threshold"]
    assert (folder / "det-gatefit-calibration" / "gate_curve.png").exists()
    assert json.loads((folder / "det-gatefit-fit.json").read_text())["threshold"] == report["threshold"]


@pytest.mark.parametrize("features", ["p2", *MOVED])
def test_fitting_the_gate_leaves_the_detector_outputs_unchanged(features, fitted, refits):
    from ultralytics.nn.tasks import load_checkpoint

    folder, report = refits.get(features, fitted)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        before = load_checkpoint(folder / "det.pt")[0](x)[0]
        after = load_checkpoint(report["save"])[0](x)[0]
    assert torch.allclose(before, after, atol=1e-3)  # both stored in half precision; only the gate row differs


@pytest.mark.parametrize("features", ["p2", *MOVED])
def test_yolo_val_on_a_fitted_checkpoint_gates_at_its_calibrated_threshold_by_default(features, fitted, refits,
                                                                                      synthetic_yaml, tmp_path):
    from ultralytics import YOLO

    _, report = refits.get(features, fitted)
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
    seen, real = [], fit.held_out_parts
    monkeypatch.setattr(fit, "held_out_parts", lambda *a: seen.append(a[4]) or real(*a))
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
    assert sorted(sizes) == [64] * 8 + [96]  # eight views, and with yolo val's 16 px grey border (half of stride 32)
    assert r["border"] is True and report["border"] is False  # the default fits prediction's view only
    sizes.clear()
    r = fit.fit_gate(folder / "det.pt", synthetic_yaml, imgsz=64, epochs=1, folds=2, hidden=8, views=2,
                     save=folder / "v2.pt")
    assert sizes == [64, 64] and r["views"] == 2 and report["views"] == 8


def test_the_eight_training_views_are_the_mirror_image_and_quarter_turns_and_move_masks_along():
    from gfdnet_ultra.gate.fit import dihedral_views

    x = torch.arange(16.0).view(1, 1, 4, 4)
    views = list(dihedral_views(x))
    assert len(views) == 8 and len({tuple(v.flatten().tolist()) for v in views}) == 8  # all different
    assert torch.equal(views[0], x) and torch.equal(views[1], x.flip(-1)) and torch.equal(views[2], x.rot90(1, (2, 3)))
    m = x == 1  # one marked cell follows its image in every view
    assert all(torch.equal(v == 1, mv) for v, mv in zip(views, dihedral_views(m)))
    assert [len(list(dihedral_views(x, n))) for n in (1, 2)] == [1, 2]


def test_an_unsupported_views_value_is_refused_naming_the_choices_and_writes_nothing(fitted, synthetic_yaml):
    from gfdnet_ultra.gate.fit import fit_gate

    folder, _ = fitted
    with pytest.raises(ValueError, match=r"views=4 is not supported; use views=1 .*, 2 .* or 8"):
        fit_gate(folder / "det.pt", synthetic_yaml, imgsz=64, epochs=1, views=4, save=folder / "v4.pt")
    assert not (folder / "v4.pt").exists()


# features=p3p4 / p3: a gate reading P4 as well as P3, or P3 alone, fits, saves, reloads, gates and exports


@pytest.fixture(scope="module")
def refits(synthetic_yaml, tmp_path_factory):
    """{features: (folder, report)}: an untrained yolo11-gated-n checkpoint (its gate on P3) refitted with
    features=p3p4 and with features=p3."""
    from ultralytics import YOLO

    from gfdnet_ultra.gate.fit import fit_gate

    out = {}
    for features in MOVED:
        torch.manual_seed(0)
        folder = tmp_path_factory.mktemp(f"fit_{features}")
        YOLO("yolo11-gated-n.yaml").save(folder / "det.pt")
        out[features] = folder, fit_gate(folder / "det.pt", synthetic_yaml, imgsz=64, epochs=2, folds=2, hidden=8,
                                         features=features)
    return out


@pytest.fixture(params=sorted(MOVED))
def refitted(request, refits):
    """One of `refits`, per features value."""
    return refits[request.param]


def test_a_refit_moves_the_gate_to_its_features_cut_and_reloads_with_its_threshold(refitted):
    from ultralytics.nn.tasks import load_checkpoint

    from gfdnet_ultra.gate.fit import gate_threshold
    from gfdnet_ultra.gate.local_gate import LocalDefectGate

    _, report = refitted
    want = MOVED[report["features"]]
    model, ckpt = load_checkpoint(report["save"])
    gate = model.model[want["index"]]
    assert isinstance(gate, LocalDefectGate) and gate.f == want["f"]
    assert (gate.c1, gate.c_fine, gate.down) == (want["c1"], want["c_fine"], want["down"])
    assert sum(isinstance(m, LocalDefectGate) for m in model.model) == 1 and report["gate_index"] == want["index"]
    assert ckpt["gate_fit"]["features"] == report["features"] and gate_threshold(model) == report["threshold"]


def test_a_refitted_checkpoint_gates_in_predict_at_its_threshold(refitted):
    from ultralytics import YOLO

    from gfdnet_ultra.gate.fit import gate_probabilities

    _, report = refitted
    ims = np.random.default_rng(0).integers(0, 255, (3, 64, 64, 3), dtype=np.uint8)
    yolo = YOLO(report["save"])
    res = yolo.predict(list(ims), imgsz=64, conf=0.0, verbose=False, batch=3, device="cpu")
    p = gate_probabilities(yolo.model.float(), torch.from_numpy(ims[..., ::-1].copy()).permute(0, 3, 1, 2))
    assert [r.gate["p_defect"] for r in res] == pytest.approx(p.tolist(), abs=1e-3)
    assert [r.gate["skipped"] for r in res] == [q < report["threshold"] for q in [r.gate["p_defect"] for r in res]]
    res = YOLO(report["save"]).predict(list(ims), imgsz=64, threshold=1.0, verbose=False, batch=3, device="cpu")
    assert all(r.gate["skipped"] and len(r.boxes) == 0 for r in res)


def test_a_refitted_checkpoint_exports_an_onnx_pair_that_matches_pytorch(refitted, tmp_path):
    from ultralytics.nn.tasks import load_checkpoint

    from gfdnet_ultra.gate.export import export_gated_onnx
    from gfdnet_ultra.gate.onnx_runtime import GatedOnnxRunner

    _, report = refitted
    model = load_checkpoint(report["save"])[0].float().eval()
    gate_file, _ = export_gated_onnx(model, tmp_path / "m.onnx", 64, batch=2)
    x = np.random.default_rng(1).random((2, 3, 64, 64), dtype=np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x))[0].numpy()
        p_ref = model.model[report["gate_index"]].logits.sigmoid().numpy()
    p, keep, y = GatedOnnxRunner(gate_file, threshold=0.0, threads=1)(x)
    assert np.allclose(p, p_ref, atol=1e-4) and keep.all()
    assert np.abs(y - ref).max() < 1e-2 * max(1.0, np.abs(ref).max())


def test_refitting_with_the_default_features_moves_the_gate_to_p2(refitted, synthetic_yaml):
    from ultralytics.nn.tasks import load_checkpoint

    from gfdnet_ultra.gate.fit import fit_gate

    folder, report = refitted
    r = fit_gate(report["save"], synthetic_yaml, imgsz=64, epochs=1, folds=2, hidden=8, save=folder / "back.pt")
    model = load_checkpoint(r["save"])[0]
    assert r["gate_index"] == 3 and model.model[3].f == -1 and model.model[3].c_fine == 0 and model.model[3].down == 2
    assert len(model.model) == 25


def test_an_unknown_features_value_is_refused_naming_the_choices_and_writes_nothing(fitted, synthetic_yaml):
    from gfdnet_ultra.gate.commands import parse_kv
    from gfdnet_ultra.gate.fit import fit_gate

    folder, _ = fitted
    choices = r"use features=p3 \(.*\) or features=p3p4 \(.*\) or features=p2 \("
    with pytest.raises(ValueError, match=r"features='p4' is not supported; " + choices):
        fit_gate(folder / "det.pt", synthetic_yaml, imgsz=64, epochs=1, features="p4", save=folder / "p4.pt")
    assert not (folder / "p4.pt").exists()
    assert parse_kv(fit_gate, ["model=m.pt", "data=d.yaml", "features=p3p4"])["features"] == "p3p4"
