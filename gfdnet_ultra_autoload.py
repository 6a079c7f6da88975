"""Register gfdnet_ultra as soon as Ultralytics' model module is imported, so plain `yolo` reads our YAMLs.

Ultralytics has no plugin entry point. The installed `gfdnet_ultra-autoload.pth` (run by Python's `site` at start-up)
imports this module, which puts a finder on `sys.meta_path` that waits for `ultralytics.nn.tasks`: right after that
module has executed, it imports `gfdnet_ultra` (whose import calls `register()`). It lives outside the package because
importing anything inside `gfdnet_ultra` would import Ultralytics at every Python start-up; this module imports only
the standard library. Set `GFDNET_AUTOLOAD=0` to turn it off.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys

__all__ = ("ENV_SWITCH", "TARGET", "enable")

ENV_SWITCH = "GFDNET_AUTOLOAD"
TARGET = "ultralytics.nn.tasks"


class _RegisterAfterImport(importlib.abc.MetaPathFinder):
    """Wraps the loader of `ultralytics.nn.tasks` so that `import gfdnet_ultra` runs once it has executed."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TARGET:
            return None
        sys.meta_path.remove(self)  # one shot; also keeps the lookup below from finding us again
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_register(module):
            exec_module(module)
            importlib.import_module("gfdnet_ultra")

        spec.loader.exec_module = exec_and_register
        return spec


def enable() -> None:
    """Install the hook unless switched off or already too late (tasks already imported)."""
    if os.environ.get(ENV_SWITCH, "1").lower() in {"0", "false", "no", "off"}:
        return
    if TARGET in sys.modules:
        importlib.import_module("gfdnet_ultra")
    elif not any(isinstance(f, _RegisterAfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterImport())


enable()
