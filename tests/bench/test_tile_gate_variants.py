"""`scripts/tile_gate_variants.py` at toy sizes: every body trains, is scored on validation and lands in the table."""

from __future__ import annotations

import json
import sys

from tests.conftest import REPO, run

SCRIPT = [sys.executable, str(REPO / "scripts" / "tile_gate_variants.py")]


def test_every_body_is_trained_scored_and_tabled(tmp_path, synthetic_yaml):
    bodies = ["shipped", "patchify", "patchify-deep", "separable"]
    args = ["--data", str(synthetic_yaml), "--imgsz", "64", "--runs", *(f"{b}:4:1" for b in bodies), "--out", str(tmp_path)]
    r = run([*SCRIPT, *args], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((tmp_path / "tile_gate_variants.json").read_text())
    rows = report["rows"]
    assert report["crop"] == 32  # train-gate's default at 64 px
    assert [row["body"] for row in rows] == bodies
    assert all(0 <= row["auc"] <= 1 and 0 <= row["oracle_skip"] <= 1 and row["gflops"] > 0 for row in rows)
    assert (tmp_path / "tile_gate_variants.md").read_text().count("\n| ") == 1 + len(bodies)


def test_an_unknown_body_is_one_clear_error(tmp_path, synthetic_yaml):
    r = run([*SCRIPT, "--data", str(synthetic_yaml), "--imgsz", "64", "--runs", "wide:4:1"], cwd=tmp_path)
    assert r.returncode != 0 and "unknown body 'wide'" in r.stderr and "shipped" in r.stderr
