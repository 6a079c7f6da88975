"""BatchNorm recalibration before validation (`bn_recalib=N`): statistics, restored state, callback gating."""

from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import nn

from gfdnet_ultra.integration.bn_recalib import on_train_epoch_end, recalibrate_bn


def test_recalibrated_statistics_are_the_plain_average_of_the_batches():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 4, 1, bias=False), nn.BatchNorm2d(4, momentum=0.03)).eval()
    batches = [torch.randn(2, 3, 4, 4) + k for k in range(3)]
    with torch.no_grad():
        feats = [m[0](x) for x in batches]
    assert recalibrate_bn(m, batches) == 3
    expected = torch.stack([f.mean((0, 2, 3)) for f in feats]).mean(0)
    assert torch.allclose(m[1].running_mean, expected, atol=1e-5)
    assert not m.training and m[1].momentum == 0.03


def test_no_batches_leaves_the_model_untouched():
    m = nn.BatchNorm2d(2)
    m.running_mean += 3
    assert recalibrate_bn(m, []) == 0 and m.running_mean.tolist() == [3.0, 3.0]


def test_callback_is_off_unless_asked_for_and_only_on_validating_epochs():
    ema = SimpleNamespace(ema=nn.Sequential(nn.Conv2d(3, 2, 1), nn.BatchNorm2d(2)).eval())
    ema.ema[1].running_mean += 5
    trainer = SimpleNamespace(args=SimpleNamespace(bn_recalib=None, val=False, seed=0), ema=ema, epoch=0, epochs=3)
    on_train_epoch_end(trainer)  # off by default
    trainer.args.bn_recalib = 1
    on_train_epoch_end(trainer)  # not a validating epoch: val=False and not the last epoch
    assert ema.ema[1].running_mean.tolist() == [5.0, 5.0]
