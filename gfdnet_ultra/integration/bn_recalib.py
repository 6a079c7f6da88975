"""BatchNorm statistics recalibration before validation: short from-scratch trainings validate what they learned.

Why: Ultralytics sets every BatchNorm's momentum to 0.03, so running statistics average over ~33 optimiser steps.
In a short from-scratch run (a few hundred steps, e.g. our CPU recipe) the weights move faster than that, the
running statistics lag, and the eval-mode network (validation, saved checkpoints, predict) scores ~100x lower than
the train-mode one: mAP 0.000 although the training losses fell (docs/recipe.md has the measurement). Recomputing the
statistics as a plain average over a few training batches in train mode, without gradients (the standard "BN
recalibration" of SWA, Izmailov et al. 2018, `torch.optim.swa_utils.update_bn`), fixes it at a small cost.
Opt-in train argument `bn_recalib=N` (N batches, default off): at the end of each epoch that validates (and of the
last), the EMA model's BN statistics are recomputed from N batches drawn from the training set with its training
augmentation (seeded by the epoch, so runs stay deterministic); stock and gated models alike, nothing else changes.
Shape shorthand: B batch, N batches.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

__all__ = ("on_train_epoch_end", "recalibrate_bn")


def recalibrate_bn(model: nn.Module, batches: Iterable[torch.Tensor]) -> int:
    """Reset every BatchNorm of `model` and set its running stats to the plain average over `batches` (B, 3, H, W).

    Returns:
        (int): Number of batches used (0 leaves the model untouched).

    Examples:
        >>> m = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4)).eval()
        >>> recalibrate_bn(m, [torch.ones(2, 3, 4, 4) * 5]), m.training, m[1].momentum
        (1, False, 0.1)
    """
    batches = list(batches)
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    if not batches or not bns:
        return 0
    momenta, was_training = [m.momentum for m in bns], model.training
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    with torch.no_grad():
        for x in batches:
            model(x)
    for m, momentum in zip(bns, momenta):
        m.momentum = momentum
    model.train(was_training)
    return len(batches)


def _train_batches(trainer, n: int) -> list[torch.Tensor]:
    dataset = trainer.train_loader.dataset
    bs = trainer.train_loader.batch_size or trainer.batch_size
    g = torch.Generator().manual_seed(int(trainer.args.seed or 0) * 1000 + int(trainer.epoch))
    order = torch.randperm(len(dataset), generator=g).tolist()[: n * bs]
    out = []
    for i in range(0, len(order), bs):
        batch = dataset.collate_fn([dataset[j] for j in order[i : i + bs]])
        out.append(trainer.preprocess_batch(batch)["img"])
    return out


def on_train_epoch_end(trainer) -> None:
    """Trainer callback: recalibrate the EMA model's BatchNorm stats when `bn_recalib=N` and this epoch validates."""
    n = int(getattr(trainer.args, "bn_recalib", None) or 0)
    if n <= 0 or getattr(trainer, "ema", None) is None:
        return
    if not (trainer.args.val or trainer.epoch + 1 >= trainer.epochs):
        return
    recalibrate_bn(trainer.ema.ema, _train_batches(trainer, n))
