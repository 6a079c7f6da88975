"""Run comparison: curves read from results.csv, the table at chosen epochs, the plot, and the script's bad input."""

from __future__ import annotations

import sys

import pytest

from gfdnet_ultra.bench.curves import curves_table, plot_curves, read_curve
from tests.conftest import REPO, run

HEADER = "epoch,  train/box_loss,  metrics/mAP50(B),  metrics/mAP50-95(B)\n"  # Ultralytics pads its column names


def _run(folder, values):
    folder.mkdir(parents=True)
    rows = "".join(f"{i + 1},1.0,{2 * v},{v}\n" for i, v in enumerate(values))
    (folder / "results.csv").write_text(HEADER + rows)
    return folder


def test_curves_are_read_per_metric_and_tabulated_at_epochs(tmp_path):
    a = _run(tmp_path / "a", [0.1, 0.3, 0.2])
    assert read_curve(a) == [0.1, 0.3, 0.2] and read_curve(a / "results.csv", "map50") == [0.2, 0.6, 0.4]
    assert read_curve(a, "train_box_loss") == [1.0, 1.0, 1.0]  # loss terms per epoch (docs/accuracy.md's diagnosis)
    table = curves_table({"a": read_curve(a), "b": [0.5]}, at=(1, 3))
    assert table[0] == "| run | epochs | epoch 1 | epoch 3 | last | best |"
    assert table[2:] == ["| a | 3 | 0.100 | 0.200 | 0.200 | 0.300 |", "| b | 1 | 0.500 | — | 0.500 | 0.500 |"]
    assert plot_curves({"a": [0.1, 0.3]}, tmp_path / "c.png", "mAP").read_bytes()[:4] == b"\x89PNG"


def test_bad_runs_and_metrics_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="results.csv"):
        read_curve(tmp_path / "missing")
    with pytest.raises(ValueError, match="unknown metric 'map75'.*map50"):
        read_curve(_run(tmp_path / "a", [0.1]), "map75")
    (tmp_path / "cls").mkdir()
    (tmp_path / "cls" / "results.csv").write_text("epoch,metrics/accuracy_top1\n1,0.5\n")
    with pytest.raises(ValueError, match="no 'metrics/mAP50-95\\(B\\)' column"):
        read_curve(tmp_path / "cls")
    with pytest.raises(ValueError, match="no 'train/dfl_loss' column"):  # a reg_max 1 run logs train/l1_loss
        read_curve(_run(tmp_path / "b", [0.1]), "train_dfl_loss")


def test_reg_max_1_runs_give_their_l1_box_term(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "results.csv").write_text("epoch,  train/l1_loss,  metrics/mAP50-95(B)\n1,0.05,0.1\n2,0.04,0.2\n")
    assert read_curve(tmp_path / "r", "train_l1_loss") == [0.05, 0.04]


def test_script_writes_table_and_plot_and_rejects_bad_input_in_one_line(tmp_path):
    a, b = _run(tmp_path / "a", [0.1, 0.2]), _run(tmp_path / "b", [0.3])
    out = tmp_path / "cmp" / "c.md"
    script = str(REPO / "scripts" / "compare_runs.py")
    r = run([sys.executable, script, f"first={a}", str(b), "--at", "2", "--out", str(out)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "| first | 2 | 0.200 | 0.200 | 0.200 |" in out.read_text() and "| b | 1 | — |" in out.read_text()
    assert out.with_suffix(".png").is_file()
    for args, msg in (([str(tmp_path / "nope")], "results.csv"), ([str(a), "--at", "0"], "1-based")):
        r = run([sys.executable, script, *args, "--out", str(tmp_path / "x.md")], cwd=tmp_path)
        assert r.returncode != 0 and msg in r.stderr and "Traceback" not in r.stderr
        assert not (tmp_path / "x.md").exists()
