"""Install the defect gate into stock Ultralytics: train/predict/val arguments, the joint loss, the epoch, the engines.

What changes, all in memory and only for models with a DefectGate or runs that ask for a gate (stock models behave
as before, `tests/integration/test_gate_hooks.py`):
- arguments `threshold`, `gate_classifier`, `gate_schedule`, `gate_det_on_defective_only` are added to Ultralytics'
  default config with value None, so `yolo predict threshold=0.3` and `yolo train gate_schedule=inverse` validate;
- `DetectionModel.init_criterion` wraps the model's own criterion in GateLoss when the model has a DefectGate;
- a trainer callback sets GateLoss.epoch = trainer.epoch at each epoch start (also right after a resume);
- the opt-in train argument `bn_recalib=N` (any model, default off) and its epoch-end callback
  (`integration/bn_recalib.py`): BatchNorm statistics recomputed before validation, for short from-scratch runs;
- an exporter callback writes the two gated ONNX graphs after `format=onnx` on a gated model (gate_export.py);
- `YOLO.task_map` gives the detect task GatedDetectionPredictor / GatedDetectionValidator, which are the stock classes
  unless gating applies.
"""

from __future__ import annotations

__all__ = ("GATE_ARGS", "gate_loss_options", "install", "sync_gate_epoch")

GATE_ARGS = ("threshold", "gate_classifier", "gate_schedule", "gate_det_on_defective_only", "gate_balance")


def _get(obj, key: str):
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def _flag(args, yaml: dict, key: str, default: bool) -> bool:
    value = _get(args, key)
    value = yaml.get(key, default) if value is None else value
    return value.lower() in ("1", "true", "yes") if isinstance(value, str) else bool(value)


def gate_loss_options(model) -> dict:
    """GateLoss options of a model: train arguments win over the model YAML keys, which win over the defaults."""
    args, yaml = getattr(model, "args", None) or {}, getattr(model, "yaml", None) or {}
    schedule = _get(args, "gate_schedule") or yaml.get("gate_schedule") or "const"
    return {
        "schedule": schedule,
        "constants": yaml.get("gate_constants") or {},
        "det_on_defective_only": _flag(args, yaml, "gate_det_on_defective_only", True),  # measured best, docs/gate.md
        "balance": _flag(args, yaml, "gate_balance", True),
    }


def sync_gate_epoch(trainer) -> None:
    """on_train_epoch_start: give the gate loss the 0-based epoch of its schedule."""
    from ultralytics.utils.torch_utils import unwrap_model

    from ..gate.loss import GateLoss

    model = unwrap_model(trainer.model)
    if getattr(model, "criterion", None) is None and hasattr(model, "init_criterion"):
        try:
            model.criterion = model.init_criterion()
        except (AttributeError, NotImplementedError):
            return
    if isinstance(model.criterion, GateLoss):
        model.criterion.epoch = int(trainer.epoch)


def _install_args() -> None:
    from ultralytics.utils import DEFAULT_CFG, DEFAULT_CFG_DICT

    for key in (*GATE_ARGS, "bn_recalib"):
        DEFAULT_CFG_DICT.setdefault(key, None)  # DEFAULT_CFG_KEYS is a live view of this dict
        if not hasattr(DEFAULT_CFG, key):
            setattr(DEFAULT_CFG, key, None)


def _install_criterion() -> None:
    from ultralytics.nn.tasks import DetectionModel

    if getattr(DetectionModel.init_criterion, "_gfdnet_gate", False):
        return
    original = DetectionModel.init_criterion

    def init_criterion(self):
        from ..gate.head import find_gate
        from ..gate.loss import GateLoss

        det = original(self)
        try:
            _, gate = find_gate(self)
        except ValueError:
            return det  # stock model: its own criterion, untouched
        return GateLoss(det, gate, **gate_loss_options(self))

    init_criterion._gfdnet_gate = True
    init_criterion.__wrapped__ = original
    DetectionModel.init_criterion = init_criterion


def _install_engines() -> None:
    # register() may run while ultralytics.engine.model is still being imported (autoload hook), so the YOLO class
    # is patched once its module has executed.
    from gfdnet_ultra_autoload import after_import

    after_import("ultralytics.models.yolo.model", _patch_task_map)


def _patch_task_map(module) -> None:
    YOLO = module.YOLO
    task_map = YOLO.__dict__["task_map"]
    if getattr(task_map.fget, "_gfdnet_gate", False):
        return

    def gated_task_map(self):
        from .gate_predict import GatedDetectionPredictor
        from .gate_val import GatedDetectionValidator

        tasks = task_map.fget(self)
        tasks["detect"] = {**tasks["detect"], "predictor": GatedDetectionPredictor, "validator": GatedDetectionValidator}
        return tasks

    gated_task_map._gfdnet_gate = True
    YOLO.task_map = property(gated_task_map, doc=task_map.__doc__)


def install() -> None:
    """Install all gate hooks (idempotent)."""
    from ultralytics.utils.callbacks.base import default_callbacks

    _install_args()
    _install_criterion()
    _install_engines()
    from .bn_recalib import on_train_epoch_end
    from .gate_export import on_export_end

    hooks = (("on_train_epoch_start", sync_gate_epoch), ("on_train_epoch_end", on_train_epoch_end),
             ("on_export_end", on_export_end))
    for event, fn in hooks:
        if fn not in default_callbacks[event]:
            default_callbacks[event].append(fn)
