"""Compare training runs side by side: a markdown table of a metric at chosen epochs and a plot of the curves.

    python scripts/compare_runs.py yolo11n=runs/detect/train gfdnet-n=runs/detect/train2 --at 10 20 --out cmp.md
    python scripts/compare_runs.py runs/detect/train runs/detect/train2 --metric map50

Each argument is NAME=RUN_FOLDER or a run folder (named by its folder); the folder holds Ultralytics' results.csv.
Writes OUT (markdown) and OUT with a .png suffix; prints the table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's gfdnet_ultra first)
from gfdnet_ultra.bench.curves import METRICS, curves_table, plot_curves, read_curve
from gfdnet_ultra.data.cli import run_script


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", help="NAME=RUN_FOLDER or RUN_FOLDER")
    ap.add_argument("--metric", default="map50_95", choices=sorted(METRICS))
    ap.add_argument("--at", type=int, nargs="*", default=[], help="1-based epochs to tabulate besides last and best")
    ap.add_argument("--out", type=Path, default=Path("runs/compare/curves.md"))
    a = ap.parse_args()
    if any(e < 1 for e in a.at):
        raise ValueError(f"--at epochs are 1-based, got {a.at}")
    named = [r.partition("=")[::2] if "=" in r else (Path(r).name, r) for r in a.runs]
    curves = {name: read_curve(folder, a.metric) for name, folder in named}
    table = curves_table(curves, tuple(a.at))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    png = plot_curves(curves, a.out.with_suffix(".png"), METRICS[a.metric])
    a.out.write_text(f"{a.metric} per run (`{' '.join(a.runs)}`)\n\n" + "\n".join(table) + f"\n\n![curves]({png.name})\n")
    print("\n".join(table))
    print(f"wrote {a.out} and {png}")
    return 0


if __name__ == "__main__":
    run_script(main)
