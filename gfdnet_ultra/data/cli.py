"""Helpers shared by the data command lines in `scripts/`: argument parsing and one-line errors for bad input."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..errors import user_error_message

__all__ = ("run_script", "split_spec")


def run_script(main: Callable[[], int]) -> None:
    """Exit with `main()`'s status; bad input (missing, existing or invalid files) exits with one line, no traceback."""
    try:
        status = main()
    except Exception as e:
        message = user_error_message(e)
        if message is None:
            raise
        sys.exit(f"error: {message}")
    sys.exit(status)


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
