"""Compare Ultralytics training runs: per-epoch metric curves from each run's `results.csv`, a table and a plot.

Ultralytics plots one run at a time (`results.png`); model comparisons (docs/accuracy.md) need several runs on one
axis and their figures at the same epochs.
"""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ("METRICS", "curves_table", "plot_curves", "read_curve")

METRICS = {
    "map50": "metrics/mAP50(B)",
    "map50_95": "metrics/mAP50-95(B)",
    "gate_loss": "train/gate_loss",
    # the third box term is the DFL with reg_max > 1 and an L1 on the box sides with reg_max 1 (gfdnet-n, YOLO26)
    **{
        f"{split}_{term}": f"{split}/{term}"
        for split in ("train", "val")
        for term in ("box_loss", "cls_loss", "dfl_loss", "l1_loss")
    },
}


def read_curve(run: str | Path, metric: str = "map50_95") -> list[float]:
    """Per-epoch values of `metric` (a `METRICS` key) from `run/results.csv` (or the csv path itself).

    Raises:
        FileNotFoundError: No results.csv there.
        ValueError: Unknown metric, or a results.csv without that column or without rows.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    path = Path(run)
    path = path if path.suffix == ".csv" else path / "results.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: pass an Ultralytics run folder (the one holding results.csv)")
    with path.open(newline="", encoding="utf-8") as f:
        rows = [{k.strip(): v for k, v in r.items()} for r in csv.DictReader(f)]
    if not rows or METRICS[metric] not in rows[0]:
        raise ValueError(f"{path} has no {METRICS[metric]!r} column or no epochs (is it a detection training run, a gated one for gate_loss?)")
    return [float(r[METRICS[metric]]) for r in rows]


def curves_table(curves: dict[str, list[float]], at: tuple[int, ...] = ()) -> list[str]:
    """Markdown rows: each run's value at the epochs `at` (1-based; '—' past its end), its last and its best.

    Examples:
        >>> curves_table({"a": [0.1, 0.3, 0.2]}, at=(2,))[2]
        '| a | 3 | 0.300 | 0.200 | 0.300 |'
    """
    head = ["run", "epochs"] + [f"epoch {e}" for e in at] + ["last", "best"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, c in curves.items():
        cells = [f"{c[e - 1]:.3f}" if e <= len(c) else "—" for e in at]
        out.append("| " + " | ".join([name, str(len(c)), *cells, f"{c[-1]:.3f}", f"{max(c):.3f}"]) + " |")
    return out


def plot_curves(curves: dict[str, list[float]], path: str | Path, ylabel: str, title: str = "") -> Path:
    """One line per run against the epoch; written to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, c in curves.items():
        ax.plot(range(1, len(c) + 1), c, label=name)
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
