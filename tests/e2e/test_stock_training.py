"""A stock model trains through Ultralytics' own code with the package installed: the same files as without it.
Atomic writes and exact resume are opt-in for stock models (train argument or environment variable)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow  # two-epoch trainings of YOLO11n at 32 px on four images, a few seconds each

TRAIN = """
import json, sys
from ultralytics import YOLO
assert ("gfdnet_ultra" in sys.modules) == {plugin}, "plugin import state"
saves = []
model = YOLO("yolo11n.yaml")
model.add_callback("on_model_save", lambda t: saves.append(sorted(p.name for p in t.wdir.iterdir())))
model.train(data=r"{data}", epochs=2, imgsz=32, batch=4, fraction=0.25, workers=0, device="cpu", plots=False,
            project=r"{project}", name="{name}"{extra})
run = model.trainer.save_dir
print("FILES", json.dumps({{"saves": saves, "run": sorted(str(p.relative_to(run)) for p in run.rglob("*"))}}))
"""


def _train(fresh_python, data, project, name: str, plugin: bool, extra: str = "", **env) -> dict:
    env = env if plugin else {**env, "GFDNET_AUTOLOAD": "0"}
    proc = fresh_python(TRAIN.format(plugin=plugin, data=data, project=project, name=name, extra=extra), **env)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return json.loads(proc.stdout.split("FILES ", 1)[1].splitlines()[0])


@pytest.fixture(scope="module")
def stock_files(synthetic_yaml, tmp_path_factory) -> dict:
    from ..conftest import python

    project = tmp_path_factory.mktemp("stock")
    return _train(lambda code, **env: python(code, project, env), synthetic_yaml, project, "stock", plugin=False)


def test_stock_training_writes_exactly_the_stock_files(stock_files, synthetic_yaml, tmp_path, fresh_python):
    with_plugin = _train(fresh_python, synthetic_yaml, tmp_path, "stock", plugin=True)
    assert with_plugin == stock_files
    assert stock_files["saves"][0] == ["best.pt", "last.pt"]


@pytest.mark.parametrize(("extra", "env"), [(", exact_resume=True", {}), ("", {"GFDNET_EXACT_RESUME": "1"})],
                         ids=["train-argument", "environment"])
def test_exact_resume_is_opt_in_for_stock_models(extra, env, synthetic_yaml, tmp_path, fresh_python):
    files = _train(fresh_python, synthetic_yaml, tmp_path, "opt-in", plugin=True, extra=extra, **env)
    assert files["saves"][0] == ["best.pt", "last.pt", "resume-state.pt"]  # after epoch 1 of 2
    assert "weights/resume-state.pt" not in files["run"]  # the finished run has nothing left to resume
