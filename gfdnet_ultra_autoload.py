"""Register gfdnet_ultra as soon as Ultralytics' model module is imported, so plain `yolo` reads our YAMLs.

Ultralytics has no plugin entry point. The installed `gfdnet_ultra-autoload.pth` (run by Python's `site` at start-up)
imports this module, which asks `after_import` to import `gfdnet_ultra` (whose import calls `register()`) right after
`ultralytics.cfg` (so `yolo` accepts our arguments such as `threshold=`) or `ultralytics.nn.tasks` (for code that loads
models without the CLI) has executed, whichever comes first. It lives outside the package because importing anything inside `gfdnet_ultra`
would import Ultralytics at every Python start-up; this module imports only the standard library. Set
`GFDNET_AUTOLOAD=0` to turn it off.

`after_import` is also what registration uses for hooks on Ultralytics modules that are still being imported when
`register()` runs (it runs in the middle of `ultralytics.engine.model`'s import when triggered from here).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import sys
from collections.abc import Callable
from types import ModuleType

__all__ = ("ENV_SWITCH", "TARGETS", "after_import", "enable")

ENV_SWITCH = "GFDNET_AUTOLOAD"
TARGETS = ("ultralytics.cfg", "ultralytics.nn.tasks")
_pending: dict[str, list[Callable[[ModuleType], None]]] = {}


def _loaded(name: str) -> ModuleType | None:
    """The module if it has finished executing, else None."""
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    return None if module is None or getattr(spec, "_initializing", False) else module


class _AfterImportFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader of modules with pending callbacks so the callbacks run once the module has executed."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _pending:
            return None
        callbacks = _pending.pop(fullname)
        spec = importlib.util.find_spec(fullname)  # the real spec; we no longer match this name
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_call(module):
            exec_module(module)
            for callback in callbacks:
                callback(module)

        spec.loader.exec_module = exec_then_call
        return spec


def after_import(name: str, callback: Callable[[ModuleType], None]) -> None:
    """Call `callback(module)` once module `name` has executed: now if it has, else right after its import."""
    module = _loaded(name)
    if module is not None:
        callback(module)
        return
    _pending.setdefault(name, []).append(callback)
    if not any(isinstance(f, _AfterImportFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImportFinder())


def _register(_module: ModuleType) -> None:
    importlib.import_module("gfdnet_ultra")


def enable() -> None:
    """Install the hook unless switched off."""
    if os.environ.get(ENV_SWITCH, "1").lower() not in {"0", "false", "no", "off"}:
        for target in TARGETS:
            after_import(target, _register)


enable()
