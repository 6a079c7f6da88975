"""`scripts/gate_payoff.py` at toy sizes: the two-model gate measured alone, with its table, JSON and picture."""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import REPO, run

SCRIPT = [sys.executable, str(REPO / "scripts" / "gate_payoff.py")]


@pytest.mark.slow
def test_two_model_payoff_alone_trains_the_tile_gate_and_writes_table_json_and_plot(tmp_path, synthetic_yaml):
    from ultralytics import YOLO

    YOLO("yolo11n.yaml").save(tmp_path / "det.pt")
    args = ["--weights", str(tmp_path / "det.pt"), "--data", str(synthetic_yaml), "--imgsz", "64", "--name", "toy",
            "--modes", "two_model", "--batches", "1", "--tile-epochs", "2", "--out", str(tmp_path / "runs"),
            "--docs", str(tmp_path / "docs"), "--threshold", "0.3"]
    r = run([*SCRIPT, *args], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    results = json.loads((tmp_path / "docs" / "gate_payoff_toy.json").read_text())
    assert results["one_model"]["batches"] == {} and results["two_model"]["train"]["epochs"] == 2
    run1 = results["two_model"]["batches"]["1"]
    assert run1["gated"]["mode"] == "two-model" and 0 <= run1["gated"]["skip_rate"] <= 1
    assert run1["gated"]["threshold"] == 0.3 and results["threshold_given"] == 0.3  # --threshold, not the calibrated
    table = (tmp_path / "docs" / "gate_payoff_toy.md").read_text()
    assert "| two-model | 1 | 0.3 |" in table and "--threshold 0.3`" in table
    assert "| implied by skip |" in table and "implied_by_skip" in run1["payoff"]
    assert (tmp_path / "docs" / "gate_payoff_toy.png").exists() and (tmp_path / "docs" / "gate_curve_toy.png").exists()


def test_a_threshold_outside_0_1_is_refused_before_any_training(tmp_path):
    r = run([*SCRIPT, "--weights", "missing.pt", "--data", "missing.yaml", "--name", "toy", "--threshold", "1.5",
             "--out", str(tmp_path / "runs"), "--docs", str(tmp_path / "docs")], cwd=tmp_path)
    assert r.returncode != 0 and "outside [0, 1]" in r.stderr and not (tmp_path / "runs").exists()
