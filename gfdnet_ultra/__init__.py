"""gfdnet-ultra: GFD-Net layers and a DefectNet-style defect gate for stock Ultralytics YOLO.

Importing the package registers its layers with Ultralytics (idempotent); see `integration/registry.py`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .integration.registry import available_layers, register

register()

__all__ = ("__version__", "available_layers", "register")
