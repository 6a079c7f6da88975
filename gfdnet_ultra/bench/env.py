"""The facts a benchmark figure needs beside it: CPU model, cores, threads, accelerator, versions, date, commit."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch

__all__ = ("cpu_model", "environment")

PACKAGES = ("torch", "torchvision", "ultralytics", "ultralytics-thop", "onnx", "onnxruntime", "gfdnet-ultra")


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (Linux), else `platform.processor()`."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    try:
        # "-dirty" when the working tree differs from the commit: a benchmark of uncommitted YAMLs must not pass as HEAD
        cmd = ["git", "describe", "--always", "--dirty", "--abbrev=7", "--exclude=*"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment(threads: int) -> dict:
    """Device and software description of this run.

    Examples:
        >>> sorted(environment(1))[:3]
        ['accelerator', 'commit', 'cpu']
    """
    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "threads": threads,
        "accelerator": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (CPU only)",
        "python": platform.python_version(),
        "versions": {p: _version(p) for p in PACKAGES},
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
    }
