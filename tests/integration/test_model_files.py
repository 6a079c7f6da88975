"""Model-file names: `<name>-<scale>.yaml` picks that scale; unknown names list what we ship."""

from __future__ import annotations

import pytest
import yaml
from ultralytics import YOLO
from ultralytics.nn import tasks

from gfdnet_ultra.integration import model_files, patches

TOY = {
    "nc": 3,
    "scales": {"n": [0.33, 0.25, 1024], "s": [0.33, 0.5, 1024]},
    "backbone": [[-1, 1, "Conv", [64, 3, 2]], [-1, 1, "Conv", [128, 3, 2]], [-1, 1, "Conv", [256, 3, 2]]],
    "head": [[[1, 2], 1, "Detect", ["nc"]]],
}


@pytest.fixture
def toy_dir(tmp_path):
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(TOY))
    return tmp_path


@pytest.mark.parametrize(("scale", "width"), [("n", 16), ("s", 32)])
def test_scale_suffix_selects_that_scale(toy_dir, scale, width):
    model = YOLO(toy_dir / f"toy-{scale}.yaml")
    assert model.model.yaml["scale"] == scale
    assert model.model.model[0].conv.out_channels == width


def test_stock_loader_would_silently_build_the_first_scale(toy_dir):
    (toy_dir / "toy-s.yaml").write_text(yaml.safe_dump(TOY))
    d = patches.original(tasks, "yaml_model_load")(toy_dir / "toy-s.yaml")
    assert d["scale"] == ""  # parse_model then falls back to the first scale ('n') with a warning
    assert model_files.yaml_model_load(toy_dir / "toy-s.yaml")["scale"] == "s"


def test_scale_not_in_the_file_lists_the_valid_names(toy_dir):
    with pytest.raises(ValueError, match="toy-n.yaml, toy-s.yaml"):
        model_files.yaml_model_load(toy_dir / "toy-x.yaml")


def test_unknown_model_name_lists_available_models(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="gfdnet_ultra models:") as e:
        YOLO("no-such-model.yaml")
    for name in model_files.available_models():
        assert name in str(e.value)


def test_stock_names_still_resolve_to_stock_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    d = tasks.yaml_model_load("yolo11s.yaml")
    assert d["scale"] == "s" and d["yaml_file"] == "yolo11s.yaml"


def test_every_packaged_model_name_resolves_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in model_files.available_models():
        path, scale = model_files.resolve_model_yaml(name)
        assert path.parent == model_files.models_dir()
        assert scale is None or name.endswith(f"-{scale}.yaml")
