"""Markdown statistics of a YOLO dataset: DefectNet's normal/defective table, boxes per class, box sizes, problems.

Example:
    python scripts/dataset_stats.py --data datasets/synthetic/data.yaml --out stats.md --plot box_sizes.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _checkout  # noqa: F401  (puts this checkout first on sys.path)

from gfdnet_ultra.data.cli import run_script  # noqa: E402
from gfdnet_ultra.data.stats import dataset_stats, plot_box_sizes, stats_markdown  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path, help="detection dataset YAML")
    p.add_argument("--out", type=Path, help="markdown file to write (default: print)")
    p.add_argument("--plot", type=Path, help="box-size histogram PNG to write")
    p.add_argument("--strict", action="store_true", help="exit with status 1 when problems are found")
    a = p.parse_args(argv)
    stats = dataset_stats(a.data)
    if a.plot:
        plot_box_sizes(stats, a.plot)
    rel = str(a.plot.relative_to(a.out.parent)) if a.plot and a.out and a.plot.is_relative_to(a.out.parent) else a.plot and str(a.plot)
    md = stats_markdown(stats, title=f"Dataset statistics: {a.data.name}", plot=rel)
    if a.out:
        a.out.write_text(md, encoding="utf-8")
    else:
        print(md)
    return 1 if a.strict and stats["problems"] else 0


if __name__ == "__main__":
    run_script(main)
