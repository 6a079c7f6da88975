"""The parser patch: stock YAMLs use Ultralytics' own parse_model, edits are found by code, and tracebacks through
the plugin parser show Ultralytics' true line numbers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import ultralytics.nn.tasks as tasks

import gfdnet_ultra

gfdnet_ultra.register()


def _parsers_called(cfg: str) -> set:
    """The code objects named parse_model that building `cfg` runs."""
    calls = set()

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "parse_model":
            calls.add(frame.f_code)

    sys.setprofile(profile)
    try:
        tasks.DetectionModel(cfg, verbose=False)
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize(("cfg", "plugin"), [("yolo11n.yaml", False), ("yolov8n.yaml", False), ("gfdnet-n.yaml", True)])
def test_only_yamls_with_plugin_layers_use_the_plugin_parser(cfg, plugin):
    from gfdnet_ultra.integration import parse_patch, patches

    calls = _parsers_called(cfg)
    assert (parse_patch.plugin_parse_model().__code__ in calls) is plugin
    assert (patches.original(tasks, "parse_model").__code__ in calls) is not plugin


def test_a_bad_row_traceback_points_at_ultralytics_true_line(tmp_path):
    d = {"nc": 2, "backbone": [[-1, 1, "GAstage", [32]], [-1, 1, "Conv", [16, 3, 2, 1, 1, 1, 1, 1, 1]]], "head": []}
    with pytest.raises(ValueError, match=r"row 1 \(Conv") as e:
        tasks.parse_model(d, ch=3, verbose=False)
    tb, frames = e.value.__cause__.__traceback__, []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == tasks.__file__ and tb.tb_frame.f_code.co_name == "parse_model":
            frames.append(tb.tb_lineno)
        tb = tb.tb_next
    assert len(frames) == 1
    line = Path(tasks.__file__).read_text().splitlines()[frames[0] - 1]
    assert "m(*args)" in line, f"traceback line {frames[0]} of tasks.py is {line.strip()!r}"


STRIP_COMMENTS = """
import inspect, io, tokenize
real_getsource = inspect.getsource
def getsource(obj):  # the same parse_model with no comments and other line breaks, as a reformatted release might be
    src = real_getsource(obj)
    if obj.__name__ != "parse_model":
        return src
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(src).readline) if t.type != tokenize.COMMENT]
    return tokenize.untokenize(tokens).replace("Detect,\\n                WorldDetect,", "Detect, WorldDetect,")
inspect.getsource = getsource
from ultralytics import YOLO
print(sum(p.numel() for p in YOLO("gfdnet-n.yaml").model.parameters()))
"""


def test_parser_edits_survive_comments_and_formatting_changes(fresh_python):
    proc = fresh_python(STRIP_COMMENTS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "gfdnet_ultra is not active" not in proc.stderr
    assert proc.stdout.split()[-1] == "1596686"  # docs/architecture.md, scale n with 80 classes
