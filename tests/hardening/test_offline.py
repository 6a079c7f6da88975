"""Offline guarantee in a fresh process, with Ultralytics' auto-install left ON (its default): train, validate,
predict (an unreadable image included), export to ONNX, predict with the ONNX file and open a mistyped checkpoint path,
while a `sitecustomize` records every non-loopback socket connection or name lookup, every `pip`/`uv install`
command and every requirement Ultralytics finds missing. Nothing may be recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

GUARD = '''
import atexit, json, os, socket, subprocess, traceback
RECORD = []
atexit.register(lambda: open(os.environ["GFDNET_GUARD_LOG"], "w").write(json.dumps(RECORD)))
def _local(host):
    return isinstance(host, (str, bytes)) and str(host).startswith(("127.", "::1", "localhost", "0.0.0.0"))
_connect = socket.socket.connect
def connect(sock, address, *a):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
        RECORD.append(["connect", str(address)])
        raise OSError("network blocked by test guard")
    return _connect(sock, address, *a)
socket.socket.connect = connect
_getaddrinfo = socket.getaddrinfo
def getaddrinfo(host, *a, **k):
    if host is not None and not _local(host):
        RECORD.append(["resolve", str(host), traceback.format_stack(limit=25)[:-1]])
        raise socket.gaierror("network blocked by test guard")
    return _getaddrinfo(host, *a, **k)
socket.getaddrinfo = getaddrinfo
_check_output = subprocess.check_output
def check_output(cmd, *a, **k):
    words = [str(w) for w in (cmd if isinstance(cmd, (list, tuple)) else str(cmd).split())]
    if "install" in words:
        RECORD.append(["install", " ".join(words)])
        raise subprocess.CalledProcessError(1, cmd, "blocked by test guard")
    return _check_output(cmd, *a, **k)
subprocess.check_output = check_output
'''

WORKFLOW = '''
import json, os, sys
import ultralytics.utils.checks as checks
from ultralytics import YOLO
original = checks.check_requirements
def check_requirements(requirements=(), *a, **k):
    ok = original(requirements, install=False)
    if not ok:
        with open(os.environ["GFDNET_GUARD_LOG"] + ".req", "a") as f:
            f.write(json.dumps(str(requirements)) + "\\n")
    return ok
checks.check_requirements = check_requirements
data, bad = sys.argv[1], sys.argv[2]
common = dict(imgsz=64, device="cpu", project=os.getcwd(), plots=False)
model = YOLO("gfdnet-n.yaml")
model.train(data=data, epochs=1, batch=4, workers=0, name="train", fraction=0.5, **common)
best = os.path.join(os.getcwd(), "train", "weights", "best.pt")
YOLO(best).val(data=data, batch=4, name="val", **common)
YOLO(best).predict(bad, name="predict", **{k: v for k, v in common.items() if k != "plots"})
onnx = YOLO(best).export(format="onnx", imgsz=64, simplify=False)
YOLO(onnx).predict(os.path.join(os.path.dirname(data), "images", "val"), imgsz=64, device="cpu")
try:
    YOLO("runs/detect/tran/weights/best.pt")
except FileNotFoundError as e:
    print("MISSING-CHECKPOINT:", e)
'''


def test_workflow_makes_no_network_call_and_no_install_with_autoinstall_on(synthetic_yaml, tmp_path):
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    bad = tmp_path / "zero-size.png"
    bad.write_bytes(b"")
    log = tmp_path / "guard.json"
    env = {k: v for k, v in os.environ.items() if k not in ("YOLO_AUTOINSTALL", "PYTHONPATH")}
    env.update(PYTHONPATH=str(guard), GFDNET_GUARD_LOG=str(log), YOLO_OFFLINE="1", OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", WORKFLOW, str(synthetic_yaml), str(bad)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "MISSING-CHECKPOINT: Checkpoint 'runs/detect/tran/weights/best.pt' not found" in proc.stdout
    assert json.loads(log.read_text()) == []
    missing = Path(f"{log}.req")
    assert not missing.exists(), f"Ultralytics found requirements missing: {missing.read_text()}"
    assert "AutoUpdate" not in proc.stdout + proc.stderr
