import pytest

from gfdnet_ultra.gate.payoff import payoff


def test_one_model_limit_is_the_normal_share_of_the_time_after_the_cut():
    g = {"att": 8.0, "att_stage1": 2.0, "mode": "one-model", "normal_share": 0.5, "skip_rate": 0.25}
    r = payoff(g, {"att": 10.0})
    assert r["limit"] == pytest.approx(0.5 * (1 - 2 / 10)) and r["time_saved"] == pytest.approx(0.2)
    assert r["share_of_limit"] == pytest.approx(0.5) and r["implied_by_skip"] == pytest.approx(0.25 * (1 - 2 / 10))


def test_two_model_limit_is_the_normal_share_minus_the_classifier_cost():
    g = {"att": 6.0, "att_stage1": 0.5, "mode": "two-model", "normal_share": 0.5, "skip_rate": 0.4}
    r = payoff(g, {"att": 10.0})
    assert r["limit"] == pytest.approx(0.5 - 0.05) and r["implied_by_skip"] == pytest.approx(0.4 - 0.05)


def test_payoff_refuses_a_zero_ungated_time():
    with pytest.raises(ValueError, match="ungated time per image must be positive"):
        payoff({"att": 1.0, "att_stage1": 0.1, "mode": "one-model", "normal_share": 0.5, "skip_rate": 0.1}, {"att": 0.0})
