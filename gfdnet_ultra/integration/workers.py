"""Registration inside DDP workers, which rebuild the trainer from a pickled state file.

Ultralytics' multi-GPU launcher (`utils/dist.py::generate_ddp_file`, 8.4.x) cloudpickles the trainer class, its
arguments, the model (still a YAML path when training from YAML) and the callbacks dict into a `.pt` file, and spawns
workers that unpickle it. A worker imports only what that pickle references, so a model YAML with our layers would
fail there unless something of ours is referenced. We append one module-level no-op callback to Ultralytics' default
callbacks: it is pickled by reference, and unpickling it imports `gfdnet_ultra`, whose import registers everything.
"""

from __future__ import annotations

__all__ = ("install", "registration_anchor")

EVENT = "on_pretrain_routine_start"


def registration_anchor(trainer) -> None:
    """No-op trainer callback whose only job is to be pickled by reference into DDP state files."""


def install() -> None:
    """Add the anchor to Ultralytics' default callbacks (idempotent)."""
    from ultralytics.utils.callbacks.base import default_callbacks

    if registration_anchor not in default_callbacks[EVENT]:
        default_callbacks[EVENT].append(registration_anchor)
