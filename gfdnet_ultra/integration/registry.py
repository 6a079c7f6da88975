"""The table of YAML layers gfdnet_ultra adds to Ultralytics, and `register()`, which installs them.

Adding a layer is a class in `gfdnet_ultra/nn/` (or `gate/`) and one `LayerSpec` row below. The parse kind says how
Ultralytics' YAML parser fills the constructor arguments, using its own scaling rules (see `parse_patch.py`):

    plain     [c1, c2 * width, *args[1:]]                like Conv
    repeat    [c1, c2 * width, n * depth, *args[1:]]     like C2f
    multi     [[c1, ...], c2 * width, *args[1:]]         c1 lists the widths of the `from` inputs
    head      [*args, reg_max, end2end, [c1, ...]]       like Detect
    backbone  [*args[1:]], output width args[0]           like TorchVision (returns a list, pick levels with Index)

`register()` is idempotent and is what every trigger calls: the autoload hook, the `gfdnet` CLI, a DDP worker
unpickling its callbacks, a checkpoint unpickling one of our layers, and an explicit `gfdnet_ultra.register()`
(importing the package or a layer registers nothing). It checks the Ultralytics version, patches the parser, publishes
the names, allows the classes for `ULTRALYTICS_SAFE_LOAD=1`, installs the other adapters, and builds a probe model as a
self-test. Any failure undoes every change (`patches.uninstall()`): the automatic triggers then warn once and leave
stock Ultralytics working (`register_or_warn`); an explicit call raises.
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from dataclasses import dataclass

from . import patches, parse_patch
from .versions import SUPPORTED_ULTRALYTICS, supported_spec

__all__ = ("KINDS", "LAYERS", "LayerSpec", "available_layers", "register", "register_or_warn", "self_test",
           "uninstall")

KINDS = {"plain": "base", "repeat": "base", "multi": "base", "head": "head", "backbone": "backbone"}


@dataclass(frozen=True)
class LayerSpec:
    """One YAML-visible layer: its YAML name, where the class lives (`module:Class`) and its parse kind."""

    name: str
    target: str
    kind: str

    def load(self) -> type:
        """Import and return the class."""
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec("DefectGate", "gfdnet_ultra.gate.head:DefectGate", "plain"),
    LayerSpec("LocalDefectGate", "gfdnet_ultra.gate.local_gate:LocalDefectGate", "plain"),
    LayerSpec("AADown", "gfdnet_ultra.nn.freq:AADown", "plain"),
    LayerSpec("FIF", "gfdnet_ultra.nn.ffpn:FIF", "multi"),
    LayerSpec("UADF", "gfdnet_ultra.nn.ffpn:UADF", "multi"),
    LayerSpec("DCF", "gfdnet_ultra.nn.ffpn:DCF", "multi"),
    LayerSpec("Detect_TDSC", "gfdnet_ultra.nn.tdsc:Detect_TDSC", "head"),
    LayerSpec("GAstage", "gfdnet_ultra.nn.gcas:GAstage", "repeat"),
    LayerSpec("CDF", "gfdnet_ultra.nn.cdf:CDF", "repeat"),
    LayerSpec("RCViT", "gfdnet_ultra.nn.rcvit:RCViT", "backbone"),
)

_state: dict[str, object] = {"registered": False, "busy": False, "tested": False, "failed": None}


def available_layers() -> list[str]:
    """YAML names of every gfdnet_ultra layer."""
    return sorted(spec.name for spec in LAYERS)


def _resolve(namespace: dict, name: str) -> type:
    """Look a YAML layer name up in the tasks namespace, failing with the list of plugin layers."""
    try:
        return namespace[name]
    except KeyError:
        raise ValueError(
            f"Unknown layer '{name}' in model YAML. gfdnet_ultra layers: {', '.join(available_layers())}; "
            "stock layers are the classes of ultralytics.nn.modules (e.g. Conv, C2f, SPPF, Detect); "
            "torch layers are written 'nn.Name'."
        ) from None


def _check_version() -> None:
    import ultralytics

    version = tuple(int(p) for p in ultralytics.__version__.split(".")[:3] if p.isdigit())
    low, high = SUPPORTED_ULTRALYTICS
    if not low <= version < high:
        raise RuntimeError(
            f"gfdnet_ultra supports ultralytics{supported_spec()} but ultralytics {ultralytics.__version__} is installed; "
            f"install a supported version with: pip install 'ultralytics{supported_spec()}'"
        )


def _publish(spec: LayerSpec, cls: type) -> None:
    """Make `spec.name` resolvable by parse_model and put the class in its parse-kind set."""
    import ultralytics.nn.tasks as tasks

    existing = tasks.__dict__.get(spec.name)
    if existing is not None and existing is not cls:
        raise ValueError(
            f"gfdnet_ultra: YAML name '{spec.name}' is already taken in ultralytics.nn.tasks by {existing!r}; "
            "rename the layer"
        )
    patches.replace(tasks, spec.name, lambda _: cls)  # parse_model: globals()[m]
    patches.add(parse_patch.PLUGIN_SETS[KINDS[spec.kind]], cls)
    if spec.kind == "repeat":
        patches.add(parse_patch.PLUGIN_SETS["repeat"], cls)


def _safe_load_classes() -> list[type]:
    """Every class defined in gfdnet_ultra's layer packages, which a checkpoint may pickle (for weights_only loads)."""
    import pkgutil

    from .. import gate, nn

    classes = set()
    for package in (nn, gate):
        for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            module = importlib.import_module(info.name)
            classes.update(c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__)
    return sorted(classes, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def self_test() -> None:
    """Build a probe model with a plugin layer of every kind; raise naming the Ultralytics version on any mismatch."""
    import ultralytics
    import ultralytics.nn.tasks as tasks

    from . import probe

    try:
        with patches.scope():  # the probe names are published for the test only
            for spec in probe.SPECS:
                _publish(spec, spec.load())
            seq, _ = tasks.parse_model(probe.probe_yaml(), ch=3, verbose=False)
            probe.check(seq)
    except Exception as e:  # any failure here means the parser no longer treats plugin layers like their stock kin
        raise RuntimeError(
            f"gfdnet_ultra: the YAML parser of ultralytics {ultralytics.__version__} does not build plugin layers as "
            f"expected ({e}); supported: ultralytics{supported_spec()}"
        ) from e


def _install() -> bool:
    """Install every adapter whose Ultralytics module is loaded; True once all are (see `register`)."""
    import torch

    from . import checkpoints, fuse, gate_hooks, model_files, offline, workers

    _check_version()
    parse_patch.install(_resolve)
    for spec in LAYERS:
        if spec.kind not in KINDS:
            raise ValueError(f"LayerSpec {spec.name}: unknown kind {spec.kind!r}; use one of {sorted(KINDS)}")
        _publish(spec, spec.load())
    torch.serialization.add_safe_globals(_safe_load_classes())  # ULTRALYTICS_SAFE_LOAD=1 checkpoints
    for adapter in (model_files, gate_hooks, workers, checkpoints, offline, fuse):
        adapter.install()
    if not _state["tested"]:
        self_test()
        _state["tested"] = True
    return gate_hooks.install_engines()


def register() -> None:
    """Install everything gfdnet_ultra adds to Ultralytics; safe to call any number of times.

    On any failure every change is undone, so Ultralytics stays stock, and RuntimeError says why and how to fix it.
    """
    if _state["registered"] or _state["busy"]:
        return  # busy: re-entered from an Ultralytics import that registration itself started
    _state["busy"] = True
    try:
        _state["registered"] = _install()
    except Exception as e:
        uninstall()
        raise RuntimeError(_failure_message(e)) from e
    finally:
        _state["busy"] = False


def _failure_message(error: BaseException) -> str:
    import ultralytics

    return (
        f"gfdnet_ultra is not active, stock Ultralytics runs unchanged: {error}. Installed: ultralytics "
        f"{ultralytics.__version__}; supported: ultralytics{supported_spec()}. Fix: pip install "
        f"'ultralytics{supported_spec()}' (or set GFDNET_AUTOLOAD=0 to stop loading gfdnet_ultra)"
    )


def register_or_warn() -> bool:
    """`register()` for the automatic triggers: on failure warn once, leave Ultralytics stock, never raise."""
    if _state["failed"] is not None:
        return False
    try:
        register()
        return True
    except RuntimeError as e:
        _state["failed"] = e
        warnings.warn(str(e), RuntimeWarning, stacklevel=2)
        return False


def uninstall() -> None:
    """Undo every change registration made to Ultralytics; `register()` can install them again."""
    patches.uninstall()
    _state["registered"] = _state["tested"] = False
