"""Register gfdnet_ultra in DDP worker processes, which Ultralytics starts from a pickled state file.

Ultralytics' multi-GPU launcher (`utils/dist.py::generate_ddp_file`, 8.4.x) cloudpickles the trainer class, its
arguments, the model (still a YAML path when training from YAML) and the callbacks dict into a `.pt` file, and spawns
workers that unpickle it. A worker imports only what that pickle references, so a model YAML with our layers would
fail there unless something of ours is referenced. We add one no-op callback to Ultralytics' default callbacks whose
unpickling calls `register_or_warn()` (its `__reduce__`), so the worker registers before it parses the YAML.
"""

from __future__ import annotations

__all__ = ("EVENT", "RegistrationAnchor", "install", "registration_anchor")

EVENT = "on_pretrain_routine_start"


class RegistrationAnchor:
    """No-op trainer callback whose only job is to register gfdnet_ultra where it is unpickled."""

    def __call__(self, trainer) -> None:
        """Nothing to do at run time."""

    def __reduce__(self):
        return _unpickle_anchor, ()


def _unpickle_anchor() -> RegistrationAnchor:
    from .registry import register_or_warn

    register_or_warn()
    return registration_anchor


registration_anchor = RegistrationAnchor()


def install() -> None:
    """Add the anchor to Ultralytics' default callbacks (idempotent)."""
    from ultralytics.utils.callbacks.base import default_callbacks

    from . import patches

    patches.add(default_callbacks[EVENT], registration_anchor)
