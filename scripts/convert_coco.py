"""Convert COCO json annotations to the YOLO layout (DefectNet's dummy background boxes -> empty label files).

Example:
    python scripts/convert_coco.py --out datasets/fabric \
        --split train=annotations/instance_train.json:trainval --split val=annotations/instance_test.json:trainval
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _checkout  # noqa: F401  (puts this checkout first on sys.path)

from gfdnet_ultra.data.cli import run_script, split_spec  # noqa: E402
from gfdnet_ultra.data.coco import BACKGROUND_NAMES, convert_coco  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, type=Path, help="dataset folder to create")
    p.add_argument("--split", required=True, action="append", type=split_spec, help="NAME=JSON:IMAGE_DIR (repeatable)")
    p.add_argument("--names", nargs="+", help="class order (default: non-background categories by id)")
    p.add_argument("--background-names", nargs="*", default=list(BACKGROUND_NAMES), help="dummy background categories; none to keep them")
    p.add_argument("--keep-crowd", action="store_true", help="keep iscrowd boxes")
    p.add_argument("--skip-invalid", action="store_true", help="skip zero-size boxes instead of failing")
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args(argv)
    result = convert_coco(
        a.out, dict(a.split), names=a.names, background_names=a.background_names, keep_crowd=a.keep_crowd,
        skip_invalid=a.skip_invalid, overwrite=a.overwrite,
    )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"dataset: {a.out.absolute() / 'data.yaml'}")
    return 0


if __name__ == "__main__":
    run_script(main)
