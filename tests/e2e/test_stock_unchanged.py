"""Non-invasiveness: stock YOLOv8n, YOLO11n and YOLO26n are the same models with and without gfdnet_ultra."""

from __future__ import annotations

import pytest
import torch

BUILD = """
import sys, torch
from ultralytics.nn.tasks import DetectionModel
assert ('gfdnet_ultra' in sys.modules) == {plugin}, 'plugin import state'
torch.manual_seed(0)
model = DetectionModel('{cfg}', verbose=False).eval()
x = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(1))
with torch.no_grad():
    y = model(x)[0]
torch.save({{'params': sum(p.numel() for p in model.parameters()), 'y': y}}, 'out.pt')
"""


@pytest.mark.parametrize("cfg", ["yolov8n.yaml", "yolo11n.yaml", "yolo26n.yaml"])
def test_stock_model_is_identical_with_and_without_the_plugin(cfg, tmp_path, fresh_python):
    results = {}
    for plugin in (False, True):
        env = {} if plugin else {"GFDNET_AUTOLOAD": "0"}
        proc = fresh_python(BUILD.format(cfg=cfg, plugin=plugin), **env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        results[plugin] = torch.load(tmp_path / "out.pt")
    assert results[True]["params"] == results[False]["params"]
    assert torch.equal(results[True]["y"], results[False]["y"])


def test_installed_ultralytics_files_are_unchanged_by_registration(fresh_python):
    code = (
        "import hashlib, pathlib, ultralytics.nn.tasks as t, gfdnet_ultra;"
        "print(hashlib.sha256(pathlib.Path(t.__file__).read_bytes()).hexdigest())"
    )
    before = fresh_python(code.replace(", gfdnet_ultra", ""), GFDNET_AUTOLOAD="0")
    after = fresh_python(code)
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert before.stdout == after.stdout
