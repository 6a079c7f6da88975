"""The benchmark note: one row per model with every requested figure, ratios to YOLO11n, targets, JSON and plot."""

from __future__ import annotations

import json

from gfdnet_ultra.bench.report import MISSING, expected_figures, render_markdown, write_report
from gfdnet_ultra.bench.suite import Config
from gfdnet_ultra.bench.training import Recipe

CFG = {
    "models": ["gfdnet-n", "yolo11n", "yolo26n"], "imgsz": 640, "flops_imgsz": 640, "batches": [1, 8], "threads": 1,
    "reps": 5, "warmup": 1, "onnx": True, "memory": True, "profile": "gfdnet-n", "train_time": True, "train_reps": 1,
    "accuracy": True, "data": {"n_train": 16, "n_val": 8, "imgsz": 64, "seed": 0},
    "train_recipe": vars(Recipe(epochs=2)), "accuracy_recipe": vars(Recipe(epochs=3)),
}  # fmt: skip
ENV = {"cpu": "Test CPU", "logical_cores": 2, "threads": 1, "accelerator": "none", "python": "3", "versions": {"torch": "2"}}
ENV.update(date="2026-01-01 00:00 UTC", commit="abc123")


def _lat(ms):
    return {"median_ms": ms, "p10_ms": ms - 1, "p90_ms": ms + 1, "iqr_ms": 1.0, "n": 5}


def _row(scale):
    row = {"params": 2.0e6 * scale, "gflops": 6.0 * scale, "gflops_thop": 5.9 * scale, "gflops_functional": 0.1 * scale}
    row.update(gflops_ultralytics=5.9 * scale, functional_ops={"mul": 0.05}, mem_b1_mib=10.0, train_epoch_s=3.0 * scale)
    row.update({f"{be}_b{b}": _lat(10.0 * b * scale) for be in ("pt", "ort") for b in (1, 8)})
    return {**row, "map50": 0.5 * scale, "map50_95": 0.3 * scale, "acc_device": "cpu"}


RES = {
    "config": CFG, "env": ENV, "counter": "thop+functional", "skipped": {"gfdnet-s": "YAML not found"},
    "rows": {"gfdnet-n": _row(1.2), "yolo11n": _row(1.0), "yolo26n": _row(0.9)}, "errors": {},
    "profile": {"model": "gfdnet-n", "imgsz": 640, "layers": [{"i": 0, "type": "Conv", "params": 10, "gflops": 0.1, "ms": 2.0, "share": 1.0}]},
}  # fmt: skip


def _table_rows(md):
    table = md.split("## Results")[1].split("\n\n")[1].splitlines()
    return table[0], [line for line in table[2:]]


def test_every_model_row_has_every_requested_figure_and_ratio():
    header, rows = _table_rows(render_markdown(RES, "python scripts/benchmark.py"))
    n_cols = header.count("|") - 1
    assert len(rows) == 3
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == n_cols and MISSING not in cells, line
    assert "×YOLO11n" in header and "| yolo11n | 2.000 | 1.00× |" in render_markdown(RES, "cmd")


def test_note_names_command_device_date_versions_counter_and_skipped_models():
    md = render_markdown(RES, "python scripts/benchmark.py --threads 1")
    for text in ("python scripts/benchmark.py --threads 1", "Test CPU", "2026-01-01", "torch 2", "thop+functional"):
        assert text in md
    assert "gfdnet-s: skipped, YAML not found" in md and "## Per-layer profile" in md


def test_targets_compare_gfdnet_n_with_yolo11n_and_yolo26n():
    md = render_markdown(RES, "cmd").split("## Targets")[1].split("##")[0]
    assert "| params <= 2.1 M | 2.400 M | **no** |" in md
    assert "| pt_b1 <= 1.3× yolo11n | 1.20× yolo11n | yes |" in md
    assert "| map50_95 >= yolo26n | 0.3600 vs 0.2700 | yes |" in md


