"""Data tools: synthetic defect generator, dataset converters, statistics."""

from .cls_view import make_cls_view
from .coco import convert_coco
from .deeppcb import convert_deeppcb
from .split import split_dataset
from .stats import dataset_stats, plot_box_sizes, stats_markdown
from .synthetic import make_synthetic_dataset, synthetic_dataset
from .voc import convert_voc

__all__ = (
    "convert_coco",
    "convert_deeppcb",
    "convert_voc",
    "dataset_stats",
    "make_cls_view",
    "make_synthetic_dataset",
    "plot_box_sizes",
    "split_dataset",
    "stats_markdown",
    "synthetic_dataset",
)
