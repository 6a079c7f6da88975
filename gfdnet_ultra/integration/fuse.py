"""Make Ultralytics' model fusion reach our layers' own ``fuse()`` methods.

``BaseModel.fuse`` (ultralytics 8.4.190) folds BatchNorm only into its own ``Conv``/``Conv2``/``DWConv``, reparameterises
``RepConv``/``RepVGGDW`` and trims ``Detect``; it never calls a third-party ``fuse()``. We wrap it so that, before the
stock fusion runs, every module whose class defines ``fuse`` in a ``gfdnet_ultra`` module gets it called (inherited
Ultralytics methods, such as ``Detect.fuse`` on ``Detect_TDSC``, stay with the stock code, which already calls them).
Models without our layers take exactly the stock path. Installed by ``registry.register()``; idempotent.
"""

from __future__ import annotations

from torch import nn

from . import patches

__all__ = ("fuse_plugin_layers", "install")

_PACKAGE = __name__.split(".")[0]


def _own_fuse(module: nn.Module):
    """The module's ``fuse`` if its class defines it in gfdnet_ultra, else None."""
    fn = getattr(type(module), "fuse", None)
    return fn if fn is not None and getattr(fn, "__module__", "").startswith(f"{_PACKAGE}.") else None


def fuse_plugin_layers(model: nn.Module) -> int:
    """Call ``fuse()`` on every gfdnet_ultra module of ``model`` that defines one; returns how many were called."""
    mods = [m for m in model.modules() if _own_fuse(m) is not None]
    for m in mods:
        m.fuse()
    return len(mods)


def _fuse(original, model: nn.Module, *args, **kwargs):
    fuse_plugin_layers(model)
    return original(model, *args, **kwargs)


def install() -> None:
    """Wrap ``ultralytics.nn.tasks.BaseModel.fuse`` to fuse our layers first; safe to call repeatedly."""
    from ultralytics.nn.tasks import BaseModel

    patches.wrap(BaseModel, "fuse", _fuse)
