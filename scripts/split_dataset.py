"""Seeded, normal/defective-stratified train/val split of a YOLO image folder (links, not copies).

Example:
    python scripts/split_dataset.py --images datasets/neu/images/all --out datasets/neu-det --val 0.2 --seed 0
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _checkout  # noqa: F401  (puts this checkout first on sys.path)

from gfdnet_ultra.data.cli import run_script  # noqa: E402
from gfdnet_ultra.data.split import split_dataset  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", required=True, type=Path, help="folder of images (labels by the images->labels rule)")
    p.add_argument("--out", required=True, type=Path, help="dataset folder to create")
    p.add_argument("--val", type=float, default=0.2, help="validation share of each stratum")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--names", nargs="+", help="class names (default: the source data.yaml)")
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args(argv)
    result = split_dataset(a.images, a.out, val_fraction=a.val, seed=a.seed, names=a.names, overwrite=a.overwrite)
    print(json.dumps(result, indent=2))
    print(f"dataset: {a.out.absolute() / 'data.yaml'}")
    return 0


if __name__ == "__main__":
    run_script(main)
