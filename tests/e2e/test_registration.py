"""Registration is explicit and reversible: importing layers patches nothing, each trigger registers, and
`gfdnet_ultra.uninstall()` restores stock Ultralytics exactly."""

from __future__ import annotations

import pytest

# Identity of everything registration may touch: the attributes of the Ultralytics modules and classes we patch,
# the default callbacks and the default config keys.
SNAPSHOT = """
import sys, inspect
import ultralytics.data.utils, ultralytics.engine.model, ultralytics.engine.trainer, ultralytics.nn.tasks
import ultralytics.utils.checks, ultralytics.utils.downloads, ultralytics.utils.patches, ultralytics.utils.plotting
from ultralytics import YOLO
from ultralytics.utils import DEFAULT_CFG, DEFAULT_CFG_DICT
from ultralytics.utils.callbacks.base import default_callbacks

def snapshot():
    owners = [sys.modules[n] for n in ("ultralytics.data.utils", "ultralytics.engine.model", "ultralytics.engine.trainer",
              "ultralytics.nn.tasks", "ultralytics.utils.checks", "ultralytics.utils.downloads",
              "ultralytics.utils.patches", "ultralytics.utils.plotting")]
    tasks, trainer = ultralytics.nn.tasks, ultralytics.engine.trainer
    owners += [YOLO, tasks.BaseModel, tasks.DetectionModel, trainer.BaseTrainer, DEFAULT_CFG]
    state = {{(repr(o), k): id(v) for o in owners for k, v in vars(o).items()}}
    state["callbacks"] = {{e: [id(f) for f in fs] for e, fs in default_callbacks.items()}}
    state["cfg"] = sorted(DEFAULT_CFG_DICT)
    return state
"""

LAYERS_ONLY = SNAPSHOT + """
before = snapshot()
import gfdnet_ultra, gfdnet_ultra.gate, gfdnet_ultra.integration.registry, torch
from gfdnet_ultra.nn import GAstage
GAstage(16, 32)(torch.zeros(1, 16, 32, 32))
assert snapshot() == before, "importing or building a layer changed Ultralytics"
print("unchanged")
"""

UNINSTALL = SNAPSHOT + """
before = snapshot()
import gfdnet_ultra
from gfdnet_ultra.integration import patches
gfdnet_ultra.register()
assert snapshot() != before and patches.applied()
YOLO("gfdnet-n.yaml")
gfdnet_ultra.uninstall()
assert snapshot() == before, "uninstall() left changes behind"
assert not patches.applied()
gfdnet_ultra.register()  # and registration works again
YOLO("gfdnet-n.yaml")
print("restored")
"""


def test_importing_and_building_layers_patches_nothing(fresh_python):
    proc = fresh_python(LAYERS_ONLY.format(), GFDNET_AUTOLOAD="0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-1] == "unchanged"


def test_uninstall_restores_stock_ultralytics_exactly(fresh_python):
    proc = fresh_python(UNINSTALL.format(), GFDNET_AUTOLOAD="0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-1] == "restored"


@pytest.fixture(scope="module")
def gfdnet_pt(tmp_path_factory):
    from ultralytics import YOLO

    path = tmp_path_factory.mktemp("ckpt") / "gfdnet-n.pt"
    YOLO("gfdnet-n.yaml").save(path)
    return path


def test_loading_a_checkpoint_with_our_layers_registers(gfdnet_pt, fresh_python):
    code = (
        "import ultralytics.nn.tasks as t\nfrom ultralytics import YOLO\n"
        "before = hasattr(t.parse_model, '__gfdnet_original__')\n"
        f"model = YOLO(r'{gfdnet_pt}')\n"
        "print(before, hasattr(t.parse_model, '__gfdnet_original__'), type(model.model.model[3]).__name__)"
    )
    proc = fresh_python(code, GFDNET_AUTOLOAD="0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-3:] == ["False", "True", "GAstage"]


def test_the_table_of_replaced_functions_lists_exactly_what_registration_replaces():
    import re
    import types

    import gfdnet_ultra
    from gfdnet_ultra import integration
    from gfdnet_ultra.integration import patches

    gfdnet_ultra.register()
    listed = set(re.findall(r"^\| `([\w.]+)` \|", integration.__doc__, re.M))
    replaced = set()
    for owner, key in patches.applied():
        if isinstance(owner, type):
            name = f"{owner.__module__}.{owner.__qualname__}.{key}"
        elif isinstance(owner, types.ModuleType):
            name = f"{owner.__name__}.{key}"
        else:
            continue  # list, set, dict or config entries: additions, named in the paragraph below the table
        if callable(patches.original(owner, key)) or isinstance(patches.original(owner, key), property):
            replaced.add(name)
    assert listed == replaced
