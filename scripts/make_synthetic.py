"""Generate the deterministic synthetic defect dataset (YOLO detection layout + classification view).

Example:
    python scripts/make_synthetic.py --out datasets/synthetic --n-train 160 --n-val 48 --imgsz 256 --seed 0
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _checkout  # noqa: F401  (puts this checkout first on sys.path)

from gfdnet_ultra.data.cli import run_script  # noqa: E402
from gfdnet_ultra.data.synthetic import make_synthetic_dataset  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, type=Path, help="dataset folder to create")
    d = make_synthetic_dataset.__kwdefaults__  # one set of defaults: the library's
    p.add_argument("--n-train", type=int, default=d["n_train"])
    p.add_argument("--n-val", type=int, default=d["n_val"])
    p.add_argument("--imgsz", type=int, default=d["imgsz"], help="generated size; train at the same imgsz")
    p.add_argument("--normal-ratio", type=float, default=d["normal_ratio"], help="share of defect-free images")
    p.add_argument("--seed", type=int, default=d["seed"])
    p.add_argument("--overwrite", action="store_true", help="replace an existing, different dataset at --out")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    manifest = make_synthetic_dataset(
        a.out, n_train=a.n_train, n_val=a.n_val, imgsz=a.imgsz, normal_ratio=a.normal_ratio, seed=a.seed, overwrite=a.overwrite
    )
    print(json.dumps(manifest["splits"], indent=2))
    print(f"dataset: {Path(a.out).absolute() / 'data.yaml'} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    run_script(main)
