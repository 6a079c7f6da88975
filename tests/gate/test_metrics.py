import pytest

from gfdnet_ultra.gate.metrics import binary_scores, gate_report


def test_gate_report_matches_hand_computed_values():
    # 6 images: 3 defective (first three), 3 normal; threshold 0.5
    defective = [1, 1, 1, 0, 0, 0]
    p = [0.9, 0.6, 0.2, 0.7, 0.1, 0.3]  # gate keeps 0, 1, 3 -> TP 2, FP 1, FN 1, TN 2
    ms = [10.0, 12.0, 2.0, 11.0, 3.0, 1.0]
    max_score = [0.9, 0.04, 0.0, 0.3, 0.0, 0.0]  # DefectNet: defective iff a box > 0.05 -> images 0 and 3
    r = gate_report(defective, p, 0.5, ms, max_score)
    assert r["gate_precision"] == pytest.approx(2 / 3)
    assert r["gate_recall"] == pytest.approx(2 / 3)
    assert r["gate_f1"] == pytest.approx(2 / 3)
    # normal class: TP 2 (4, 5), predicted normal 3 (2, 4, 5), true normal 3 -> F1 2/3; macro 2/3
    assert r["gate_macro_f1"] == pytest.approx(2 / 3)
    # image level: defective predicted {0, 3}: TP 1, P 1/2, R 1/3, F1 0.4; normal predicted {1,2,4,5}: TP 2, P 1/2,
    # R 2/3, F1 4/7; macro (0.4 + 4/7) / 2
    assert r["image_f1"] == pytest.approx(0.4)
    assert r["image_macro_f1"] == pytest.approx((0.4 + 4 / 7) / 2)
    assert r["skip_rate"] == pytest.approx(0.5)
    assert r["att"] == pytest.approx(39 / 6)
    assert r["att_defective"] == pytest.approx(8.0)
    assert r["att_normal"] == pytest.approx(5.0)


def test_binary_scores_are_zero_where_undefined():
    assert binary_scores([0, 0], [0, 0]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "macro_f1": 0.5}
