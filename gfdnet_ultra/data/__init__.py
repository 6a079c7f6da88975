"""Data tools: synthetic defect generator, dataset converters, statistics."""

from .cls_view import make_cls_view
from .synthetic import make_synthetic_dataset, synthetic_dataset

__all__ = ("make_cls_view", "make_synthetic_dataset", "synthetic_dataset")
