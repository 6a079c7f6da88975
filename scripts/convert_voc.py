"""Convert Pascal VOC xml annotations to the YOLO layout.

Example:
    python scripts/convert_voc.py --out datasets/neu --split all=NEU-DET/ANNOTATIONS:NEU-DET/IMAGES \
        --names crazing inclusion patches pitted_surface rolled-in_scale scratches
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _checkout  # noqa: F401  (puts this checkout first on sys.path)

from gfdnet_ultra.data.cli import run_script, split_spec  # noqa: E402
from gfdnet_ultra.data.voc import convert_voc  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, type=Path, help="dataset folder to create")
    p.add_argument("--split", required=True, action="append", type=split_spec, help="NAME=XML_DIR:IMAGE_DIR (repeatable)")
    p.add_argument("--names", nargs="+", help="class order (default: sorted names found)")
    p.add_argument("--rename", nargs="*", default=[], metavar="OLD=NEW", help="object name replacements")
    p.add_argument("--drop-difficult", action="store_true", help="skip objects flagged difficult")
    p.add_argument("--skip-invalid", action="store_true", help="skip zero-size boxes instead of failing")
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args(argv)
    rename = dict(r.split("=", 1) for r in a.rename)
    result = convert_voc(
        a.out, dict(a.split), names=a.names, rename=rename, keep_difficult=not a.drop_difficult,
        skip_invalid=a.skip_invalid, overwrite=a.overwrite,
    )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"dataset: {a.out.absolute() / 'data.yaml'}")
    return 0


if __name__ == "__main__":
    run_script(main)
