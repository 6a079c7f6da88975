"""Shared fixtures: offline settings, a subprocess runner for fresh interpreters, the synthetic dataset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(args: list[str], cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run a command in a fresh process (offline, quiet, 1 thread); the caller asserts on its result."""
    full_env = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "false", "OMP_NUM_THREADS": "1", **(env or {})}
    full_env.pop("PYTHONPATH", None)  # the installed package, as a user has it
    return subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


def python(code: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run Python code in a fresh interpreter."""
    return run([sys.executable, "-c", code], cwd, env)


@pytest.fixture
def fresh_python(tmp_path):
    """`fresh_python(code, **env)` runs code in a new interpreter in an empty directory."""
    return lambda code, **env: python(code, tmp_path, env)


@pytest.fixture(scope="session")
def synthetic_yaml(tmp_path_factory) -> Path:
    """A small synthetic defect dataset (the embedded default), generated once per test session."""
    from gfdnet_ultra.data.synthetic import make_synthetic_dataset

    root = tmp_path_factory.mktemp("synthetic") / "data"
    make_synthetic_dataset(root, n_train=16, n_val=8, imgsz=64, seed=0)
    return root / "data.yaml"
