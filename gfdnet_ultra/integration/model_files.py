"""Model-file names: `gfdnet-s.yaml` means our packaged `gfdnet.yaml` at scale `s`, from any directory.

Stock `yaml_model_load` (8.4.x) reads the scale only from names like `yolov8n` and otherwise builds the *first* scale
with a warning, even for `gfdnet-s.yaml`; and it finds bare names only inside the Ultralytics install. We wrap it:
a name `<base>-<scale>.yaml` whose `<base>.yaml` (beside it or packaged) has that scale loads with `scale` set, a bare
name falls back to our `cfg/models/`, and a name found nowhere fails listing the models we ship. Stock names
(`yolo11n.yaml`, ...) go to the original function untouched. Both references to it are replaced: `tasks` (used by
DetectionModel) and `engine.model` (which imported it by name).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from . import patches

__all__ = ("available_models", "install", "models_dir", "resolve_model_yaml", "yaml_model_load")

_SCALED = re.compile(r"^(?P<base>.+)-(?P<scale>[a-z])$")


def models_dir() -> Path:
    """Folder of the model YAMLs shipped with the package."""
    return Path(str(resources.files("gfdnet_ultra") / "cfg" / "models"))


def _scales(path: Path) -> dict:
    import yaml

    return (yaml.safe_load(path.read_text()) or {}).get("scales") or {}


def available_models() -> list[str]:
    """Every model name we ship, with one `<base>-<scale>.yaml` entry per scale."""
    names = []
    for path in sorted(models_dir().glob("*.yaml")):
        scales = _scales(path)
        names += [f"{path.stem}-{s}.yaml" for s in scales] if scales else [path.name]
    return names


def resolve_model_yaml(name: str | Path) -> tuple[Path, str | None] | None:
    """Find `name` as a file or among our packaged models: (yaml path, scale or None), or None if not ours."""
    path = Path(name)
    match = _SCALED.match(path.stem)
    scale = match["scale"] if match else None
    for cand in (path, models_dir() / path.name):  # an existing file of that exact name wins
        if cand.is_file():
            return cand, scale if scale in _scales(cand) else None
    if match:
        base = match["base"] + path.suffix
        for cand in (path.with_name(base), models_dir() / base):
            scales = _scales(cand) if cand.is_file() else {}
            if scale in scales:
                return cand, scale
            if scales:
                raise ValueError(
                    f"Model '{path.name}': scale '{scale}' is not in {cand.name}; use one of "
                    + ", ".join(f"{cand.stem}-{s}{path.suffix}" for s in scales)
                )
    return None


def yaml_model_load(path: str | Path) -> dict:
    """`ultralytics.nn.tasks.yaml_model_load` that also understands our model names (see module docstring)."""
    import ultralytics.nn.tasks as tasks

    original = patches.original(tasks, "yaml_model_load")
    found = resolve_model_yaml(path)
    if found is None:
        try:
            return original(path)
        except FileNotFoundError as e:
            raise FileNotFoundError(
                f"Model file '{path}' not found. gfdnet_ultra models: {', '.join(available_models())}; "
                "or a stock Ultralytics name such as yolo11n.yaml, or a path to your own YAML."
            ) from e
    yaml_path, scale = found
    d = original(yaml_path)
    if scale is not None:
        d["scale"] = scale
    d["yaml_file"] = str(path)  # what the user wrote, so checkpoints and logs say gfdnet-s.yaml
    return d


def install() -> None:
    """Point Ultralytics' references to `yaml_model_load` at ours (idempotent)."""
    import ultralytics.engine.model as engine_model
    import ultralytics.nn.tasks as tasks

    patches.replace(tasks, "yaml_model_load", lambda _: yaml_model_load)
    # engine.model imported it by name, possibly not yet (the autoload hook runs during its import): restore tasks'
    patches.replace(engine_model, "yaml_model_load", lambda _: yaml_model_load, patches.original(tasks, "yaml_model_load"))
