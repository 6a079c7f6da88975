"""Checkpoint writes are atomic (a failed save keeps the previous file) and the exact-resume state round-trips."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gfdnet_ultra.integration import checkpoints


def _trainer(tmp_path, epoch=0, epochs=1):
    wdir = tmp_path / "weights"
    wdir.mkdir(exist_ok=True)
    (wdir / "last.pt").write_bytes(b"old last")
    (wdir / "best.pt").write_bytes(b"old best")
    return SimpleNamespace(wdir=wdir, last=wdir / "last.pt", best=wdir / "best.pt", epoch=epoch, epochs=epochs,
                           world_size=1, args=SimpleNamespace(exact_resume=True))


def test_a_save_that_fails_half_way_keeps_the_previous_checkpoints(tmp_path):
    trainer = _trainer(tmp_path)

    def save_model(t):
        t.last.write_bytes(b"half a checkp")
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"):
        checkpoints._save_model(save_model, trainer)
    assert (trainer.wdir / "last.pt").read_bytes() == b"old last"
    assert (trainer.wdir / "best.pt").read_bytes() == b"old best"
    assert sorted(p.name for p in trainer.wdir.iterdir()) == ["best.pt", "last.pt"]  # no temporary left
    assert trainer.last == trainer.wdir / "last.pt"  # the trainer's paths are restored


def test_a_final_epoch_save_replaces_the_files_and_drops_a_stale_resume_state(tmp_path):
    trainer = _trainer(tmp_path)
    (trainer.wdir / checkpoints.RESUME_STATE).write_bytes(b"stale")

    def save_model(t):
        t.wdir.mkdir(parents=True, exist_ok=True)
        t.last.write_bytes(b"new")
        t.best.write_bytes(b"new")
        (t.wdir / "epoch0.pt").write_bytes(b"new")
        return True

    assert checkpoints._save_model(save_model, trainer) is True
    assert {p.name: p.read_bytes() for p in trainer.wdir.iterdir()} == {n: b"new" for n in ("last.pt", "best.pt",
                                                                                              "epoch0.pt")}


def test_a_failed_strip_optimizer_keeps_the_checkpoint(tmp_path):
    f = tmp_path / "best.pt"
    f.write_bytes(b"trained weights")

    def strip_optimizer(f, s="", updates=None):
        with open(s or f, "wb") as out:
            out.write(b"trunc")
        raise KeyboardInterrupt

    token = checkpoints._ATOMIC_STRIP.set(True)  # as inside final_eval of a run with atomic writes
    try:
        with pytest.raises(KeyboardInterrupt):
            checkpoints._strip_optimizer(strip_optimizer, f)
    finally:
        checkpoints._ATOMIC_STRIP.reset(token)
    assert f.read_bytes() == b"trained weights"


def test_registration_wraps_the_trainer_save_and_resume():
    import ultralytics.engine.trainer as trainer

    import gfdnet_ultra
    from gfdnet_ultra.integration import patches

    gfdnet_ultra.register()
    for owner, name in ((trainer.BaseTrainer, "save_model"), (trainer.BaseTrainer, "_setup_train"),
                        (trainer.BaseTrainer, "final_eval"), (trainer, "strip_optimizer")):
        assert patches.is_patched(owner, name), name


def test_random_states_round_trip_through_a_weights_only_file(tmp_path):
    gen = torch.Generator().manual_seed(3)
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    torch.save(checkpoints.rng_state(gen), tmp_path / "s.pt")
    expected = (random.random(), np.random.rand(), torch.rand(1), torch.rand(1, generator=gen))
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    state = torch.load(tmp_path / "s.pt", weights_only=True)
    checkpoints.set_rng_state(state)
    gen.set_state(state["loader"])
    assert (random.random(), np.random.rand(), torch.rand(1), torch.rand(1, generator=gen)) == expected
