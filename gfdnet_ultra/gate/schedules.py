"""Loss-weight schedules w(n) of the gate loss, n the 0-based epoch: DefectNet's four, with its default constants.

From `get_dfn_weight` in li-phone/DefectNet (mmdet/models/detectors/cascade_rcnn.py), paper: "DefectNet: Toward Fast
and Effective Defect Detection" (IEEE TIM 2021). Code names: k = scale_factor, w0 = init_weight, T = period, a = base.

    const        w = w0                           w0 = 0.15 (DefectNet's bottle / Faster R-CNN / bag-of-tricks value)
    linear       w = w0 - k * n / T               w0 = 1, k = 1/12, T = 1   (clamped at 0 past epoch 12)
    inverse      w = k * w0 / (n / T + 1)         w0 = 1, k = 1, T = 1
    exponential  w = k * w0 / max(a ** (n / T), 1e-6)   w0 = 1, k = 1, a = 2, T = 1

Deviation: linear stops at 0 instead of turning negative (DefectNet trained 12 epochs and never got there).
"""

from __future__ import annotations

__all__ = ("DEFAULTS", "SCHEDULES", "gate_weight")

DEFAULTS: dict[str, dict[str, float]] = {
    "const": {"w0": 0.15},
    "linear": {"w0": 1.0, "k": 1 / 12, "period": 1.0},
    "inverse": {"w0": 1.0, "k": 1.0, "period": 1.0},
    "exponential": {"w0": 1.0, "k": 1.0, "period": 1.0, "base": 2.0},
}
SCHEDULES = tuple(DEFAULTS)
_ALIASES = {"constant": "const", "exponent": "exponential", "lin": "linear", "inv": "inverse", "exp": "exponential"}


def gate_weight(schedule: str, epoch: int, **constants: float) -> float:
    """Weight of the gate loss at a 0-based `epoch`; `constants` override DefectNet's defaults (w0, k, period, base).

    Examples:
        >>> [round(gate_weight("inverse", n), 3) for n in range(3)]
        [1.0, 0.5, 0.333]
    """
    name = _ALIASES.get(schedule, schedule)
    if name not in DEFAULTS:
        raise ValueError(f"gate schedule {schedule!r} is unknown; use one of {', '.join(SCHEDULES)}")
    unknown = set(constants) - set(DEFAULTS[name])
    if unknown:
        raise ValueError(f"gate schedule {name!r} takes {sorted(DEFAULTS[name])}, not {sorted(unknown)}")
    if epoch < 0:
        raise ValueError(f"gate schedule: epoch must be >= 0 (0-based), got {epoch}")
    c = {**DEFAULTS[name], **constants}
    if c.get("period", 1.0) <= 0:
        raise ValueError(f"gate schedule {name!r}: period must be > 0, got {c['period']}")
    if name == "const":
        return float(c["w0"])
    t = epoch / c["period"]
    if name == "linear":
        return max(0.0, c["w0"] - c["k"] * t)
    if name == "inverse":
        return c["k"] * c["w0"] / (t + 1)
    return c["k"] * c["w0"] / max(c["base"] ** t, 1e-6)
