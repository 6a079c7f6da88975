import pytest
import torch

from gfdnet_ultra.gate.head import DefectGate
from gfdnet_ultra.gate.loss import GateLoss, image_labels, select_images


class RecordingLoss:
    """Stands in for v8DetectionLoss: loss = sum of preds of the images it sees, records the batch it got."""

    def __init__(self):
        self.seen = []

    def __call__(self, preds, batch):
        self.seen.append(batch)
        s = preds["scores"].sum()
        return torch.stack([s, s, s]) * preds["scores"].shape[0], {"box_loss": s.detach()}


def _setup(b=4, boxes_of=(0, 2, 2)):
    gate = DefectGate(4, 4, hidden=4)
    gate(torch.randn(b, 4, 2, 2))
    preds = {"scores": torch.randn(b, 3, 5, requires_grad=True), "feats": [torch.randn(b, 4, 2, 2)]}
    batch = {
        "img": torch.zeros(b, 3, 8, 8),
        "batch_idx": torch.tensor(boxes_of, dtype=torch.float32),
        "cls": torch.arange(len(boxes_of), dtype=torch.float32).view(-1, 1),
        "bboxes": torch.rand(len(boxes_of), 4),
    }
    return gate, preds, batch


def test_image_label_is_defective_iff_the_image_has_a_box():
    assert image_labels(torch.tensor([1.0, 1.0, 3.0]), 5).tolist() == [False, True, False, True, False]


def test_total_is_detection_plus_weighted_gate_bce_times_batch():
    gate, preds, batch = _setup()
    crit = GateLoss(RecordingLoss(), gate, "inverse")
    crit.epoch = 3
    loss, items = crit(preds, batch)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(gate.logits, torch.tensor([1.0, 0, 1, 0]))
    assert loss[3].item() == pytest.approx(0.25 * bce.item() * 4, rel=1e-5)
    assert items["gate_loss"].item() == pytest.approx(bce.item(), rel=1e-5)


def test_defective_only_option_feeds_only_defective_images_with_renumbered_boxes():
    gate, preds, batch = _setup()
    inner = RecordingLoss()
    loss, _ = GateLoss(inner, gate, det_on_defective_only=True)(preds, batch)
    seen = inner.seen[0]
    assert seen["img"].shape[0] == 2
    assert seen["batch_idx"].tolist() == [0.0, 1.0, 1.0]
    assert torch.equal(seen["cls"], batch["cls"])
    assert loss[0].item() == pytest.approx(preds["scores"][[0, 2]].sum().item() * 2 * 4 / 2, rel=1e-5)


def test_defective_only_is_the_default_and_all_images_is_one_flag_away():
    gate, preds, batch = _setup()
    inner = RecordingLoss()
    GateLoss(inner, gate)(preds, batch)
    GateLoss(inner, gate, det_on_defective_only=False)(preds, batch)
    assert [seen["img"].shape[0] for seen in inner.seen] == [2, 4]


def test_all_normal_batch_trains_the_gate_alone_and_backpropagates():
    gate, preds, batch = _setup(boxes_of=())
    loss, items = GateLoss(RecordingLoss(), gate, det_on_defective_only=True)(preds, batch)
    assert loss[:3].abs().sum() == 0 and items["box_loss"] == 0
    loss.sum().backward()
    assert all(p.grad is not None for p in gate.parameters())


def test_select_images_slices_nested_batch_tensors_only():
    preds = {"a": [torch.arange(4)], "b": (torch.zeros(4, 2), torch.zeros(3))}
    out = select_images(preds, torch.tensor([1, 3]), 4)
    assert out["a"][0].tolist() == [1, 3] and out["b"][0].shape == (2, 2) and out["b"][1].shape == (3,)


def test_gate_bce_is_class_balanced_by_default_and_plain_on_request():
    gate, preds, batch = _setup(boxes_of=(0, 0))  # image 0 defective, images 1-3 normal
    target = torch.tensor([1.0, 0, 0, 0])
    per = torch.nn.functional.binary_cross_entropy_with_logits(gate.logits, target, reduction="none")
    _, items = GateLoss(RecordingLoss(), gate)(preds, batch)
    assert items["gate_loss"].item() == pytest.approx(0.5 * (per[0] + per[1:].mean()).item(), rel=1e-5)
    _, items = GateLoss(RecordingLoss(), gate, balance=False)(preds, batch)
    assert items["gate_loss"].item() == pytest.approx(per.mean().item(), rel=1e-5)


def test_local_gate_is_trained_densely_on_the_cells_its_boxes_cover():
    from gfdnet_ultra.gate.local_gate import LocalDefectGate
    from gfdnet_ultra.gate.loss import gate_fit_loss

    gate = LocalDefectGate(4, 4, hidden=4)
    gate(torch.randn(2, 4, 4, 4))
    preds = {"scores": torch.randn(2, 3, 5, requires_grad=True)}
    # one box on image 1: normalised xywh, centre (0.3, 0.6), 0.5 x 0.2 -> rows 2, columns 0-1 of the 4 x 4 grid
    batch = {"img": torch.zeros(2, 3, 32, 32), "batch_idx": torch.tensor([1.0]), "cls": torch.zeros(1, 1),
             "bboxes": torch.tensor([[0.3, 0.6, 0.5, 0.2]])}
    loss, items = GateLoss(RecordingLoss(), gate, "const", constants={"w0": 1.0})(preds, batch)
    masks = torch.zeros(2, 4, 4, dtype=torch.bool)
    masks[1, 2, 0:2] = True
    assert torch.allclose(items["gate_loss"], gate_fit_loss(gate.cells, masks).detach())
    assert torch.allclose(loss[-1], 2 * gate_fit_loss(gate.cells, masks))
    loss.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in gate.parameters())


def test_cell_masks_match_the_pixel_rule_of_fit_gate():
    import numpy as np

    from gfdnet_ultra.gate.samples import cell_mask, cell_masks

    px = np.array([[0.0, 0.0, 20.0, 10.0], [30.0, 30.0, 31.0, 31.0]])
    one = cell_masks(torch.tensor(px / 32), torch.tensor([0, 0]), 1, 4, 4)[0]
    assert one.tolist() == cell_mask(px, 32, 8).tolist()
    two = cell_masks(torch.tensor(px / 32), torch.tensor([1, 0]), 3, 4, 4)
    assert two[2].sum() == 0 and two[1].sum() == 3 and two[0].sum() == 1  # x centres 4, 12, 20 <= 20