def test_expected_figures_follow_the_config():
    assert expected_figures(CFG) == [
        "params", "gflops", "pt_b1", "pt_b8", "ort_b1", "ort_b8", "mem_b1_mib", "train_epoch_s", "map50", "map50_95", "acc_device",
    ]  # fmt: skip
    assert set(expected_figures(CFG)) <= set(RES["rows"]["yolo11n"])
    assert {"train_recipe", "accuracy_recipe"} <= set(vars(Config()))


def test_write_report_writes_markdown_json_and_png(tmp_path):
    paths = write_report(RES, tmp_path / "b.md", "cmd")
    assert json.loads(paths["json"].read_text())["command"] == "cmd"
    assert paths["png"].read_bytes()[:4] == b"\x89PNG" and paths["md"].read_text().startswith("# Benchmarks")


def test_several_accuracy_seeds_show_the_mean_and_every_run():
    from gfdnet_ultra.bench.suite import accuracy_summary

    runs = [{"seed": s, "map50": m * 2, "map50_95": m, "device": "cpu", "epoch_s": [9.0, 3.0]} for s, m in ((0, 0.1), (2, 0.3))]
    summary = accuracy_summary(runs)
    assert abs(summary["map50_95"] - 0.2) < 1e-12 and abs(summary["map50"] - 0.4) < 1e-12
    assert [r["seed"] for r in summary["acc_runs"]] == [0, 2] and summary["acc_epoch_s"] == 3.0
    rows = {n: {**r, **summary} for n, r in RES["rows"].items()}
    md = render_markdown({**RES, "rows": rows, "config": {**CFG, "accuracy_seeds": [0, 2]}}, "cmd")
    assert "mAP50-95 per seed" in md and "0.100 / 0.300 (seeds 0, 2)" in md and "seeds 0, 2)" in md.split("## Results")[0]
    header, lines = _table_rows(md)
    assert all(len(line.strip("|").split("|")) == header.count("|") - 1 for line in lines)
    assert "mAP50-95 per seed" not in render_markdown(RES, "cmd")  # one seed: no per-seed column


def test_several_seeds_plot_every_run_and_the_note_says_how_many_trained_at_a_time(tmp_path):
    runs = [{"seed": s, "map50": 0.4, "map50_95": m} for s, m in ((0, 0.1), (1, 0.3))]
    rows = {n: {**r, "acc_runs": runs} for n, r in RES["rows"].items()}
    res = {**RES, "rows": rows, "config": {**CFG, "accuracy_seeds": [0, 1], "accuracy_jobs": 2}}
    paths = write_report(res, tmp_path / "b.md", "cmd")
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"
    assert "2 training(s) at a time, each in a fresh process" in paths["md"].read_text()
    assert "1 training(s) at a time" in render_markdown(RES, "cmd")  # results written before the option: one at a time


def test_accuracy_curves_get_a_table_and_a_plot_and_a_stale_plot_goes(tmp_path):
    runs = [{"seed": s, "map50": 0.4, "map50_95": 0.3, "curve": [0.0, 0.1 * (s + 1), 0.2, 0.3, 0.25, 0.3]} for s in (0, 1)]
    rows = {n: {**r, "acc_runs": runs} for n, r in RES["rows"].items()}
    paths = write_report({**RES, "rows": rows}, tmp_path / "b.md", "cmd")
    assert paths["curves"] == tmp_path / "b_curves.png" and paths["curves"].read_bytes()[:4] == b"\x89PNG"
    section = paths["md"].read_text().split("## Accuracy per epoch")[1]
    assert "| yolo11n seed 1 | 6 | 0.000 | 0.200 | 0.200 | 0.300 | 0.250 | 0.300 | 0.300 |" in section  # epochs 1-5, last, best
    assert len([line for line in section.splitlines() if " seed " in line]) == 2 * len(rows)
    again = write_report(RES, tmp_path / "b.md", "cmd")  # results without curves: no section, no stale plot
    assert "curves" not in again and not (tmp_path / "b_curves.png").exists()
    assert "## Accuracy per epoch" not in again["md"].read_text()


