"""`gfdnet_ultra.bench.gate`: the gate benchmark and the normal-share sweep behind scripts/gate_*.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from gfdnet_ultra.bench.gate import (
    benchmark_table,
    gate_benchmark,
    normal_share_sweep,
    split_images,
    sweep_lists,
    sweep_table,
)


def test_sweep_lists_hold_the_asked_normal_share_and_refuse_a_small_pool():
    normal, defective = [Path(f"n{i}") for i in range(3)], [Path(f"d{i}") for i in range(4)]
    lists = sweep_lists(normal, defective, n=3, steps=3)
    assert [a for a, _ in lists] == [0.0, 0.5, 1.0] and all(len(images) == 3 for _, images in lists)
    assert [sum(p.name.startswith("n") for p in images) for _, images in lists] == [0, 2, 3]
    with pytest.raises(ValueError, match="3 normal / 4 defective images; lower n=4"):
        sweep_lists(normal, defective, n=4, steps=2)  # alpha 1 needs 4 normal images
    with pytest.raises(ValueError, match="steps=1"):
        sweep_lists(normal, defective, n=2, steps=1)


def test_split_images_follows_the_label_files(synthetic_yaml):
    normal, defective = split_images(synthetic_yaml)
    assert len(normal) + len(defective) == 8 and normal and defective
    labels = synthetic_yaml.parent / "labels" / "val"
    assert all((labels / f"{p.stem}.txt").read_text().strip() for p in defective)


def _gate(att: float, skip: float) -> dict:
    return {"att": att, "att_normal": att / 2, "att_defective": att, "skip_rate": skip, "map50_95": 0.1}


def test_sweep_table_gives_defectnet_model_from_beta():
    rows = [{"normal_proportion": a, "ungated": _gate(10.0, 0.0), "gated": _gate(10.0 - 5 * a, a)} for a in (0, 1)]
    table = sweep_table({"threshold": 0.5, "n": 4, "beta": 0.5, "rows": rows})
    assert "| 1.00 | 10.00 | 5.00 | 0.500 | 0.500 | 1.00 |" in table.splitlines()


@pytest.mark.slow  # one tiny training per variant (2), then threshold picking and six validations, at 64 px
def test_gate_benchmark_and_sweep_run_end_to_end_at_toy_size(tmp_path):
    results = gate_benchmark(tmp_path / "bench", epochs=1, imgsz=64, n_train=8, n_val=8, threads=1)
    assert set(results["runs"]) == {"all_images", "defective_only"}
    table = benchmark_table(results)
    assert len(table.splitlines()) == 2 + 2 * 3
    assert all(results["runs"][v]["ungated"]["skip_rate"] == 0 for v in results["runs"])
    sweep = normal_share_sweep(tmp_path / "bench" / "all_images" / "weights" / "last.pt",
                               tmp_path / "bench" / "data" / "data.yaml", tmp_path / "sweep", imgsz=64, n=2, steps=2)
    assert [r["normal_proportion"] for r in sweep["rows"]] == [0.0, 1.0]
    assert all(r["ungated"]["skip_rate"] == 0 for r in sweep["rows"])
