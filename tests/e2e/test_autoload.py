"""The installed .pth hook registers gfdnet_ultra when Ultralytics' model module loads, unless switched off."""

from __future__ import annotations

CHECK = "import sys; import ultralytics.nn.tasks as t; print('gfdnet_ultra' in sys.modules, hasattr(t.parse_model, '__gfdnet_original__'))"


def test_importing_ultralytics_registers_our_layers(fresh_python):
    proc = fresh_python(CHECK)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True"]


def test_python_start_up_does_not_import_ultralytics(fresh_python):
    proc = fresh_python("import sys; print('ultralytics' in sys.modules, 'gfdnet_ultra' in sys.modules)")
    assert proc.stdout.split() == ["False", "False"]


def test_the_off_switch_leaves_ultralytics_untouched(fresh_python):
    proc = fresh_python(CHECK, GFDNET_AUTOLOAD="0")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


def test_importing_our_layers_first_registers_once_that_import_returns(fresh_python):
    """`gfdnet_ultra.nn` imports Ultralytics, which fires the hook mid-import: registration waits, then happens."""
    code = (
        "import gfdnet_ultra.nn.cdf\n"
        "from ultralytics.nn.tasks import DetectionModel\n"
        "m = DetectionModel('gfdnet-n.yaml', verbose=False)\n"
        "print(any(type(layer).__module__.startswith('gfdnet_ultra') for layer in m.model))"
    )
    proc = fresh_python(code)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "not active" not in proc.stderr and proc.stdout.split()[-1] == "True"
