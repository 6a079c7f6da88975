"""`yolo val` with the defect gate: mAP of the gated run plus DefectNet's image metrics, printed and saved as JSON.

A validator callback cannot skip images (the batch is a local of `BaseValidator.__call__`, research/ultralytics.md
section 4.3), so `get_model` hands AutoBackend a GatedDetector, as the predictor does. Per batch, `update_metrics`
collects the gate's p and per-image ms with the ground truth (defective iff the image has a box) and the best
detection score; the end of the run writes `gate_metrics.json` beside Ultralytics' results (gate/metrics.py keys,
plus mAP50 and mAP50-95) and the recall / skip-rate curve against the threshold (`gate_curve.json`, `.png`). `threshold=0` is the ungated run of the same model, timed by the same code.
Training-time validation is never gated. Without a gate it is Ultralytics' DetectionValidator unchanged.
"""

from __future__ import annotations

import json

from ultralytics.models.yolo.detect import DetectionValidator
from ultralytics.utils import LOGGER
from ultralytics.utils.torch_utils import smart_inference_mode

from ..gate.detector import GatedDetector, gated_model_from_args
from ..gate.curve import save_gate_curve
from ..gate.loss import image_labels
from ..gate.metrics import gate_report
from ..gate.calibrate import pick_gate_threshold  # re-exported: the gate's public API is gfdnet_ultra.gate

__all__ = ("GatedDetectionValidator", "pick_gate_threshold")


class GatedDetectionValidator(DetectionValidator):
    """DetectionValidator that gates standalone validation and reports gate precision/recall/F1, skip rate and ATT."""

    gate_metrics: dict | None = None

    @smart_inference_mode(False)  # a deepcopy under inference mode would make AutoBackend copy our wrapper again
    def get_model(self, model, trainer=None):
        model = super().get_model(model, trainer)
        return model if trainer is not None else gated_model_from_args(model or self.args.model, self.args)

    def init_metrics(self, model):
        super().init_metrics(model)
        inner = getattr(model, "model", None)
        self._gated = inner if isinstance(inner, GatedDetector) and not self.training else None
        self._gate_rows = {"defective": [], "p": [], "ms": [], "ms_stage1": [], "max_score": []}

    def update_metrics(self, preds, batch):
        super().update_metrics(preds, batch)
        if self._gated is None or self._gated.last is None:
            return
        last, rows = self._gated.last, self._gate_rows
        rows["defective"] += image_labels(batch["batch_idx"], len(preds)).tolist()
        rows["p"] += last["p"].tolist()
        rows["ms"] += last["ms"].tolist()
        rows["ms_stage1"] += last["ms_stage1"].tolist()
        rows["max_score"] += [float(pr["conf"].max()) if len(pr["conf"]) else 0.0 for pr in preds]

    def finalize_metrics(self):
        super().finalize_metrics()
        if self._gated is None:
            return
        rows = self._gate_rows
        report = gate_report(rows["defective"], rows["p"], self._gated.threshold, rows["ms"], rows["max_score"])
        box = self.metrics.box
        report = {"mode": self._gated.extra_repr().split("mode=")[1], "map50": float(box.map50),
                  "map50_95": float(box.map), **report,
                  "normal_share": 1 - sum(rows["defective"]) / max(len(rows["defective"]), 1),
                  "att_stage1": sum(rows["ms_stage1"]) / max(len(rows["ms_stage1"]), 1)}  # time before the cut
        self.gate_metrics = self.metrics.gate = report
        self.metrics.gate_rows = rows
        if self.save_dir is not None:
            self.save_dir.mkdir(parents=True, exist_ok=True)
            (self.save_dir / "gate_metrics.json").write_text(json.dumps(report, indent=2))
            save_gate_curve(rows["p"], rows["defective"], self.save_dir, marks={"run": self._gated.threshold})

    def print_results(self):
        super().print_results()
        r = self.gate_metrics
        if r:
            LOGGER.info(
                f"Gate (threshold {r['threshold']:g}, {r['mode']}): precision {r['gate_precision']:.3f} recall "
                f"{r['gate_recall']:.3f} F1 {r['gate_f1']:.3f} macro-F1 {r['gate_macro_f1']:.3f} | image macro-F1 "
                f"{r['image_macro_f1']:.3f} | skip rate {r['skip_rate']:.3f} | ATT {r['att']:.2f} ms, normal "
                f"{r['att_normal']:.2f} ms, defective {r['att_defective']:.2f} ms per image"
            )
