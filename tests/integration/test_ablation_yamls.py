"""The ablation models of docs/accuracy.md (docs/ablation/*.yaml) still build and run, so the page stays reproducible."""

from __future__ import annotations

import pytest
import torch
from ultralytics.nn.tasks import DetectionModel

from tests.conftest import REPO

ABLATIONS = sorted((REPO / "docs" / "ablation").glob("ablation-*.yaml"))


def test_every_ablation_named_in_docs_exists_and_each_file_is_documented():
    doc = (REPO / "docs" / "accuracy.md").read_text()
    assert ABLATIONS and all(p.name in doc for p in ABLATIONS)
    assert all(p.read_text().startswith("# Ablation (docs/accuracy.md): ") for p in ABLATIONS)


@pytest.mark.parametrize("path", ABLATIONS, ids=lambda p: p.stem)
def test_ablation_builds_and_predicts(path):
    model = DetectionModel(str(path), nc=6, verbose=False).eval()
    with torch.no_grad():
        y = model(torch.rand(1, 3, 64, 64))[0]
    assert y.shape[:2] == (1, 4 + 6) and torch.isfinite(y).all()
