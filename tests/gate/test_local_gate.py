import numpy as np
import pytest
import torch

from gfdnet_ultra.gate.local_gate import LocalDefectGate, attach_gate, backbone_layer
from gfdnet_ultra.gate.samples import cell_mask, letterbox


def test_local_gate_logit_is_the_highest_cell_logit_so_one_bright_cell_decides():
    torch.manual_seed(0)
    g = LocalDefectGate(4, 4, hidden=4).eval()
    x = torch.zeros(1, 4, 10, 10)
    base = g.classify(x)
    x[0, :, 3, 7] = 5.0
    cells = g.cell_logits(x)
    assert g.classify(x) == cells.amax() and g(x) is x and g.logits.shape == (1,)
    assert not torch.equal(base, g.classify(x))


def test_local_gate_rejects_a_width_change_and_a_bad_hidden_width():
    with pytest.raises(ValueError, match="c2 must equal c1=8"):
        LocalDefectGate(8, 16)
    with pytest.raises(ValueError, match="hidden=0"):
        LocalDefectGate(8, 8, hidden=0)


def test_attaching_a_gate_to_a_plain_detector_keeps_its_outputs_and_cuts_at_stride_8():
    import gfdnet_ultra  # noqa: F401
    from ultralytics.nn.tasks import DetectionModel

    from gfdnet_ultra.gate.runner import GateSplit

    torch.manual_seed(0)
    m = DetectionModel("yolo11n.yaml", nc=2, verbose=False).eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        before = m(x)[0]
    idx, c = backbone_layer(m)
    assert (idx, c) == (4, 128)  # yolo11n row 4: C3k2, P3/8, as in yolo11-gated.yaml
    assert attach_gate(m, LocalDefectGate(c, c)) == 5
    with torch.no_grad():
        assert torch.equal(m(x)[0], before)
        p, feats = GateSplit(m).stage1(x)
        assert p.shape == (2,) and feats[0].shape[-1] == 8


def test_attaching_a_gate_to_a_gated_detector_replaces_its_gate():
    import gfdnet_ultra  # noqa: F401
    from ultralytics.nn.tasks import DetectionModel

    m = DetectionModel("yolo11-gated-n.yaml", nc=2, verbose=False).eval()
    n = len(m.model)
    assert attach_gate(m, LocalDefectGate(128, 128)) == 5 and len(m.model) == n
    assert isinstance(m.model[5], LocalDefectGate) and m.model[5].f == -1


def test_cell_mask_marks_covered_cells_and_the_centre_cell_of_tiny_boxes():
    m = cell_mask(np.array([[0.0, 0.0, 20.0, 10.0], [30.0, 30.0, 31.0, 31.0]]), 32, 8)  # centres at 4, 12, 20, 28
    assert m[0, :3].all() and not m[1].any() and m[3, 3] and m.sum() == 4


def test_letterbox_keeps_the_aspect_and_centres_on_grey():
    out, r, (px, py) = letterbox(np.zeros((20, 40, 3), np.uint8), 32)
    assert out.shape == (32, 32, 3) and r == 0.8 and (px, py) == (0, 8) and out[0, 0, 0] == 114 and out[16, 0, 0] == 0


def test_image_groups_from_a_pattern_or_the_dataset_yaml(tmp_path):
    from pathlib import Path

    from gfdnet_ultra.gate.samples import image_groups

    ims = [Path("g/group1_42_test.jpg"), Path("g/group1_42_temp.jpg"), Path("g/lone.jpg")]
    (tmp_path / "data.yaml").write_text("names: {0: open}\ngroups: ^(.+)_(?:test|temp)$\n")
    assert image_groups(ims, tmp_path / "data.yaml") == ["group1_42", "group1_42", ":" + str(ims[2])]
    assert image_groups(ims, tmp_path / "data.yaml", "") is None  # "" turns the dataset's grouping off
    assert image_groups(ims, tmp_path / "data.yaml", "group1") == ["group1", "group1", ":" + str(ims[2])]
    with pytest.raises(ValueError, match=r"groups='\(\+' is not a regular expression"):
        image_groups(ims, tmp_path / "data.yaml", "(+")


def test_a_two_map_gate_scores_p3_with_p4_upsampled_and_passes_p4_through():
    torch.manual_seed(0)
    g = LocalDefectGate(6, 6, hidden=4, c_fine=3).eval()
    coarse, fine = torch.randn(2, 6, 4, 4), torch.randn(2, 3, 8, 8)
    out = g([coarse, fine])
    scored = g.scored_map([coarse, fine])
    assert out is coarse and scored.shape == (2, 9, 8, 8) and torch.equal(scored[:, 3:, 1, 1], coarse[:, :, 0, 0])
    assert torch.equal(g.logits, g.cell_logits(scored).flatten(1).amax(1))
    with pytest.raises(ValueError, match="c_fine=-1"):
        LocalDefectGate(6, 6, c_fine=-1)


def test_a_p2_gate_scores_a_stride_4_map_on_the_stride_8_grid_and_refuses_other_strides():
    torch.manual_seed(0)
    g = LocalDefectGate(6, 6, hidden=4, down=2).eval()
    x = torch.randn(2, 6, 16, 16)
    assert g(x) is x and g.cells.shape == (2, 8, 8) and torch.equal(g.logits, g.cells.flatten(1).amax(1))
    with pytest.raises(ValueError, match="down=3 must be 1"):
        LocalDefectGate(6, 6, down=3)
    with pytest.raises(ValueError, match="down=2 must be 1 .* one map only"):
        LocalDefectGate(6, 6, c_fine=3, down=2)


def test_attaching_a_p3p4_gate_to_a_plain_detector_cuts_after_p4_and_keeps_its_outputs():
    import gfdnet_ultra  # noqa: F401
    from ultralytics.nn.tasks import DetectionModel

    from gfdnet_ultra.gate.local_gate import detach_gate, new_gate
    from gfdnet_ultra.gate.runner import GateSplit

    torch.manual_seed(0)
    m = DetectionModel("yolo11n.yaml", nc=2, verbose=False).eval()
    save, x = list(m.save), torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        before = m(x)[0]
    assert backbone_layer(m, 16) == (6, 128)  # yolo11n row 6: C3k2, P4/16
    g = new_gate(m, "p3p4", hidden=4)
    assert attach_gate(m, g) == 7 and g.f == [-1, 4] and 4 in m.save
    with torch.no_grad():
        assert torch.equal(m(x)[0], before)
        p, feats = GateSplit(m).stage1(x)
    assert p.shape == (2,) and feats[0].shape[-1] == 4  # stage 1 now hands P4 on
    assert detach_gate(m) == 7 and len(m.model) == 24 and m.save == save
    with pytest.raises(ValueError, match="must sit after it, got cut=3"):
        attach_gate(m, g, cut=3)


def test_backbone_layer_finds_gfdnet_n_p3_and_p4_stages():
    import gfdnet_ultra  # noqa: F401
    from ultralytics.nn.tasks import DetectionModel

    m = DetectionModel("gfdnet-n.yaml", nc=2, verbose=False).eval()
    assert backbone_layer(m, 8) == (3, 64) and backbone_layer(m, 16) == (5, 128)  # the GAstage; P4's C3k2
    with pytest.raises(ValueError, match="no backbone layer with a stride-64 output; pass cut="):
        backbone_layer(m, 64)
