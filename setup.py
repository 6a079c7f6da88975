"""Build hook: ship `gfdnet_ultra-autoload.pth` at the top of site-packages.

The .pth line imports the top-level `gfdnet_ultra_autoload` module, which registers our layers as soon as
Ultralytics' model module is imported, so the plain `yolo` command understands our YAMLs.
Everything else is declared in setup.cfg.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = "gfdnet_ultra-autoload.pth"


class BuildPyWithPth(build_py):
    """build_py that also copies the autoload .pth into the wheel's root (site-packages)."""

    def run(self):
        super().run()
        self.copy_file(str(Path(__file__).parent / PTH), str(Path(self.build_lib) / PTH))


setup(cmdclass={"build_py": BuildPyWithPth})
