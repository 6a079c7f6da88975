"""The one rule for command lines: which exceptions are the user's input to fix (one line) rather than bugs (traceback).

Used by the `gfdnet` CLI (integration/cli.py) and by the scripts' `data.cli.run_script`.
"""

from __future__ import annotations

__all__ = ("user_error_message",)

_USER_ERRORS = (FileExistsError, FileNotFoundError, ValueError, SyntaxError)


def user_error_message(error: BaseException) -> str | None:
    """One-line message for an input error, or None when the error is not about the input."""
    if isinstance(error, _USER_ERRORS) or isinstance(error.__cause__, _USER_ERRORS):  # e.g. "Dataset '...' error"
        return str(error).strip() or type(error).__name__
    return None