def _accuracy_only(recipe="ultralytics"):
    """An accuracy-only result on a dataset YAML: three models, two seeds, per-class AP50, no latency figures."""
    cfg = {**CFG, "batches": [], "onnx": False, "memory": False, "profile": None, "train_time": False,
           "accuracy_seeds": [0, 1], "recipe": recipe}  # fmt: skip
    maps = {"gfdnet-n": (0.30, 0.20), "yolo11n": (0.25, 0.22), "yolo26n": (0.10, 0.12)}
    rows = {}
    for name, (m0, m1) in maps.items():
        runs = [{"seed": s, "map50": 2 * m, "map50_95": m, "wall_s": 600.0, "curve": [m / 2, m]} for s, m in ((0, m0), (1, m1))]
        rows[name] = {"params": 2e6, "gflops": 6.0, "gflops_thop": 6.0, "gflops_functional": 0.0, "gflops_ultralytics": 6.0,
                      "functional_ops": {}, "map50": m0 + m1, "map50_95": (m0 + m1) / 2, "acc_runs": runs,
                      "acc_device": "cpu", "acc_wall_s": 600.0, "ap50_per_class": {"crazing": m0, "scratches": m1}}  # fmt: skip
    dataset = {"yaml": "datasets/neu-det/data.yaml", "names": ["crazing", "scratches"],
               "splits": {"train": {"images": 8, "normal": 0, "defective": 8, "boxes": 9},
                          "val": {"images": 2, "normal": 1, "defective": 1, "boxes": 1}}}  # fmt: skip
    return {**RES, "config": cfg, "rows": rows, "dataset": dataset, "profile": None, "skipped": {}}


def test_accuracy_only_note_names_dataset_and_recipe_and_says_where_gfdnet_n_stands(tmp_path):
    res = _accuracy_only()
    md = render_markdown(res, "cmd")
    assert "## Targets" not in md and "- Latency:" not in md  # nothing was timed
    assert "`datasets/neu-det/data.yaml`, 2 classes (crazing, scratches)" in md and "val: 2 images (1 normal), 1 boxes" in md
    assert "Accuracy recipe `ultralytics`, Ultralytics' defaults" in md and "mAP50-95 (ultralytics)" in md
    standing = md.split("## Where gfdnet-n stands")[1].split("\n\n")[1]
    assert "| yolo11n | +0.030 | +0.015 | 1 of 2 (0) |" in standing  # ahead on seed 0 only
    assert "| yolo26n | +0.280 | +0.140 | 2 of 2 (0, 1) |" in standing
    per_class = md.split("## AP50 per class (mean over seeds, `ultralytics` recipe)")[1]
    assert "| gfdnet-n | 0.300 | 0.200 |" in per_class
    assert "0.600 / 0.400 (seeds 0, 1)" in md and "| 10.0 |" in md  # mAP50 per seed; wall minutes
    paths = write_report(res, tmp_path / "neu.md", "cmd")
    assert paths["png"].read_bytes()[:4] == b"\x89PNG" and paths["curves"].is_file()
    assert "`short` recipe" in render_markdown(_accuracy_only("short"), "cmd")


def test_openvino_latency_gets_its_columns_and_ratio_when_asked_for():
    cfg = {**CFG, "openvino": True}
    rows = {n: {**r, "ov_b1": _lat(5.0 * s), "ov_b8": _lat(40.0 * s)} for (n, r), s in zip(RES["rows"].items(), (1.2, 1, 0.9))}
    assert expected_figures(cfg)[6:8] == ["ov_b1", "ov_b8"]
    md = render_markdown({**RES, "config": cfg, "rows": rows}, "cmd")
    header, lines = _table_rows(md)
    assert "OpenVINO b1 ms" in header and "OpenVINO b8 ms" in header and "compiled by its CPU plugin" in md
    assert "| 6.0 [5.0–7.0] | 1.20× |" in lines[0]  # gfdnet-n's OpenVINO b1 cell and its ratio to YOLO11n
    assert "OpenVINO" not in render_markdown(RES, "cmd")  # off by default
