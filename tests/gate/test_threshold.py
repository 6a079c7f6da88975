import numpy as np
import pytest

from gfdnet_ultra.gate.threshold import check_threshold, pick_threshold


def test_picked_threshold_meets_recall_target_and_is_the_highest_that_does():
    rng = np.random.default_rng(0)
    defective = np.r_[np.ones(200, bool), np.zeros(150, bool)]
    p = np.r_[rng.beta(5, 2, 200), rng.beta(2, 5, 150)]
    for target in (0.9, 0.95, 0.99, 1.0):
        t = pick_threshold(p, defective, target)
        assert (p[defective] >= t).mean() >= target
        higher = np.nextafter(t, 1.0)
        assert (p[defective] >= higher).mean() < target


def test_picked_threshold_on_a_tiny_hand_case():
    assert pick_threshold([0.9, 0.8, 0.3, 0.2], [1, 1, 1, 0], 0.99) == 0.3
    assert pick_threshold([0.9, 0.8, 0.3, 0.2], [1, 1, 1, 0], 0.6) == 0.8


def test_picker_rejects_sets_without_defects_and_bad_targets():
    with pytest.raises(ValueError, match="no defective"):
        pick_threshold([0.1, 0.2], [0, 0])
    with pytest.raises(ValueError, match="target_recall"):
        pick_threshold([0.1], [1], 1.5)


@pytest.mark.parametrize("bad", [-0.1, 1.5, "x"])
def test_threshold_outside_unit_interval_is_a_clear_error(bad):
    with pytest.raises(ValueError, match=r"threshold=.*\[0, 1\]"):
        check_threshold(bad)


def test_picker_rejects_a_calibration_set_without_normal_images_naming_the_fix():
    with pytest.raises(ValueError, match="no normal image.*empty label files"):
        pick_threshold([0.9, 0.2], [1, 1])


def test_picker_rejects_targets_no_threshold_can_reach():
    for bad in (0.0, 1.01):
        with pytest.raises(ValueError, match=f"target_recall={bad} cannot be reached"):
            pick_threshold([0.9, 0.1], [1, 0], bad)


def test_picker_warns_when_the_target_needs_a_threshold_that_skips_nothing(caplog):
    with caplog.at_level("WARNING"):
        t = pick_threshold([0.9, 0.05, 0.5, 0.6], [1, 1, 0, 0], 1.0)
    assert t == 0.05 and "skips no normal image" in caplog.text and "fit-gate" in caplog.text


def test_picker_warns_when_the_set_is_too_small_to_resolve_the_target(caplog):
    with caplog.at_level("WARNING"):
        pick_threshold([0.9, 0.8, 0.1], [1, 1, 0], 0.99)
    assert "2 defective images cannot resolve target_recall=0.99 (needs >= 100)" in caplog.text
