"""DefectNet-style defect gate: its one home (integration/ only adapts it to Ultralytics' engines).

One-model gate: a `DefectGate` YAML row, trained with `GateLoss` (weight schedules in `schedules.py`); two-model gate:
any normal/defective classifier (`ClassifierGate`). `GatedDetector` runs either in front of a detector, `GateSplit`
cuts a gated model in two stages, `export_gated_onnx` writes them as two ONNX graphs that `GatedOnnxRunner` chains;
`gate_report` and `pick_threshold` / `pick_gate_threshold` measure the gate and choose its threshold.
"""

from __future__ import annotations

from .calibrate import pick_gate_threshold
from .detector import DEFAULT_THRESHOLD, GatedDetector, gated_model_from_args, load_classifier_gate
from .export import export_gated_onnx
from .head import DefectGate, find_gate
from .loss import GateLoss, gate_loss_options
from .metrics import gate_report
from .onnx_runtime import GatedOnnxRunner
from .runner import GateSplit
from .schedules import SCHEDULES, gate_weight
from .threshold import check_threshold, pick_threshold
from .two_model import ClassifierGate

__all__ = (
    "DEFAULT_THRESHOLD",
    "SCHEDULES",
    "ClassifierGate",
    "DefectGate",
    "GateLoss",
    "GateSplit",
    "GatedDetector",
    "GatedOnnxRunner",
    "check_threshold",
    "export_gated_onnx",
    "find_gate",
    "gate_loss_options",
    "gate_report",
    "gate_weight",
    "gated_model_from_args",
    "load_classifier_gate",
    "pick_gate_threshold",
    "pick_threshold",
)
