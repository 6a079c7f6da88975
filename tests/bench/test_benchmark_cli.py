"""`scripts/benchmark.py --quick` end to end on stock models: the note, JSON and plot, every figure in every row."""

from __future__ import annotations

import json
import sys

import pytest

from gfdnet_ultra.bench.report import MISSING, expected_figures
from tests.conftest import REPO, run


@pytest.mark.slow
def test_quick_run_writes_every_figure_for_every_model_and_skips_missing_yaml(tmp_path):
    out = tmp_path / "bench" / "benchmarks.md"
    args = ["--quick", "--no-progress", "--models", "yolo11n", "yolov8n", "no-such-model", "--out", str(out)]
    r = run([sys.executable, str(REPO / "scripts" / "benchmark.py"), *args], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(out.with_suffix(".json").read_text())
    assert set(res["rows"]) == {"yolo11n", "yolov8n"} and "no-such-model" in res["skipped"]
    assert not res["errors"]
    for name, row in res["rows"].items():
        assert all(row.get(k) is not None for k in expected_figures(res["config"])), name
        assert [len(run["curve"]) for run in row["acc_runs"]] == [res["config"]["accuracy_recipe"]["epochs"]], name
    md = out.read_text()
    table = md.split("## Results")[1].split("\n\n")[1].splitlines()[2:]
    assert len(table) == 2 and all(MISSING not in line.split("|")[2:-1] for line in table)
    assert "--quick" in md and res["env"]["cpu"] in md and "no-such-model: skipped" in md
    assert out.with_suffix(".png").stat().st_size > 0 and (out.parent / "benchmarks_curves.png").is_file()
    assert "## Accuracy per epoch" in md


def test_render_rewrites_the_note_from_a_results_json_without_measuring(tmp_path):
    from tests.bench.test_report import RES

    src = tmp_path / "old.json"
    src.write_text(json.dumps({**RES, "command": "python scripts/benchmark.py --reps 3"}))
    out = tmp_path / "new" / "benchmarks.md"
    r = run([sys.executable, str(REPO / "scripts" / "benchmark.py"), "--render", str(src), "--out", str(out)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "python scripts/benchmark.py --reps 3" in out.read_text() and out.with_suffix(".png").is_file()


def test_accuracy_jobs_below_one_is_refused_before_anything_runs(tmp_path):
    out = tmp_path / "benchmarks.md"
    r = run([sys.executable, str(REPO / "scripts" / "benchmark.py"), "--accuracy-jobs", "0", "--out", str(out)], cwd=tmp_path)
    assert r.returncode == 2 and "--accuracy-jobs must be >= 1, got 0" in r.stderr
    assert not out.exists()


def test_data_that_is_not_a_file_or_comes_with_quick_is_refused_before_anything_runs(tmp_path):
    out, script = tmp_path / "benchmarks.md", str(REPO / "scripts" / "benchmark.py")
    r = run([sys.executable, script, "--data", str(tmp_path / "missing.yaml"), "--out", str(out)], cwd=tmp_path)
    assert r.returncode == 2 and "missing.yaml: no such dataset YAML" in r.stderr
    (tmp_path / "data.yaml").write_text("names: [a]\n")
    r = run([sys.executable, script, "--data", str(tmp_path / "data.yaml"), "--quick", "--out", str(out)], cwd=tmp_path)
    assert r.returncode == 2 and "drop --data or --quick" in r.stderr
    assert not out.exists()


@pytest.mark.slow
def test_accuracy_only_on_a_dataset_yaml_trains_every_model_and_keeps_their_weights(tmp_path):
    from gfdnet_ultra.data.synthetic import synthetic_dataset

    data = synthetic_dataset(tmp_path / "set", n_train=8, n_val=4, imgsz=64, seed=0)
    out = tmp_path / "bench" / "set.md"
    args = ["--accuracy-only", "--data", str(data), "--models", "yolo11n", "yolov8n", "--epochs", "1", "--train-imgsz", "64",
            "--train-batch", "4", "--keep-weights", str(tmp_path / "w"), "--no-progress", "--out", str(out)]  # fmt: skip
    r = run([sys.executable, str(REPO / "scripts" / "benchmark.py"), *args], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(out.with_suffix(".json").read_text())
    assert res["config"]["recipe"] == "ultralytics" and not res["errors"] and "pt_b1" not in res["rows"]["yolo11n"]
    for name in ("yolo11n", "yolov8n"):
        row = res["rows"][name]
        assert row["acc_wall_s"] > 0 and set(row["ap50_per_class"]) <= set(res["dataset"]["names"])
        assert (tmp_path / "w" / f"{name}-seed0.pt").stat().st_size > 0
    md = out.read_text()
    assert "## Where gfdnet-n stands" in md and "Accuracy recipe `ultralytics`" in md
