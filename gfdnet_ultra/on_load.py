"""`RegisterOnLoad`: the YAML layers' one link to registration, so loading a checkpoint registers gfdnet_ultra.

Ultralytics pickles whole models into checkpoints, so `YOLO("best.pt")` unpickles our layers without anything of ours
having run (the autoload hook may be off). Unpickling calls each object's `__setstate__`; ours then registers
gfdnet_ultra (fuse, gate engines, joint loss) when Ultralytics' model module is loaded. Building or importing a layer
registers nothing.
"""

from __future__ import annotations

import sys

__all__ = ("RegisterOnLoad",)


class RegisterOnLoad:
    """Mixin for YAML layers: unpickling one inside an Ultralytics process registers gfdnet_ultra (never raises)."""

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if "ultralytics.nn.tasks" in sys.modules:
            from .integration.registry import register_or_warn

            register_or_warn()
