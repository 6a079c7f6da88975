"""Classification view (split/{defective,normal}/ links) of a YOLO detection dataset, for defect-gate training.

Example:
    python scripts/make_cls_view.py --data datasets/neu-det/data.yaml --out datasets/neu-det-cls
    yolo classify train model=yolo11n-cls.yaml data=datasets/neu-det-cls
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _checkout  # noqa: F401  (puts this checkout first on sys.path)

from gfdnet_ultra.data.cli import run_script  # noqa: E402
from gfdnet_ultra.data.cls_view import make_cls_view  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path, help="detection dataset YAML")
    p.add_argument("--out", required=True, type=Path, help="folder to create")
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args(argv)
    print(json.dumps(make_cls_view(a.data, a.out, overwrite=a.overwrite), indent=2))
    return 0


if __name__ == "__main__":
    run_script(main)
