"""Interruption and determinism on CPU: a run killed mid-epoch and resumed with `yolo train resume model=last.pt`
ends exactly where an uninterrupted run with the same seed ends, and two runs with the same seed are bit-identical.

Settings for exactness (docs/reliability.md): one process, `workers=0`, `deterministic=True`, `nbs` = `batch` (no
gradient accumulation across epochs), mosaic closed (3 epochs < close_mosaic=10).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from ..conftest import BIN, python, run

pytestmark = pytest.mark.slow

TRAIN = """
import os, signal, sys, torch
from ultralytics import YOLO
model = YOLO("gfdnet-n.yaml")
kill = {kill}
def count(trainer):
    trainer.seen = getattr(trainer, "seen", 0) + 1
    if kill and trainer.epoch == 1 and trainer.seen == 6:  # 2nd batch of the 2nd epoch (4 batches per epoch)
        os.kill(os.getpid(), signal.SIGKILL)
model.add_callback("on_train_batch_end", count)
model.add_callback("on_train_end", lambda t: torch.save(t.model.state_dict(), t.wdir / "final-fp32.pt"))
model.train(data="{data}", epochs=3, imgsz=64, batch=4, nbs=4, workers=0, device="cpu", seed=0, deterministic=True,
            amp=False, plots=False, project="{project}", name="{name}")
"""


def _train(data: Path, project: Path, name: str, kill: bool = False):
    return python(TRAIN.format(kill=kill, data=data, project=project, name=name), project)


def _rows(run_dir: Path) -> list[dict]:
    with open(run_dir / "results.csv") as f:
        return [{k: v for k, v in row.items() if k != "time"} for row in csv.DictReader(f)]


def _weights(path: Path) -> dict:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = ckpt.get("model") or ckpt["ema"]
    return {k: v for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def uninterrupted(synthetic_yaml, tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("resume")
    proc = _train(synthetic_yaml, project, "full")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return project / "full"


def test_same_seed_gives_bit_identical_weights_on_cpu(uninterrupted, synthetic_yaml):
    proc = _train(synthetic_yaml, uninterrupted.parent, "twin")
    assert proc.returncode == 0, proc.stderr[-3000:]
    a = torch.load(uninterrupted / "weights" / "final-fp32.pt")
    b = torch.load(uninterrupted.parent / "twin" / "weights" / "final-fp32.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert _rows(uninterrupted) == _rows(uninterrupted.parent / "twin")


def test_run_killed_mid_epoch_resumes_to_the_same_final_metrics_and_weights(uninterrupted, synthetic_yaml):
    project = uninterrupted.parent
    killed = _train(synthetic_yaml, project, "cut", kill=True)
    assert killed.returncode == -9, killed.stderr[-3000:]  # SIGKILL, mid-epoch
    weights = project / "cut" / "weights"
    assert len(_rows(project / "cut")) == 1  # epoch 1 finished, epoch 2 was cut
    assert (weights / "resume-state.pt").is_file()
    assert sorted(p.name for p in weights.iterdir() if p.name.startswith(".")) == []  # no temporary left over
    _weights(weights / "last.pt")  # the checkpoint written before the kill loads

    proc = run([str(BIN / "yolo"), "train", "resume", f"model={weights / 'last.pt'}"], project)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "exact training state of epoch 1" in proc.stdout + proc.stderr
    assert _rows(project / "cut") == _rows(uninterrupted)
    a, b = _weights(weights / "last.pt"), _weights(uninterrupted / "weights" / "last.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not (weights / "resume-state.pt").exists()  # finished: nothing left to resume


def test_resume_state_of_another_checkpoint_is_ignored(tmp_path):
    """A resume-state.pt that does not belong to last.pt (hash differs) falls back to the stock resume."""
    from gfdnet_ultra.integration.checkpoints import _apply_resume_state

    (tmp_path / "last.pt").write_bytes(b"another checkpoint")
    torch.save({"checkpoint_sha256": "0" * 64}, tmp_path / "resume-state.pt")
    args = type("A", (), {"resume": str(tmp_path / "last.pt"), "exact_resume": True})()
    trainer = type("T", (), {"args": args, "world_size": 1})()
    _apply_resume_state(trainer)  # returns before touching the (absent) model, optimizer and loader
