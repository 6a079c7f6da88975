"""One fixed-recipe Ultralytics training run: seconds per epoch and the final mAP50 / mAP50-95.

Every model gets the same `Recipe` (epochs, image size, batch, seed, Ultralytics' default augmentation and optimiser
choice), trained through the public `YOLO(...).train()` API, so what is timed is what users run. An epoch is timed
from Ultralytics' `on_train_epoch_start` to `on_train_epoch_end` callbacks: forward, loss, backward, optimiser step and
in-process data loading (workers=0 on CPU, as Ultralytics forces), without validation or checkpoint saving.
`select_device` resets PyTorch's thread count, so the run sets it again when training starts. `train_isolated` runs
one training in a fresh spawned process, so a crash in one model's training (or state it leaves behind, such as
deterministic-algorithm flags) cannot take down or skew the rest of the benchmark. That process hides `thop`, which
makes Ultralytics' `get_flops` (run by `model.info()` when the trainer builds and fuses models) return 0 instead of
profiling uninitialised proxy images (`new_empty`): NaN offsets there crash torchvision's `deform_conv2d`
(torchvision 0.29). Timed epochs and mAP do not involve it.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ("Recipe", "train_isolated", "train_run")


@dataclass(frozen=True)
class Recipe:
    """Training settings shared by every model; `args()` is what `YOLO.train` receives.

    Examples:
        >>> Recipe(epochs=2, imgsz=64).args()["epochs"]
        2
    """

    epochs: int = 10
    imgsz: int = 160
    batch: int = 16
    seed: int = 0
    device: str = "cpu"
    fraction: float = 1.0  # share of the training images used (Ultralytics' `fraction`)
    val: bool = True  # validate every epoch (False: only after the last, which Ultralytics always does)
    settings: tuple[tuple[str, object], ...] = ()  # further train arguments, e.g. the synthetic set's SHORT_RECIPE

    def args(self) -> dict:
        """Keyword arguments of `YOLO.train`; everything not named keeps Ultralytics' default (augmentation included)."""
        fields = {k: v for k, v in asdict(self).items() if k != "settings"}
        fixed = {"deterministic": True, "workers": 0, "plots": False, "amp": False, "verbose": False}
        return {**dict(self.settings), **fields, **fixed}


def train_run(
    model: str, data: str | Path, recipe: Recipe, threads: int, project: str | Path | None = None,
    keep_weights: str | Path | None = None,
) -> dict:
    """Train `model` (a YAML name) on `data` with `recipe`; per-epoch seconds, final mAPs and the device used.

    `keep_weights` (a .pt path) receives a copy of the best checkpoint before the run folder goes.

    Returns:
        (dict): `epoch_s` (list of seconds), `wall_s` (the whole `train()` call, validations included), `map50`,
            `map50_95` (validation of the best checkpoint), `ap50_per_class` (class name -> AP50 of that validation, for
            classes present in the split), `device`, `curve` (mAP50-95 of each epoch's validation, from results.csv).
    """
    from ultralytics import YOLO

    from .curves import read_curve
    from .latency import set_threads

    yolo, starts, epoch_s = YOLO(model), [], []
    yolo.add_callback("on_train_start", lambda trainer: set_threads(threads))
    yolo.add_callback("on_train_epoch_start", lambda trainer: starts.append(time.perf_counter()))
    yolo.add_callback("on_train_epoch_end", lambda trainer: epoch_s.append(time.perf_counter() - starts[-1]))
    with tempfile.TemporaryDirectory() as tmp:
        where = {"project": str(project or tmp), "name": Path(model).stem, "exist_ok": True}
        t0 = time.perf_counter()
        metrics = yolo.train(data=str(data), **where, **recipe.args())
        wall_s = time.perf_counter() - t0
        device, curve = str(yolo.trainer.device), read_curve(yolo.trainer.save_dir)  # before the folder goes
        if keep_weights:
            Path(keep_weights).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(yolo.trainer.best, keep_weights)
    set_threads(threads)
    maps = {"map50": float(metrics.box.map50), "map50_95": float(metrics.box.map)}
    per_class = {metrics.names[int(c)]: float(ap) for c, ap in zip(metrics.ap_class_index, metrics.box.ap50)}
    return {"epoch_s": epoch_s, "wall_s": wall_s, **maps, "ap50_per_class": per_class, "device": device, "curve": curve}


def _train_without_thop(*args) -> dict:
    import sys

    sys.modules["thop"] = None  # `import thop` now raises ImportError, which get_flops answers with 0.0
    return train_run(*args)


def train_isolated(
    model: str, data: str | Path, recipe: Recipe, threads: int, project: str | Path | None = None,
    keep_weights: str | Path | None = None,
) -> dict:
    """`train_run` in a fresh spawned process; a crash there raises RuntimeError here instead of killing the caller.

    Spawning re-imports the caller's `__main__`, so a calling script needs the usual `if __name__ == "__main__":` guard.
    """
    import multiprocessing

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            args = (model, str(data), recipe, threads, project and str(project), keep_weights and str(keep_weights))
            return pool.submit(_train_without_thop, *args).result()
        except BrokenProcessPool as e:
            raise RuntimeError(f"the training process for {model} died (crash or out of memory)") from e
