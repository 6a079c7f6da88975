"""Install the defect gate into stock Ultralytics: train/predict/val arguments, the joint loss, the epoch, the engines.

What changes, all in memory and only for models with a DefectGate or runs that ask for a gate (stock models behave
as before, `tests/integration/test_gate_hooks.py`):
- arguments `threshold`, `gate_classifier`, `gate_schedule`, `gate_det_on_defective_only` are added to Ultralytics'
  default config with value None, so `yolo predict threshold=0.3` and `yolo train gate_schedule=inverse` validate;
- `DetectionModel.init_criterion` wraps the model's own criterion in GateLoss when the model has a DefectGate;
- a trainer callback sets GateLoss.epoch = trainer.epoch at each epoch start (also right after a resume);
- the opt-in train argument `bn_recalib=N` (any model, default off) and its epoch-end callback
  (`integration/bn_recalib.py`): BatchNorm statistics recomputed before validation, for short from-scratch runs;
- an exporter callback writes the two gated ONNX graphs after `format=onnx` on a gated model (`on_export_end`, gate/export.py);
- `YOLO.task_map` gives the detect task GatedDetectionPredictor / GatedDetectionValidator, which are the stock classes
  unless gating applies (`install_engines`, once the YOLO class's module has executed);
- the train argument `exact_resume` (integration/checkpoints.py) is declared here with the others.
"""

from __future__ import annotations

import importlib
import sys

from . import patches

__all__ = ("ENGINES_MODULE", "GATE_ARGS", "TRAIN_ARGS", "install", "install_engines", "on_export_end", "sync_gate_epoch")

GATE_ARGS = ("threshold", "gate_classifier", "gate_schedule", "gate_det_on_defective_only", "gate_balance")
TRAIN_ARGS = (*GATE_ARGS, "bn_recalib", "exact_resume")  # our arguments, None (off or automatic) by default
ENGINES_MODULE = "ultralytics.models.yolo.model"


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

    for key in TRAIN_ARGS:
        patches.setdefault(DEFAULT_CFG_DICT, key, None)  # DEFAULT_CFG_KEYS is a live view of this dict
        if not hasattr(DEFAULT_CFG, key):
            patches.replace(DEFAULT_CFG, key, lambda _: None)


def _init_criterion(original, model):
    """DetectionModel.init_criterion: the model's own criterion, wrapped in GateLoss when the model has a DefectGate."""
    from ..gate.head import find_gate
    from ..gate.loss import GateLoss, gate_loss_options

    det = original(model)
    try:
        _, gate = find_gate(model)
    except ValueError:
        return det  # stock model: its own criterion, untouched
    return GateLoss(det, gate, **gate_loss_options(model))


def _gated_task_map(task_map: property) -> property:
    """YOLO.task_map with the gated predictor and validator for the detect task (stock unless gating applies)."""

    def gated_task_map(self):
        from .gate_predict import GatedDetectionPredictor
        from .gate_val import GatedDetectionValidator

        tasks = task_map.fget(self)
        tasks["detect"] = {**tasks["detect"], "predictor": GatedDetectionPredictor, "validator": GatedDetectionValidator}
        return tasks

    return property(gated_task_map, doc=task_map.__doc__)


def _ultralytics_importing() -> bool:
    """Whether an Ultralytics module is still executing (the autoload hook runs in the middle of such imports)."""
    return any(
        getattr(getattr(m, "__spec__", None), "_initializing", False)
        for name, m in list(sys.modules.items())
        if name.startswith("ultralytics.")
    )


def on_export_end(exporter) -> None:
    """Exporter callback: after an ONNX export of a gated model, also write its two gated graphs (gate/export.py)."""
    from pathlib import Path

    from ..gate.export import export_gated_onnx
    from ..gate.head import find_gate

    model = getattr(exporter, "model", None)
    if getattr(exporter.args, "format", None) != "onnx" or model is None:
        return
    try:
        find_gate(model)
    except ValueError:
        return
    file = Path(exporter.file).with_suffix(".onnx")
    export_gated_onnx(model, file, tuple(exporter.imgsz), opset=exporter.args.opset or 17)


def install_engines() -> bool:
    """Give YOLO's detect task the gated engines; False while YOLO's module cannot be imported yet (autoload hook)."""
    module = sys.modules.get(ENGINES_MODULE)
    if module is None and not _ultralytics_importing():
        module = importlib.import_module(ENGINES_MODULE)
    YOLO = getattr(module, "YOLO", None)
    if YOLO is None:
        return False  # the hook calls register() again once YOLO's module has executed
    patches.replace(YOLO, "task_map", _gated_task_map)
    return True


def install() -> None:
    """Install the arguments, the joint criterion and the callbacks (idempotent)."""
    from ultralytics.nn.tasks import DetectionModel
    from ultralytics.utils.callbacks.base import default_callbacks

    from .bn_recalib import on_train_epoch_end

    _install_args()
    patches.wrap(DetectionModel, "init_criterion", _init_criterion)
    hooks = (("on_train_epoch_start", sync_gate_epoch), ("on_train_epoch_end", on_train_epoch_end),
             ("on_export_end", on_export_end))
    for event, fn in hooks:
        patches.add(default_callbacks[event], fn)
