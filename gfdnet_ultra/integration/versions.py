"""The Ultralytics releases gfdnet_ultra supports, written once (setup.py reads it for the install requirement)."""

from __future__ import annotations

__all__ = ("SUPPORTED_ULTRALYTICS", "supported_spec")

SUPPORTED_ULTRALYTICS = ((8, 4, 190), (8, 5, 0))  # [min, max)


def supported_spec() -> str:
    """The range as a pip version specifier, e.g. '>=8.4.190,<8.5'."""
    low, high = (".".join(map(str, v)) for v in SUPPORTED_ULTRALYTICS)
    return f">={low},<{high.removesuffix('.0')}"
