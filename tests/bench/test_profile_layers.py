"""`scripts/profile_layers.py`: the onnxruntime per-node profile and the training-step timing, at toy sizes."""

from __future__ import annotations

import re
import sys

import pytest

from tests.conftest import REPO, run

SCRIPT = [sys.executable, str(REPO / "scripts" / "profile_layers.py")]


@pytest.mark.slow
def test_onnx_profile_splits_kernel_time_by_op_and_by_top_level_layer(tmp_path):
    r = run([*SCRIPT, "--onnx-profile", "gfdnet-n.yaml", "--imgsz", "64", "--threads", "1", "--reps", "2"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    ops = r.stdout.split("by op:")[1].split("by layer:")[0]
    layers = r.stdout.split("by layer:")[1]
    assert re.search(r"^\s+Conv\s+[\d.]+ ms", ops, re.M)
    assert {"3", "9", "20"} <= {line.split()[0] for line in layers.strip().splitlines()}  # GAstage, P4 FIF, Detect


def test_train_step_times_every_model_and_gives_ratios_to_yolo11n(tmp_path):
    args = ["--train-step", "--models", "gfdnet-n.yaml", "yolo11n.yaml", "--imgsz", "64", "--batch", "2", "--reps", "1"]
    r = run([*SCRIPT, *args, "--threads", "1"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "training step, batch 2 at 64 px" in r.stdout
    assert re.search(r"gfdnet-n\.yaml\s+[\d.]+ ms\s+\([\d.]+x yolo11n\.yaml\)", r.stdout)


def test_per_layer_table_comes_from_the_package_profiler(tmp_path):
    r = run([*SCRIPT, "--models", "gfdnet-n.yaml", "yolo11n.yaml", "--imgsz", "64", "--reps", "1", "--threads", "1"],
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.search(r"^\s+3 GAstage\s+[\d.]+ ms\s+[\d.]+ %$", r.stdout, re.M)  # layer_profile's index and type
    assert re.search(r"ratio gfdnet-n\.yaml / yolo11n\.yaml: [\d.]+", r.stdout)
