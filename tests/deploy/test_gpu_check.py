"""scripts/gpu_check.py in its CPU dry run: every step runs, the report has every figure, our layers pass AMP."""

from __future__ import annotations

import json

import pytest

from ..conftest import BIN, REPO, run

pytestmark = pytest.mark.slow


def test_gpu_check_dry_run_trains_checks_layers_times_and_exports_the_pair(tmp_path):
    proc = run([str(BIN / "python"), str(REPO / "scripts" / "gpu_check.py"), "--dry-run", "--out", str(tmp_path)], tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    res = json.loads((tmp_path / "gpu_check.json").read_text())
    assert res["dry_run"] and set(res["train"]) == {"gfdnet-n", "yolo11n"}
    assert all(r["epochs"] == 1 and r["s_per_epoch"] > 0 for r in res["train"].values())
    from gfdnet_ultra.deploy.gpu import LAYERS

    assert set(res["amp_layers"]) == set(LAYERS) and all(0 < e <= res["amp_tolerance"] for e in res["amp_layers"].values())
    assert all(r["pytorch_fp32_ms"] > 0 for r in res["latency"]["latency"].values())
    assert (tmp_path / "gate_pair" / "gated-gate.onnx").is_file() and (tmp_path / "gate_pair" / "gated-tail.onnx").is_file()
    assert "no CUDA device" in res["latency"]["engines"]["gfdnet-gated-n gate"]
    assert "| DCNv2 (grid_sample) |" in (tmp_path / "gpu_check.md").read_text()


def test_gpu_check_without_a_gpu_and_without_dry_run_says_how_to_run_it(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    proc = run([str(BIN / "python"), str(REPO / "scripts" / "gpu_check.py"), "--out", str(tmp_path)], tmp_path)
    assert proc.returncode == 2 and "no CUDA device" in proc.stderr and "--dry-run" in proc.stderr
