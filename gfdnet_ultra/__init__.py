"""gfdnet-ultra: GFD-Net layers and a DefectNet-style defect gate for stock Ultralytics YOLO.

Importing the package, or any layer, changes nothing in Ultralytics. Registration (`register()`) runs from the
autoload hook when Ultralytics is imported, from the `gfdnet` CLI, in DDP workers, when a checkpoint with our layers is
unpickled, or when called explicitly; `uninstall()` undoes it. See docs/architecture.md.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .integration.registry import available_layers, register, uninstall

__all__ = ("__version__", "available_layers", "register", "uninstall")
