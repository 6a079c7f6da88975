import pickle

import numpy as np
import pytest

from gfdnet_ultra.gate.calibrate import PickedThreshold, calibration_split, pick_calibrated, stratified_folds


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


def test_stratified_folds_deal_each_class_evenly_and_are_seeded():
    t = np.r_[np.ones(13, bool), np.zeros(7, bool)]
    fold = stratified_folds(t, 3, seed=1)
    assert np.array_equal(fold, stratified_folds(t, 3, seed=1)) and not np.array_equal(fold, stratified_folds(t, 3, seed=2))
    assert sorted(np.bincount(fold[t])) == [4, 4, 5] and sorted(np.bincount(fold[~t])) == [2, 2, 3]


@pytest.mark.parametrize(("labels", "folds", "match"), [([1] * 9 + [0] * 2, 3, "2 normal image"), ([1, 0] * 5, 1, "folds=1 must be >= 2")])
def test_stratified_folds_refuse_too_few_images_of_a_class_or_fewer_than_two_folds(labels, folds, match):
    with pytest.raises(ValueError, match=match):
        stratified_folds(labels, folds)


def test_grouped_folds_keep_each_group_whole_and_spread_every_kind():
    t = np.r_[[1, 0] * 10, [1] * 6, [0] * 6].astype(bool)  # 10 board/template pairs, then 12 single images
    groups = [i // 2 for i in range(20)] + [f"s{i}" for i in range(12)]
    fold = stratified_folds(t, 3, seed=0, groups=groups)
    assert all(fold[i] == fold[i + 1] for i in range(0, 20, 2))
    assert sorted(np.bincount(fold[:20:2])) == [3, 3, 4]  # the pairs dealt as units
    assert sorted(np.bincount(fold[20:26])) == sorted(np.bincount(fold[26:])) == [2, 2, 2]
    assert np.array_equal(stratified_folds(t, 3, seed=0), stratified_folds(t, 3, seed=0, groups=range(32)))


def test_grouped_calibration_split_never_separates_a_group():
    t = np.array([1, 0] * 10, bool)
    groups = [f"board{i // 2}" for i in range(20)]
    fit, cal = calibration_split(t, 0.2, seed=1, groups=groups)
    assert len(cal) == 4 and not {groups[i] for i in fit} & {groups[i] for i in cal}


@pytest.mark.parametrize("split", ["folds", "calib"])
def test_groups_too_coarse_to_give_every_part_both_classes_are_refused(split):
    t = [1, 1, 1, 0, 0, 0]
    with pytest.raises(ValueError, match="has no (normal|defective) image with these groups"):
        if split == "folds":
            stratified_folds(t, 2, groups=["a"] * 6)
        else:
            calibration_split(t, 0.5, groups=["a", "a", "a", "b", "b", "b"])


def test_groups_need_one_key_per_image():
    with pytest.raises(ValueError, match="3 keys for 4 images"):
        stratified_folds([1, 1, 0, 0], 2, groups=["a", "b", "c"])


@pytest.mark.parametrize("folds", [0, 3])
def test_held_out_probabilities_score_each_image_only_with_a_gate_that_never_saw_it(folds):
    from gfdnet_ultra.gate.calibrate import held_out_parts, held_out_probabilities

    labels = [1] * 9 + [0] * 9
    parts, split = held_out_parts(labels, folds=folds, calib=0.3, seed=0)
    fits = []

    def fit_on(idx):
        fits.append(set(idx.tolist()))
        return fits[-1]

    def score(seen, held):
        assert not seen & set(held.tolist())  # a held-out image was never in the fit that scores it
        return [0.9 if labels[i] else 0.1 for i in held]

    out = held_out_probabilities(fit_on, score, labels, parts, split)
    held = sorted(i for _, h in parts for i in h.tolist())
    assert out.p_defect == [0.9 if labels[i] else 0.1 for _, h in parts for i in h.tolist()]
    assert out.defective == [bool(labels[i]) for _, h in parts for i in h.tolist()]
    if folds:  # every image scored once, then the saved gate is fitted on all of them
        assert held == list(range(18)) and out.fitted == set(range(18)) and len(fits) == folds + 1
        assert out.fit_images == 18 and "3-fold" in out.split
    else:  # one fit, the returned gate is the one that held the share out
        assert len(fits) == 1 and out.fitted == fits[0] and out.fit_images == 18 - len(held) and "calibration" in out.split
