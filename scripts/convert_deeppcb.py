"""Convert DeepPCB (a defect-free golden template beside each tested board image) to the YOLO layout.

This golden-template-plus-tested-image shape is common on inspection lines (PCB, print, wafer, textile AOI): every
tested image comes with an aligned defect-free reference of the same part. The tested image keeps its defect boxes
(open, short, mousebite, spur, copper, pin-hole); the template becomes a normal image with an empty label file, so
the converted set is 50 % normal and also trains and evaluates the defect gate. `trainval.txt` becomes train and
`test.txt` val; with only one list, a seeded --val share of its pairs becomes val (both images of a pair together).

Example:
    python scripts/convert_deeppcb.py --root PCBData --out datasets/deeppcb --val 0.2 --seed 0
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _checkout  # noqa: F401  (puts this checkout first on sys.path)

from gfdnet_ultra.data.cli import run_script  # noqa: E402
from gfdnet_ultra.data.deeppcb import convert_deeppcb  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    head, _, example = __doc__.partition("\nExample:")
    p = argparse.ArgumentParser(description=head, epilog=f"example:{example}", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True, type=Path, help="DeepPCB's PCBData folder (trainval.txt and/or test.txt, group folders)")
    p.add_argument("--out", required=True, type=Path, help="dataset folder to create")
    p.add_argument("--val", type=float, help="with a single pair list: share of its pairs sent to val (default 0.2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the pair subset and of the split")
    p.add_argument("--max-pairs", type=int, metavar="N", help="use a seeded random subset of N pairs (drawn before splitting)")
    p.add_argument("--no-templates", action="store_true", help="leave the defect-free templates out (tested images only)")
    p.add_argument("--copy", action="store_true", help="copy the images instead of linking them")
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args(argv)
    result = convert_deeppcb(
        a.root, a.out, val_fraction=a.val, seed=a.seed, max_pairs=a.max_pairs, templates=not a.no_templates,
        copy=a.copy, overwrite=a.overwrite,
    )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"pairs: {result['pairs']['used']} used of {result['pairs']['listed']} listed")
    print(f"dataset: {a.out.absolute() / 'data.yaml'}")
    return 0


if __name__ == "__main__":
    run_script(main)
