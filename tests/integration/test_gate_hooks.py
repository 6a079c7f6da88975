import pytest

import gfdnet_ultra  # noqa: F401


def test_stock_detection_model_keeps_its_own_criterion():
    from ultralytics.cfg import get_cfg
    from ultralytics.nn.tasks import DetectionModel
    from ultralytics.utils.loss import v8DetectionLoss

    m = DetectionModel("yolo11n.yaml", nc=2, verbose=False)
    m.args = get_cfg()
    assert type(m.init_criterion()) is v8DetectionLoss


def test_gated_model_gets_gate_loss_with_train_args_over_yaml_keys():
    from ultralytics.cfg import get_cfg
    from ultralytics.nn.tasks import DetectionModel

    from gfdnet_ultra.gate.loss import GateLoss

    m = DetectionModel("yolo11-gated-n.yaml", nc=2, verbose=False)
    m.args = get_cfg(overrides={"gate_schedule": "exponential"})
    crit = m.init_criterion()
    assert isinstance(crit, GateLoss) and crit.schedule == "exponential" and not crit.det_on_defective_only
    m.args = get_cfg()
    assert m.init_criterion().schedule == "const"  # the YAML's key


def test_gate_arguments_are_accepted_by_ultralytics_config():
    from ultralytics.cfg import get_cfg

    cfg = get_cfg(overrides={"threshold": 0.3, "gate_classifier": "c.pt", "gate_det_on_defective_only": True})
    assert cfg.threshold == 0.3 and cfg.gate_classifier == "c.pt"


def test_epoch_callback_sets_the_schedule_epoch():
    from types import SimpleNamespace

    from ultralytics.cfg import get_cfg
    from ultralytics.nn.tasks import DetectionModel

    from gfdnet_ultra.integration.gate_hooks import sync_gate_epoch

    m = DetectionModel("yolo11-gated-n.yaml", nc=2, verbose=False)
    m.args = get_cfg(overrides={"gate_schedule": "inverse"})
    sync_gate_epoch(SimpleNamespace(model=m, epoch=3))
    assert m.criterion.epoch == 3 and m.criterion.weight == pytest.approx(0.25)


def test_yolo_task_map_uses_gated_engines_for_detect_only():
    from ultralytics import YOLO

    from gfdnet_ultra.integration.gate_predict import GatedDetectionPredictor
    from gfdnet_ultra.integration.gate_val import GatedDetectionValidator

    tm = YOLO("yolo11n.yaml").task_map
    assert tm["detect"]["predictor"] is GatedDetectionPredictor
    assert tm["detect"]["validator"] is GatedDetectionValidator
    assert "Gated" not in tm["classify"]["predictor"].__name__


def test_gate_balance_defaults_on_and_train_argument_turns_it_off():
    from gfdnet_ultra.integration.gate_hooks import gate_loss_options

    assert gate_loss_options(type("M", (), {"args": {}, "yaml": {}})())["balance"] is True
    assert gate_loss_options(type("M", (), {"args": {"gate_balance": "false"}, "yaml": {}})())["balance"] is False
    assert gate_loss_options(type("M", (), {"args": {}, "yaml": {"gate_balance": False}})())["balance"] is False
