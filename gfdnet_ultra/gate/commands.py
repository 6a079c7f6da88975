"""The gate's own `gfdnet` commands, with `yolo`-style key=value arguments.

    gfdnet fit-gate model=best.pt data=data.yaml imgsz=640      # fit a LocalDefectGate on the frozen detector
    gfdnet train-gate data=data.yaml imgsz=640                  # train the small full-resolution two-model classifier

Each prints its report (including the threshold picked on the held-out calibration split and the recall and skip rate
expected there) as JSON; unknown keys and bad values are errors naming the keys that exist.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable

__all__ = ("COMMANDS", "parse_kv", "run_command")


def _commands() -> dict[str, Callable]:
    from .fit import fit_gate
    from .tile_classifier import train_gate_classifier

    return {"fit-gate": fit_gate, "train-gate": train_gate_classifier}


COMMANDS = ("fit-gate", "train-gate")


def parse_kv(fn: Callable, argv: list[str]) -> dict:
    """`key=value` strings -> keyword arguments of `fn`, converted to the types of its defaults."""
    params = inspect.signature(fn).parameters
    out = {}
    for item in argv:
        key, sep, value = item.partition("=")
        if not sep or key not in params:
            raise ValueError(f"expected key=value with key in {sorted(params)}, got {item!r}")
        default = params[key].default
        if isinstance(default, bool):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError(f"{key}={value!r}: expected true or false")
            out[key] = value.lower() in ("true", "1")
        elif isinstance(default, (int, float)):
            try:
                out[key] = type(default)(value)
            except ValueError:
                raise ValueError(f"{key}={value!r}: expected a {type(default).__name__}") from None
        else:
            out[key] = value
    missing = [k for k, p in params.items() if p.default is inspect.Parameter.empty and k not in out]
    if missing:
        raise ValueError(f"missing {', '.join(f'{k}=' for k in missing)}")
    return out


def run_command(name: str, argv: list[str]) -> dict:
    """Run gate command `name` with `key=value` arguments and print its report."""
    fn = _commands()[name]
    report = fn(**parse_kv(fn, argv))
    print(json.dumps(report, indent=2, default=str))
    return report
