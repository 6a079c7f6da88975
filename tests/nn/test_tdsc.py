"""Tests for gfdnet_ultra.nn.tdsc / task_align: Detect_TDSC keeps Ultralytics' Detect contract, aligns with DCNv2, exports."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from gfdnet_ultra.nn.tdsc import Detect_TDSC
from gfdnet_ultra.nn.task_align import TaskDecomposition

STRIDES = torch.tensor([8.0, 16.0, 32.0])


def _head(ch=(64, 64, 64), nc=8, **kw) -> Detect_TDSC:
    torch.manual_seed(0)
    m = Detect_TDSC(nc, kw.pop("hidc", None), kw.pop("reg_max", 16), kw.pop("end2end", False), ch)
    m.stride = STRIDES.clone()
    m.bias_init()
    for t in [m.trunk] + ([m.one2one_trunk] if hasattr(m, "one2one_trunk") else []):
        nn.init.normal_(t.offset_mask.weight, std=0.05)  # non-zero offsets, so the DCN really deforms
    return m


def _levels(ch=(64, 64, 64), b=2, s=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, c, s // int(st), s // int(st), generator=g) for c, st in zip(ch, STRIDES)]


@pytest.mark.parametrize("ch", [(64, 64, 64), (32, 64, 128)])
def test_train_eval_and_export_outputs_follow_the_detect_contract(ch):
    m, x = _head(ch), _levels(ch)
    a = 64 + 16 + 4
    out = m(x)
    assert out["boxes"].shape == (2, 64, a) and out["scores"].shape == (2, 8, a) and out["feats"] is x
    m.eval()
    y, raw = m(x)
    assert y.shape == (2, 4 + 8, a) and set(raw) == {"boxes", "scores", "feats"}
    m.export = True
    assert m(x).shape == (2, 12, a)


def test_hidc_none_rounds_max_input_width_up_to_a_multiple_of_32():
    assert Detect_TDSC(8, None, ch=(16, 40, 40)).hidc == 64
    assert Detect_TDSC(8, None, ch=(64, 64, 64)).hidc == 64
    assert Detect_TDSC(8, 96, ch=(64, 64, 64)).hidc == 96


def test_projection_only_for_levels_whose_width_differs_from_hidc():
    m = Detect_TDSC(8, 64, ch=(32, 64, 128))
    assert [type(p).__name__ for p in m.trunk.proj] == ["ConvGN", "Identity", "ConvGN"]


@pytest.mark.parametrize("hidc", [100, 16, 48])
def test_rejects_hidc_not_divisible_for_groupnorm(hidc):
    with pytest.raises(ValueError, match=rf"hidc={hidc}.*multiple of 32"):
        Detect_TDSC(8, hidc, ch=(64, 64, 64))


def test_rejects_empty_channel_list():
    with pytest.raises(ValueError, match="ch"):
        Detect_TDSC(8)


def test_bias_init_uses_each_levels_real_stride():
    m = _head(nc=8)
    for i, s in enumerate(STRIDES.tolist()):
        assert torch.allclose(m.cv3[i][-1].bias, torch.full((8,), math.log(5 / 8 / (640 / s) ** 2)))
        assert torch.equal(m.cv2[i][-1].bias, torch.full((64,), 2.0))


def test_ultralytics_structural_hooks_hold():
    """What tasks.py 8.4.190 touches: load() reads cv2[i][0].conv, _remap_cls_by_names cv3[i][-1], is_fused the pair."""
    m = _head((32, 64, 128), nc=8)
    assert [s[0].conv.in_channels for s in m.cv2] == [64, 64, 64]  # hidc None -> 128, F = 64 at every level
    assert all(isinstance(s[-1], nn.Conv2d) and s[-1].out_channels == 8 for s in m.cv3)
    assert not hasattr(m, "one2one_cv2")


def test_dcn_export_path_equals_eager_path_inside_the_head():
    m, x = _head(), _levels()
    m.eval()
    with torch.no_grad():
        eager, raw_eager = m(x)
        m.export = True
        assert m.trunk.dcn.export
        exported, raw_exported = m(x), m.forward_head(x, **m.one2many)
    for k in ("boxes", "scores"):  # logits
        assert (raw_eager[k] - raw_exported[k]).abs().max().item() < 1e-4
    assert (eager - exported).abs().max().item() < 1e-3  # decoded pixels (x stride)


def test_every_trainable_parameter_receives_gradient():
    m, x = _head((32, 64, 128)), _levels((32, 64, 128))
    out = m(x)
    (out["boxes"].square().mean() + out["scores"].sigmoid().mean()).backward()
    missing = [n for n, p in m.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)]
    assert not missing


def test_end2end_variant_gives_two_branches_with_the_one2one_on_detached_features():
    m = _head(reg_max=1, end2end=True)
    x = [t.requires_grad_() for t in _levels()]
    out = m(x)
    assert set(out) == {"one2many", "one2one"}
    assert out["one2one"]["boxes"].shape == (2, 4, 84) and out["one2one"]["scores"].shape == (2, 8, 84)
    out["one2one"]["scores"].sum().backward()
    assert all(t.grad is None for t in x)  # one2one does not backprop into the neck
    assert m.one2one_trunk.share_conv[0].conv.weight.grad is not None and m.trunk.share_conv[0].conv.weight.grad is None


def test_end2end_eval_topk_and_fuse_drops_the_unused_branch():
    m, x = _head(reg_max=1, end2end=True), _levels()
    m.eval()
    m.end2end = True
    m.max_det = 50
    y, _ = m(x)
    assert y.shape == (2, 50, 6)
    m.fuse()
    assert m.cv2 is None and m.cv3 is None and m.trunk is None and m.one2one_trunk is not None
    assert m(x)[0].shape == (2, 50, 6)
    n = _head(reg_max=1, end2end=True).eval()
    n.fuse()  # nms-style inference keeps the one-to-many branch
    assert n.one2one_trunk is None and n.one2one_cv2 is None and n.trunk is not None


class _Wrapped(nn.Module):
    """Image-like input -> three levels of mixed widths -> head (the export entry point takes one tensor)."""

    def __init__(self, head: Detect_TDSC):
        super().__init__()
        self.stems = nn.ModuleList(nn.Conv2d(3, c, int(s), int(s)) for c, s in zip((32, 64, 128), STRIDES))
        self.head = head

    def forward(self, im):
        return self.head([stem(im) for stem in self.stems])


@pytest.mark.parametrize("end2end", [False, True])
def test_onnx_export_matches_onnxruntime_at_another_input_size(tmp_path, end2end):
    ort = pytest.importorskip("onnxruntime")
    from ultralytics.utils.export.engine import torch2onnx  # Ultralytics' own export call

    head = _head((32, 64, 128), reg_max=1 if end2end else 16, end2end=end2end)
    m = _Wrapped(head).eval()
    head.export, head.dynamic, head.end2end = True, True, end2end
    f = tmp_path / "tdsc.onnx"
    torch2onnx(m, torch.randn(1, 3, 64, 64), f, opset=18, dynamic={"images": {0: "b", 2: "h", 3: "w"}})
    x = torch.randn(2, 3, 96, 128)
    y = ort.InferenceSession(str(f)).run(None, {"images": x.numpy()})[0]
    head.export = False  # eager torchvision DCN as the reference
    with torch.no_grad():
        ref = m(x)[0].numpy()
    a = 12 * 16 + 6 * 8 + 3 * 4
    if not end2end:
        assert y.shape == (2, 4 + 8, a) and np.abs(y - ref).max() < 1e-3
        return
    assert y.shape == (2, a, 6)  # top-k with k = min(max_det, anchors), anchors of the new size
    assert np.abs(np.sort(y[..., 4]) - np.sort(ref[..., 4])).max() < 1e-5  # near-tied scores may swap rows
    # each ORT row (box, score) against its closest torch row; the class column is left out, near-tied classes may swap
    row_err = np.abs(y[:, :, None, :5] - ref[:, None, :, :5]).max(-1).min(-1)
    assert row_err.max() < 1e-3


def test_v8_detection_loss_runs_on_the_head_and_backpropagates():
    from types import SimpleNamespace

    from ultralytics.cfg import get_cfg
    from ultralytics.utils.loss import E2ELoss, v8DetectionLoss

    for end2end, loss_cls in ((False, v8DetectionLoss), (True, E2ELoss)):
        m = _head(reg_max=1 if end2end else 16, end2end=end2end)
        model = SimpleNamespace(args=get_cfg(), model=[m], parameters=m.parameters)
        batch = {
            "batch_idx": torch.tensor([0.0, 1.0]),
            "cls": torch.tensor([[1.0], [3.0]]),
            "bboxes": torch.tensor([[0.5, 0.5, 0.3, 0.4], [0.3, 0.6, 0.2, 0.2]]),
        }
        loss, items = loss_cls(model)(m(_levels()), batch)
        loss.sum().backward()
        assert torch.isfinite(loss).all() and m.cv3[0][-1].weight.grad is not None


def test_task_decomposition_equals_toods_per_sample_weight_bmm():
    torch.manual_seed(0)
    td = TaskDecomposition(16, 2, 16)
    nn.init.normal_(td.la1.weight, std=0.5)
    nn.init.normal_(td.la2.weight, std=0.5)
    feat = torch.randn(2, 32, 5, 6)
    avg = feat.mean((2, 3), keepdim=True)
    w = td.la2(torch.relu(td.la1(avg))).sigmoid()  # TOOD: conv_weight = w * reduction weight, then bmm
    weight = td.reduction.conv.weight.view(1, 16, 2, 16) * w.view(2, 1, 2, 1)
    ref = torch.bmm(weight.view(2, 16, 32), feat.view(2, 32, 30)).view(2, 16, 5, 6)
    ref = td.reduction.act(td.reduction.gn(ref))
    assert torch.allclose(td(feat, avg), ref, atol=1e-5)


def test_head_survives_pickling():
    m, x = _head(reg_max=1, end2end=True), _levels()
    m.eval()
    m2 = pickle.loads(pickle.dumps(m))
    assert torch.equal(m(x)[0], m2(x)[0]) and hasattr(m2, "one2one_trunk")


@pytest.mark.parametrize(
    "opts",
    [{"norm": "bn"}, {"norm": "gn8"}, {"dcn": False}, {"cls_gate": False}, {"norm": "bn", "dcn": 0, "cls_gate": 0}],
)
def test_ablation_switches_keep_the_detect_contract_and_train_every_parameter(opts):
    torch.manual_seed(0)
    ch = (32, 64, 128)
    m = Detect_TDSC(8, {"hidc": 64, **opts}, ch=ch)
    m.stride = STRIDES.clone()
    m.bias_init()
    t = m.trunk
    assert (t.offset_mask is None) == (not opts.get("dcn", True))
    assert (t.cls_prob is None) == (not opts.get("cls_gate", True))
    assert isinstance(t.dcn_gn, nn.BatchNorm2d if opts.get("norm") == "bn" else nn.GroupNorm)
    out = m(_levels(ch))
    (out["boxes"].square().mean() + out["scores"].sigmoid().mean()).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters() if p.requires_grad)
    m.eval()
    assert m(_levels(ch))[0].shape == (2, 12, 84)


def test_dcn_alignment_is_the_plain_conv_at_initialisation():
    """Zero offsets and mask 0.5: the DCNv2 is the plain 3x3 conv times 0.5 (which the GroupNorm after it undoes)."""
    torch.manual_seed(0)
    aligned = Detect_TDSC(8, 64, ch=(64, 64, 64))
    plain = Detect_TDSC(8, {"hidc": 64, "dcn": False}, ch=(64, 64, 64))
    plain.load_state_dict({k: v for k, v in aligned.state_dict().items() if "offset_mask" not in k})
    aligned.trunk.dcn_gn = plain.trunk.dcn_gn = nn.Identity()  # compare before the norm: exact, no eps effects
    x = _levels()
    for (ra, ca), (rp, cp) in zip(aligned.trunk(x), plain.trunk(x)):
        assert torch.allclose(ra, rp / 2, atol=1e-5) and torch.equal(ca, cp)


@pytest.mark.parametrize(
    "opts, msg",
    [({"hidc": 64, "norm": "ln"}, "norm='ln'"), ({"hidc": 64, "gate": False}, r"unknown option\(s\) \['gate'\]")],
)
def test_rejects_bad_head_options(opts, msg):
    with pytest.raises(ValueError, match=msg):
        Detect_TDSC(8, opts, ch=(64, 64, 64))
