"""Crash-safe checkpoints and exact resume for Ultralytics training (8.4.x), with stock files and formats unchanged.

For whom. On by default for models with gfdnet_ultra layers; stock models train through Ultralytics' code alone and
write exactly its files. Opt in (or out) for any model with the train argument `exact_resume=True` (`False`), or for
every run with the environment variable `GFDNET_EXACT_RESUME=1` (`0`); the train argument wins.

Atomic writes. `BaseTrainer.save_model` writes `last.pt`, `best.pt` and `epochN.pt` with `Path.write_bytes`, and
`final_eval` rewrites them in place through `strip_optimizer`: a kill or a full disk during either leaves a truncated
file where the only good checkpoint was. We run both unchanged but point them at a temporary name in the same folder,
flush it to disk, then `os.replace` it over the target, so a reader sees the old file or the new one, never half.

Exact resume. A stock checkpoint keeps the EMA weights and the optimizer in fp16 and no random state, and resume
restarts from the EMA weights: a resumed run drifts from the uninterrupted one. Beside `last.pt` we also write
`resume-state.pt` (fp32 model, EMA and optimizer state, the Python, NumPy, torch and train-loader random states, and
the SHA-256 of the `last.pt` it belongs to); `yolo train resume model=last.pt` applies it when the hash matches, after
the stock restore. Bit-identical continuation holds for single-process training with `workers=0`, `deterministic=True`,
gradient accumulation that ends with each epoch (e.g. `nbs` = `batch`) and mosaic closed or `cache=ram`; in every other
case resume still works as stock. The file is not written for the final epoch (nothing is left to resume), and it is
named so that Ultralytics' `last*.pt` search never picks it.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import random
import shutil
from pathlib import Path

import numpy as np
import torch

from . import patches

__all__ = ("ENV_SWITCH", "RESUME_STATE", "atomic_path", "enabled", "install", "rng_state", "set_rng_state")

RESUME_STATE = "resume-state.pt"
ENV_SWITCH = "GFDNET_EXACT_RESUME"
_ATOMIC_STRIP = contextvars.ContextVar("gfdnet_atomic_strip", default=False)  # set while our final_eval runs


def _fsync_replace(tmp: Path, target: Path) -> None:
    """Flush `tmp` to disk and move it over `target` in one step."""
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, target)


def atomic_path(target: Path) -> Path:
    """Temporary sibling of `target` for writing before `os.replace` (hidden, never matching `*.pt`)."""
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def rng_state(generator: torch.Generator | None = None) -> dict:
    """Python, NumPy and torch (and `generator`) random states as tensors, loadable with `weights_only=True`."""
    version, words, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": (version, torch.tensor(words, dtype=torch.int64), gauss),
        "numpy": (name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
        "loader": generator.get_state() if generator is not None else None,
    }


def set_rng_state(state: dict) -> None:
    """Restore the process-wide random states saved by `rng_state` (not the loader's)."""
    version, words, gauss = state["python"]
    random.setstate((version, tuple(words.tolist()), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _switch(value) -> bool | None:
    """A train argument or environment value as True/False, or None when unset."""
    if value is None or value == "":
        return None
    return value.strip().lower() in ("1", "true", "yes", "on") if isinstance(value, str) else bool(value)


def enabled(trainer) -> bool:
    """Atomic writes and exact resume for this run: `exact_resume=`, else GFDNET_EXACT_RESUME, else our models only."""
    from ultralytics.utils.torch_utils import unwrap_model

    for value in (getattr(trainer.args, "exact_resume", None), os.environ.get(ENV_SWITCH)):
        on = _switch(value)
        if on is not None:
            return on
    model = unwrap_model(trainer.model)
    return any(type(m).__module__.startswith("gfdnet_ultra.") for m in model.modules())


def _exact_resume_wanted(trainer) -> bool:
    return trainer.world_size <= 1 and enabled(trainer)


def _resume_state(trainer, last_bytes: bytes) -> dict:
    from ultralytics.utils.torch_utils import unwrap_model

    def clone(sd: dict) -> dict:
        return {k: v.detach().clone() if isinstance(v, torch.Tensor) else v for k, v in sd.items()}

    return {
        "checkpoint_sha256": hashlib.sha256(last_bytes).hexdigest(),
        "epoch": trainer.epoch,
        "model": clone(unwrap_model(trainer.model).state_dict()),
        "ema": clone(trainer.ema.ema.state_dict()),
        "optimizer": trainer.optimizer.state_dict(),
        "scaler": trainer.scaler.state_dict(),
        "rng": rng_state(getattr(trainer.train_loader, "generator", None)),
    }


def _save_model(original, trainer) -> bool:
    """Stock `save_model`, writing into a temporary folder beside the weights, then replacing each file atomically."""
    if not enabled(trainer):
        return original(trainer)
    wdir, last, best = Path(trainer.wdir), Path(trainer.last), Path(trainer.best)
    staging = atomic_path(wdir / "staging")
    staging.mkdir(parents=True, exist_ok=True)
    trainer.wdir, trainer.last, trainer.best = staging, staging / last.name, staging / best.name
    try:
        saved = original(trainer)
        if trainer.epoch + 1 < trainer.epochs and _exact_resume_wanted(trainer) and trainer.last.is_file():
            state = _resume_state(trainer, trainer.last.read_bytes())
            torch.save(state, staging / RESUME_STATE)
        if not (staging / RESUME_STATE).exists():
            (wdir / RESUME_STATE).unlink(missing_ok=True)  # a stale one would only be refused by its hash
        for f in sorted(staging.iterdir(), key=lambda p: p.name == RESUME_STATE):  # checkpoints first
            _fsync_replace(f, wdir / f.name)
    finally:
        trainer.wdir, trainer.last, trainer.best = wdir, last, best
        shutil.rmtree(staging, ignore_errors=True)
    return saved


def _resume_loader_at(loader, state: torch.Tensor, now: bool) -> None:
    """Give the train loader's shuffle generator `state`, now or right after its next iterator is created.

    `now` is for an epoch where stock recreates the iterator anyway (closing mosaic): that iterator's base-seed draw
    comes from `state`, as in the uninterrupted run. Otherwise the uninterrupted run kept its iterator, whose
    `RandomSampler` makes one more (empty) `randperm` draw when the next epoch starts; we replay that draw.
    """
    if now:
        loader.generator.set_state(state)
        return
    create = loader._get_iterator

    def _get_iterator():
        iterator = create()  # its base seed (unused with workers=0) must not shift the shuffle order
        loader.generator.set_state(state)
        if isinstance(loader.sampler, torch.utils.data.RandomSampler) and not loader.sampler.replacement:
            torch.randperm(len(loader.sampler.data_source), generator=loader.generator)
        del loader._get_iterator  # back to the class method
        return iterator

    loader._get_iterator = _get_iterator


def _apply_resume_state(trainer) -> None:
    """After the stock restore, load `resume-state.pt` if it belongs to the checkpoint being resumed."""
    from ultralytics.utils import LOGGER
    from ultralytics.utils.torch_utils import unwrap_model

    ckpt = Path(str(trainer.args.resume))
    path = ckpt.with_name(RESUME_STATE)
    if not (_exact_resume_wanted(trainer) and ckpt.is_file() and path.is_file()):
        return
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("checkpoint_sha256") != hashlib.sha256(ckpt.read_bytes()).hexdigest():
        LOGGER.info(f"{path.name} belongs to another checkpoint than {ckpt.name}; resuming from {ckpt.name} only")
        return
    unwrap_model(trainer.model).load_state_dict(state["model"])
    trainer.ema.ema.load_state_dict(state["ema"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"])
    if state["rng"]["loader"] is not None and getattr(trainer.train_loader, "generator", None) is not None:
        close = trainer.args.close_mosaic
        closes_now = bool(close) and trainer.start_epoch == trainer.epochs - close  # stock recreates the iterator
        _resume_loader_at(trainer.train_loader, state["rng"]["loader"], now=closes_now)
    LOGGER.info(f"Resuming with the exact training state of epoch {state['epoch'] + 1} from {path.name}")


def _setup_train(original, trainer) -> None:
    original(trainer)
    if trainer.resume:
        _apply_resume_state(trainer)


def _final_eval(original, trainer) -> None:
    """Stock `final_eval`; for runs with atomic writes, its `strip_optimizer` rewrites are atomic too."""
    token = _ATOMIC_STRIP.set(enabled(trainer))
    try:
        return original(trainer)
    finally:
        _ATOMIC_STRIP.reset(token)


def _strip_optimizer(original, f="best.pt", s="", updates=None):
    """Stock `strip_optimizer`, written to a temporary file that then replaces the target (inside our final_eval)."""
    if not _ATOMIC_STRIP.get():
        return original(f, s, updates)
    target = Path(s or f)
    tmp = atomic_path(target)
    result = original(f, str(tmp), updates)
    if tmp.is_file():
        _fsync_replace(tmp, target)
    return result


def install() -> None:
    """Wrap the trainer's checkpoint writes and resume (idempotent)."""
    import ultralytics.engine.trainer as trainer_module

    trainer = trainer_module.BaseTrainer
    for owner, name, wrapper in (
        (trainer, "save_model", _save_model),
        (trainer, "_setup_train", _setup_train),
        (trainer, "final_eval", _final_eval),
        (trainer_module, "strip_optimizer", _strip_optimizer),
    ):
        patches.wrap(owner, name, wrapper)
