"""Classification view (split/{defective,normal}/ links) of a YOLO detection dataset, for defect-gate training.

Example:
    python scripts/make_cls_view.py --data datasets/neu-det/data.yaml --out datasets/neu-det-cls
    yolo classify train model=yolo11n-cls.yaml data=datasets/neu-det-cls
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if (ROOT / "gfdnet_ultra").is_dir():  # prefer the checkout this script lives in over an installed copy
    sys.path.insert(0, str(ROOT))

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
    try:
        sys.exit(main())
    except (FileExistsError, FileNotFoundError, ValueError) as e:  # bad input: one clear line, no traceback
        sys.exit(f"error: {e}")
