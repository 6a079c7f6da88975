"""Hardening fixtures: a small detection and classification checkpoint, an existing run directory to keep intact."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest


def tree_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file under `root`, by relative path."""
    files = (p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="session")
def det_pt(tmp_path_factory) -> Path:
    """An untrained gfdnet-n detection checkpoint."""
    from ultralytics import YOLO

    path = tmp_path_factory.mktemp("ckpt") / "gfdnet-n.pt"
    YOLO("gfdnet-n.yaml").save(path)
    return path


@pytest.fixture(scope="session")
def cls_pt(tmp_path_factory) -> Path:
    """An untrained gfdnet-cls-n classification checkpoint."""
    from ultralytics import YOLO

    path = tmp_path_factory.mktemp("ckpt") / "gfdnet-cls-n.pt"
    YOLO("gfdnet-cls-n.yaml").save(path)
    return path


@pytest.fixture
def run_dir(tmp_path, det_pt) -> Path:
    """An existing run directory (`project/train` with weights and results) that a failing command must not touch."""
    weights = tmp_path / "project" / "train" / "weights"
    weights.mkdir(parents=True)
    for name in ("last.pt", "best.pt"):
        (weights / name).write_bytes(det_pt.read_bytes())
    (weights.parent / "results.csv").write_text("epoch,metrics/mAP50(B)\n1,0.5\n")
    return weights.parent


@pytest.fixture
def intact(run_dir):
    """Yields the run directory and asserts afterwards that every file in it is byte-identical."""
    before = tree_hashes(run_dir)
    yield run_dir
    after = tree_hashes(run_dir)
    assert {k: after.get(k) for k in before} == before, "a failing command changed or removed files of an existing run"
