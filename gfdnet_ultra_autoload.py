"""Register gfdnet_ultra as soon as Ultralytics' model module is imported, so plain `yolo` reads our YAMLs.

Ultralytics has no plugin entry point. The installed `gfdnet_ultra-autoload.pth` (run by Python's `site` at start-up)
imports this module, which asks `after_import` to call `gfdnet_ultra`'s `register_or_warn()` right after
`ultralytics.cfg` (so `yolo` accepts our arguments such as `threshold=`), `ultralytics.nn.tasks` (for code that loads
models without the CLI) and `ultralytics.models.yolo.model` (the YOLO class, still being imported when the first two
finish) have executed. Registration installs what it can at each call and completes at the last; if it fails it
undoes everything and warns once, so `import ultralytics` never fails because of us. This module lives outside the
package and imports only the standard library, so Python start-up imports neither Ultralytics nor gfdnet_ultra, and
the package never imports it back. Set `GFDNET_AUTOLOAD=0` to turn it off.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import sys
import warnings
from collections.abc import Callable
from types import ModuleType

__all__ = ("ENV_SWITCH", "TARGETS", "after_import", "enable")

ENV_SWITCH = "GFDNET_AUTOLOAD"
TARGETS = ("ultralytics.cfg", "ultralytics.nn.tasks", "ultralytics.models.yolo.model")
_pending: dict[str, list[Callable[[ModuleType], None]]] = {}
_broken: list[Exception] = []  # set when gfdnet_ultra cannot even be imported: warn once, then stay out of the way


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


def _outermost_gfdnet_import():
    """The frame of the outermost `gfdnet_ultra` module still executing on this thread's stack, else None (e.g.
    `from gfdnet_ultra.nn import GAstage` imported Ultralytics, which fired this hook: registering now would import
    that half-built module again)."""
    frame, found = sys._getframe(1), None
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if frame.f_code.co_name == "<module>" and (name == "gfdnet_ultra" or name.startswith("gfdnet_ultra.")):
            found = frame
        frame = frame.f_back
    return found


def _register_when_done(frame) -> None:
    """Register as soon as `frame` (a module being imported) returns, chaining any profiler already set."""
    previous = sys.getprofile()

    def watch(f, event, arg):
        if previous is not None:
            previous(f, event, arg)
        if f is frame and event == "return":  # the frame is still on the stack: register without looking again
            sys.setprofile(previous)
            _register(None, deferred=True)

    sys.setprofile(watch)


_deferred: list[bool] = []  # set once registration waits for an import of ours to return (at most one wait)


def _register(_module: ModuleType | None, deferred: bool = False) -> None:
    if _broken:
        return
    importing = None if deferred else _outermost_gfdnet_import()
    if importing is not None:  # our own import pulled Ultralytics in: finish it first, then register
        if not _deferred:
            _deferred.append(True)
            _register_when_done(importing)
        return
    try:
        registry = importlib.import_module("gfdnet_ultra.integration.registry")
    except Exception as e:  # a broken install of ours must not take Ultralytics down
        _broken.append(e)
        warnings.warn(f"gfdnet_ultra is not active, stock Ultralytics runs unchanged: importing it failed ({e!r}). "
                      f"Fix: reinstall gfdnet-ultra, or set {ENV_SWITCH}=0", RuntimeWarning, stacklevel=2)
        return
    registry.register_or_warn()


def enable() -> None:
    """Install the hook unless switched off."""
    if os.environ.get(ENV_SWITCH, "1").lower() not in {"0", "false", "no", "off"}:
        for target in TARGETS:
            after_import(target, _register)


enable()
