import json

import numpy as np
import pytest

from gfdnet_ultra.gate.curve import gate_curve, operating_point, save_gate_curve


def test_curve_recall_and_skip_rate_match_a_direct_count_at_every_threshold():
    rng = np.random.default_rng(0)
    t = rng.random(50) < 0.56
    p = np.where(t, rng.beta(5, 2, 50), rng.beta(2, 5, 50))
    c = gate_curve(p, t)
    assert c["threshold"][0] == 0.0 and c["recall"][0] == 1.0 and c["skip_rate"][0] == 0.0
    assert np.all(np.diff(c["threshold"]) > 0) and np.all(np.diff(c["recall"]) <= 0)
    for thr, rec, skip in zip(c["threshold"], c["recall"], c["skip_rate"]):
        assert rec == pytest.approx((p[t] >= thr).mean()) and skip == pytest.approx((p < thr).mean())
    assert (c["images"], c["defective"], c["normal"]) == (50, int(t.sum()), int((~t).sum()))


def test_operating_point_counts_the_defective_images_skipped():
    q = operating_point([0.9, 0.3, 0.2, 0.1], [1, 1, 0, 0], 0.25)
    assert q == {"threshold": 0.25, "recall": 1.0, "skip_rate": 0.5, "normal_skip_rate": 1.0, "defective_skipped": 0}
    assert operating_point([0.9, 0.3, 0.2, 0.1], [1, 1, 0, 0], 0.5)["defective_skipped"] == 1


def test_saved_curve_has_json_and_png_with_the_run_threshold(tmp_path):
    c = save_gate_curve([0.9, 0.6, 0.4, 0.1], [1, 1, 0, 0], tmp_path, marks={"run": 0.5})
    saved = json.loads((tmp_path / "gate_curve.json").read_text())
    assert saved["marks"] == {"run": 0.5} and saved["recall"] == c["recall"]
    assert (tmp_path / "gate_curve.png").stat().st_size > 1000


def test_curve_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="3 probabilities but 2 labels"):
        gate_curve([0.1, 0.2, 0.3], [1, 0])
