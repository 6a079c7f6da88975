"""The suite's accuracy phase: trainings `accuracy_jobs` at a time, results in seed order, failures kept per run."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from gfdnet_ultra.bench import suite
from gfdnet_ultra.bench.suite import Config, run_suite
from gfdnet_ultra.bench.training import Recipe

TINY = {"n_train": 4, "n_val": 2, "imgsz": 64, "seed": 0}


def _config(jobs: int, seeds: tuple[int, ...]) -> Config:
    return Config(
        models=("yolov8n",), imgsz=64, flops_imgsz=64, batches=(1,), reps=1, warmup=0, onnx=False, memory=False,
        profile=None, accuracy=True, accuracy_seeds=seeds, accuracy_jobs=jobs, data=TINY,
        accuracy_recipe=Recipe(epochs=1, imgsz=64, batch=2),
    )  # fmt: skip


def _fake_training(monkeypatch, fail_seed: int | None = None) -> dict:
    """Replace the spawned training by a timed stand-in; returns counters of concurrent and total calls."""
    seen, lock = {"now": 0, "most": 0, "projects": []}, threading.Lock()

    def fake(model, data, recipe, threads, project=None, keep_weights=None):
        with lock:
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
            seen["projects"].append(str(project))
            seen.setdefault("data", []).append(str(data))
            seen.setdefault("model", []).append(str(model))
            seen.setdefault("keep", []).append(keep_weights and str(keep_weights))
        time.sleep(0.3 if recipe.seed == 3 else 0.1)  # seed 3 finishes last
        with lock:
            seen["now"] -= 1
        if recipe.seed == fail_seed:
            raise RuntimeError("the training process for yolov8n.yaml died (crash or out of memory)")
        per_class = {"scratch": recipe.seed / 10, "spot": 0.5}
        out = {"epoch_s": [1.0], "map50": recipe.seed / 10, "map50_95": recipe.seed / 20, "device": "cpu"}
        return {**out, "wall_s": 60.0 * (recipe.seed + 1), "ap50_per_class": per_class}

    monkeypatch.setattr(suite, "train_isolated", fake)
    return seen


def test_accuracy_jobs_run_trainings_side_by_side_and_report_them_in_seed_order(monkeypatch):
    seen = _fake_training(monkeypatch)
    row = run_suite(_config(jobs=2, seeds=(3, 1, 2)), progress=False)["rows"]["yolov8n"]
    assert seen["most"] == 2
    assert len(set(seen["projects"])) == 3  # one run folder per seed: parallel runs never share one
    assert [r["seed"] for r in row["acc_runs"]] == [3, 1, 2]
    assert [r["map50"] for r in row["acc_runs"]] == [0.3, 0.1, 0.2]
    assert abs(row["map50"] - 0.2) < 1e-12


def test_one_job_trains_one_at_a_time(monkeypatch):
    seen = _fake_training(monkeypatch)
    run_suite(_config(jobs=1, seeds=(0, 1)), progress=False)
    assert seen["most"] == 1


def test_a_failed_parallel_training_is_reported_and_the_others_are_kept(monkeypatch):
    _fake_training(monkeypatch, fail_seed=1)
    res = run_suite(_config(jobs=2, seeds=(0, 1, 3)), progress=False)
    assert [r["seed"] for r in res["rows"]["yolov8n"]["acc_runs"]] == [0, 3]
    assert "died" in res["errors"]["yolov8n"]["accuracy seed 1"]


def test_a_dataset_yaml_replaces_the_synthetic_set_and_is_described_in_the_results(monkeypatch, tmp_path):
    from gfdnet_ultra.data.synthetic import synthetic_dataset

    yaml = synthetic_dataset(tmp_path / "real", n_train=4, n_val=2, imgsz=64, seed=1)  # stands in for a converted set
    seen = _fake_training(monkeypatch)
    cfg = replace(_config(jobs=1, seeds=(0, 2)), data_yaml=str(yaml), recipe="ultralytics", keep_weights=str(tmp_path / "w"))
    res = run_suite(cfg, progress=False)
    assert set(seen["data"]) == {str(yaml)}
    assert seen["keep"] == [str(tmp_path / "w" / "yolov8n-seed0.pt"), str(tmp_path / "w" / "yolov8n-seed2.pt")]
    d = res["dataset"]
    assert d["yaml"] == str(yaml) and d["splits"]["train"]["images"] == 4 and d["splits"]["val"]["images"] == 2
    row = res["rows"]["yolov8n"]
    assert row["ap50_per_class"] == {"scratch": 0.1, "spot": 0.5}  # mean over the two seeds
    assert row["acc_wall_s"] == 120.0 and [r["wall_s"] for r in row["acc_runs"]] == [60.0, 180.0]


def test_a_missing_dataset_yaml_fails_naming_it(tmp_path):
    import pytest

    cfg = replace(_config(jobs=1, seeds=(0,)), data_yaml=str(tmp_path / "nope.yaml"))
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        run_suite(cfg, progress=False)


def test_a_yaml_path_is_benchmarked_under_its_name_and_trained_from_its_absolute_path(monkeypatch, tmp_path):
    """`--models docs/ablation/x.yaml`: the row keeps the name given, the training (another folder) gets the file."""
    import shutil

    from ultralytics.utils import ROOT

    yaml = tmp_path / "variants" / "my-yolov8.yaml"
    yaml.parent.mkdir()
    shutil.copyfile(ROOT / "cfg" / "models" / "v8" / "yolov8.yaml", yaml)
    seen = _fake_training(monkeypatch)
    monkeypatch.chdir(tmp_path)
    cfg = replace(_config(jobs=1, seeds=(0,)), models=("variants/my-yolov8.yaml",), keep_weights=str(tmp_path / "w"))
    res = run_suite(cfg, progress=False)
    assert not res["skipped"] and "variants/my-yolov8.yaml" in res["rows"]
    assert res["rows"]["variants/my-yolov8.yaml"]["acc_runs"][0]["map50"] == 0.0
    assert seen["keep"] == [str(tmp_path / "w" / "my-yolov8-seed0.pt")]
    assert seen["model"] == [str(yaml.absolute())]
    assert suite.yaml_file("gfdnet-n") == "gfdnet-n.yaml" and suite.yaml_file("missing/x.yaml") == "missing/x.yaml"
