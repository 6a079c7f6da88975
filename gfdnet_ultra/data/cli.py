"""Argument helpers shared by the data command lines in `scripts/` (convert_coco.py, convert_voc.py)."""

from __future__ import annotations

import argparse

__all__ = ("split_spec",)


def split_spec(text: str) -> tuple[str, tuple[str, str]]:
    """Parse `NAME=ANNOTATIONS:IMAGES` (a json file or xml folder, then the image folder) for `--split`.

    Examples:
        >>> split_spec("val=annotations/val.json:images/val")
        ('val', ('annotations/val.json', 'images/val'))
    """
    name, sep, rest = text.partition("=")
    ann, sep2, images = rest.rpartition(":")
    if not (name and sep and sep2 and ann and images):
        raise argparse.ArgumentTypeError(f"--split {text!r}: expected NAME=ANNOTATIONS:IMAGES, e.g. train=train.json:images")
    return name, (ann, images)
