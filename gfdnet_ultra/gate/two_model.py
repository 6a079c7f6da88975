"""Two-model gate: any image classifier with classes {normal, defective} decides which images reach a detector.

DefectNet's "two-model" baseline (`tools/onecla`, IEEE TIM 2021) runs a separate ResNet-50 before the detector. Here
any Ultralytics classification model (`yolo classify` checkpoint, the GCAS classifier) plays that role; the detector
is untouched and recomputes its own backbone, as in DefectNet.
Shape shorthand: B batch, S the classifier's input size.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ("CLASS_NAMES", "ClassifierGate")

CLASS_NAMES = ("defective", "normal")
LOGGER = logging.getLogger(__name__)


class ClassifierGate(nn.Module):
    """Wrap a classifier: (B, 3, H, W) in [0, 1] -> p(defective) (B,), after resizing to (S, S).

    Args:
        classifier (nn.Module): A classification model returning probabilities (or `(probs, logits)` in eval mode)
            with `names` {index: name} exactly {normal, defective}.
        imgsz (int): The classifier's input size S.

    Examples:
        >>> cls = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2), nn.Softmax(1))
        >>> cls.names = {0: "defective", 1: "normal"}
        >>> ClassifierGate(cls, 32)(torch.rand(4, 3, 64, 64)).shape
        torch.Size([4])
    """

    def __init__(self, classifier: nn.Module, imgsz: int = 224):
        super().__init__()
        names = getattr(classifier, "names", None)
        names = dict(enumerate(names)) if isinstance(names, (list, tuple)) else names
        if not isinstance(names, dict) or sorted(names.values()) != list(CLASS_NAMES):
            raise ValueError(
                f"two-model gate: the classifier's classes are {names}, but exactly "
                f"{{'normal', 'defective'}} are expected (train it with `yolo classify train data=<dir>` on a folder "
                "with defective/ and normal/ sub-folders, e.g. the synthetic set's cls/ view)"
            )
        self.model = classifier.eval()
        self.names = names
        self.index = next(k for k, v in names.items() if v == "defective")
        self.imgsz = int(imgsz)
        self._warned: set[tuple[int, int]] = set()

    def forward(self, im: torch.Tensor) -> torch.Tensor:
        hw = tuple(im.shape[-2:])
        if hw != (self.imgsz, self.imgsz) and hw not in self._warned:
            self._warned.add(hw)  # once per size: a resize changes what the classifier sees (small defects vanish)
            LOGGER.warning(
                f"two-model gate: the classifier was trained at imgsz={self.imgsz}, but images arrive at "
                f"{hw[0]}x{hw[1]} and are resized to {self.imgsz}x{self.imgsz} (defects scale by "
                f"{self.imgsz / max(hw):.2f}); train the classifier at imgsz={max(hw)} "
                f"(gfdnet train-gate data=... imgsz={max(hw)}) or run the detector at imgsz={self.imgsz}"
            )
        x = im if im.shape[-2:] == (self.imgsz, self.imgsz) else F.interpolate(
            im, size=(self.imgsz, self.imgsz), mode="bilinear", align_corners=False
        )
        param = next(self.model.parameters(), None)
        out = self.model(x.to(param.dtype) if param is not None else x)
        probs = out[0] if isinstance(out, (tuple, list)) else out
        return probs[:, self.index].float()

    def extra_repr(self) -> str:
        return f"imgsz={self.imgsz}, defective_index={self.index}"
