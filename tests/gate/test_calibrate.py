import pickle

import numpy as np
import pytest

from gfdnet_ultra.gate.calibrate import PickedThreshold, calibration_split, pick_calibrated


def test_calibration_split_is_seeded_stratified_and_disjoint():
    t = np.r_[np.ones(30, bool), np.zeros(20, bool)]
    fit, cal = calibration_split(t, 0.2, seed=3)
    fit2, cal2 = calibration_split(t, 0.2, seed=3)
    assert np.array_equal(cal, cal2) and np.array_equal(fit, fit2)
    assert not set(fit) & set(cal) and len(fit) + len(cal) == 50
    assert t[cal].sum() == 6 and (~t[cal]).sum() == 4
    assert not np.array_equal(cal, calibration_split(t, 0.2, seed=4)[1])


@pytest.mark.parametrize(("labels", "name"), [([1] * 10 + [0], "normal"), ([0] * 10 + [1], "defective")])
def test_calibration_split_needs_two_images_of_each_class(labels, name):
    with pytest.raises(ValueError, match=f"1 {name} image"):
        calibration_split(labels, 0.2)


def test_calibration_split_rejects_a_fraction_outside_0_1():
    with pytest.raises(ValueError, match="fraction=1.0"):
        calibration_split([1, 1, 0, 0], 1.0)


def test_picked_threshold_is_a_float_carrying_its_expected_recall_and_skip_rate():
    t = pick_calibrated([0.9, 0.7, 0.4, 0.1, 0.65], [1, 1, 0, 0, 0], 0.99, split="calib")
    assert isinstance(t, PickedThreshold) and t == 0.7
    assert t.point["recall"] == 1.0 and t.point["skip_rate"] == 0.6 and t.point["normal_skip_rate"] == 1.0
    assert "expected recall 1.000, skip rate 0.600" in t.describe()
    assert type(pickle.loads(pickle.dumps(t))) is float
