"""Registration: the parser treats plugin layers like their stock kin, and fails clearly when it cannot."""

from __future__ import annotations

import pytest
import ultralytics
import ultralytics.nn.tasks as tasks

import gfdnet_ultra
from gfdnet_ultra.integration import parse_patch, patches, registry

gfdnet_ultra.register()


def _parse(rows: list, head: list | None = None):
    return tasks.parse_model({"nc": 2, "backbone": rows, "head": head or []}, ch=3, verbose=False)


def test_register_is_idempotent():
    patched = tasks.parse_model
    gfdnet_ultra.register()
    registry.register()
    assert tasks.parse_model is patched and parse_patch.installed()


def test_every_registered_layer_resolves_by_its_yaml_name():
    for spec in registry.LAYERS:
        assert getattr(tasks, spec.name) is spec.load()
        assert spec.kind in registry.KINDS


def test_self_test_passes_on_the_installed_ultralytics():
    registry.self_test()


def test_self_test_fails_naming_the_version_when_the_parser_ignores_plugins(monkeypatch):
    monkeypatch.setattr(tasks, "parse_model", patches.original(tasks, "parse_model"))
    with pytest.raises(RuntimeError, match=f"ultralytics {ultralytics.__version__}"):
        registry.self_test()
    monkeypatch.undo()
    registry.self_test()


def test_unsupported_ultralytics_version_fails_with_its_number(monkeypatch):
    monkeypatch.setattr(ultralytics, "__version__", "8.3.40")
    with pytest.raises(RuntimeError, match=r"ultralytics 8\.3\.40 is installed"):
        registry._check_version()


def test_patch_refuses_a_parser_whose_source_changed(monkeypatch):
    stock = patches.original(tasks, "parse_model")
    source = parse_patch.inspect.getsource(stock).replace("c1, c2 = ch[f], args[0]", "c2, c1 = args[0], ch[f]")
    monkeypatch.setattr(parse_patch.inspect, "getsource", lambda obj: source)
    with pytest.raises(RuntimeError, match=r"code it edits \(multi\) is not found exactly once"):
        parse_patch._compile_plugin_parser(stock, vars(tasks), tasks.__file__, ultralytics.__version__)


def test_unknown_layer_name_lists_the_plugin_layers():
    with pytest.raises(ValueError, match="Unknown layer 'NoSuchBlock'") as e:
        _parse([[-1, 1, "NoSuchBlock", [16]]])
    for name in registry.available_layers():
        assert name in str(e.value)


def test_wrong_layer_arguments_name_the_row_and_layer():
    with pytest.raises(ValueError, match=r"row 1 \(Conv.*could not be built: TypeError"):
        _parse([[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [16, 3, 2, 1, 1, 1, 1, 1, 1]]])


def test_from_index_out_of_range_names_the_row():
    with pytest.raises(ValueError, match=r"row 1 \(Conv, from 7.*IndexError.*-1, or indices 0\.\.0"):
        _parse([[-1, 1, "Conv", [16, 3, 2]], [7, 1, "Conv", [16, 3, 2]]])


def test_a_taken_yaml_name_is_refused():
    spec = registry.LayerSpec("Conv", "gfdnet_ultra.integration.probe:ProbePlain", "plain")
    with pytest.raises(ValueError, match="already taken"):
        registry._publish(spec, spec.load())
