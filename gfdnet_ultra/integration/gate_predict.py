"""`yolo predict` with the defect gate: a DetectionPredictor that wraps gated models in GatedDetector.

Callbacks cannot skip images (research/ultralytics.md section 4.2: dropping them in `on_predict_batch_start` loses
their `Results` and an all-normal batch crashes), so the predictor's `setup_model` hands AutoBackend a GatedDetector
instead. Every image keeps its `Results`, in input order; `r.gate = {"p_defect": float, "skipped": bool}`.
Without a gate layer, `threshold=` or `gate_classifier=`, it is Ultralytics' DetectionPredictor unchanged.
"""

from __future__ import annotations

from ultralytics.models.yolo.detect import DetectionPredictor
from ultralytics.utils import LOGGER

from ..gate.detector import GatedDetector, gated_model_from_args

__all__ = ("GatedDetectionPredictor",)


class GatedDetectionPredictor(DetectionPredictor):
    """DetectionPredictor that skips the neck and head (or the detector) for images the gate calls normal."""

    def setup_model(self, model, verbose: bool = True):
        super().setup_model(gated_model_from_args(model or self.args.model, self.args), verbose)

    def setup_source(self, source, stride: int | None = None):
        """Ultralytics silently predicts a static export at its exported size; say so when another size was asked."""
        exported = getattr(self.model, "imgsz", None)
        if exported is not None and not getattr(self.model, "dynamic", False):
            asked = self.args.imgsz if isinstance(self.args.imgsz, (list, tuple)) else [self.args.imgsz] * 2
            if list(asked) != list(exported):
                LOGGER.warning(
                    f"{self.args.model} was exported with a static input of {list(exported)}; predicting at that size, "
                    f"not the requested imgsz={self.args.imgsz}. Export with dynamic=True (or imgsz={self.args.imgsz}) "
                    "to predict at other sizes."
                )
        super().setup_source(source, stride)

    @property
    def gated(self) -> GatedDetector | None:
        """The GatedDetector AutoBackend runs (it may have copied ours), or None for a stock run."""
        inner = getattr(getattr(self, "model", None), "model", None)
        return inner if isinstance(inner, GatedDetector) else None

    def postprocess(self, preds, img, orig_imgs, **kwargs):
        results = super().postprocess(preds, img, orig_imgs, **kwargs)
        gated = self.gated
        if gated is not None and gated.last is not None:
            for r, p, keep in zip(results, gated.last["p"].tolist(), gated.last["keep"].tolist()):
                r.gate = {"p_defect": p, "skipped": not keep}
        return results
