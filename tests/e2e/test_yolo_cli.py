"""Plain `yolo` (the stock entry point) and our `gfdnet` command on a YAML with a plugin layer of every kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import BIN, run

KINDS_YAML = Path(__file__).with_name("plugin-kinds.yaml")
pytestmark = pytest.mark.slow


def yolo(*args: str, cwd: Path, exe: str = "yolo", **env: str):
    return run([str(BIN / exe), *args], cwd, env)


@pytest.fixture(scope="module")
def trained(synthetic_yaml, tmp_path_factory) -> tuple[Path, Path]:
    """One epoch of plain `yolo train` from the plugin-kinds YAML: (work dir, best.pt)."""
    work = tmp_path_factory.mktemp("cli")
    proc = yolo("train", f"model={KINDS_YAML}", f"data={synthetic_yaml}", "epochs=1", "imgsz=64", "batch=4",
                "workers=0", "device=cpu", "plots=False", f"project={work}", "name=train", cwd=work)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    best = work / "train" / "weights" / "best.pt"
    assert best.is_file()
    return work, best


def test_plain_yolo_trains_from_a_yaml_with_every_plugin_kind(trained):
    assert trained[1].stat().st_size > 0


@pytest.mark.parametrize("safe_load", ["0", "1"])
def test_plain_yolo_val_loads_our_checkpoint_in_a_fresh_process(trained, synthetic_yaml, safe_load):
    work, best = trained
    proc = yolo("val", f"model={best}", f"data={synthetic_yaml}", "imgsz=64", "batch=4", "device=cpu",
                "plots=False", f"project={work}", f"name=val{safe_load}", cwd=work, ULTRALYTICS_SAFE_LOAD=safe_load)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "mAP50-95" in proc.stdout + proc.stderr


@pytest.mark.parametrize("exe", ["yolo", "gfdnet"])
def test_predict_saves_results_by_default_like_yolo(trained, synthetic_yaml, exe):
    work, best = trained
    source = synthetic_yaml.parent / "images" / "val"
    proc = yolo("predict", f"model={best}", f"source={source}", "imgsz=64", "device=cpu", f"project={work}",
                f"name=pred-{exe}", exe=exe, cwd=work)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    saved = [f for f in (work / f"pred-{exe}").iterdir() if f.suffix in {".jpg", ".png"}]
    assert len(saved) == len(list(source.glob("*.png")))


def test_plain_yolo_exports_our_checkpoint_to_onnx(trained):
    work, best = trained
    proc = yolo("export", f"model={best}", "format=onnx", "imgsz=64", cwd=work)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert best.with_suffix(".onnx").is_file()


def test_without_the_hook_plain_yolo_cannot_read_our_yaml_but_gfdnet_can(synthetic_yaml, tmp_path):
    args = ("train", f"model={KINDS_YAML}", f"data={synthetic_yaml}", "epochs=1", "imgsz=64", "batch=4", "workers=0",
            "device=cpu", "plots=False", f"project={tmp_path}", "fraction=0.25")
    plain = yolo(*args, "name=plain", cwd=tmp_path, GFDNET_AUTOLOAD="0")
    assert plain.returncode != 0
    ours = yolo(*args, "name=ours", exe="gfdnet", cwd=tmp_path, GFDNET_AUTOLOAD="0")
    assert ours.returncode == 0, ours.stdout[-3000:] + ours.stderr[-3000:]


def test_gfdnet_reports_bad_input_in_one_line(tmp_path):
    proc = yolo("train", "model=no-such-model.yaml", "data=nowhere.yaml", exe="gfdnet", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("gfdnet: error: Model file 'no-such-model.yaml' not found. gfdnet_ultra models:")
    assert "Traceback" not in proc.stderr
