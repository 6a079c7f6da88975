"""A registration that cannot work (unsupported Ultralytics, a parser that changed) leaves stock Ultralytics working,
with exactly one warning naming the installed and supported versions and the fix."""

from __future__ import annotations

import pytest

from gfdnet_ultra.integration.versions import supported_spec

pytestmark = pytest.mark.slow  # two one-step trainings of YOLO11n at 32 px, a few seconds each

FAKE_VERSION = """
import sys, gfdnet_ultra_autoload
# ultralytics/__init__ sets __version__, then imports ultralytics.utils: fake a newer release right after that
gfdnet_ultra_autoload.after_import("ultralytics.utils", lambda m: setattr(sys.modules["ultralytics"], "__version__", "8.5.3"))
"""

FAKE_MOVED_ANCHOR = """
import inspect
real_getsource = inspect.getsource
def getsource(obj):  # a release whose parse_model computes c1, c2 differently
    src = real_getsource(obj)
    return src.replace("c1, c2 = ch[f], args[0]", "c2, c1 = args[0], ch[f]") if obj.__name__ == "parse_model" else src
inspect.getsource = getsource
"""

TRAIN = """
import ultralytics.nn.tasks as tasks
from ultralytics import YOLO
model = YOLO("yolo11n.yaml")
model.train(data=r"{data}", epochs=1, imgsz=32, batch=4, fraction=0.25, workers=0, device="cpu", plots=False,
            val=False, project=r"{project}", name="stock")
print("patched:", hasattr(tasks.parse_model, "__gfdnet_original__"))
"""


@pytest.mark.parametrize(("fake", "installed"), [(FAKE_VERSION, "8.5.3"), (FAKE_MOVED_ANCHOR, None)],
                         ids=["unsupported-version", "moved-parser-anchor"])
def test_a_failed_registration_leaves_stock_ultralytics_training(fake, installed, synthetic_yaml, tmp_path,
                                                                fresh_python):
    import ultralytics

    proc = fresh_python(fake + TRAIN.format(data=synthetic_yaml, project=tmp_path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert (tmp_path / "stock" / "weights" / "last.pt").is_file()
    assert "patched: False" in proc.stdout
    assert out.count("gfdnet_ultra is not active") == 1, out[-3000:]
    warning = next(line for line in out.splitlines() if "gfdnet_ultra is not active" in line)
    assert f"Installed: ultralytics {installed or ultralytics.__version__}" in warning
    assert f"supported: ultralytics{supported_spec()}" in warning
    assert f"Fix: pip install 'ultralytics{supported_spec()}'" in warning
