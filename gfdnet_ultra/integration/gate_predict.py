"""`yolo predict` with the defect gate: a DetectionPredictor that wraps gated models in GatedDetector.

Callbacks cannot skip images (research/ultralytics.md section 4.2: dropping them in `on_predict_batch_start` loses
their `Results` and an all-normal batch crashes), so the predictor's `setup_model` hands AutoBackend a GatedDetector
instead. Every image keeps its `Results`, in input order; `r.gate = {"p_defect": float, "skipped": bool}`.
Without a gate layer, `threshold=` or `gate_classifier=`, it is Ultralytics' DetectionPredictor unchanged.
"""

from __future__ import annotations

from ultralytics.models.yolo.detect import DetectionPredictor

from .gate_model import GatedDetector, gated_model_from_args

__all__ = ("GatedDetectionPredictor",)


class GatedDetectionPredictor(DetectionPredictor):
    """DetectionPredictor that skips the neck and head (or the detector) for images the gate calls normal."""

    def setup_model(self, model, verbose: bool = True):
        super().setup_model(gated_model_from_args(model or self.args.model, self.args), verbose)

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
