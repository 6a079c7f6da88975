"""What the gate saves, next to what it could save: time saved per image against the limit of a perfect gate.

A perfect gate skips every normal image (share a) and no defective one; it still pays for the work before the cut
(s1 ms per image: the backbone up to the gate for the one-model gate, the classifier for the two-model gate). With U
the ungated time per image and T the time after the cut (U - s1 for one-model, the whole detector U for two-model),
its time per image is s1 + (1 - a) T, so the limit on the time saved is 1 - (s1 + (1 - a) T) / U: a (1 - s1 / U)
for one-model (DefectNet's t = 1 - (1 - beta) a) and a - s1 / U for two-model. The same formula at the measured skip
rate r instead of a is the saving that skip implies: it reads the two runs only through the small ratio s1 / U, so
unlike the measured saving (two runs timed one after the other) it barely moves when the machine's load changes
between them.
"""

from __future__ import annotations

__all__ = ("payoff",)


def payoff(gated: dict, ungated: dict) -> dict[str, float]:
    """Time saved, its limit, their ratio and the saving the skip rate implies, from the gate metrics of a gated and an
    ungated `yolo val` run.

    Args:
        gated (dict): `gate_metrics.json` of the gated run (needs att, att_stage1, skip_rate, normal_share, mode).
        ungated (dict): `gate_metrics.json` of the ungated run (threshold 0) of the same model and data.

    Examples:
        >>> g = {"att": 7.0, "att_stage1": 4.0, "mode": "one-model", "normal_share": 0.5, "skip_rate": 0.25}
        >>> payoff(g, {"att": 10.0})
        {'time_saved': 0.3, 'limit': 0.3, 'share_of_limit': 1.0, 'implied_by_skip': 0.15, 'att_gated': 7.0, 'att_ungated': 10.0, 'att_stage1': 4.0, 'normal_share': 0.5}
    """
    u, s1, a = float(ungated["att"]), float(gated["att_stage1"]), float(gated["normal_share"])
    if u <= 0:
        raise ValueError(f"payoff: the ungated time per image must be positive, got {u} ms")
    tail = u - s1 if gated["mode"] == "one-model" else u

    def saving(skip: float) -> float:  # time saved when a share `skip` of the images skips the tail
        return 1 - (s1 + (1 - skip) * tail) / u

    limit, saved = saving(a), 1 - float(gated["att"]) / u
    return {"time_saved": round(saved, 6), "limit": round(limit, 6),
            "share_of_limit": round(saved / limit, 6) if limit > 0 else float("nan"),
            "implied_by_skip": round(saving(float(gated["skip_rate"])), 6), "att_gated": float(gated["att"]),
            "att_ungated": u, "att_stage1": s1, "normal_share": a}
