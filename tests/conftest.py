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


_LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0")


def _is_loopback(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = str(address[0]) if isinstance(address, tuple) and address else str(address)
    return host.startswith(_LOOPBACK) or host == ""


class NetworkBlocked(RuntimeError):
    """Raised by the offline guard when code in a test tries to reach the network or install a package."""


@pytest.fixture(autouse=True)
def offline_guard(monkeypatch):
    """Every test runs offline: connecting or resolving a non-loopback address, or `pip`/`uv` install, raises loudly,
    and the test fails at teardown even when the code under test swallowed the error (Ultralytics' `is_url` does).

    Subprocess tests get the same promise from YOLO_OFFLINE=1 and YOLO_AUTOINSTALL=false (see `run`), and
    tests/hardening/test_offline.py checks that a fresh `yolo` process does not try either.
    """
    import socket

    attempts: list[str] = []

    def blocked(what: str) -> NetworkBlocked:
        attempts.append(what)
        return NetworkBlocked(f"test tried to {what} (tests must run offline)")

    def guarded(original):
        def connect(sock, address, *args):
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
                raise blocked(f"reach the network: {address!r}")
            return original(sock, address, *args)

        return connect

    monkeypatch.setattr(socket.socket, "connect", guarded(socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(socket.socket.connect_ex))
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_loopback((host,)):
            raise blocked(f"resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def no_pip(original):
        def call(cmd, *args, **kwargs):
            words = [str(w) for w in (cmd if isinstance(cmd, (list, tuple)) else str(cmd).split())]
            if "install" in words and any(w.endswith(("pip", "uv")) for w in words):
                raise blocked(f"install packages: {' '.join(words)}")
            return original(cmd, *args, **kwargs)

        return call

    monkeypatch.setattr(subprocess, "check_output", no_pip(subprocess.check_output))
    monkeypatch.setattr(subprocess, "run", no_pip(subprocess.run))
    yield
    assert not attempts, f"network or install attempts during the test: {attempts}"
