"""Latency helpers: interleaved round-robin order, statistics, PyTorch / onnxruntime runners; no timing is asserted."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gfdnet_ultra.bench.latency import interleave, ort_runner, ov_runner, summarize, torch_runner


def test_interleave_rotates_the_round_robin_start_and_times_every_runner_reps_times():
    calls = []
    runners = {k: (lambda k=k: calls.append(k)) for k in "abc"}
    times = interleave(runners, reps=3, warmup=1)
    assert calls == list("abc") + list("abc") + list("bca") + list("cab")
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3, "c": 3}


def test_interleave_with_no_runners_times_nothing():  # e.g. `benchmark.py --batches 1`: the batch > 1 group is empty
    assert interleave({}, reps=3, warmup=1) == {}


def test_summarize_reports_median_percentiles_iqr_and_count_in_milliseconds():
    s = summarize([0.001 * i for i in range(1, 12)])
    assert s["median_ms"] == pytest.approx(6.0)
    assert s["p10_ms"] == pytest.approx(2.0) and s["p90_ms"] == pytest.approx(10.0)
    assert s["iqr_ms"] == pytest.approx(5.0) and s["n"] == 11


def test_summarize_rejects_empty_timings():
    with pytest.raises(ValueError, match="no timings"):
        summarize([])


def test_runners_execute_pytorch_onnxruntime_and_openvino_forward_passes(tmp_path):
    torch.manual_seed(0)
    m = nn.Conv2d(3, 4, 3, padding=1).eval()
    torch_runner(m, batch=2, imgsz=16)()
    path = tmp_path / "m.onnx"
    torch.onnx.export(m, torch.zeros(2, 3, 16, 16), str(path), dynamo=False, input_names=["images"])
    assert ort_runner(path, batch=2, imgsz=16, threads=1)() is None
    assert ov_runner(path, batch=2, imgsz=16, threads=1)() is None
