import pytest

from gfdnet_ultra.gate.schedules import DEFAULTS, SCHEDULES, gate_weight


@pytest.mark.parametrize("n", [0, 1, 5, 11])
def test_schedule_values_equal_defectnet_formulas_with_default_constants(n):
    assert gate_weight("const", n) == 0.15
    assert gate_weight("linear", n) == pytest.approx(1.0 - (1 / 12) * n)
    assert gate_weight("inverse", n) == pytest.approx(1.0 / (n + 1))
    assert gate_weight("exponential", n) == pytest.approx(1.0 / 2.0**n)


def test_schedule_constants_override_defaults_and_period_stretches_time():
    assert gate_weight("inverse", 4, w0=2.0, k=0.5, period=2.0) == pytest.approx(0.5 * 2.0 / (4 / 2 + 1))
    assert gate_weight("exponential", 3, base=3.0) == pytest.approx(1 / 27)
    assert gate_weight("const", 7, w0=0.4) == 0.4


def test_linear_schedule_stops_at_zero_after_its_last_epoch():
    assert gate_weight("linear", 12) == pytest.approx(0.0)
    assert gate_weight("linear", 20) == 0.0


def test_exponential_schedule_denominator_is_floored_like_defectnet():
    assert gate_weight("exponential", 1, base=1e-9) == pytest.approx(1e6)


def test_defectnet_config_names_are_accepted_as_aliases():
    assert gate_weight("exponent", 2) == gate_weight("exponential", 2)
    assert gate_weight("constant", 2) == gate_weight("const", 2)


def test_unknown_schedule_lists_the_valid_ones():
    with pytest.raises(ValueError, match="const, linear, inverse, exponential"):
        gate_weight("cosine", 0)


def test_unknown_constant_and_negative_epoch_are_rejected():
    with pytest.raises(ValueError, match="base"):
        gate_weight("const", 0, base=2.0)
    with pytest.raises(ValueError, match="epoch"):
        gate_weight("inverse", -1)


def test_every_schedule_has_defaults():
    assert set(SCHEDULES) == set(DEFAULTS) == {"const", "linear", "inverse", "exponential"}
