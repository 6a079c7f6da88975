"""DDP workers, which rebuild the trainer from a pickled state file, get our registration by unpickling alone."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from ..conftest import run

KINDS_YAML = Path(__file__).with_name("plugin-kinds.yaml")
pytestmark = pytest.mark.slow


def _ddp_file(data: Path, project: Path, drop_anchor: bool) -> Path:
    from ultralytics.models.yolo.detect import DetectionTrainer
    from ultralytics.utils.dist import generate_ddp_file

    from gfdnet_ultra.integration.workers import EVENT, registration_anchor

    trainer = DetectionTrainer(overrides={"model": str(KINDS_YAML), "data": str(data), "epochs": 1, "imgsz": 64,
                                          "batch": 4, "workers": 0, "device": "cpu", "plots": False,
                                          "project": str(project), "name": "ddp", "fraction": 0.5})
    for event, callbacks in trainer.callbacks.items():  # keep only the anchor (or nothing) of ours
        keep = (registration_anchor,) if event == EVENT and not drop_anchor else ()
        callbacks[:] = [cb for cb in callbacks if cb in keep or not cb.__module__.startswith("gfdnet_ultra")]
    return Path(generate_ddp_file(trainer))


def _without_our_path(script: Path) -> None:
    """The generated file pins sys.path to ours; keep it but drop the checkout, so only the installed package is seen."""
    text = script.read_text()
    repo = str(Path(__file__).resolve().parents[2])
    script.write_text(re.sub(rf"'{re.escape(repo)}',?\s*", "", text))


@pytest.mark.parametrize("drop_anchor", [False, True])
def test_generated_worker_file_trains_only_thanks_to_the_anchor(synthetic_yaml, tmp_path, drop_anchor):
    script = _ddp_file(synthetic_yaml, tmp_path, drop_anchor)
    _without_our_path(script)
    proc = run([sys.executable, str(script)], tmp_path, {"GFDNET_AUTOLOAD": "0"})
    if drop_anchor:  # control: without the anchor (and without the hook) the worker cannot parse our YAML
        assert proc.returncode != 0
        assert "GAstage" in proc.stderr or "is not a valid YOLO argument" in proc.stderr
    else:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert list(tmp_path.rglob("last.pt"))
