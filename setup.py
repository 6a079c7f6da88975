"""Build hook: ship `gfdnet_ultra-autoload.pth` at the top of site-packages.

The .pth line imports the top-level `gfdnet_ultra_autoload` module, which registers our layers as soon as
Ultralytics' model module is imported, so the plain `yolo` command understands our YAMLs.
The supported Ultralytics range is read from `gfdnet_ultra/integration/versions.py`, where it is written once;
so the requirements are declared here; everything else is in setup.cfg.
"""

import runpy
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = "gfdnet_ultra-autoload.pth"


class BuildPyWithPth(build_py):
    """build_py that also copies the autoload .pth into the wheel's root (site-packages)."""

    def run(self):
        super().run()
        self.copy_file(str(Path(__file__).parent / PTH), str(Path(self.build_lib) / PTH))


VERSIONS = runpy.run_path(str(Path(__file__).parent / "gfdnet_ultra" / "integration" / "versions.py"))

REQUIRES = [
    "cloudpickle>=3.1.1",
    f"ultralytics{VERSIONS['supported_spec']()}",
    "torch>=2.2",
    "torchvision",
    "einops",
    "timm",
    "pyyaml",
    "onnx",
    "onnxruntime",
    "onnxslim",
]

setup(cmdclass={"build_py": BuildPyWithPth}, install_requires=REQUIRES)
